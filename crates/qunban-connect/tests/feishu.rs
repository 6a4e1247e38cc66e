use qunban_connect::feishu::{self, BotMention, FeishuBotSecret, FeishuInbound, FeishuKeys, SignatureHeaders};
use qunban_connect::ConnectError;
use serde_json::json;

#[test]
fn decrypt_doc_vector_d2() {
    assert_eq!(feishu::decrypt("test key", "P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=").unwrap(), "hello world");
}

#[test]
fn signature_golden_d2() {
    assert_eq!(
        feishu::signature("1700000000", "nonce123", "lark-enc-key", br#"{"encrypt":"abc"}"#),
        "19deeb336f4c010944fae97741b407260d92ad869adf2395684ad9f2f6193753"
    );
}

#[test]
fn bot_sign_golden_d1() {
    assert_eq!(feishu::bot_sign("demo-secret", 1599360473), "3/MaVZ8JLIy4TUG+7KSFJqvUkTKd+HWY8g+56DZWq8s=");
}

#[test]
fn decrypt_negative() {
    // Wrong key → padding failure (or garbage that is not UTF-8), never success.
    let e = feishu::decrypt("other key", "P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=").unwrap_err();
    assert!(matches!(e, ConnectError::BadPadding | ConnectError::Malformed(_)), "{e:?}");
    for bad in ["", "P37w+VZImNgPEO1RBhJ6Rt", "!!!", "P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzgh"] {
        assert!(feishu::decrypt("test key", bad).is_err(), "{bad:?}");
    }
}

#[test]
fn encrypt_roundtrip() {
    for n in [0, 1, 15, 16, 17, 100] {
        let s = "飞".repeat(n);
        let e = feishu::encrypt_with_iv("k", &s, [7u8; 16]);
        assert_eq!(feishu::decrypt("k", &e).unwrap(), s);
    }
}

const EK: &str = "lark-enc-key";
const VT: &str = "verif-token";
const BOT: &str = "ou_b07c1e4e0cd3fa1f6b5d62a3b7b1e5f2";

fn keys() -> FeishuKeys {
    FeishuKeys::new(Some(EK), Some(VT))
}

/// Same shape as interop/feishu_client.py make_event.
fn event(token: &str, text: &str) -> serde_json::Value {
    json!({
        "schema": "2.0",
        "header": {"event_id": "5e3702a84e847582be8db7fb73283c02", "event_type": "im.message.receive_v1",
                   "create_time": "1700000000000", "token": token, "app_id": "cli_a0000000000000", "tenant_key": "736588c9260f175d"},
        "event": {
            "sender": {"sender_id": {"union_id": "on_x", "user_id": "e33ggbyz", "open_id": "ou_7d8a6e6df7621556ce0d21922b676706"},
                       "sender_type": "user", "tenant_key": "736588c9260f175d"},
            "message": {"message_id": "om_abc", "root_id": "", "parent_id": "", "create_time": "1700000000000",
                        "update_time": "1700000000000", "chat_id": "oc_5ad11d72b830411d72b836c20", "chat_type": "group",
                        "message_type": "text", "content": json!({"text": text}).to_string(),
                        "mentions": [
                            {"key": "@_user_1", "id": {"union_id": "on_b", "user_id": null, "open_id": BOT}, "name": "PMBot", "tenant_key": "t"},
                            {"key": "@_user_2", "id": {"union_id": "on_c", "user_id": "u2", "open_id": "ou_li"}, "name": "李四", "tenant_key": "t"}
                        ],
                        "user_agent": "Mozilla/5.0 (interop-harness)"}
        }
    })
}

fn sealed(payload: &serde_json::Value) -> Vec<u8> {
    let enc = feishu::encrypt_with_iv(EK, &payload.to_string(), [3u8; 16]);
    json!({ "encrypt": enc }).to_string().into_bytes()
}

fn headers_for(body: &[u8], sig: &mut String) -> SignatureHeaders<'static> {
    *sig = feishu::signature("1700000000", "n0nce", EK, body);
    SignatureHeaders { timestamp: Some("1700000000"), nonce: Some("n0nce"), signature: None }
}

#[test]
fn encrypted_signed_message_event() {
    let body = sealed(&event(VT, "@_user_1 列出 @_user_2 的任务"));
    let mut sig = String::new();
    let mut h = headers_for(&body, &mut sig);
    h.signature = Some(&sig);
    let FeishuInbound::MessageReceive(ev) = keys().open_request(&h, &body).unwrap() else { panic!("not a message") };
    assert_eq!(ev.event_id, "5e3702a84e847582be8db7fb73283c02");
    assert_eq!(ev.message_id, "om_abc");
    assert_eq!(ev.chat_id, "oc_5ad11d72b830411d72b836c20");
    assert!(ev.is_group());
    assert_eq!(ev.sender.open_id.as_deref(), Some("ou_7d8a6e6df7621556ce0d21922b676706"));
    assert_eq!(ev.sender.user_id.as_deref(), Some("e33ggbyz"));
    assert_eq!(ev.create_time_ms, Some(1_700_000_000_000));
    assert_eq!(ev.text.as_deref(), Some("@_user_1 列出 @_user_2 的任务"));
    assert_eq!(ev.mentions[0].id.user_id, None);
    assert!(ev.mentions_bot(BOT));
    let r = ev.resolve_text(Some(BOT)).unwrap();
    assert!(r.bot_mentioned);
    assert_eq!(r.text, "列出 @李四 的任务");
    let r = ev.resolve_text(None).unwrap();
    assert!(!r.bot_mentioned);
    assert_eq!(r.text, "@PMBot 列出 @李四 的任务");
}

#[test]
fn forged_signature_and_token() {
    let body = sealed(&event(VT, "hi"));
    let mut sig = String::new();
    let mut h = headers_for(&body, &mut sig);
    let zeros = "0".repeat(64);
    h.signature = Some(&zeros);
    assert_eq!(keys().open_request(&h, &body).unwrap_err(), ConnectError::BadSignature);
    h.signature = None;
    assert_eq!(keys().open_request(&h, &body).unwrap_err(), ConnectError::BadSignature);
    // Signature over a different body.
    h.signature = Some(&sig);
    let other = sealed(&event(VT, "hi!"));
    assert_eq!(keys().open_request(&h, &other).unwrap_err(), ConnectError::BadSignature);
    // Valid signature but wrong verification token.
    let body = sealed(&event("wrong-token", "hi"));
    let mut sig = String::new();
    let mut h = headers_for(&body, &mut sig);
    h.signature = Some(&sig);
    let e = keys().open_request(&h, &body).unwrap_err();
    assert_eq!(e, ConnectError::BadToken);
    assert_eq!(e.http_status(), 401);
}

#[test]
fn url_verification_encrypted_and_plain() {
    // Encrypted, without X-Lark headers (as lark-oapi and the harness send it).
    let body = sealed(&json!({"challenge": "ch-1", "token": VT, "type": "url_verification"}));
    match keys().open_request(&SignatureHeaders::default(), &body).unwrap() {
        FeishuInbound::UrlVerification { challenge } => assert_eq!(feishu::challenge_response(&challenge), r#"{"challenge":"ch-1"}"#),
        other => panic!("{other:?}"),
    }
    // Wrong token on the challenge.
    let body = sealed(&json!({"challenge": "ch-1", "token": "nope", "type": "url_verification"}));
    assert_eq!(keys().open_request(&SignatureHeaders::default(), &body).unwrap_err(), ConnectError::BadToken);
    // Plaintext mode (no encrypt key configured).
    let plain = FeishuKeys::new(None, Some(VT));
    let body = json!({"challenge": "ch-2", "token": VT, "type": "url_verification"}).to_string();
    assert!(matches!(plain.open_request(&SignatureHeaders::default(), body.as_bytes()).unwrap(), FeishuInbound::UrlVerification { challenge } if challenge == "ch-2"));
    // Plaintext events are unsigned but token-checked.
    let body = event(VT, "@_user_1 hi").to_string();
    assert!(matches!(plain.open_request(&SignatureHeaders::default(), body.as_bytes()).unwrap(), FeishuInbound::MessageReceive(_)));
    // Encrypted body but we have no key: configuration problem.
    let body = sealed(&event(VT, "x"));
    assert!(matches!(plain.open_request(&SignatureHeaders::default(), &body), Err(ConnectError::Config(_))));
}

#[test]
fn other_events_and_malformed() {
    let p = json!({"schema":"2.0","header":{"event_id":"e2","event_type":"im.chat.member.bot.added_v1","token":VT},"event":{}});
    match FeishuKeys::new(None, Some(VT)).open_request(&SignatureHeaders::default(), p.to_string().as_bytes()).unwrap() {
        FeishuInbound::Other { event_type, event_id, .. } => {
            assert_eq!(event_type, "im.chat.member.bot.added_v1");
            assert_eq!(event_id.as_deref(), Some("e2"));
        }
        other => panic!("{other:?}"),
    }
    let k = FeishuKeys::new(None, None);
    for bad in ["", "{", "[1]", r#"{"encrypt":5}"#] {
        assert!(k.open_request(&SignatureHeaders::default(), bad.as_bytes()).is_err(), "{bad:?}");
    }
    // im.message.receive_v1 with content that is not JSON.
    let mut e = event(VT, "x");
    e["event"]["message"]["content"] = json!("not json");
    assert!(matches!(k.open_request(&SignatureHeaders::default(), e.to_string().as_bytes()), Err(ConnectError::Malformed(_))));
}

#[test]
fn placeholder_prefixes_do_not_collide() {
    let mut e = event(VT, "@_user_10 和 @_user_1 @_user_9x");
    e["event"]["message"]["mentions"] = json!([
        {"key": "@_user_1", "id": {"open_id": "ou_a"}, "name": "A"},
        {"key": "@_user_10", "id": {"open_id": "ou_j"}, "name": "J"}
    ]);
    let ev = feishu::MessageEvent::from_payload(&e).unwrap();
    let r = ev.resolve_text(Some("ou_a")).unwrap();
    assert_eq!(r.text, "@J 和 @_user_9x");
    assert!(r.bot_mentioned);
}

#[test]
fn custom_bot_bodies() {
    let s = FeishuBotSecret::new("demo-secret");
    let b = feishu::text_body("hi", &[BotMention { user_id: "ou_x".into(), name: "Tom".into() }], Some(&s), 1599360473);
    assert_eq!(
        b,
        json!({"msg_type":"text","content":{"text":"<at user_id=\"ou_x\">Tom</at> hi"},
               "timestamp":"1599360473","sign":"3/MaVZ8JLIy4TUG+7KSFJqvUkTKd+HWY8g+56DZWq8s="})
    );
    let b = feishu::text_body("hi", &[], None, 0);
    assert_eq!(b, json!({"msg_type":"text","content":{"text":"hi"}}));
    let b = feishu::post_body("日报", "第一行\n第二行", &[BotMention { user_id: "ou_x".into(), name: "Tom".into() }], None, 0);
    assert_eq!(b["msg_type"], "post");
    let content = &b["content"]["post"]["zh_cn"]["content"];
    assert_eq!(b["content"]["post"]["zh_cn"]["title"], "日报");
    assert_eq!(content[0][0], json!({"tag":"at","user_id":"ou_x"}));
    assert_eq!(content[0][1], json!({"tag":"text","text":"第一行"}));
    assert_eq!(content[1][0], json!({"tag":"text","text":"第二行"}));
    let b = feishu::markdown_card_body("**done**", &[BotMention { user_id: "ou_x".into(), name: "Tom".into() }], None, 0);
    assert_eq!(b["card"]["elements"][0]["content"], "<at id=ou_x></at> **done**");
}

#[test]
fn debug_redacts() {
    let d = format!("{:?} {:?}", keys(), FeishuBotSecret::new("demo-secret"));
    assert!(!d.contains(EK) && !d.contains(VT) && !d.contains("demo-secret"), "{d}");
    assert!(d.contains("[redacted]"));
}
