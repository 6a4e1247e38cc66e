use qunban_connect::webhook::{self, EventType, InboundReply, OutboundEvent, WebhookSecret};
use qunban_connect::ConnectError;

/// Cross-checked with: printf '%s' "1700000000.{\"a\":1}" | openssl dgst -sha256 -hmac s3cret
const GOLDEN: &str = "sha256=1698a50bc74d1ff1db85c4e0a5297c2ad9fdba245d5737cdb789e4cc6e098940";

#[test]
fn signature_matches_openssl() {
    let s = WebhookSecret::new("s3cret");
    assert_eq!(webhook::signature(&s, "1700000000", br#"{"a":1}"#), GOLDEN);
}

#[test]
fn verify_window_and_forgery() {
    let s = WebhookSecret::new("s3cret");
    let body = br#"{"a":1}"#;
    webhook::verify_inbound(&s, "1700000000", GOLDEN, body, 1_700_000_000).unwrap();
    webhook::verify_inbound(&s, "1700000000", &GOLDEN.to_uppercase().replace("SHA256=", "sha256="), body, 1_700_000_300).unwrap();
    assert_eq!(webhook::verify_inbound(&s, "1700000000", GOLDEN, body, 1_700_000_301), Err(ConnectError::StaleTimestamp));
    assert_eq!(webhook::verify_inbound(&s, "1700000000", GOLDEN, body, 1_699_999_699), Err(ConnectError::StaleTimestamp));
    assert_eq!(webhook::verify_inbound(&s, "1700000000", GOLDEN, br#"{"a":2}"#, 1_700_000_000), Err(ConnectError::BadSignature));
    assert_eq!(webhook::verify_inbound(&WebhookSecret::new("x"), "1700000000", GOLDEN, body, 1_700_000_000), Err(ConnectError::BadSignature));
    assert_eq!(webhook::verify_inbound(&s, "1700000000", &GOLDEN[7..], body, 1_700_000_000), Err(ConnectError::BadSignature));
    assert_eq!(webhook::verify_inbound(&s, "", GOLDEN, body, 1_700_000_000), Err(ConnectError::BadSignature));
    assert!(matches!(webhook::verify_inbound(&s, "17e8", GOLDEN, body, 1_700_000_000), Err(ConnectError::Malformed(_))));
}

#[test]
fn sign_outbound_roundtrips() {
    let s = WebhookSecret::new("k");
    let body = br#"{"id":"x"}"#;
    let [(tn, tv), (sn, sv)] = webhook::sign_outbound(&s, 1_700_000_123, body);
    assert_eq!((tn, tv.as_str()), ("X-Qunban-Timestamp", "1700000123"));
    assert_eq!(sn, "X-Qunban-Signature");
    webhook::verify_inbound(&s, &tv, &sv, body, 1_700_000_200).unwrap();
}

#[test]
fn parse_inbound_message() {
    let m = webhook::parse_inbound(
        r#"{"group":"room-42","sender":{"id":"u1","name":"张三"},"text":"明天交周报","message_id":"m-1","sent_at":"2026-04-22T14:00:00+08:00"}"#.as_bytes(),
    )
    .unwrap();
    assert_eq!(m.group, "room-42");
    assert_eq!(m.sender.name, "张三");
    assert_eq!(m.sent_at.unwrap().as_second(), 1_776_837_600);
    let m = webhook::parse_inbound(br#"{"group":"g","sender":{"id":"u","name":"n"},"text":"","message_id":"1"}"#).unwrap();
    assert_eq!(m.sent_at, None);
    for bad in [
        "",
        "{}",
        r#"{"group":"g","sender":{"id":"u","name":"n"},"text":"t"}"#,
        r#"{"group":"","sender":{"id":"u","name":"n"},"text":"t","message_id":"1"}"#,
        r#"{"group":"g","sender":{"id":"u","name":"n"},"text":"t","message_id":"1","sent_at":"yesterday"}"#,
        r#"{"group":"g","sender":"u","text":"t","message_id":"1"}"#,
    ] {
        assert!(matches!(webhook::parse_inbound(bad.as_bytes()), Err(ConnectError::Malformed(_))), "{bad}");
    }
}

#[test]
fn reply_and_event_json() {
    assert_eq!(serde_json::to_string(&InboundReply::reply("好的")).unwrap(), r#"{"ok":true,"reply":"好的"}"#);
    let ev = OutboundEvent {
        id: "evt-1".into(),
        event_type: EventType::TaskOverdue,
        created_at: "2026-04-22T06:00:00Z".parse().unwrap(),
        data: serde_json::json!({"task": {"id": 7}}),
    };
    assert_eq!(
        String::from_utf8(ev.to_body()).unwrap(),
        r#"{"id":"evt-1","type":"task.overdue","created_at":"2026-04-22T06:00:00Z","data":{"task":{"id":7}}}"#
    );
    assert_eq!(EventType::ReportDaily.as_str(), "report.daily");
}

#[test]
fn debug_redacts() {
    assert!(!format!("{:?}", WebhookSecret::new("s3cret")).contains("s3cret"));
}
