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
        // Long titles assembled from many pieces, mapped back to what was typed.
        format!("@张三 明天把{}发我", "報表：週五前，".repeat(1500)),
        format!("【标题】{}【负责人】张三", "周报（二期）：".repeat(2000)),
        format!("「李四：{}谁来？」\n- - - - -\n@王五 你来，周五前", "物料清单".repeat(2000)),
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

fn ctx_at<'a>(calendar: &'a Calendar, now: &str) -> MessageContext<'a> {
    MessageContext { now: parse_rfc3339(now).expect("valid instant"), sender: "张三".into(), calendar }
}

/// Future deadline phrases people put in assignments.
fn future_phrase() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "明天", "后天", "明天下午3点", "周五", "下周一", "下周三下午", "下下周二", "这周末", "月底", "下个月底", "三天内", "两小时内",
        "3个工作日内", "7个工作日内", "节后", "节前", "25号", "5月8日", "季度末", "年底", "今晚", "下班前", "明早9点", "周日晚上8点",
    ])
    .prop_map(str::to_string)
}

/// Reference instants around weekends, month ends and holidays.
fn reference_now() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "2026-01-14T10:30:00+08:00", "2026-02-13T17:45:00+08:00", "2026-04-30T19:00:00+08:00", "2026-09-30T11:00:00+08:00",
        "2026-12-31T17:00:00+08:00", "2026-06-07T09:00:00+08:00", "2026-10-09T18:00:00+08:00", "2026-03-01T21:10:00+08:00",
    ])
    .prop_map(str::to_string)
}

/// Ways of writing that something is not (yet) complete.
fn negated_completion() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["还没", "没", "未", "尚未", "还没有", "没有", "并未", "还未"]),
        prop::sample::select(vec!["完成", "做完", "搞定", "写完", "弄完", "弄好", "办完", "上线", "发布", "交付", "处理完"]),
        prop::sample::select(vec!["", "了", "呢", "，明天再看", "，还在等客户", "。", " 进度60%"]),
    )
        .prop_map(|(neg, word, tail)| format!("{neg}{word}{tail}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A deadline written about the future is never before the message.
    #[test]
    fn future_deadlines_are_never_in_the_past(phrase in future_phrase(), now in reference_now(), shape in 0usize..4) {
        let calendar = Calendar::builtin();
        let ctx = ctx_at(&calendar, &now);
        let text = match shape {
            0 => format!("@李四 {phrase}前把季度报表发我"),
            1 => format!("我{phrase}把样品寄给客户"),
            2 => format!("#7 延期到{phrase}"),
            _ => format!("请王芳{phrase}之前把合同盖章寄回"),
        };
        for i in parse_message(&text, &ctx) {
            let due = match &i {
                Intent::CreateTask(t) => t.due.clone(),
                Intent::UpdateTask(u) => u.due.clone(),
                _ => None,
            };
            if let Some(due) = due {
                prop_assert!(due.timestamp() >= ctx.now.timestamp(), "{text} at {now}: {due}");
            }
        }
    }

    /// Whatever surrounds it, a negated completion never reads as done.
    #[test]
    fn negated_completion_is_never_done(neg in negated_completion(), reference in 1u32..500, hashed in any::<bool>()) {
        let calendar = Calendar::builtin();
        let ctx = ctx_at(&calendar, "2026-05-20T10:15:00+08:00");
        let r = if hashed { format!("#{reference}") } else { format!("TASK-{reference:03}") };
        for text in [format!("{r} {neg}"), format!("{r} 报价单{neg}"), format!("@李四 {r} {neg}")] {
            for i in parse_message(&text, &ctx) {
                if let Intent::UpdateTask(u) = &i {
                    prop_assert!(u.status.as_deref() != Some("done"), "{text} read as done");
                }
                if let Intent::CreateTask(t) = &i {
                    prop_assert!(t.status.as_deref() != Some("done"), "{text} read as done");
                }
            }
        }
    }
}
