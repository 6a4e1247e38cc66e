//! Forged, stale, replayed, oversized and malformed callbacks are refused
//! with the right status and a JSON error — and leave the database empty.
//! Requests are built with qunban-connect's own (vector-tested) signers and
//! then tampered with.

#[path = "connectors_support/mod.rs"]
mod support;

use qunban_connect::wecom::WecomCrypto;
use qunban_connect::{dingtalk, feishu, webhook};
use qunban_store::{ConnectorConfig, ConnectorKind};
use serde_json::{json, Value};
use support::{spawn, App};

const AES_KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
const CORP: &str = "ww-corp-1";

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

async fn expect_error(resp: reqwest::Response, status: u16, code: &str) {
    assert_eq!(resp.status().as_u16(), status);
    let body: Value = resp.json().await.expect("JSON error body");
    assert_eq!(body["error"]["code"], code, "{body}");
}

fn wecom_text(corp: &str, msg_id: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{corp}]]></ToUserName><FromUserName><![CDATA[zhangsan]]></FromUserName><CreateTime>{}</CreateTime>\
         <MsgType><![CDATA[text]]></MsgType><Content><![CDATA[@张三 明天交周报]]></Content><MsgId>{msg_id}</MsgId><AgentID>1</AgentID></xml>",
        now()
    )
}

/// POSTs an app callback whose inner message was sealed with `receive_id`,
/// signed at `ts`; `forge` replaces the signature.
async fn post_wecom(app: &App, receive_id: &str, ts: i64, forge: bool, msg_id: &str) -> reqwest::Response {
    let c = WecomCrypto::new("tok", AES_KEY, receive_id).unwrap();
    let encrypt = c.encrypt(wecom_text(receive_id, msg_id).as_bytes());
    let sig = if forge { "0".repeat(40) } else { c.signature(&ts.to_string(), "123", &encrypt) };
    let body = format!("<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt><AgentID>1</AgentID></xml>");
    app.client.post(app.url(&format!("/wecom/w/callback?msg_signature={sig}&timestamp={ts}&nonce=123"))).body(body).send().await.unwrap()
}

#[tokio::test]
async fn wecom_rejects_forged_foreign_stale_and_malformed_callbacks() {
    let app = spawn().await;
    let config = ConnectorConfig { corp_id: Some(CORP.into()), token: Some("tok".into()), aes_key: Some(AES_KEY.into()), ..Default::default() };
    app.connector("w", ConnectorKind::Wecom, config).await;

    expect_error(post_wecom(&app, CORP, now(), true, "1").await, 401, "bad_signature").await;
    expect_error(post_wecom(&app, "ww-other-corp", now(), false, "2").await, 400, "receive_id_mismatch").await;
    expect_error(post_wecom(&app, CORP, now() - 3600, false, "3").await, 401, "stale_timestamp").await;
    let r = app.client.post(app.url(&format!("/wecom/w/callback?msg_signature=x&timestamp={}&nonce=1", now()))).body("<xml><Encrypt>").send().await.unwrap();
    expect_error(r, 400, "malformed").await;
    let r = app.client.post(app.url("/wecom/w/callback")).body("<xml/>").send().await.unwrap();
    expect_error(r, 400, "malformed").await;
    let big = format!("<xml><Encrypt>{}</Encrypt></xml>", "A".repeat(300 * 1024));
    let r = app.client.post(app.url(&format!("/wecom/w/callback?msg_signature=x&timestamp={}&nonce=1", now()))).body(big).send().await.unwrap();
    expect_error(r, 413, "payload_too_large").await;
    let r = app.client.get(app.url(&format!("/wecom/w/callback?msg_signature=x&timestamp={}&nonce=1&echostr=abc", now()))).send().await.unwrap();
    expect_error(r, 401, "bad_signature").await;
    let r = app.client.post(app.url("/wecom/nobody/callback")).body("<xml/>").send().await.unwrap();
    expect_error(r, 404, "unknown_connector").await;
    assert_eq!(app.messages().await, 0);

    // The genuine request is accepted; its replay (same MsgId) is stored once.
    let ts = now();
    assert_eq!(post_wecom(&app, CORP, ts, false, "42").await.status(), 200);
    assert_eq!(post_wecom(&app, CORP, ts, false, "42").await.status(), 200);
    assert_eq!(app.messages().await, 1);
}

#[tokio::test]
async fn dingtalk_rejects_bad_sign_stale_timestamp_and_bad_json() {
    let app = spawn().await;
    app.connector("d", ConnectorKind::Dingtalk, ConnectorConfig { app_secret: Some("s3cret".into()), ..Default::default() }).await;
    let post = |ts_ms: i64, sign: String, body: String| {
        app.client.post(app.url("/dingtalk/d/callback")).header("timestamp", ts_ms.to_string()).header("sign", sign).body(body).send()
    };
    let body = json!({"msgId": "m1", "msgtype": "text", "text": {"content": " hi"}, "conversationId": "cid1", "senderStaffId": "u1", "senderNick": "张三", "conversationType": "2"}).to_string();
    let ms = jiff::Timestamp::now().as_millisecond();
    expect_error(post(ms, "Zm9yZ2Vk".into(), body.clone()).await.unwrap(), 401, "bad_signature").await;
    let old = ms - 2 * 3_600_000;
    expect_error(post(old, dingtalk::sign("s3cret", old), body.clone()).await.unwrap(), 401, "stale_timestamp").await;
    expect_error(post(ms, dingtalk::sign("s3cret", ms), "{not json".into()).await.unwrap(), 400, "malformed").await;
    let r = app.client.post(app.url("/dingtalk/d/callback")).body(body.clone()).send().await.unwrap();
    expect_error(r, 401, "bad_signature").await;
    assert_eq!(app.messages().await, 0);
    assert_eq!(post(ms, dingtalk::sign("s3cret", ms), body).await.unwrap().status(), 200);
    assert_eq!(app.messages().await, 1);
}

#[tokio::test]
async fn feishu_rejects_bad_signature_wrong_token_and_stale_events() {
    let app = spawn().await;
    let config = ConnectorConfig { encrypt_key: Some("ek".into()), verification_token: Some("vt".into()), ..Default::default() };
    app.connector("f", ConnectorKind::Feishu, config).await;
    let event = |token: &str, id: &str| {
        json!({"schema": "2.0", "header": {"event_id": id, "event_type": "im.message.receive_v1", "create_time": "1700000000000", "token": token},
               "event": {"sender": {"sender_id": {"open_id": "ou_1"}, "sender_type": "user"},
                         "message": {"message_id": format!("om_{id}"), "chat_id": "oc_1", "chat_type": "group", "message_type": "text", "content": "{\"text\":\"hello\"}"}}})
        .to_string()
    };
    let seal = |plain: &str| json!({ "encrypt": feishu::encrypt_with_iv("ek", plain, [7; 16]) }).to_string();
    let post = |body: String, ts: i64, forge: bool| {
        let sig = if forge { "0".repeat(64) } else { feishu::signature(&ts.to_string(), "n1", "ek", body.as_bytes()) };
        app.client
            .post(app.url("/feishu/f/events"))
            .header(feishu::HEADER_TIMESTAMP, ts.to_string())
            .header(feishu::HEADER_NONCE, "n1")
            .header(feishu::HEADER_SIGNATURE, sig)
            .body(body)
            .send()
    };
    expect_error(post(seal(&event("vt", "e1")), now(), true).await.unwrap(), 401, "bad_signature").await;
    expect_error(post(seal(&event("wrong", "e2")), now(), false).await.unwrap(), 401, "bad_token").await;
    expect_error(post(seal(&event("vt", "e3")), now() - 7200, false).await.unwrap(), 401, "stale_timestamp").await;
    expect_error(post("[1,2".into(), now(), false).await.unwrap(), 400, "malformed").await;
    expect_error(post(json!({"encrypt": "bm90IHZhbGlk"}).to_string(), now(), false).await.unwrap(), 400, "malformed").await;
    assert_eq!(app.messages().await, 0);
    assert_eq!(post(seal(&event("vt", "e4")), now(), false).await.unwrap().status(), 200);
    assert_eq!(app.messages().await, 1);
}

fn signed(secret: &str, ts: i64, body: &str) -> (String, String) {
    (ts.to_string(), webhook::signature(&webhook::WebhookSecret::new(secret), &ts.to_string(), body.as_bytes()))
}

#[tokio::test]
async fn generic_webhook_checks_hmac_and_answers_with_the_reply() {
    let app = spawn().await;
    app.connector("bridge", ConnectorKind::Webhook, ConnectorConfig { secret: Some("change-me".into()), ..Default::default() }).await;
    app.bind("webhook", "room-42").await;
    let body = json!({"group": "room-42", "sender": {"id": "u-1001", "name": "张三"}, "text": "@张三 明天下午3点前把需求文档写完", "message_id": "msg-1"}).to_string();
    let post = |b: &str, (ts, sig): (String, String)| {
        app.client.post(app.url("/hooks/generic/bridge")).header("X-Qunban-Timestamp", ts).header("X-Qunban-Signature", sig).body(b.to_string()).send()
    };
    expect_error(post(&body, signed("wrong", now(), &body)).await.unwrap(), 401, "bad_signature").await;
    expect_error(post(&body, signed("change-me", now() - 900, &body)).await.unwrap(), 401, "stale_timestamp").await;
    let tampered = body.replace("msg-1", "msg-2");
    expect_error(post(&tampered, signed("change-me", now(), &body)).await.unwrap(), 401, "bad_signature").await;
    let bad = r#"{"group":"","sender":{"id":"u","name":"n"},"text":"x","message_id":"m"}"#;
    expect_error(post(bad, signed("change-me", now(), bad)).await.unwrap(), 400, "malformed").await;
    assert_eq!(app.messages().await, 0);

    let r = post(&body, signed("change-me", now(), &body)).await.unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["ok"], true);
    assert!(v["reply"].as_str().unwrap().contains("TASK-001"), "{v}");
    // A retried delivery (same message_id, fresh signature) is handled once
    // and answered with the same words.
    let again: Value = post(&body, signed("change-me", now(), &body)).await.unwrap().json().await.unwrap();
    assert_eq!(again["reply"], v["reply"]);
    assert_eq!(app.messages().await, 1);
    assert_eq!(app.tasks().await.len(), 1);
}

/// The curl example of docs/WEBHOOKS.md, run as written against the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documented_curl_example_works() {
    if std::process::Command::new("curl").arg("--version").output().is_err() || std::process::Command::new("openssl").arg("version").output().is_err() {
        eprintln!("SKIPPED: curl or openssl missing");
        return;
    }
    let app = spawn().await;
    app.connector("my-bridge", ConnectorKind::Webhook, ConnectorConfig { secret: Some("change-me".into()), ..Default::default() }).await;
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/WEBHOOKS.md")).unwrap();
    let start = doc.find("SECRET='change-me'").expect("curl example in docs/WEBHOOKS.md");
    let script = &doc[start..start + doc[start..].find("```").unwrap()];
    let script = script.replace("http://127.0.0.1:8080", &app.base);
    let out = tokio::process::Command::new("bash").arg("-c").arg(&script).output().await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout} {}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(app.messages().await, 1);
}
