/// Why an inbound request or a crypto operation was refused.
///
/// Variants are split by what the caller must do: authentication failures
/// ([`BadSignature`](Self::BadSignature), [`StaleTimestamp`](Self::StaleTimestamp),
/// [`BadToken`](Self::BadToken)) must never reach business logic, while
/// [`Malformed`](Self::Malformed) input is a client bug worth logging.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The signature did not match (or was missing).
    #[error("signature mismatch")]
    BadSignature,
    /// The request timestamp lies outside the accepted window (replay guard).
    #[error("timestamp outside the accepted window")]
    StaleTimestamp,
    /// The platform's verification token did not match ours.
    #[error("verification token mismatch")]
    BadToken,
    /// Decrypted data had invalid PKCS#7 padding: wrong key or tampered data.
    #[error("invalid padding in decrypted data")]
    BadPadding,
    /// WeCom: the decrypted receive id (corpid / "") is not ours.
    #[error("receive id mismatch")]
    ReceiveIdMismatch,
    /// Structurally invalid input: bad base64, XML, JSON, lengths, headers.
    #[error("malformed input: {0}")]
    Malformed(String),
    /// Our own configuration is unusable (e.g. an EncodingAESKey that is not 43 chars).
    #[error("invalid configuration: {0}")]
    Config(String),
}

impl ConnectError {
    pub(crate) fn malformed(msg: impl Into<String>) -> Self {
        ConnectError::Malformed(msg.into())
    }

    /// Suggested HTTP status for the endpoint answering the request.
    ///
    /// Platforms retry on 5xx, so only our own misconfiguration is a 5xx;
    /// everything attributable to the request is a 4xx, which the interop
    /// harness checks for forged requests.
    pub fn http_status(&self) -> u16 {
        match self {
            ConnectError::BadSignature | ConnectError::StaleTimestamp | ConnectError::BadToken => 401,
            ConnectError::BadPadding | ConnectError::ReceiveIdMismatch | ConnectError::Malformed(_) => 400,
            ConnectError::Config(_) => 500,
        }
    }
}
