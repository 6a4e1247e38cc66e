//! Connector secrets at rest: every app secret, token, AES key and signing
//! secret is stored sealed with ChaCha20-Poly1305 (RustCrypto's
//! `chacha20poly1305`), so a copied database file or a leaked backup does not
//! hand out the keys that authenticate the platforms' callbacks.
//!
//! A sealed value is `qbenc:v1:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>`.
//! The key id is derived from the key itself (first 4 bytes of a SHA-256),
//! so several keys can be configured at once and each value names the one
//! that opens it: that is what makes rotation (`qunban secrets rotate`)
//! possible without a flag day. The associated data names the column and
//! field a value belongs to, so a sealed value cannot be moved to another
//! field unnoticed.
//!
//! Where the key comes from, first match wins:
//! 1. `QUNBAN_SECRET_KEY` — base64 of 32 random bytes (e.g. from
//!    `qunban secrets generate-key`); what several instances on one
//!    PostgreSQL database should share.
//! 2. A key file (`--secret-key-file` / `QUNBAN_SECRET_KEY_FILE`), else the
//!    default: `secret.key` next to the SQLite database file
//!    (`qunban-data/secret.key` for the default database), or
//!    `qunban-data/secret.key` in the working directory for PostgreSQL. A
//!    missing key file is created (mode 0600, a fresh random key) the first
//!    time a secret is stored. Its first line is the current key; further
//!    lines are older keys still accepted for reading.
//!
//! Older keys can also be given in `QUNBAN_SECRET_KEY_OLD` (comma-separated).
//! A value stored before encryption existed (plain text) is read as is and
//! sealed when the store is opened ([`crate::Store::open`]).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use sha2::{Digest, Sha256};

use crate::{Result, StoreError};

const PREFIX: &str = "qbenc:v1:";
const NONCE_LEN: usize = 12;

/// The default key file's name, next to the SQLite database.
pub const DEFAULT_KEY_FILE_NAME: &str = "secret.key";
/// The default key file for PostgreSQL, relative to the working directory.
pub const DEFAULT_KEY_FILE: &str = "qunban-data/secret.key";

/// Environment variables read by [`KeyConfig::from_env`].
pub const ENV_KEY: &str = "QUNBAN_SECRET_KEY";
pub const ENV_OLD_KEYS: &str = "QUNBAN_SECRET_KEY_OLD";
pub const ENV_KEY_FILE: &str = "QUNBAN_SECRET_KEY_FILE";

/// Where the secret keys come from (see the module docs).
#[derive(Clone, Default)]
pub struct KeyConfig {
    /// The current key, base64 (takes precedence over any key file).
    pub key: Option<String>,
    /// Older keys, base64, accepted for reading only.
    pub old_keys: Vec<String>,
    /// The key file; `None` means the default location.
    pub key_file: Option<PathBuf>,
}

impl std::fmt::Debug for KeyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyConfig")
            .field("key", &self.key.as_ref().map(|_| "[redacted]"))
            .field("old_keys", &self.old_keys.len())
            .field("key_file", &self.key_file)
            .finish()
    }
}

impl KeyConfig {
    /// `QUNBAN_SECRET_KEY`, `QUNBAN_SECRET_KEY_OLD`, `QUNBAN_SECRET_KEY_FILE`.
    pub fn from_env() -> KeyConfig {
        let non_empty = |name: &str| std::env::var(name).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        KeyConfig {
            key: non_empty(ENV_KEY),
            old_keys: non_empty(ENV_OLD_KEYS).map(|v| split_keys(&v)).unwrap_or_default(),
            key_file: non_empty(ENV_KEY_FILE).map(PathBuf::from),
        }
    }
}

fn split_keys(v: &str) -> Vec<String> {
    v.split([',', '\n', ' ']).map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
}

/// Whether a stored value is sealed (else it is plain text from before).
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(PREFIX)
}

/// One 256-bit key and its id.
#[derive(Clone)]
struct SecretKey {
    id: String,
    cipher: ChaCha20Poly1305,
}

impl SecretKey {
    fn from_bytes(bytes: &[u8; 32]) -> SecretKey {
        SecretKey { id: key_id(bytes), cipher: ChaCha20Poly1305::new(Key::from_slice(bytes)) }
    }

    fn parse(b64: &str, what: &str) -> Result<SecretKey> {
        let bytes = B64
            .decode(b64.trim())
            .map_err(|_| StoreError::SecretKey(format!("{what} is not valid base64 (expected 32 random bytes, e.g. from `qunban secrets generate-key`)")))?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| StoreError::SecretKey(format!("{what} must decode to 32 bytes, not {}", b.len())))?;
        Ok(SecretKey::from_bytes(&bytes))
    }
}

fn key_id(bytes: &[u8; 32]) -> String {
    let mut h = Sha256::new();
    h.update(b"qunban secret key id\0");
    h.update(bytes);
    hex::encode(&h.finalize()[..4])
}

/// A fresh random key, base64 (what `qunban secrets generate-key` prints).
pub fn generate_key() -> String {
    B64.encode(rand::random::<[u8; 32]>())
}

/// The keys a [`crate::Store`] seals and opens secrets with. Cheap to clone.
#[derive(Clone)]
pub struct Keyring {
    inner: Arc<Mutex<KeyringState>>,
}

struct KeyringState {
    /// `None` until a key file is created on first use.
    current: Option<SecretKey>,
    old: Vec<SecretKey>,
    /// The key file the current key comes from (or will be created in);
    /// `None` for a key from the environment or an in-memory database.
    file: Option<PathBuf>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.inner.lock().expect("keyring lock");
        f.debug_struct("Keyring").field("current", &s.current.as_ref().map(|k| k.id.clone())).field("file", &s.file).finish()
    }
}

impl Keyring {
    /// Loads the keys from `config`; `default_file` is used when neither a
    /// key nor a key file is configured (`None`: an ephemeral key, for
    /// in-memory databases).
    pub fn load(config: &KeyConfig, default_file: Option<PathBuf>) -> Result<Keyring> {
        let mut old = Vec::new();
        for (i, k) in config.old_keys.iter().enumerate() {
            old.push(SecretKey::parse(k, &format!("{ENV_OLD_KEYS} entry {}", i + 1))?);
        }
        let (current, file) = if let Some(k) = &config.key {
            (Some(SecretKey::parse(k, ENV_KEY)?), None)
        } else {
            match config.key_file.clone().or(default_file) {
                Some(path) => {
                    let (current, older) = read_key_file(&path)?;
                    old.extend(older);
                    (current, Some(path))
                }
                None => (Some(SecretKey::from_bytes(&rand::random())), None),
            }
        };
        Ok(Keyring { inner: Arc::new(Mutex::new(KeyringState { current, old, file })) })
    }

    /// A keyring with exactly these keys (tests, tools).
    pub fn from_keys(current: &str, old: &[&str]) -> Result<Keyring> {
        Keyring::load(&KeyConfig { key: Some(current.into()), old_keys: old.iter().map(|s| s.to_string()).collect(), key_file: None }, None)
    }

    /// The id of the key new secrets are sealed with, creating the key
    /// file if it does not exist yet.
    pub fn current_id(&self) -> Result<String> {
        let mut s = self.inner.lock().expect("keyring lock");
        Ok(current(&mut s)?.id.clone())
    }

    /// The key file in use, if the key comes from one.
    pub fn key_file(&self) -> Option<PathBuf> {
        self.inner.lock().expect("keyring lock").file.clone()
    }

    /// Seals `plain` for the field named by `aad`.
    pub fn seal(&self, aad: &str, plain: &str) -> Result<String> {
        let mut s = self.inner.lock().expect("keyring lock");
        let key = current(&mut s)?;
        let nonce: [u8; NONCE_LEN] = rand::random();
        let ct = key
            .cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain.as_bytes(), aad: aad.as_bytes() })
            .map_err(|_| StoreError::SecretKey("encryption failed".into()))?;
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ct);
        Ok(format!("{PREFIX}{}:{}", key.id, B64.encode(blob)))
    }

    /// Opens a stored value: sealed values are decrypted, plain ones (from
    /// before encryption) returned as they are.
    pub fn open(&self, aad: &str, stored: &str) -> Result<String> {
        let Some(rest) = stored.strip_prefix(PREFIX) else { return Ok(stored.to_string()) };
        let (id, blob) = rest.split_once(':').ok_or_else(|| StoreError::Corrupt(format!("sealed {aad} without a key id")))?;
        let mut s = self.inner.lock().expect("keyring lock");
        if !s.current.iter().chain(s.old.iter()).any(|k| k.id == id) {
            // Another process may have created or rotated the key file since
            // this one loaded it (`qunban connector add` while `serve` runs,
            // `qunban secrets rotate`): take up its keys before giving up.
            reload_key_file(&mut s)?;
        }
        let key = s.current.iter().chain(s.old.iter()).find(|k| k.id == id).ok_or_else(|| {
            StoreError::SecretKey(format!(
                "the stored {aad} is encrypted with key id {id}, which is not configured (current key: {}); \
                 set {ENV_KEY} (or the key file) to that key, or give it in {ENV_OLD_KEYS}",
                s.current.as_ref().map_or("none".to_string(), |k| k.id.clone())
            ))
        })?;
        let blob = B64.decode(blob).map_err(|_| StoreError::Corrupt(format!("sealed {aad} is not base64")))?;
        if blob.len() < NONCE_LEN + 16 {
            return Err(StoreError::Corrupt(format!("sealed {aad} is truncated")));
        }
        let (nonce, ct) = blob.split_at(NONCE_LEN);
        let plain = key
            .cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad: aad.as_bytes() })
            .map_err(|_| StoreError::SecretKey(format!("cannot decrypt the stored {aad} with key id {id}: the data was altered or belongs to another field")))?;
        String::from_utf8(plain).map_err(|_| StoreError::Corrupt(format!("sealed {aad} is not UTF-8")))
    }

    /// Whether `stored` is sealed with the current key (nothing to rotate).
    pub fn is_current(&self, stored: &str) -> Result<bool> {
        let id = self.current_id()?;
        Ok(stored.strip_prefix(PREFIX).and_then(|r| r.split_once(':')).is_some_and(|(k, _)| k == id))
    }

    /// Key-file rotation, step 1: a new current key is written in front of
    /// the file's keys (atomically), so that every value stays readable
    /// whatever happens next. Returns the new key id.
    pub fn prepend_new_key(&self) -> Result<String> {
        let mut s = self.inner.lock().expect("keyring lock");
        let path = s.file.clone().ok_or_else(|| {
            StoreError::SecretKey(format!(
                "the key comes from {ENV_KEY}, not a key file: set {ENV_OLD_KEYS} to the old key and {ENV_KEY} to a new one \
                 (`qunban secrets generate-key`), then run `qunban secrets rotate`"
            ))
        })?;
        let fresh = generate_key();
        let mut lines = vec![fresh.clone()];
        if path.exists() {
            lines.extend(std::fs::read_to_string(&path).map_err(|e| file_err(&path, e))?.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from));
        }
        replace_file(&path, &lines)?;
        let new = SecretKey::parse(&fresh, "generated key")?;
        let id = new.id.clone();
        if let Some(prev) = s.current.replace(new) {
            s.old.insert(0, prev);
        }
        Ok(id)
    }

    /// Key-file rotation, last step: once nothing is sealed with the older
    /// keys, the file keeps only the current one.
    pub fn drop_old_keys_from_file(&self) -> Result<()> {
        let s = self.inner.lock().expect("keyring lock");
        let (Some(path), Some(_)) = (s.file.clone(), s.current.as_ref()) else { return Ok(()) };
        let first = std::fs::read_to_string(&path).map_err(|e| file_err(&path, e))?.lines().map(str::trim).find(|l| !l.is_empty()).map(String::from);
        if let Some(first) = first {
            replace_file(&path, &[first])?;
        }
        Ok(())
    }
}

fn current(s: &mut KeyringState) -> Result<&SecretKey> {
    if s.current.is_none() {
        let path = s.file.clone().expect("a keyring without a key has a key file");
        create_key_file(&path)?;
        let (current, older) = read_key_file(&path)?;
        s.current = current;
        s.old.extend(older);
    }
    Ok(s.current.as_ref().expect("key just loaded"))
}

/// Adds the keys of the key file this keyring does not know yet; a key
/// file that became current elsewhere becomes current here too.
fn reload_key_file(s: &mut KeyringState) -> Result<()> {
    let Some(path) = s.file.clone() else { return Ok(()) };
    let (file_current, older) = read_key_file(&path)?;
    for k in file_current.into_iter().chain(older) {
        if s.current.as_ref().is_some_and(|c| c.id == k.id) || s.old.iter().any(|o| o.id == k.id) {
            continue;
        }
        if s.current.is_none() {
            s.current = Some(k);
        } else {
            s.old.push(k);
        }
    }
    Ok(())
}

fn file_err(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::SecretKey(format!("key file {}: {e}", path.display()))
}

/// The current key and the older ones of a key file; a missing file has
/// no keys yet.
fn read_key_file(path: &Path) -> Result<(Option<SecretKey>, Vec<SecretKey>)> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((None, Vec::new())),
        Err(e) => return Err(file_err(path, e)),
    };
    let mut keys = Vec::new();
    for (i, line) in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).enumerate() {
        keys.push(SecretKey::parse(line, &format!("key file {} line {}", path.display(), i + 1))?);
    }
    if keys.is_empty() {
        return Err(StoreError::SecretKey(format!("key file {} holds no key", path.display())));
    }
    let current = keys.remove(0);
    Ok((Some(current), keys))
}

/// Creates the key file with a fresh key, mode 0600, unless another process
/// just did: the key is written to a private temporary file first and then
/// hard-linked into place, which fails if the name exists, so two instances
/// starting together end up with the same key.
fn create_key_file(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::create_private_dir(dir).map_err(|e| file_err(dir, e))?;
    }
    let tmp = temp_path(path);
    write_private(&tmp, &[generate_key()])?;
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            tracing::info!(file = %path.display(), "created a new secret key file; back it up: the connector secrets cannot be read without it");
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(file_err(path, e)),
    }
}

/// Atomically replaces a key file (write a private temporary, rename).
fn replace_file(path: &Path, lines: &[String]) -> Result<()> {
    let tmp = temp_path(path);
    write_private(&tmp, lines)?;
    std::fs::rename(&tmp, path).map_err(|e| file_err(path, e))
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!(".tmp-{}", hex::encode(rand::random::<[u8; 6]>())));
    path.with_file_name(name)
}

fn write_private(path: &Path, lines: &[String]) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path).map_err(|e| file_err(path, e))?;
    let mut text = lines.join("\n");
    text.push('\n');
    f.write_all(text.as_bytes()).and_then(|_| f.sync_all()).map_err(|e| file_err(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_field_binding() {
        let k = Keyring::from_keys(&generate_key(), &[]).unwrap();
        let sealed = k.seal("connector:app_secret", "s3cret").unwrap();
        assert!(sealed.starts_with(PREFIX) && !sealed.contains("s3cret"));
        assert_eq!(k.open("connector:app_secret", &sealed).unwrap(), "s3cret");
        assert!(matches!(k.open("connector:token", &sealed), Err(StoreError::SecretKey(_))));
        assert_eq!(k.open("connector:token", "legacy plain").unwrap(), "legacy plain");
    }

    #[test]
    fn a_key_file_created_by_another_process_is_taken_up() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secret.key");
        let config = KeyConfig { key: None, old_keys: vec![], key_file: Some(file.clone()) };
        // `serve` starts before any secret exists: no key file yet.
        let server = Keyring::load(&config, None).unwrap();
        // `qunban connector add` then creates the file and seals a secret.
        let cli = Keyring::load(&config, None).unwrap();
        let sealed = cli.seal("connector:app_secret", "s3cret").unwrap();
        assert_eq!(server.open("connector:app_secret", &sealed).unwrap(), "s3cret");
        // And both seal with the same key from then on.
        assert_eq!(server.current_id().unwrap(), cli.current_id().unwrap());
    }

    #[test]
    fn a_wrong_key_is_a_clear_error() {
        let a = Keyring::from_keys(&generate_key(), &[]).unwrap();
        let b = Keyring::from_keys(&generate_key(), &[]).unwrap();
        let sealed = a.seal("f", "x").unwrap();
        let err = b.open("f", &sealed).unwrap_err().to_string();
        assert!(err.contains("not configured") && err.contains(&a.current_id().unwrap()), "{err}");
        assert!(Keyring::from_keys("not base64!", &[]).unwrap_err().to_string().contains("base64"));
        assert!(Keyring::from_keys(&B64.encode([0u8; 16]), &[]).unwrap_err().to_string().contains("32 bytes"));
    }
}
