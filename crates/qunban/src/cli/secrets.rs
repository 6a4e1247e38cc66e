//! `qunban secrets`: the key connector secrets are encrypted with.

use anyhow::Result;
use clap::Subcommand;
use qunban_store::Store;

use super::print_json;

#[derive(Debug, Subcommand)]
pub enum SecretsCmd {
    /// Print a fresh random key (base64, 32 bytes) for QUNBAN_SECRET_KEY.
    GenerateKey,
    /// Re-encrypt every connector secret with the current key.
    ///
    /// With a key in QUNBAN_SECRET_KEY: put the old key in
    /// QUNBAN_SECRET_KEY_OLD, the new one in QUNBAN_SECRET_KEY, run this, then
    /// restart every instance with the new key only. With a key file:
    /// `--generate` writes a new key into the file (keeping the old one
    /// until every secret is re-encrypted), then restart the instances.
    #[command(after_help = "Examples:\n  qunban secrets rotate --generate\n  QUNBAN_SECRET_KEY_OLD=$OLD QUNBAN_SECRET_KEY=$NEW qunban secrets rotate --json")]
    Rotate {
        /// Generate a new key in the key file first.
        #[arg(long)]
        generate: bool,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(cmd: SecretsCmd, store: &Store) -> Result<()> {
    match cmd {
        SecretsCmd::GenerateKey => {
            println!("{}", qunban_store::secrets::generate_key());
            Ok(())
        }
        SecretsCmd::Rotate { generate, json } => {
            let keys = store.keyring();
            let old_id = keys.current_id()?;
            if generate {
                keys.prepend_new_key()?;
            }
            let rows = store.rotate_secrets().await?;
            if generate {
                keys.drop_old_keys_from_file()?;
            }
            let key_id = keys.current_id()?;
            if json {
                return print_json(&serde_json::json!({ "rows_reencrypted": rows, "key_id": key_id, "previous_key_id": old_id }));
            }
            println!("Re-encrypted {rows} rows with key {key_id}.");
            if generate {
                println!("The key file now holds only the new key; restart every instance so that it loads it.");
            }
            Ok(())
        }
    }
}
