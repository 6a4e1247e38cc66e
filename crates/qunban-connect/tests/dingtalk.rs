use qunban_connect::dingtalk::{self, At, ConversationType, DingtalkSecret};
use qunban_connect::ConnectError;

const SECRET: &str = "SECdemo0123456789abcdef";
const TS: i64 = 1_700_000_000_000;
const GOLDEN: &str = "uqqEBgsZDZ7Tr5zHangyqJmCFGh6+zk54sU2uRKcDZQ=";

#[test]
fn golden_sign_c1() {
    assert_eq!(dingtalk::sign(SECRET, TS), GOLDEN);
    assert_eq!(dingtalk::sign_url_encoded(SECRET, TS), "uqqEBgsZDZ7Tr5zHangyqJmCFGh6%2Bzk54sU2uRKcDZQ%3D");
    assert_eq!(DingtalkSecret::new(SECRET).sign(TS), GOLDEN);
}

#[test]
fn signed_webhook_url() {
    let s = DingtalkSecret::new(SECRET);
    assert_eq!(
        dingtalk::signed_webhook_url("https://oapi.dingtalk.com/robot/send?access_token=abc", Some(&s), TS),
        "https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1700000000000&sign=uqqEBgsZDZ7Tr5zHangyqJmCFGh6%2Bzk54sU2uRKcDZQ%3D"
    );
    assert_eq!(dingtalk::signed_webhook_url("http://x/robot/send?access_token=abc", None, TS), "http://x/robot/send?access_token=abc");
}

#[test]
fn callback_verification() {
    let s = DingtalkSecret::new(SECRET);
    dingtalk::verify_callback(&s, "1700000000000", GOLDEN, TS + 1000).unwrap();
    // Exactly at the 1 h edge is accepted, beyond is stale (either direction).
    dingtalk::verify_callback(&s, "1700000000000", GOLDEN, TS + 3_600_000).unwrap();
    assert_eq!(dingtalk::verify_callback(&s, "1700000000000", GOLDEN, TS + 3_600_001), Err(ConnectError::StaleTimestamp));
    assert_eq!(dingtalk::verify_callback(&s, "1700000000000", GOLDEN, TS - 3_600_001), Err(ConnectError::StaleTimestamp));
    // Forged, wrong secret, other timestamp, empty, non-base64.
    let zero = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    assert_eq!(dingtalk::verify_callback(&s, "1700000000000", zero, TS), Err(ConnectError::BadSignature));
    assert_eq!(dingtalk::verify_callback(&DingtalkSecret::new("other"), "1700000000000", GOLDEN, TS), Err(ConnectError::BadSignature));
    assert_eq!(dingtalk::verify_callback(&s, "1700000000001", GOLDEN, TS), Err(ConnectError::BadSignature));
    assert_eq!(dingtalk::verify_callback(&s, "", GOLDEN, TS), Err(ConnectError::BadSignature));
    assert_eq!(dingtalk::verify_callback(&s, "1700000000000", "", TS), Err(ConnectError::BadSignature));
    assert_eq!(dingtalk::verify_callback(&s, "1700000000000", "%%%", TS), Err(ConnectError::BadSignature));
    assert!(matches!(dingtalk::verify_callback(&s, "soon", GOLDEN, TS), Err(ConnectError::Malformed(_))));
}

#[test]
fn debug_redacts() {
    let d = format!("{:?}", DingtalkSecret::new(SECRET));
    assert!(d.contains("[redacted]") && !d.contains("SECdemo"));
}

/// Body shaped exactly like interop/dingtalk_sink.py `callback`.
const CALLBACK: &str = r#"{"conversationId": "cidAbCdEfGhIjKlMnOpQrStUv==", "atUsers": [{"dingtalkId": "$:LWCP_v1:$abc", "staffId": "bot001"}], "chatbotCorpId": "dingabcdef0123456789", "chatbotUserId": "$:LWCP_v1:$def", "msgId": "msg0123456789abcdef0123", "senderNick": "Zhang San", "isAdmin": false, "senderStaffId": "user123", "sessionWebhookExpiredTime": 1700005400000, "createAt": 1700000000000, "senderCorpId": "dingabcdef0123456789", "conversationType": "2", "senderId": "$:LWCP_v1:$ghi", "conversationTitle": "PM test group", "isInAtList": true, "sessionWebhook": "http://127.0.0.1:18081/robot/sendBySession?session=s1", "robotCode": "dingrobotcode000", "text": {"content": " 列出 任务"}, "msgtype": "text"}"#;

#[test]
fn parse_callback_c2() {
    let m = dingtalk::parse_callback(CALLBACK.as_bytes()).unwrap();
    assert_eq!(m.msg_id, "msg0123456789abcdef0123");
    assert_eq!(m.msgtype, "text");
    assert_eq!(m.text(), Some("列出 任务"));
    assert_eq!(m.create_at, Some(1_700_000_000_000));
    assert_eq!(m.conversation_type, ConversationType::Group);
    assert!(m.is_group());
    assert_eq!(m.conversation_id, "cidAbCdEfGhIjKlMnOpQrStUv==");
    assert_eq!(m.conversation_title.as_deref(), Some("PM test group"));
    assert_eq!(m.sender_staff_id.as_deref(), Some("user123"));
    assert_eq!(m.sender_nick, "Zhang San");
    assert_eq!(m.session_webhook.as_deref(), Some("http://127.0.0.1:18081/robot/sendBySession?session=s1"));
    assert_eq!(m.session_webhook_expired_time, Some(1_700_005_400_000));
    assert!(m.session_webhook_valid(1_700_000_000_000));
    assert!(!m.session_webhook_valid(1_700_005_400_000));
    assert!(m.is_in_at_list);
    assert_eq!(m.at_users[0].staff_id.as_deref(), Some("bot001"));
    assert_eq!(m.robot_code.as_deref(), Some("dingrobotcode000"));
}

#[test]
fn parse_callback_tolerates_missing_and_stringly_fields() {
    let m = dingtalk::parse_callback(br#"{"msgId":"m1","msgtype":"text","conversationType":1,"createAt":"1700000000000","text":{"content":"hi"}}"#).unwrap();
    assert_eq!(m.conversation_type, ConversationType::Single);
    assert_eq!(m.create_at, Some(1_700_000_000_000));
    assert_eq!(m.sender_staff_id, None);
    assert!(m.at_users.is_empty());
}

#[test]
fn parse_callback_rejects_malformed() {
    for bad in ["", "{", "[]", "{\"msgtype\":\"text\"}", "{\"msgId\":1,\"msgtype\":\"text\"}", "<xml/>"] {
        assert!(matches!(dingtalk::parse_callback(bad.as_bytes()), Err(ConnectError::Malformed(_))), "{bad:?}");
    }
}

#[test]
fn text_body_puts_at_tags_in_content() {
    let at = At { mobiles: vec!["13800001111".into()], user_ids: vec!["user123".into()], all: false };
    let b = dingtalk::text_body("任务 T-1 已逾期", &at);
    assert_eq!(b["msgtype"], "text");
    assert_eq!(b["text"]["content"], "任务 T-1 已逾期\n@13800001111 @user123");
    assert_eq!(b["at"]["atMobiles"][0], "13800001111");
    assert_eq!(b["at"]["atUserIds"][0], "user123");
    assert_eq!(b["at"]["isAtAll"], false);
    // Already present tags are not duplicated; a longer number does not count as present.
    let b = dingtalk::text_body("@user123 看一下 @138000011112", &at);
    assert_eq!(b["text"]["content"], "@user123 看一下 @138000011112\n@13800001111");
    // No mentions: content unchanged, empty at lists.
    let b = dingtalk::text_body("hi", &At::default());
    assert_eq!(b["text"]["content"], "hi");
    assert_eq!(b["at"]["isAtAll"], false);
}

#[test]
fn markdown_body_shape() {
    let at = At { mobiles: vec!["13800001111".into()], ..Default::default() };
    let b = dingtalk::markdown_body("日报", "#### 日报\n- T-1 **完成**", &at);
    assert_eq!(b["msgtype"], "markdown");
    assert_eq!(b["markdown"]["title"], "日报");
    assert_eq!(b["markdown"]["text"], "#### 日报\n- T-1 **完成**\n@13800001111");
    assert_eq!(b["at"]["atMobiles"][0], "13800001111");
}

#[test]
fn session_webhooks_only_on_the_platform_hosts() {
    use dingtalk::{session_webhook_allowed, SESSION_WEBHOOK_ORIGINS as HOSTS};
    assert!(session_webhook_allowed("https://oapi.dingtalk.com/robot/sendBySession?session=abc", HOSTS));
    assert!(session_webhook_allowed("https://api.dingtalk.com/v1.0/robot/x", HOSTS));
    for bad in [
        "http://oapi.dingtalk.com/robot/sendBySession?session=abc",
        "https://oapi.dingtalk.com.evil.example/robot",
        "https://oapi.dingtalk.com@evil.example/robot",
        "https://user:pw@oapi.dingtalk.com/robot",
        "https://oapi.dingtalk.com:8443/robot",
        "https://evil.example/?https://oapi.dingtalk.com/",
        "http://127.0.0.1:8080/evil",
        "file:///etc/passwd",
        "not a url",
    ] {
        assert!(!session_webhook_allowed(bad, HOSTS), "{bad} must be refused");
    }
    // A loopback sink is allowed only when configured, port included.
    assert!(session_webhook_allowed("http://127.0.0.1:8080/robot", &["http://127.0.0.1:8080"]));
    assert!(!session_webhook_allowed("http://127.0.0.1:9090/robot", &["http://127.0.0.1:8080"]));
}
