use qunban_connect::dingtalk::DingtalkSecret;
use qunban_connect::feishu::FeishuBotSecret;
use qunban_connect::outbound::{self, classify_response, split_for_limit, Delivery, Mention, OutboundMessage, Platform};
use qunban_connect::webhook::{self, WebhookSecret};
use serde_json::json;

fn mention(name: &str, uid: Option<&str>, mobile: Option<&str>) -> Mention {
    Mention { display_name: name.into(), platform_user_id: uid.map(Into::into), mobile: mobile.map(Into::into) }
}

#[test]
fn split_respects_lines_and_utf8() {
    assert!(split_for_limit("", 10).is_empty());
    assert_eq!(split_for_limit("abc", 10), vec!["abc"]);
    assert_eq!(split_for_limit("aaa\nbbb\nccc", 7), vec!["aaa\nbbb", "ccc"]);
    // A long line is hard-split at character boundaries (3-byte chars, limit 7 → 2 chars).
    let parts = split_for_limit("中文中文中", 7);
    assert_eq!(parts, vec!["中文", "中文", "中"]);
    // Blank chunks are dropped.
    assert_eq!(split_for_limit("aaaa\n\n\nbbbb", 4), vec!["aaaa", "bbbb"]);
    // Property: every chunk fits, is valid UTF-8, and no characters are lost.
    let text: String = (0..2000).map(|i| if i % 37 == 0 { '\n' } else if i % 3 == 0 { '任' } else { 'x' }).collect();
    for max in [4, 5, 13, 100, 2048] {
        let parts = split_for_limit(&text, max);
        assert!(parts.iter().all(|p| p.len() <= max && !p.is_empty()), "max {max}");
        let joined: String = parts.concat().chars().filter(|c| *c != '\n').collect();
        let orig: String = text.chars().filter(|c| *c != '\n').collect();
        assert_eq!(joined, orig, "max {max}");
    }
    // Emoji (4 bytes) with a tiny limit never splits inside.
    assert_eq!(split_for_limit("🎉🎉", 1), vec!["🎉", "🎉"]);
}

#[test]
fn wecom_text_with_mentions() {
    let msg = OutboundMessage {
        text: "[pm-bot] T-1 逾期".into(),
        markdown: None,
        mentions: vec![mention("王青", Some("wangqing"), Some("13800001111")), mention("李四", None, Some("13900002222")), mention("路人", None, None)],
        mention_all: false,
    };
    let reqs = outbound::wecom_robot_requests("KEY1", &msg);
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].url, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY1");
    assert_eq!(
        reqs[0].body_json(),
        json!({"msgtype":"text","text":{"content":"[pm-bot] T-1 逾期\n@路人","mentioned_list":["wangqing"],"mentioned_mobile_list":["13900002222"]}})
    );
    // A full URL is used as given (the interop sink is on loopback).
    let reqs = outbound::wecom_robot_requests("http://127.0.0.1:18082/cgi-bin/webhook/send?key=KEY1", &OutboundMessage::text("hi"));
    assert_eq!(reqs[0].url, "http://127.0.0.1:18082/cgi-bin/webhook/send?key=KEY1");
    assert_eq!(reqs[0].body_json(), json!({"msgtype":"text","text":{"content":"hi"}}));
}

#[test]
fn wecom_markdown_and_fallback() {
    let mut msg = OutboundMessage {
        text: "日报".into(),
        markdown: Some("### 日报\n> T-1 <font color=\"warning\">逾期</font>".into()),
        mentions: vec![mention("王青", Some("wangqing"), None)],
        mention_all: false,
    };
    let b = outbound::wecom_robot_bodies(&msg);
    assert_eq!(b, vec![json!({"msgtype":"markdown","markdown":{"content":"### 日报\n> T-1 <font color=\"warning\">逾期</font>\n<@wangqing>"}})]);
    // @all cannot be expressed in markdown → text with mentioned_list.
    msg.mention_all = true;
    let b = outbound::wecom_robot_bodies(&msg);
    assert_eq!(b[0]["msgtype"], "text");
    assert_eq!(b[0]["text"]["mentioned_list"], json!(["wangqing", "@all"]));
}

#[test]
fn wecom_long_text_is_split_under_2048_bytes() {
    let line = "任务进度更新：已完成一半。\n"; // 40 bytes
    let msg = OutboundMessage { text: line.repeat(200), mentions: vec![mention("a", Some("u1"), None)], ..Default::default() };
    let bodies = outbound::wecom_robot_bodies(&msg);
    assert!(bodies.len() >= 4);
    for (i, b) in bodies.iter().enumerate() {
        let c = b["text"]["content"].as_str().unwrap();
        assert!(c.len() <= 2048);
        assert_eq!(b["text"].get("mentioned_list").is_some(), i == 0);
    }
    let md = OutboundMessage { text: "x".into(), markdown: Some(line.repeat(300)), ..Default::default() };
    for b in outbound::wecom_robot_bodies(&md) {
        assert!(b["markdown"]["content"].as_str().unwrap().len() <= 4096);
    }
}

#[test]
fn dingtalk_requests_signed_and_with_at() {
    let msg = OutboundMessage {
        text: "[pm-bot] task T-1 is overdue".into(),
        mentions: vec![mention("张三", Some("user123"), None), mention("李四", None, Some("13800001111"))],
        ..Default::default()
    };
    let s = DingtalkSecret::new("SECdemo0123456789abcdef");
    let reqs = outbound::dingtalk_robot_requests("http://127.0.0.1:18081/robot/send?access_token=TOK1", Some(&s), 1_700_000_000_000, &msg);
    assert_eq!(
        reqs[0].url,
        "http://127.0.0.1:18081/robot/send?access_token=TOK1&timestamp=1700000000000&sign=uqqEBgsZDZ7Tr5zHangyqJmCFGh6%2Bzk54sU2uRKcDZQ%3D"
    );
    assert_eq!(
        reqs[0].body_json(),
        json!({"msgtype":"text","text":{"content":"[pm-bot] task T-1 is overdue\n@13800001111 @user123"},
               "at":{"atMobiles":["13800001111"],"atUserIds":["user123"],"isAtAll":false}})
    );
    let md = OutboundMessage { text: "daily".into(), markdown: Some("#### Daily\n- T-1 **done**".into()), mention_all: true, ..Default::default() };
    let b = outbound::dingtalk_robot_bodies(&md);
    assert_eq!(b[0]["markdown"]["title"], "Daily");
    assert_eq!(b[0]["at"]["isAtAll"], true);
    // sessionWebhook: no secret, URL untouched.
    let r = outbound::dingtalk_robot_requests("http://h/robot/sendBySession?session=s1", None, 0, &OutboundMessage::text("ok"));
    assert_eq!(r[0].url, "http://h/robot/sendBySession?session=s1");
}

#[test]
fn feishu_requests() {
    let msg = OutboundMessage { text: "hi".into(), mentions: vec![mention("Tom", Some("ou_x"), None), mention("无名", None, None)], ..Default::default() };
    let s = FeishuBotSecret::new("demo-secret");
    let r = outbound::feishu_bot_requests("https://open.feishu.cn/open-apis/bot/v2/hook/u", Some(&s), 1599360473, &msg);
    assert_eq!(
        r[0].body_json(),
        json!({"msg_type":"text","content":{"text":"<at user_id=\"ou_x\">Tom</at> hi\n@无名"},"timestamp":"1599360473","sign":"3/MaVZ8JLIy4TUG+7KSFJqvUkTKd+HWY8g+56DZWq8s="})
    );
    let all = OutboundMessage { text: "开会".into(), mention_all: true, ..Default::default() };
    assert_eq!(outbound::feishu_bot_bodies(&all, None, 0)[0]["content"]["text"], "<at user_id=\"all\">所有人</at> 开会");
    let md = OutboundMessage { text: "x".into(), markdown: Some("**粗体**".into()), ..Default::default() };
    assert_eq!(outbound::feishu_bot_bodies(&md, None, 0)[0]["msg_type"], "interactive");
}

#[test]
fn generic_request_is_signed_over_exact_body() {
    let s = WebhookSecret::new("k");
    let ev = outbound::generic_message_event("m-1", "2026-04-22T06:00:00Z".parse().unwrap(), &OutboundMessage::text("hello"));
    let r = outbound::generic_webhook_request("http://127.0.0.1:9/hook", &s, 1_776_837_600, &ev);
    let get = |n: &str| r.headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).unwrap();
    webhook::verify_inbound(&s, &get("X-Qunban-Timestamp"), &get("X-Qunban-Signature"), &r.body, 1_776_837_600).unwrap();
    assert_eq!(r.body_json()["type"], "message");
    assert_eq!(r.body_json()["data"]["text"], "hello");
}

#[test]
fn classification() {
    use Delivery::*;
    let c = |p, s, b: &str| classify_response(p, s, b.as_bytes());
    assert_eq!(c(Platform::Wecom, 200, r#"{"errcode":0,"errmsg":"ok"}"#), Ok);
    assert_eq!(c(Platform::Wecom, 200, r#"{"errcode":45009,"errmsg":"api freq out of limit"}"#), Retry { after: Some(60) });
    assert_eq!(
        c(Platform::Wecom, 200, r#"{"errcode":93000,"errmsg":"invalid webhook url, hint: [1], from ip: 1.2.3.4, more info at https://open.work.weixin.qq.com/devtool/query?e=93000"}"#),
        Fatal { code: 93000, msg: "invalid webhook url, hint: [1], from ip: 1.2.3.4, more info at https://open.work.weixin.qq.com/devtool/query?e=93000".into() }
    );
    assert!(matches!(c(Platform::Wecom, 200, r#"{"errcode":40008,"errmsg":"invalid message type"}"#), Fatal { code: 40008, .. }));
    assert_eq!(c(Platform::Wecom, 200, r#"{"errcode":-1,"errmsg":"system busy"}"#), Retry { after: None });
    assert_eq!(c(Platform::Dingtalk, 200, r#"{"errcode":0,"errmsg":"ok"}"#), Ok);
    assert_eq!(c(Platform::Dingtalk, 200, r#"{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}"#), Retry { after: Some(600) });
    assert!(matches!(c(Platform::Dingtalk, 200, r#"{"errcode":310000,"errmsg":"sign not match"}"#), Fatal { code: 310000, .. }));
    assert!(matches!(c(Platform::Dingtalk, 200, r#"{"errcode":300001,"errmsg":"token is not exist"}"#), Fatal { code: 300001, .. }));
    assert_eq!(c(Platform::Feishu, 200, r#"{"code":0,"msg":"success","data":{}}"#), Ok);
    assert_eq!(c(Platform::Feishu, 200, r#"{"StatusCode":0,"StatusMessage":"success"}"#), Ok);
    assert!(matches!(c(Platform::Feishu, 200, r#"{"code":11232,"msg":"frequency limited"}"#), Retry { after: Some(_) }));
    for code in [19021, 19022, 19024, 9499] {
        assert!(matches!(c(Platform::Feishu, 200, &format!(r#"{{"code":{code},"msg":"x"}}"#)), Fatal { code: c, .. } if c == code));
    }
    // Transport-level outcomes.
    for p in [Platform::Wecom, Platform::Dingtalk, Platform::Feishu, Platform::Generic] {
        assert_eq!(c(p, 502, "<html>bad gateway</html>"), Retry { after: None });
        assert_eq!(c(p, 429, ""), Retry { after: None });
        assert!(matches!(c(p, 404, "nope"), Fatal { code: 404, .. }));
    }
    assert_eq!(c(Platform::Generic, 204, ""), Ok);
    // A 200 that is not the platform's JSON is not proof of delivery.
    assert_eq!(c(Platform::Wecom, 200, "<html>proxy</html>"), Retry { after: None });
    assert_eq!(Delivery::network_error(), Retry { after: None });
}
