//! Mutated and truncated inputs must produce errors, never panics.

use rand::{rngs::StdRng, Rng, SeedableRng};

use qunban_connect::{dingtalk, feishu, webhook, wecom};

fn mutations(seed: &[u8], rng: &mut StdRng) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for cut in 0..seed.len().min(400) {
        out.push(seed[..cut].to_vec());
    }
    for _ in 0..400 {
        let mut v = seed.to_vec();
        for _ in 0..rng.random_range(1..6) {
            if v.is_empty() {
                break;
            }
            let i = rng.random_range(0..v.len());
            match rng.random_range(0..3) {
                0 => v[i] = rng.random(),
                1 => {
                    v.remove(i);
                }
                _ => v.insert(i, b"<>&]\"{}[\\\x00\xff"[rng.random_range(0..11)]),
            }
        }
        out.push(v);
    }
    out
}

#[test]
fn parsers_never_panic() {
    let mut rng = StdRng::seed_from_u64(7);
    let xml_msg = b"<xml><ToUserName><![CDATA[ww1]]></ToUserName><FromUserName><![CDATA[u]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi &amp; <x>]]></Content><MsgId>1</MsgId><AgentID>1</AgentID></xml>";
    for m in mutations(xml_msg, &mut rng) {
        let _ = wecom::parse_message(&m);
        let _ = wecom::parse_envelope(&m);
    }
    let aibot = br#"{"msgid":"1","aibotid":"b","chatid":"c","chattype":"group","from":{"userid":"u"},"msgtype":"text","text":{"content":"hi"}}"#;
    for m in mutations(aibot, &mut rng) {
        let _ = wecom::AibotMessage::parse(&m);
    }
    let ding = br#"{"msgId":"m","msgtype":"text","createAt":1,"conversationType":"2","atUsers":[{"dingtalkId":"d","staffId":"s"}],"text":{"content":" hi"}}"#;
    for m in mutations(ding, &mut rng) {
        let _ = dingtalk::parse_callback(&m);
    }
    let fs = br#"{"schema":"2.0","header":{"event_id":"e","event_type":"im.message.receive_v1","token":"t"},"event":{"sender":{"sender_id":{"open_id":"ou"}},"message":{"message_id":"om","chat_id":"oc","chat_type":"group","message_type":"text","content":"{\"text\":\"@_user_1 hi\"}","mentions":[{"key":"@_user_1","id":{"open_id":"ou_b"},"name":"B"}]}}}"#;
    let keys = feishu::FeishuKeys::new(None, Some("t"));
    for m in mutations(fs, &mut rng) {
        if let Ok(feishu::FeishuInbound::MessageReceive(ev)) = keys.open_request(&Default::default(), &m) {
            let _ = ev.resolve_text(Some("ou_b"));
        }
    }
    let wh = br#"{"group":"g","sender":{"id":"u","name":"n"},"text":"t","message_id":"1","sent_at":"2026-04-22T14:00:00+08:00"}"#;
    for m in mutations(wh, &mut rng) {
        let _ = webhook::parse_inbound(&m);
    }
}

#[test]
fn decryptors_never_panic() {
    let mut rng = StdRng::seed_from_u64(11);
    let c = wecom::WecomCrypto::new("t", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "ww1").unwrap();
    let enc = c.encrypt(b"<xml><A>1</A></xml>");
    let fenc = feishu::encrypt_with_iv("k", "{\"a\":1}", [1; 16]);
    for m in mutations(enc.as_bytes(), &mut rng) {
        let _ = c.decrypt(&String::from_utf8_lossy(&m));
    }
    for m in mutations(fenc.as_bytes(), &mut rng) {
        let _ = feishu::decrypt("k", &String::from_utf8_lossy(&m));
    }
    // Random ciphertexts of valid shape: errors only.
    for _ in 0..500 {
        let n = 32 * rng.random_range(1..5);
        let bytes: Vec<u8> = (0..n).map(|_| rng.random()).collect();
        let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &bytes);
        assert!(c.decrypt(&b64).is_err());
        let _ = feishu::decrypt("k", &b64);
    }
}
