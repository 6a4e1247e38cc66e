//! Whatever people paste into a chat, the parser returns intents and never
//! panics: byte offsets, full-width forms and emoji are where scanners break.

use proptest::prelude::*;
use qunban_lang::intent::parse_rfc3339;
use qunban_lang::{parse_message, Calendar, Intent, MessageContext};

fn check(text: &str) {
    let calendar = Calendar::builtin();
    let now = parse_rfc3339("2026-01-14T10:30:00+08:00").expect("valid instant");
    let ctx = MessageContext { now, sender: "张三".into(), calendar: &calendar };
    let intents = parse_message(text, &ctx);
    assert!(!intents.is_empty());
    for i in &intents {
        if let Intent::UpdateTask(u) = i {
            assert!(!u.reference.is_empty());
            assert!(u.progress.is_none_or(|p| p <= 100));
        }
        if let Intent::CreateTask(t) = i {
            assert!(t.progress.is_none_or(|p| p <= 100));
            assert!(t.owners.iter().all(|o| !o.is_empty()));
        }
    }
}

/// Pieces that exercise every reader, glued in random order.
fn chat_piece() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "#", "#3", "＃", "TASK-", "task", "【", "】", "[", "]", "标题", "负责人", "截止", ":", "：", "@", "@张三", "张三", "请",
        "麻烦", "负责", "把", "明天", "周五前", "下午3点", "进度", "60", "%", "％", "完成", "已", "了", "？", "吗", "昨天", "今天",
        "阻碍", "风险", "1.", "①", "-", "•", "；", "\n", " ", "\u{3000}", "👍", "🏳️‍🌈", "é", "\u{200d}", "\u{fe0f}", "𠀋", "P0",
        "优先级", "转给", "延期到", "备注", "无", "、", "，", "0", "999999999999",
    ])
    .prop_map(str::to_string)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_unicode_never_panics(text in "\\PC{0,80}") {
        check(&text);
    }

    #[test]
    fn arbitrary_chars_never_panic(text in any::<String>()) {
        check(&text);
    }

    #[test]
    fn chat_like_soup_never_panics(pieces in prop::collection::vec(chat_piece(), 0..24)) {
        check(&pieces.concat());
    }
}

/// Pasted walls of text must stay cheap: every reader is linear or bounded.
#[test]
fn long_adversarial_messages_stay_fast() {
    let walls = [
        "#1 完成 ".repeat(3000),
        "【".repeat(8000),
        "【标题】".repeat(2000),
        "@张三".repeat(4000),
        "标题:负责人:".repeat(2000),
        "昨天:今天:".repeat(2000),
        "张三负责".repeat(3000),
        "请李四明天把".repeat(2000),
        "1. ①- ".repeat(3000),
    ];
    for wall in &walls {
        let start = std::time::Instant::now();
        check(wall);
        let took = start.elapsed();
        // Generous for debug builds on a shared machine; quadratic code
        // takes minutes here.
        assert!(took.as_secs() < 10, "{} bytes took {took:?}", wall.len());
    }
}
