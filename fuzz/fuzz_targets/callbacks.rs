//! Every callback decoder on hostile bodies: WeCom XML envelopes, messages
//! and AES payloads, WeCom 智能机器人 JSON, Feishu events (plain and
//! encrypted), DingTalk and generic-webhook JSON. Errors are fine; panics
//! are not.
#![no_main]
use libfuzzer_sys::fuzz_target;
use qunban_connect::{dingtalk, feishu, webhook, wecom};

const AES_KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";

fuzz_target!(|data: &[u8]| {
    let _ = wecom::parse_envelope(data);
    let _ = wecom::parse_message(data);
    let _ = wecom::AibotMessage::parse(data);
    let _ = dingtalk::parse_callback(data);
    let _ = webhook::parse_inbound(data);
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(crypto) = wecom::WecomCrypto::new("QDG6eK", AES_KEY, "wx5823bf96d3bd56c7") {
        let _ = crypto.decrypt(text);
    }
    let _ = feishu::decrypt("test key", text);
    let keys = feishu::FeishuKeys::new(Some("test key"), Some("token"));
    let headers = feishu::SignatureHeaders { timestamp: Some("1"), nonce: Some("n"), signature: Some(text) };
    let _ = keys.open_request(&headers, data);
    let plain = feishu::FeishuKeys::new(None, Some("token"));
    let _ = plain.open_request(&feishu::SignatureHeaders { timestamp: None, nonce: None, signature: None }, data);
    let _ = dingtalk::verify_callback(&dingtalk::DingtalkSecret::new("secret"), text, text, 0);
});
