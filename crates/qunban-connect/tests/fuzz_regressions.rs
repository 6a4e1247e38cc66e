//! Inputs the fuzzers (fuzz/, scripts/fuzz.sh) once broke, replayed with the
//! fuzz targets' own calls on every `cargo test`: decoding a hostile body
//! may fail, never panic or loop.

use std::path::PathBuf;

use qunban_connect::wechat_export::{CsvExport, TxtExport};
use qunban_connect::{dingtalk, feishu, webhook, wecom};

fn inputs(target: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).map(|e| e.unwrap().path()).collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

#[test]
fn callback_regressions() {
    let cases = inputs("callbacks");
    assert!(!cases.is_empty());
    for data in cases {
        let _ = wecom::parse_envelope(&data);
        let _ = wecom::parse_message(&data);
        let _ = wecom::AibotMessage::parse(&data);
        let _ = dingtalk::parse_callback(&data);
        let _ = webhook::parse_inbound(&data);
        let Ok(text) = std::str::from_utf8(&data) else { continue };
        let crypto = wecom::WecomCrypto::new("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7").unwrap();
        let _ = crypto.decrypt(text);
        let _ = feishu::decrypt("test key", text);
        let keys = feishu::FeishuKeys::new(Some("test key"), Some("token"));
        let headers = feishu::SignatureHeaders { timestamp: Some("1"), nonce: Some("n"), signature: Some(text) };
        let _ = keys.open_request(&headers, &data);
    }
}

#[test]
fn chat_export_regressions() {
    let cases = inputs("chat_export");
    assert!(!cases.is_empty());
    for data in cases {
        assert!(TxtExport::new(std::io::BufReader::new(&data[..])).take(100_000).count() < 100_000);
        assert!(CsvExport::new(&data[..]).take(100_000).count() < 100_000);
    }
}
