//! Assignments written as plain sentences: `@张三 明天下午3点前把需求文档写完`,
//! `请李四本周内完成接口联调`, `我今天下班前把周报发出来`.
//!
//! The parser is deliberately conservative: a chat is mostly chit-chat,
//! announcements, questions and reports of past work, and a false task is
//! worse than a missed one (the user can always use the template). A task
//! needs an action verb plus a sign that someone is being asked to act: an
//! owner, a deadline, or a `把` sentence.

use crate::deadline::{find_deadlines, DeadlineMatch};
use crate::intent::{MessageContext, TaskFields};

use super::common::{blank, is_question};
use super::lex::{self, is_separator, trim_punct};
use super::owners::{mentions, NameSpan};
use super::segment;

const TASK_VERBS: &[&str] = &[
    "写", "完成", "做", "出一版", "出个", "出一", "出方案", "出图", "提交", "交", "发", "上线", "修", "改", "整理", "准备",
    "联调", "测试", "跟进", "处理", "搞定", "确认", "对接", "设计", "开发", "部署", "更新", "补", "画", "输出", "给到",
    "发布", "提测", "review", "Review", "看一下", "看下", "看看", "过一下", "检查", "排查", "优化", "跟一下", "回复",
    "提供", "汇总", "统计", "评估", "调研", "梳理", "落地", "上传", "录入", "核对", "预约", "联系", "沟通", "填", "申请",
    "订", "实现", "重构", "迁移", "升级", "验收", "搭", "fix", "check", "弄", "搞", "走查", "对齐", "跑一下", "跑",
    "出稿", "出原型", "出报告", "出设计", "导出", "签", "寄", "买", "催", "讲", "复盘", "翻译", "打包", "备份", "配置", "调试", "debug", "merge",
    "合并", "审核", "审批", "安排", "收拾", "清理", "审完", "审一下", "定下来", "定稿", "敲定", "给我", "发我", "排", "配", "换", "重启", "交付",
    "update", "write", "send", "finish", "deploy", "prepare", "follow up",
];

/// Meeting and event words: a sentence about them is an announcement.
const EVENT_WORDS: &[&str] = &[
    "开会", "会议", "例会", "周会", "站会", "评审会", "复盘会", "团建", "聚餐", "放假", "培训", "分享会", "停电", "停水", "团队活动", "下午茶", "年会",
];

/// Praise and reactions that contain verbs (`文档写得不错`).
const REACTIONS: &[&str] = &["不错", "很好", "真棒", "厉害", "牛", "棒", "赞", "得好", "好评"];

/// Words that turn a sentence into a request even without a deadline.
const REQUEST_WORDS: &[&str] = &["请", "麻烦", "记得", "务必", "帮忙", "帮我", "辛苦", "需要", "负责", "交给", "安排"];

/// Time words strong enough to make `verb + time` an assignment even when the
/// deadline parser does not resolve them.
const TIME_HINTS: &[&str] = &[
    "今天", "明天", "后天", "今晚", "明早", "本周", "这周", "下周", "周一", "周二", "周三", "周四", "周五", "周六", "周日",
    "周末", "星期", "礼拜", "月底", "月初", "年底", "下班", "号前", "日前", "点前", "节前", "节后", "之前", "以前", "天内",
    "周内", "小时内", "工作日", "尽快", "马上", "ASAP", "asap",
];

const PAST_WORDS: &[&str] = &["已经", "已", "昨天", "昨晚", "前天", "刚刚", "刚才", "上周五"];

/// Opening words that acknowledge or thank: what follows is the sender's
/// own next step (`好的，我跟产品对一下`, `收到，明天一早就去办`), said to
/// close the exchange, not a task to track.
const ACKS: &[&str] = &[
    "好的", "好滴", "好嘞", "好哒", "收到", "了解", "明白", "知道了", "没问题", "OK", "ok", "Ok", "嗯", "行", "可以", "谢谢", "感谢", "多谢",
    "辛苦", "不好意思", "抱歉", "对不起", "sorry", "Sorry", "哈哈", "好",
];

/// Words of a leave or absence notice: `我明天请假`, `周五调休`.
const ABSENCE: &[&str] = &["我休息", "请假", "调休", "休假", "年假", "病假", "事假", "婚假", "产假", "不在公司", "出差", "外出", "请个假"];

/// The task the sentence assigns, or `None` when it assigns nothing.
/// `quote` is the text of a quoted message the sentence replies to.
pub fn parse(text: &str, quote: Option<&str>, ctx: &MessageContext<'_>) -> Option<TaskFields> {
    let topic_text = quote.map(super::quote::topic);
    let topic = topic_text.as_deref();
    let t = text.trim();
    if reported(t, ctx) || is_question(t) {
        return None;
    }
    let future = contains_any(t, TIME_HINTS) || !find_deadlines(t, &ctx.now, ctx.calendar).is_empty();
    if is_past(t, future) || (!future && contains_any(t, REACTIONS)) || forwarded_or_rule(t) || evaluates(t) {
        return None;
    }
    let ms = mentions(t);
    let lead = leading_end(t, &ms);
    let addressed = ms.iter().any(|m| !m.name.is_empty() && m.end <= lead);
    // `好的，我跟产品对一下` acknowledges; `@张三 好的，…` too.
    let to_group = ms.iter().any(|m| m.name.is_empty() && is_all(&t[m.start..m.end]));
    let owners = find_owners(t, &ms, ctx);
    let persons: Vec<&NameSpan> = owners.iter().filter(|o| !o.name.is_empty()).collect();
    let others_later = persons.iter().any(|p| p.name != ctx.sender && p.start >= lead);
    if starts_with_any(&t[lead..], ACKS) && !others_later {
        return None;
    }
    // Addressed to everyone (`@所有人`, `请大家…`, `大家注意`): an
    // announcement, not a task someone can own.
    let to_everyone = contains_any(t, &["大家", "各位", "全员", "所有人", "全体", "同事们", "各部门", "各组"]);
    if (to_group || to_everyone) && persons.is_empty() {
        return None;
    }
    let only_self = !persons.is_empty() && persons.iter().all(|p| t[p.start..].starts_with('我')) && !addressed;
    let cut: Vec<(usize, usize)> = owners.iter().map(|o| (o.start, o.end)).collect();
    let body = blank(t, &cut);
    // Names are blanked first: `张三周五前` must not read as `三周`, nor
    // `赵六月底` as `六月底`.
    let mut deadlines = find_deadlines(&body, &ctx.now, ctx.calendar);
    let describing: Vec<bool> = deadlines.iter().map(|d| attributive(&body, d)).collect();
    // `这周末的除冰车保养我来盯`: with no other time the one describing the
    // work is its deadline; an ordinal (`3号仓`) never is.
    if describing.iter().all(|a| *a) {
        deadlines.retain(|d| !ordinal(&body, d));
    } else {
        let mut k = 0;
        deadlines.retain(|_| {
            k += 1;
            !describing[k - 1]
        });
    }
    // `明天下午下班前`: a part of the day right after a date refines it.
    deadlines.dedup_by(|b, a| b.span.start == a.span.end);
    // `我下周二到周四去广交会`: a period is a schedule, not a deadline.
    let period = deadlines.iter().any(|d| body[d.span.end..].starts_with(['到', '至', '-', '~']) && !find_deadlines(&body[d.span.end..], &ctx.now, ctx.calendar).is_empty());
    // `周日把保洁验收一下 周一开放日`: a later time in a clause with no
    // action of its own is the reason, not a second deadline.
    if deadlines.len() > 1 {
        let first_end = deadlines[0].span.end;
        let remark = |d: &DeadlineMatch| {
            let rest = &body[d.span.end..];
            let clause = &rest[..rest.find([',', '，', '。', ';', '；', '\n', ' ']).unwrap_or(rest.len())];
            d.span.start > first_end && (clause.trim_end().ends_with('的') || !segment::has_action(clause))
                && !is_bounded(&body[d.span.clone()])
        };
        if deadlines.iter().skip(1).all(remark) {
            deadlines.truncate(1);
        }
    }
    let spans: Vec<(usize, usize)> = deadlines.iter().map(|d| (d.span.start, d.span.end)).collect();
    let predicate = blank(&body, &spans);
    let ba = disposal(&predicate);
    let responsible = responsibility_object(t);
    // `这个bug交给王五`: handing over is itself the action.
    let handed = owners.iter().any(|o| {
        !o.name.is_empty() && ["交给", "分配给", "指派给"].iter().any(|w| t[o.start..].starts_with(w))
    });
    let takes_quote = topic.is_some() && !persons.is_empty();
    // `我明天请假`, `李四下周休假`: an absence, unless the sentence also
    // hands work over (`周四前把交接文档写好`).
    if contains_any(t, ABSENCE) && !ba && !addressed {
        return None;
    }
    // Chinese puts the time before the predicate: in `@宫雪 资料月底前印好`
    // what follows the deadline is the action, whatever the verb.
    let after_time = (!persons.is_empty()) && deadlines.iter().any(|d| {
        let rest = &body[d.span.end..];
        let clause = &rest[..rest.find([',', '，', '。', ';', '；', '\n', '!', '！']).unwrap_or(rest.len())];
        !clause.trim_start().starts_with('的') && clause.chars().filter(|c| lex::is_cjk(*c)).count() >= 2 && !segment::only_non_actions(clause)
    });
    // The segmenter is the costliest check: asked last, only when the
    // structure and the common verbs did not settle it.
    if period && !ba && !addressed {
        return None;
    }
    // `@小逯 幕墙节点大样周四前`: an addressed thing with a time limit asks
    // for it to be delivered.
    let delivery = addressed && deadlines.last().is_some_and(|d| is_bounded(&body[d.span.clone()]) && trim_punct(&body[d.span.end..]).is_empty());
    let action = ba || responsible.is_some() || handed || after_time || delivery || contains_verb(&predicate) || segment::has_action(&predicate);
    if !action && !takes_quote {
        return None;
    }
    if complains(&predicate) && !ba && !contains_any(t, REQUEST_WORDS) {
        return None;
    }
    let events = body.replace("会议室", "").replace("会议纪要", "");
    if persons.is_empty() && responsible.is_none() && contains_any(&events, EVENT_WORDS) && !ba {
        return None;
    }
    let requested = contains_any(t, REQUEST_WORDS);
    let asked = if persons.is_empty() {
        // Nobody named: an order to whoever reads it (`明天下午前把排班表
        // 排出来`) is a task the bot asks an owner for; rules, policies and
        // news (`7天内全额退款`) have no 把 and no request.
        // An order to whoever reads it opens with its time and then the
        // verb (`周五前交周报`); a subject before the time
        // (`展会5月12号到14号`) makes it a statement about that thing.
        let imperative = deadlines.first().is_some_and(|d| {
            clean_fragment(&body[..d.span.start]).is_empty() && segment::starts_with_action(predicate[d.span.start..].trim_start())
        });
        // `…联调完了`: a sentence closed by 了 states, it does not order.
        let states = trim_punct(t).ends_with('了');
        (ba && !states) || (imperative && !deadlines.is_empty() && !states)
    } else if only_self {
        // `我周日把…清点一下`, `我来写…`: a commitment with a time or a
        // `我来`; `我跟产品对一下` is a remark.
        // Under a quote only a taking-on counts (`我来`, `我去`); `我也不知道，
        // 问问网络组吧` is no commitment.
        !deadlines.is_empty() || contains_any(&body, TIME_HINTS) || t.contains("我来") || t.contains("我负责") || (takes_quote && t.contains("我去"))
    } else {
        true
    };
    if !asked {
        return None;
    }
    let mut task = TaskFields::default();
    // `王五来处理这个问题`, `老李明天去工地报验`: a bare name as the subject,
    // with no @, no 你, no request and no 把, may report a plan as well as
    // assign work; the bot asks before creating it.
    let bare = |p: &&NameSpan| t[p.start..p.end] == p.name && !p.name.starts_with('我');
    task.tentative = !persons.is_empty() && persons.iter().all(bare) && !ba && !requested && !handed && topic.is_none();
    for o in &persons {
        if !task.owners.contains(&o.name) {
            task.owners.push(o.name.clone());
        }
    }
    set_due(&mut task, &body, &deadlines);
    task.title = title(t, &cut, &deadlines, responsible);
    let quote_asks_who = quote.is_some_and(|q| q.contains('谁'));
    if let Some(topic) = topic.filter(|_| takes_quote) {
        let from_quote = title(topic, &[], &[], None);
        match (task.title.as_deref(), from_quote) {
            (None, q) => task.title = q,
            (Some(own), Some(q)) if refers_back(own) => task.title = Some(q),
            // `「谁去现场看一下？」` + `@甲 你去看一下，4点前给个结论`: the
            // quoted question names the matter the reply assigns.
            (Some(own), Some(q)) if quote_asks_who => task.title = Some(format!("{q}：{own}")),
            // `@仉国栋 这个你问下场馆，回我`: 这个 is the quoted matter.
            (Some(own), Some(q)) if contains_any(own, DEMONSTRATIVES) => {
                let own = DEMONSTRATIVES.iter().fold(own.to_string(), |s, w| s.replacen(w, "", 1));
                task.title = Some(format!("{q}：{}", clean_fragment(&own)));
            }
            // `@小覃 明天上午找人装上` under `新来的模温机到了`: the reply
            // names the action, the quote the thing.
            (Some(own), Some(q)) if !segment::has_noun(own) => task.title = Some(format!("{own}：{q}")),
            _ => {}
        }
    }
    let title = task.title.as_deref()?;
    // `今天搞定` to nobody: a verb with no object names no work to track.
    if persons.is_empty() && task.due_candidates.is_empty() && title.chars().filter(|c| lex::is_cjk(*c) || c.is_ascii_alphanumeric()).count() < 3 {
        return None;
    }
    Some(task)
}

/// Nouns of places and things that take an ordinal `N号` (`3号仓`).
const ORDINAL_NOUNS: &str = "楼栋层室店仓库线车间厂院门口位柜台窗床桌房机箱罐泵池馆站组区模坑井梯柱段桩馆场道街路铺展厅棚舱屋包淋浴皮带";

/// A time phrase that modifies a noun rather than bounding the work:
/// `2月份的危废联单`, `周五的会议纪要`, `3号仓`, `二号模具`, `2号楼`.
fn attributive(t: &str, d: &DeadlineMatch) -> bool {
    let phrase = &t[d.span.clone()];
    let after = &t[d.span.end..];
    if after.starts_with('的') && !is_bounded(phrase) {
        return true;
    }
    // `把节前报案的车险理赔结案`: a time inside the 把 object, in a
    // relative clause closed by 的, describes the object.
    let before = &t[..d.span.start];
    let in_object = before.rfind('把').is_some_and(|k| !before[k..].contains([',', '，', ' ', '。']));
    if in_object && after.chars().take(6).any(|c| c == '的') {
        return true;
    }
    ordinal(t, d)
}

/// `N号` + a noun of place or thing is an ordinal (`3号店`), not a day.
fn ordinal(t: &str, d: &DeadlineMatch) -> bool {
    t[d.span.clone()].ends_with('号') && t[d.span.end..].chars().next().is_some_and(|c| ORDINAL_NOUNS.contains(c))
}

/// Forwarded news, notices and rules (`转发：…`, `按公司规定，退货需在签收
/// 后7天内申请`, `7天内无理由退换，统一按这个口径回复`): dates in them
/// are facts or policy, not deadlines anyone committed to.
fn forwarded_or_rule(t: &str) -> bool {
    const OPENERS: &[&str] = &["转发", "【转发】", "[转发]", "转自", "通知：", "通知:", "公告", "【通知】", "【公告】", "温馨提示", "提醒：", "提醒:"];
    const NORMS: &[&str] = &["规定", "制度", "政策", "口径", "一律", "不予", "须知", "条款", "原则上", "可以", "可享", "有效期", "犹豫期"];
    starts_with_any(t, OPENERS) || (contains_any(t, NORMS) && !t.contains('@'))
}

/// Praise or criticism of something (`上次那个KV挺好看的`, `车又晚到了两
/// 个小时，每次都这样`): a degree adverb before a quality, or 又 with 了.
fn evaluates(t: &str) -> bool {
    let degree = ["挺", "很", "真", "太", "蛮", "超", "特别", "非常", "好"].iter().any(|d| {
        t.match_indices(d).any(|(k, _)| {
            let after = &t[k + d.len()..];
            ["好", "不错", "棒", "有用", "漂亮", "专业", "细", "快", "慢", "差", "烂", "难", "贵", "便宜", "清楚", "满意", "靠谱", "给力", "到位"]
                .iter()
                .any(|a| after.starts_with(a))
        })
    });
    let again = t.contains('又') && !contains_any(t, TIME_HINTS) && !t.contains('把');
    (degree && !t.contains('把') && !t.contains("前")) || again
}

/// Words that point at a matter said before.
const DEMONSTRATIVES: &[&str] = &["这件事", "这个事", "这事儿", "这事", "此事", "这个", "这块"];

/// Whether a title only points back at something said before (`这个你跟`,
/// `你来`, `处理`): the quoted message names the work.
fn refers_back(title: &str) -> bool {
    let stripped = ["这个", "这件事", "这事", "此事", "这块", "这些", "这", "它", "你来", "我来", "你", "来", "吧"]
        .iter()
        .fold(title.to_string(), |s, w| s.replace(w, ""));
    stripped.chars().filter(|c| lex::is_cjk(*c) || c.is_ascii_alphanumeric()).count() <= 3
}

/// `把/将 + object + verb`: the disposal construction asks for something to
/// be done to the object, whatever the verb is (`把清单盘一下`).
fn disposal(p: &str) -> bool {
    ["把", "将"].iter().any(|w| {
        p.match_indices(w).any(|(k, _)| {
            let after = trim_punct(&p[k + w.len()..]);
            // `将近`, `将来`, `把关` are words, not the construction.
            !after.starts_with(['近', '来', '要', '会']) && !p[..k].ends_with('一') && after.chars().filter(|c| lex::is_cjk(*c) || c.is_ascii_alphanumeric()).count() >= 3
        })
    })
}

/// A complaint or a state (`链接点不开`, `打印机又坏了`, `系统没法登录`):
/// a negated potential or a breakdown, with nobody asked to act.
fn complains(p: &str) -> bool {
    const BROKEN: &[&str] = &["不开", "不了", "不上", "不进", "不到", "不动", "不出", "没法", "无法", "坏了", "挂了", "崩了", "卡死", "报错", "失败了", "不对劲", "有问题"];
    contains_any(p, BROKEN)
}

fn contains_verb(s: &str) -> bool {
    TASK_VERBS.iter().any(|w| {
        s.match_indices(w).any(|(k, _)| !s[..k].ends_with(['不', '没', '别', '未']))
    })
}

fn starts_with_any(s: &str, words: &[&str]) -> bool {
    let s = s.trim_start();
    words.iter().any(|w| {
        s.starts_with(w) && {
            let rest = &s[w.len()..];
            // `好的` but not `好好…`/`行程`: the word must stand alone.
            rest.is_empty() || rest.starts_with(|c: char| lex::is_separator(c) || matches!(c, '啊' | '呀' | '哈' | '的' | '滴' | '嘞' | '!' | '~' | '，'))
                || w.chars().count() >= 2
        }
    })
}

fn contains_any(s: &str, words: &[&str]) -> bool {
    words.iter().any(|w| s.contains(w))
}

fn is_all(mention: &str) -> bool {
    !["@群办", "@qunban", "@Qunban", "@bot", "@机器人", "@群办助手", "@小助手"].contains(&mention)
}

/// Reported speech (`老板说周五前要上线`, `张三说他明天交`) relays what
/// someone else said; acting on it would put words in their mouth.
fn reported(t: &str, ctx: &MessageContext<'_>) -> bool {
    // Only the opening clause relays: `@覃小雨 客户说…，下周一前出第二版`
    // and `…，预算表他们说要拆开` give the reason, the order stands.
    let lead = t.trim_start_matches(|c: char| c == '@' || c.is_whitespace());
    let first = &t[..t.len() - lead.len() + lead.find([',', '，', '。', ';', '；', '\n']).unwrap_or(lead.len())];

    if !first.contains('说') {
        return false;
    }
    if t.starts_with('@') && !find_deadlines(&t[first.len()..], &ctx.now, ctx.calendar).is_empty() {
        return false;
    }
    // `被说了` is passive (someone was told off), not relayed words.
    first.match_indices('说').filter(|&(k, _)| !first[..k].ends_with('被') && !first[k + '说'.len_utf8()..].starts_with('了')).any(|(k, _)| {
        let after = &first[k + '说'.len_utf8()..];
        !["明", "下", "一", "清", "服"].iter().any(|w| after.starts_with(w))
    })
}

/// Reports of finished work: `张三昨天把文档写完了`, `已经发了`. `昨天的…`
/// names a thing from yesterday, not a past action; a final `了` with a
/// future time (`明天把这个bug修了`) is an order, not a report.
fn is_past(t: &str, future: bool) -> bool {
    for w in PAST_WORDS {
        let mut from = 0;
        while let Some(k) = t[from..].find(w) {
            let after = &t[from + k + w.len()..];
            let names_a_thing = after.starts_with('的') || (w == &"已" && after.starts_with('读'));
            if !names_a_thing {
                return true;
            }
            from += k + w.len();
        }
    }
    // `今天带看了5组客户`: a verb with 了 and a count reports what was done.
    let counted = t.match_indices('了').any(|(k, _)| {
        t[k + '了'.len_utf8()..].chars().next().is_some_and(|c| c.is_ascii_digit() || "一二两三四五六七八九十几".contains(c))
    });
    if counted && !t.contains('把') && !t.contains('@') {
        return true;
    }
    // `用电需求算好了，鲜谷大概18千瓦`: a verb with a result and 了 reports
    // finished work (`快弄好了` is hedged, and a future time makes it a plan).
    let finished = ["好了", "完了", "妥了", "齐了"].iter().any(|r| {
        t.match_indices(r).any(|(k, _)| {
            let before = &t[..k];
            before.chars().next_back().is_some_and(lex::is_cjk)
                && !["快", "马上", "就", "没", "不", "要", "会", "能", "才"].iter().any(|h| before.ends_with(h) || before.chars().rev().nth(1).is_some_and(|c| h.starts_with(c)))
        })
    });
    if finished && !future && !t.contains('把') {
        return true;
    }
    let end = trim_punct(t).trim_end_matches(['啊', '呀', '哈', '~', '啦']);
    !future && end.ends_with('了') && !["就行了", "就好了", "就可以了", "拜托了", "麻烦了", "辛苦了"].iter().any(|w| end.ends_with(w))
}

/// Everyone the sentence makes responsible, with the spans to cut from the
/// title. Group mentions and the bot come back with empty names.
fn find_owners(t: &str, ms: &[NameSpan], ctx: &MessageContext<'_>) -> Vec<NameSpan> {
    let lead = leading_end(t, ms);
    let mut out: Vec<NameSpan> = ms.to_vec();
    // `@仉国栋 周一上午把灯带拍照发我，我好报采购`: with the work
    // addressed to someone, a later 我 clause is the sender's reason.
    let addressed_first = ms.iter().any(|m| !m.name.is_empty() && m.end <= lead);
    let me = self_subject(t, lead, ctx).filter(|me| !addressed_first || me.start == lead);
    if let Some(me) = me {
        // `@张三 好的，我下午看下`: the leading mention is whom the sender
        // answers; the sender is the one who acts.
        for m in out.iter_mut().filter(|m| m.end <= lead) {
            m.name.clear();
        }
        out.push(me);
    }
    out.extend(marked_names(t));
    if let Some(span) = name_before_responsible(t) {
        out.push(span);
    }
    // `@李建国 老李，周三前…`: a name right after a leading mention calls
    // the same person again.
    let mentioned = ms.iter().any(|m| !m.name.is_empty() && m.end <= lead);
    for start in clause_starts(t, lead) {
        // With the order addressed by @, a bare word after a space inside
        // the sentence (`@Lily pls fix 一下 Android 包的 crash`) is no
        // second owner.
        if mentioned && (start == lead || t[..start].ends_with(' ')) {
            continue;
        }
        if let Some(v) = vocative(t, start) {
            out.push(v);
            continue;
        }
        let chain = name_chain(t, start, false);
        let end = chain.last().map_or(start, |n| n.end);
        if !chain.is_empty() && bounded_after_name(&t[end..]) {
            out.extend(chain);
        }
    }
    out.sort_by_key(|o| o.start);
    out.dedup_by(|a, b| a.start < b.end && b.start < a.end);
    out
}

/// `郗子墨你周五前…`, `那个小王你…`, `逯工你…`: a short word opening the
/// clause and followed by 你/您 is the person addressed, whatever their
/// surname — the pronoun, not a list of names, says so.
fn vocative(t: &str, start: usize) -> Option<NameSpan> {
    let mut i = start;
    while let Some(f) = ["那个", "哎", "喂", "诶", "嗨", "hi", "Hi", " "].iter().find(|f| t[i..].starts_with(**f)) {
        i += f.len();
    }
    let rest = &t[i..];
    let run: usize = rest.chars().take_while(|c| lex::is_cjk(*c) || c.is_ascii_alphabetic()).take(6).map(char::len_utf8).sum();
    let word = &rest[..run];
    let k = word.char_indices().find(|&(_, c)| c == '你' || c == '您').map(|(k, _)| k)?;
    // `小邝啊你`: a particle may sit between the name and 你.
    let name = word[..k].trim_end_matches(['啊', '呀', '哈', '呢']);
    // `周四前给你`: time words and verbs before 你 make a predicate, not
    // a name.
    if name.chars().any(|c| "前后给把来去的了在是要让叫请找跟和与对向帮周号点天月年".contains(c)) {
        return None;
    }
    let n = name.chars().count();
    if !(2..=4).contains(&n) || ["大家", "我们", "你们", "他们", "这个", "那个", "今天", "明天", "麻烦", "辛苦", "谢谢"].contains(&name) {
        return None;
    }
    Some(NameSpan { name: name.to_string(), start, end: i + k + word[k..].chars().next().map_or(3, char::len_utf8) })
}

/// Where clauses start: the sentence start and after separators.
fn clause_starts(t: &str, lead: usize) -> Vec<usize> {
    let mut starts = vec![lead];
    for (i, c) in t[lead..].char_indices() {
        if matches!(c, ' ' | ',' | '，' | ':' | '\n' | ';' | '；' | '。') {
            let p = lead + i + c.len_utf8();
            if !t[p..].starts_with(' ') {
                starts.push(p);
            }
        }
    }
    starts
}

/// Whether what follows a bare name makes it the subject of an order
/// (`张三明天…`, `张三，…`, `张三 把…`) rather than part of a word.
fn bounded_after_name(after: &str) -> bool {
    const NEXT: &[&str] = &[
        "把", "将", "来", "去", "负责", "你", "您", "今", "明", "后天", "本周", "这周", "下周", "周", "下班", "尽快", "马上", "抓紧",
        "月底", "先", "帮忙", "跟进", "完成", "一起", "这周", "今晚", "上午", "下午", "中午", "晚上", "早上", "回头", "有空", "抽空", "再",
    ];
    after.is_empty() || after.starts_with(is_separator) || NEXT.iter().any(|w| after.starts_with(w))
}

/// Names joined by `、`, `和`, commas or spaces: `张三、李四`, `张三和李四`.
fn name_chain(t: &str, mut i: usize, first_explicit: bool) -> Vec<NameSpan> {
    let mut out: Vec<NameSpan> = Vec::new();
    loop {
        let explicit = t[i..].starts_with('@');
        let at = if explicit { i + 1 } else { i };
        let Some(len) = lex::name_at(t, at, explicit || (first_explicit && out.is_empty())) else { break };
        let name = &t[at..at + len];
        let name = if lex::is_group_name(name) { String::new() } else { name.to_string() };
        out.push(NameSpan { name, start: i, end: at + len });
        let rest = &t[at + len..];
        let skip = rest.len() - rest.trim_start_matches([' ', '、', ',', '和', '及', '与']).len();
        if skip == 0 {
            break;
        }
        i = at + len + skip;
    }
    out
}

/// Where the sentence starts once leading mentions are skipped.
fn leading_end(t: &str, ms: &[NameSpan]) -> usize {
    let mut i = 0;
    for m in ms {
        if t[i..m.start].trim().is_empty() {
            i = m.end;
        }
    }
    i + t[i..].len() - t[i..].trim_start().len()
}

/// `我今天…`, `好的，我来…`, `…我负责`: the sender owns it. `我们` is the
/// team and names nobody in particular.
fn self_subject(t: &str, lead: usize, ctx: &MessageContext<'_>) -> Option<NameSpan> {
    if ctx.sender.is_empty() {
        return None;
    }
    let me = '我'.len_utf8();
    let not_subject = |p: usize| ["我们", "我司", "我的", "我觉得", "我看", "我说"].iter().any(|w| t[p..].starts_with(w));
    // `今晚我把…`, `6号上午我…`: a time may open the clause before 我.
    let after_time = |p: usize| {
        t[p..].char_indices().take(8).find(|&(_, c)| c == '我').map(|(k, _)| p + k).filter(|&q| {
            // The whole head must be the time: in `…周五前发我` the 我 is
            // an object.
            let head = t[p..q].trim();
            !head.is_empty()
                && (TIME_HINTS.contains(&head)
                    || find_deadlines(head, &ctx.now, ctx.calendar).first().is_some_and(|d| d.span.start == 0 && d.span.end == head.len()))
        })
    };
    let subject = clause_starts(t, lead).into_iter().find_map(|p| {
        let q = if t[p..].starts_with('我') { Some(p) } else { after_time(p) };
        q.filter(|&q| !not_subject(q))
    });
    let (start, end) = match subject {
        Some(p) => {
            let rest = &t[p + me..];
            let extra = ["来负责", "来", "这边", "负责"].iter().find(|w| rest.starts_with(**w)).map_or(0, |w| w.len());
            (p, p + me + extra)
        }
        None => {
            let k = t.find("我来").or_else(|| t.find("我负责"))?;
            (k, k + "我来".len())
        }
    };
    Some(NameSpan { name: ctx.sender.clone(), start, end })
}

/// Names after request and assignment words: `请李四…`, `麻烦王五…`,
/// `交给张三`, `让小王…`, `请张三、李四…`.
fn marked_names(t: &str) -> Vec<NameSpan> {
    const MARKERS: &[&str] = &["请", "麻烦", "让", "辛苦", "交给", "分配给", "指派给", "安排", "由", "叫"];
    let mut out = Vec::new();
    for m in MARKERS {
        let mut from = 0;
        while let Some(k) = t[from..].find(m) {
            let start = from + k;
            let at = start + m.len();
            // `提交给申办方`, `发给客户`: a recipient, not an owner.
            if m.starts_with('交') && t[..start].ends_with(['提', '递', '上', '转', '移']) {
                from = at;
                continue;
            }
            let mut chain = name_chain(t, at, false);
            if let Some(first) = chain.first_mut() {
                first.start = start;
            }
            out.extend(chain);
            from = at;
        }
    }
    out
}

/// `张三负责登录页`, `这个由张三负责`: the name just before `负责`.
fn name_before_responsible(t: &str) -> Option<NameSpan> {
    let k = responsible_at(t)?;
    let before = &t[..k];
    let run_start = before
        .char_indices()
        .rev()
        .take_while(|&(_, c)| lex::is_cjk(c))
        .last()
        .map_or(k, |(i, _)| i);
    let run = &t[run_start..k];
    let split = ["由", "让", "请", "给", "是", "交"]
        .iter()
        .filter_map(|w| run.rfind(w).map(|p| p + w.len()))
        .max()
        .unwrap_or(0);
    let cand = &run[split..];
    let chars: Vec<(usize, char)> = cand.char_indices().collect();
    let skip = chars.len().saturating_sub(3);
    let name = &cand[chars.get(skip).map_or(cand.len(), |&(i, _)| i)..];
    if name == "我" || !lex::looks_like_name(name) || name.chars().count() < 2 {
        return None;
    }
    let start = k - name.len();
    Some(NameSpan { name: name.to_string(), start, end: k + "负责".len() })
}

/// Byte offset of `负责` used as a verb (not `负责人`).
fn responsible_at(t: &str) -> Option<usize> {
    t.match_indices("负责").map(|(k, _)| k).find(|&k| !t[k + "负责".len()..].starts_with('人'))
}

/// The object of `负责` up to the end of its clause (`登录页`).
fn responsibility_object(t: &str) -> Option<(usize, usize)> {
    let k = responsible_at(t)? + "负责".len();
    let rest = &t[k..];
    let end = rest.find([',', '，', '。', ';', '；', '\n', '!']).map_or(t.len(), |e| k + e);
    (!trim_punct(&t[k..end]).is_empty()).then_some((k, end))
}

/// One deadline sets `due`. Alternatives (`周五或者下周一前`) leave it empty
/// with every candidate listed, so the bot asks. Otherwise, among several
/// phrases the single bounded one wins (`我周五请假，周四前把交接写好`);
/// with none or several bounded ones the bot asks too.
fn set_due(task: &mut TaskFields, t: &str, deadlines: &[DeadlineMatch]) {
    let mut distinct: Vec<&DeadlineMatch> = Vec::new();
    for d in deadlines {
        if !distinct.iter().any(|z| z.at.timestamp() == d.at.timestamp()) {
            distinct.push(d);
        }
    }
    if distinct.len() == 1 {
        task.due = Some(distinct[0].at.clone());
        return;
    }
    let alternatives = deadlines.windows(2).any(|w| {
        let between = t.get(w[0].span.end..w[1].span.start).unwrap_or("");
        ["或者", "或", "还是", "or"].iter().any(|x| between.contains(x))
    });
    let bounded: Vec<&&DeadlineMatch> = distinct.iter().filter(|d| is_bounded(&t[d.span.clone()])).collect();
    if !alternatives && bounded.len() == 1 {
        task.due = Some(bounded[0].at.clone());
        return;
    }
    task.due_candidates = distinct.into_iter().map(|d| d.at.clone()).collect();
}

fn is_bounded(phrase: &str) -> bool {
    let p = phrase.trim_end();
    ["前", "之前", "以前", "内", "之内", "为止"].iter().any(|w| p.ends_with(w))
}

/// A `前`/`之前` right after a deadline phrase that the phrase did not take
/// (`周五前提交` read as `周五` + `前提交`). `前端`/`前台` are words.
fn bound_marker_len(after: &str) -> usize {
    if after.starts_with("前端") || after.starts_with("前台") {
        return 0;
    }
    ["之前", "以前", "前"].iter().find(|w| after.starts_with(**w)).map_or(0, |w| w.len())
}

const LEADING_FILLERS: &[&str] = &[
    "帮我建个任务", "建个任务", "新建任务", "创建任务", "新任务", "好的", "收到", "OK", "ok", "嗯", "一起", "你", "您", "尽快",
    "马上", "赶快", "或者", "还是", "把", "将", "给我", "帮忙", "帮我", "帮", "请", "麻烦", "辛苦", "记得", "务必", "一定要", "一定", "抓紧",
    "赶紧", "需要", "要", "得", "再", "先", "之前", "以前", "之内", "和",
];

const TRAILING_FILLERS: &[&str] = &[
    "一下", "哈", "吧", "啊", "呀", "哦", "喔", "嘛", "呗", "哟", "啦", "谢谢", "辛苦了", "辛苦", "拜托了", "拜托", "麻烦了",
    "感谢", "thx", "thanks", "就行", "就好",
];

/// The task title: the sentence minus owners, deadlines and politeness, with
/// the verb order kept as written (`把需求文档写完` → `需求文档写完`).
fn title(
    t: &str,
    owner_spans: &[(usize, usize)],
    deadlines: &[DeadlineMatch],
    responsible: Option<(usize, usize)>,
) -> Option<String> {
    if let Some((s, e)) = responsible {
        let d: Vec<(usize, usize)> = deadlines.iter().map(|d| (d.span.start, d.span.end)).collect();
        let object = clean_fragment(&blank(&t[..e], &d)[s..]);
        // `這個月的對賬 @滕飞 負責 月底前完成`: the object came first and
        // what follows 负责 is only the verb.
        let first = owner_spans.iter().map(|o| o.0).min().unwrap_or(s);
        let before = clean_fragment(&t[..first.min(s)]);
        // `网签资料 @南宫博 负责 15号前 交房管局`: the thing came first,
        // what follows 负责 is what to do with it.
        if before.chars().count() >= 2 {
            let verb_after = object.is_empty() || object.chars().count() <= 2 || segment::starts_with_action(&object);
            if verb_after {
                return Some(if object.is_empty() { before } else { format!("{before}{object}") });
            }
        }
        if !object.is_empty() {
            return Some(object);
        }
        if !object.is_empty() {
            return Some(object);
        }
    }
    let mut cut: Vec<(usize, usize)> = owner_spans.to_vec();
    cut.extend(deadlines.iter().map(|d| (d.span.start, d.span.end + bound_marker_len(&t[d.span.end..]))));
    cut.sort();
    // Keep what is left between cuts; a cut joins its neighbours directly
    // (`PRD周五前发我` → `PRD发我`), punctuation separates clauses.
    let mut kept = String::with_capacity(t.len());
    let mut pos = 0;
    for (s, e) in cut.into_iter().chain(std::iter::once((t.len(), t.len()))) {
        if s > pos {
            kept.push_str(&t[pos..s]);
        }
        kept.push(CUT);
        pos = pos.max(e);
    }
    let clauses: Vec<String> = kept
        .split([',', '，', '。', ';', '；', '\n', '!', '~', '！'])
        .map(join_pieces)
        .filter(|c| !c.is_empty())
        .collect();
    // A lone character left from a cut-up clause (`请假` minus `请`) is
    // debris, not part of the task, when other clauses carry it.
    let meaningful: Vec<String> = if clauses.len() > 1 {
        clauses.iter().filter(|c| c.chars().count() > 1).cloned().collect()
    } else {
        clauses
    };
    (!meaningful.is_empty()).then(|| meaningful.join("，"))
}

/// Marks where an owner or a deadline was cut out of the sentence.
const CUT: char = '\u{1}';

fn join_pieces(clause: &str) -> String {
    let mut out = String::new();
    for piece in clause.split(CUT).map(clean_fragment).filter(|p| !p.is_empty()) {
        let glue = out.ends_with(|c: char| c.is_ascii_alphanumeric()) && piece.starts_with(|c: char| c.is_ascii_alphanumeric());
        if glue {
            out.push(' ');
        }
        out.push_str(&piece);
    }
    clean_fragment(&out)
}

fn clean_fragment(f: &str) -> String {
    let mut s = trim_punct(f).to_string();
    loop {
        let before = s.len();
        for w in LEADING_FILLERS {
            if let Some(r) = s.strip_prefix(w) {
                s = trim_punct(r).to_string();
            }
        }
        for w in TRAILING_FILLERS {
            if let Some(r) = s.strip_suffix(w) {
                s = trim_punct(r).to_string();
            }
        }
        if s.len() == before {
            break;
        }
    }
    let s = s.replace("一下", "");
    // `来处理这个问题`: 来/去 before a verb only says someone will act;
    // `来料检验` keeps its 来.
    let s = match s.strip_prefix('来').or_else(|| s.strip_prefix('去')) {
        Some(rest) => {
            let ws = segment::words(&s);
            let alone = ws.first().is_some_and(|w| w.text == "来" || w.text == "去");
            if alone && ws.get(1).is_some_and(|w| w.tag.starts_with('v')) { rest.to_string() } else { s }
        }
        None => s,
    };
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if LONE_WORDS.contains(&s.as_str()) {
        return String::new();
    }
    s
}

/// Function words left alone between cut owners and deadlines
/// (`请在明天之前提交` leaves `在`); they are no title.
const LONE_WORDS: &[&str] = &["在", "于", "的", "也", "前", "内", "和", "或", "各自", "都", "就"];
