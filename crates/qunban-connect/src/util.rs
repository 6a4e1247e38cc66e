use aes::cipher::{block_padding::NoPadding, BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::ConnectError;

pub(crate) type HmacSha256 = Hmac<Sha256>;

pub(crate) fn b64_encode(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// Lenient about trailing bits and padding, like Python's `b64decode` that
/// the platforms' reference SDKs use: WeCom's EncodingAESKey + "=" has
/// non-zero trailing bits (Tencent's own sample key does), which the strict
/// engine rejects.
const LENIENT: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

pub(crate) fn b64_decode(data: &str) -> Result<Vec<u8>, ConnectError> {
    LENIENT
        .decode(data.trim())
        .map_err(|e| ConnectError::malformed(format!("invalid base64: {e}")))
}

pub(crate) fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

/// Constant-time equality so signature checks do not leak how many leading
/// bytes matched.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// AES-256-CBC without padding; the caller owns the padding scheme because
/// WeCom pads to 32-byte blocks, which no standard padder does.
pub(crate) fn aes256_cbc_encrypt_nopad(key: &[u8; 32], iv: &[u8; 16], data: &[u8]) -> Vec<u8> {
    debug_assert!(data.len() % 16 == 0);
    cbc::Encryptor::<aes::Aes256>::new(key.into(), iv.into()).encrypt_padded_vec_mut::<NoPadding>(data)
}

pub(crate) fn aes256_cbc_decrypt_nopad(key: &[u8; 32], iv: &[u8; 16], data: &[u8]) -> Result<Vec<u8>, ConnectError> {
    if data.is_empty() || data.len() % 16 != 0 {
        return Err(ConnectError::malformed(format!(
            "ciphertext length {} is not a positive multiple of 16",
            data.len()
        )));
    }
    cbc::Decryptor::<aes::Aes256>::new(key.into(), iv.into())
        .decrypt_padded_vec_mut::<NoPadding>(data)
        .map_err(|_| ConnectError::malformed("ciphertext could not be decrypted"))
}

/// PKCS#7 with a caller-chosen block size (WeCom: 32, Feishu: 16).
pub(crate) fn pkcs7_pad(mut data: Vec<u8>, block: usize) -> Vec<u8> {
    let pad = block - data.len() % block;
    data.extend(std::iter::repeat(pad as u8).take(pad));
    data
}

/// Strict PKCS#7 removal: the pad value must be 1..=block and every pad byte
/// must carry it, so a wrong key is reported as [`ConnectError::BadPadding`]
/// instead of yielding garbage.
pub(crate) fn pkcs7_unpad(mut data: Vec<u8>, block: usize) -> Result<Vec<u8>, ConnectError> {
    let pad = *data.last().ok_or(ConnectError::BadPadding)? as usize;
    if pad == 0 || pad > block || pad > data.len() {
        return Err(ConnectError::BadPadding);
    }
    let start = data.len() - pad;
    let mut ok = subtle::Choice::from(1u8);
    for &b in &data[start..] {
        ok &= b.ct_eq(&(pad as u8));
    }
    if !bool::from(ok) {
        return Err(ConnectError::BadPadding);
    }
    data.truncate(start);
    Ok(data)
}

/// Parses a decimal timestamp header; surrounding whitespace is tolerated
/// because some proxies add it.
pub(crate) fn parse_i64(what: &str, s: &str) -> Result<i64, ConnectError> {
    s.trim()
        .parse::<i64>()
        .map_err(|_| ConnectError::malformed(format!("{what} is not an integer: {s:?}")))
}
