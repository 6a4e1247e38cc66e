use thiserror::Error;

/// Errors callers can act on: each maps to a clear message for the CLI, an
/// HTTP status for the API, or a reply in the chat.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("bad database URL: {0}")]
    BadUrl(String),
    #[error("cannot open the database: {0}")]
    Unreachable(String),
    #[error("cannot migrate the database schema: {0}")]
    Migration(String),
    #[error("{kind} '{name}' already exists")]
    Duplicate { kind: &'static str, name: String },
    #[error("unknown {kind} '{name}'")]
    NotFound { kind: &'static str, name: String },
    #[error("{0}")]
    Invalid(String),
    #[error("the workspace is not initialised; run `qunban init` first")]
    NotInitialised,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Another applier (an instance, the catch-up) applied this logged
    /// message first; the caller's decision was rolled back.
    #[error("message {message_id} was already applied")]
    AlreadyProcessed { message_id: i64 },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The connector-secret key is missing, malformed or not the one the
    /// stored secrets were sealed with (see `secrets.rs`).
    #[error("secret key: {0}")]
    SecretKey(String),
}

impl StoreError {
    /// Turns a unique-constraint violation into [`StoreError::Duplicate`].
    pub(crate) fn duplicate_or(e: sqlx::Error, kind: &'static str, name: &str) -> StoreError {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Duplicate { kind, name: name.to_string() },
            _ => StoreError::Database(e),
        }
    }
}
