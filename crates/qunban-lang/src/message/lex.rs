//! Small lexical helpers shared by the message parsers: references, names,
//! status words, priorities and progress figures.
//!
//! Everything here works on normalized text (see `normalize`) and returns byte
//! offsets into it, so callers can cut fields out without re-scanning.

/// Whether `c` belongs to a Chinese word (CJK ideographs, extension A and the
/// compatibility block; enough for names and titles).
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0xF900..=0xFAFF | 0x20000..=0x2FFFF)
}

/// Separators between clauses or list items; a field or a name never spans one.
pub fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            ',' | ';' | '.' | '!' | '?' | ':' | '~' | '，' | '；' | '。' | '！' | '？' | '：' | '、'
                | '【' | '】' | '[' | ']' | '(' | ')' | '（' | '）' | '"' | '“' | '”' | '…'
                | '|' | '/' | '～' | '「' | '」' | '《' | '》'
        )
}

/// Trims whitespace and clause punctuation at both ends. Brackets and
/// quotes stay: they pair with something inside (`登录页改版（二期）`).
pub fn trim_punct(s: &str) -> &str {
    s.trim_matches(|c: char| {
        let paired = matches!(c, '(' | ')' | '（' | '）' | '"' | '“' | '”' | '「' | '」' | '《' | '》');
        (is_separator(c) && !paired) || matches!(c, '-' | '*' | '·' | '•' | '√')
    })
}

/// Trims a note: whitespace and separators at the start, whitespace and
/// commas at the end, but a sentence's own final `。`, `！`, `？` or `…`
/// stays, as the writer typed it.
pub fn trim_note(s: &str) -> &str {
    let s = s.trim_start_matches(|c: char| is_separator(c) && !matches!(c, '(' | '（' | '"' | '“' | '「' | '《'));
    s.trim_end_matches(|c: char| c.is_whitespace() || matches!(c, ',' | '，' | ';' | '；' | '、' | ':' | '：'))
}

/// A task reference found in the text, already canonical (`TASK-001`, `3`).
#[derive(Debug, Clone, PartialEq)]
pub struct RefMatch {
    pub canonical: String,
    pub start: usize,
    pub end: usize,
}

/// Reads a reference at byte `i`. With `#` anything alphanumeric counts
/// (`#3`, `#task-001`, `#TASK001`); without it only `LETTERS-DIGITS` or
/// `TASK` + digits do, because bare words like `P0`, `v2` or `UTF8` are common
/// in chats and must not be mistaken for tasks.
pub fn ref_at(s: &str, i: usize) -> Option<RefMatch> {
    let rest = s.get(i..)?;
    let prev_alnum = s[..i].chars().next_back().is_some_and(|c| c.is_ascii_alphanumeric());
    if let Some(body) = rest.strip_prefix('#') {
        let (canonical, len) = ref_body(body, true)?;
        return Some(RefMatch { canonical, start: i, end: i + 1 + len });
    }
    if prev_alnum {
        return None;
    }
    let (canonical, len) = ref_body(rest, false)?;
    Some(RefMatch { canonical, start: i, end: i + len })
}

/// Parses `letters[-_ ]digits` or `digits`; returns the canonical form and the
/// byte length consumed.
fn ref_body(s: &str, hashed: bool) -> Option<(String, usize)> {
    let b = s.as_bytes();
    let letters = b.iter().take_while(|c| c.is_ascii_alphabetic()).count();
    let mut j = letters;
    let mut dashed = false;
    if letters > 0 && j < b.len() && (b[j] == b'-' || b[j] == b'_') {
        dashed = true;
        j += 1;
    }
    let digits = b[j..].iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 || digits > 9 {
        return None;
    }
    let mut end = j + digits;
    // `QA-2026-017`: further `-digits` groups belong to the code.
    while letters > 0 && dashed && b.get(end) == Some(&b'-') && b.get(end + 1).is_some_and(u8::is_ascii_digit) {
        end += 1 + b[end + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
    }
    // A reference ends at a word boundary: `#3a` or `TASK-1x` are not refs.
    if b.get(end).is_some_and(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let prefix = s[..letters].to_ascii_uppercase();
    let number = &s[j..end];
    if number.contains('-') {
        return Some((format!("{prefix}-{number}"), end));
    }
    if letters == 0 {
        return hashed.then(|| (number.to_string(), end));
    }
    if !hashed && !dashed && prefix != "TASK" {
        return None;
    }
    if !hashed && letters < 2 {
        return None;
    }
    Some((format!("{prefix}-{number}"), end))
}

/// Every `#ref` in the text, in order.
pub fn hashed_refs(s: &str) -> Vec<RefMatch> {
    s.char_indices()
        .filter(|&(_, c)| c == '#')
        .filter_map(|(i, _)| ref_at(s, i))
        .collect()
}

/// Status vocabulary, canonical value last. Longer words first so that
/// `已完成` wins over `完成` at the same position.
const STATUS_WORDS: &[(&str, &str)] = &[
    ("还没开始", "todo"),
    ("未开始", "todo"),
    ("没开始", "todo"),
    ("待处理", "todo"),
    ("待开始", "todo"),
    ("未启动", "todo"),
    ("待办", "todo"),
    ("todo", "todo"),
    ("不用做了", "cancelled"),
    ("不做了", "cancelled"),
    ("取消", "cancelled"),
    ("作废", "cancelled"),
    ("cancelled", "cancelled"),
    ("cancel", "cancelled"),
    ("进行中", "in_progress"),
    ("正在做", "in_progress"),
    ("在做", "in_progress"),
    ("开始做", "in_progress"),
    ("已开始", "in_progress"),
    ("开始了", "in_progress"),
    ("处理中", "in_progress"),
    ("开发中", "in_progress"),
    ("in progress", "in_progress"),
    ("doing", "in_progress"),
    ("wip", "in_progress"),
    ("阻塞", "blocked"),
    ("卡住", "blocked"),
    ("卡在", "blocked"),
    ("被卡", "blocked"),
    ("blocked", "blocked"),
    ("暂停", "paused"),
    ("搁置", "paused"),
    ("挂起", "paused"),
    ("paused", "paused"),
    ("重新打开", "in_progress"),
    ("重新开启", "in_progress"),
    ("重开", "in_progress"),
    ("reopen", "in_progress"),
    ("退回", "in_progress"),
    ("打回", "in_progress"),
    ("驳回", "in_progress"),
    ("提交审核", "review"),
    ("提交审批", "review"),
    ("已提交", "review"),
    ("已送审", "review"),
    ("送审", "review"),
    ("审核中", "review"),
    ("审批中", "review"),
    ("待审批", "review"),
    ("待确认", "review"),
    ("开始处理", "in_progress"),
    ("开始做", "in_progress"),
    ("开始弄", "in_progress"),
    ("着手", "in_progress"),
    ("开工", "in_progress"),
    ("待验收", "review"),
    ("待审核", "review"),
    ("待review", "review"),
    ("待测试", "review"),
    ("提测", "review"),
    ("in review", "review"),
    ("review中", "review"),
    ("审核通过", "done"),
    ("验收通过", "done"),
    ("报验通过", "done"),
    ("通过了", "done"),
    ("已完成", "done"),
    ("完成", "done"),
    ("搞定", "done"),
    ("做完", "done"),
    ("弄完", "done"),
    ("写完", "done"),
    ("完工", "done"),
    ("已上线", "done"),
    ("已经上线", "done"),
    ("上线了", "done"),
    ("已发布", "done"),
    ("发布了", "done"),
    ("已解决", "done"),
    ("已修复", "done"),
    ("修好了", "done"),
    ("finished", "done"),
    ("finish", "done"),
    ("fixed", "done"),
    ("done", "done"),
    ("closed", "done"),
    ("ok了", "done"),
    ("√", "done"),
];

/// A status word found in text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StatusMatch {
    pub status: &'static str,
    pub start: usize,
    pub end: usize,
}

/// The first status word in `s`, skipping negated ones (`还没完成`,
/// `未完成`): a negated status says what the task is *not*, which is no
/// status at all.
pub fn find_status(s: &str) -> Option<StatusMatch> {
    find_listed_status(s).or_else(|| completed_shape(s))
}

/// Completion written as grammar rather than a status word: `已寄出`,
/// `已回款`, `已交` (已/已经 + a verb), `弄好了`, `办妥了`, `OK了`,
/// `办妥` (a verb + a result complement + 了). Any trade's verb fits.
fn completed_shape(s: &str) -> Option<StatusMatch> {
    let t = s.trim_start_matches(|c: char| c.is_whitespace() || matches!(c, ':' | '：' | ',' | '，'));
    let lead = s.len() - t.len();
    // The update's own first clause only: `#12 已寄出 顺丰单号…`.
    let end = t.find(['，', ',', '。', ';', '；', '\n']).unwrap_or(t.len());
    let clause = &t[..end];
    // `已寄出`, and `扩初图已通过甲方确认`, `结题报告已定稿` with the thing
    // first; `已发导师审阅` hands it over for review.
    for prefix in ["已经", "已"] {
        if let Some(k) = clause.find(prefix) {
            let rest = &clause[k + prefix.len()..];
            let verb = rest.chars().next().is_some_and(is_cjk) && !rest.starts_with(['有', '是', '在', '到', '约', '排', '安', '开', '分', '经']);
            let head = &clause[..k];
            let hedged = ["应该", "可能", "估计", "大概", "理论上", "差不多", "基本", "好像", "也许"].iter().any(|h| head.contains(h))
                || clause.contains(['吧', '吗', '?', '？']);
            let plain = !head.contains(['没', '不', '未', '快']) && !hedged && head.chars().count() <= 12;
            if verb && plain {
                let review = ["审阅", "审核", "审批", "确认中", "待确认", "评审", "review"].iter().any(|w| rest.ends_with(w));
                return Some(StatusMatch { status: if review { "review" } else { "done" }, start: lead + k, end: lead + clause.len() });
            }
        }
    }
    for result in ["好了", "完了", "妥了", "齐了", "掉了", "OK了", "ok了", "妥", "完毕"] {
        if let Some(k) = clause.find(result) {
            let before = &clause[..k];
            // `弄好了`, `办妥`: a verb right before the result; `还没弄好` is
            // negated and `快弄好了` hedged (the caller checks both).
            if before.chars().next_back().is_some_and(|c| is_cjk(c) || c.is_ascii_alphanumeric()) || before.is_empty() && result.starts_with(['O', 'o']) {
                // `快好了`, `就好了`, `要好了`: about to be, not done.
                if before.ends_with(['没', '不', '未', '快', '就', '要', '将']) || before.contains("没") || before.contains("快") {
                    return None;
                }
                return Some(StatusMatch { status: "done", start: lead + k.saturating_sub(before.chars().next_back().map_or(0, char::len_utf8)), end: lead + k + result.len() });
            }
        }
    }
    None
}

fn find_listed_status(s: &str) -> Option<StatusMatch> {
    let lower = s.to_ascii_lowercase();
    for (i, _) in lower.char_indices() {
        let rest = &lower[i..];
        for &(word, status) in STATUS_WORDS {
            if !rest.starts_with(word) {
                continue;
            }
            if word.is_ascii() && !ascii_word_bounded(&lower, i, i + word.len()) {
                continue;
            }
            if is_negated(&lower[..i]) && !word.starts_with(['还', '未', '没', '不']) {
                continue;
            }
            return Some(StatusMatch { status, start: i, end: i + word.len() });
        }
    }
    None
}

/// The status a whole field value means (`【状态】进行中`).
pub fn status_value(s: &str) -> Option<&'static str> {
    find_status(s).map(|m| m.status)
}

fn is_negated(before: &str) -> bool {
    let t = before.trim_end();
    t.ends_with('没') || t.ends_with('未') || t.ends_with('不') || t.ends_with("尚未") || t.ends_with("没有")
}

/// Whether an ASCII word at `start..end` is not glued to other ASCII letters.
pub fn ascii_word_bounded(s: &str, start: usize, end: usize) -> bool {
    let before = s[..start].chars().next_back().is_some_and(|c| c.is_ascii_alphanumeric());
    let after = s[end..].chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    !before && !after
}

/// Canonical priority for a field value or a word: P0..P3, 紧急 = P0,
/// 高 = P1, 中 = P2, 低 = P3.
pub fn priority_value(s: &str) -> Option<&'static str> {
    let t = trim_punct(s);
    let b = t.as_bytes();
    if b.len() >= 2 && (b[0] == b'P' || b[0] == b'p') {
        let p = match b[1] {
            b'0' => Some("P0"),
            b'1' => Some("P1"),
            b'2' => Some("P2"),
            b'3' => Some("P3"),
            _ => None,
        };
        if p.is_some() && !b.get(2).is_some_and(|c| c.is_ascii_digit()) {
            return p;
        }
    }
    for (word, p) in [("紧急", "P0"), ("最高", "P0"), ("高", "P1"), ("中", "P2"), ("低", "P3")] {
        if t.starts_with(word) {
            return Some(p);
        }
    }
    None
}

/// A bare `P0`..`P3` token anywhere in `s`.
pub fn find_priority_token(s: &str) -> Option<&'static str> {
    let b = s.as_bytes();
    (0..b.len().saturating_sub(1)).find_map(|i| {
        let is_p = b[i] == b'P' || b[i] == b'p';
        let ok = is_p
            && matches!(b[i + 1], b'0'..=b'3')
            && s.is_char_boundary(i)
            && ascii_word_bounded(s, i, i + 2);
        if ok {
            priority_value(&s[i..i + 2])
        } else {
            None
        }
    })
}

/// A percentage or `进度 N`: returns the raw number (may exceed 100, the
/// caller decides) and the byte span of the whole figure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProgressMatch {
    pub value: Option<u32>,
    pub start: usize,
    pub end: usize,
}

/// Finds `60%`, `60 %`, `进度60`, `进度: 60`, `进度到60%`. A decimal figure
/// (`60.5%`) is found but has no value: rounding would invent precision the
/// writer did not give, dropping it would lose what they did.
pub fn find_progress(s: &str) -> Option<ProgressMatch> {
    let keyword = keyword_progress(s);
    let percent = last_percent(s);
    match (keyword, percent) {
        // `进度:30%->60%`: the figure the sentence ends on is the current one.
        (Some(k), Some(p)) if p.start >= k.end && !s[k.end..p.start].contains([',', '，', ';', '；', '。', '\n']) => Some(ProgressMatch { value: p.value, start: k.start, end: p.end }),
        (Some(k), _) => Some(k),
        (None, p) => p,
    }
}

/// `进度` (or `完成了`) followed by a number: `进度60`, `进度: 60 %`,
/// `进度到60%`, `进度七成` (70), `进度百分之四十五` (45).
fn keyword_progress(s: &str) -> Option<ProgressMatch> {
    ["进度", "完成度", "完成了", "做了", "完成"].iter().find_map(|kw| {
        s.match_indices(kw).find_map(|(k, _)| {
            let after = k + kw.len();
            let skip: usize = s[after..]
                .char_indices()
                .take_while(|&(_, c)| c.is_whitespace() || matches!(c, ':' | '到' | '为' | '是' | '已' | '达' | '了' | '从' | '约' | '大' | '概' | '差' | '不' | '多'))
                .map(|(_, c)| c.len_utf8())
                .sum();
            let at = after + skip;
            let found = number_at(s, at).or_else(|| chinese_share(s, at));
            // Only `进度` takes a bare number; after a verb the figure must
            // be a share (`完成了60%`, `完成了七成`), not `完成了3个`.
            let (value, end) = found?;
            let share = s[..end].ends_with('%') || s[..end].ends_with('成') || s[at..].starts_with("百分之");
            (*kw == "进度" || *kw == "完成度" || share).then_some(ProgressMatch { value, start: k, end })
        })
    })
}

/// `七成` (70), `五成` (50), `百分之四十五` (45), `百分之90` (90), at `j`.
fn chinese_share(s: &str, j: usize) -> Option<(Option<u32>, usize)> {
    let rest = &s[j..];
    if let Some(r) = rest.strip_prefix("百分之") {
        let start = j + "百分之".len();
        if let Some((v, end)) = number_at(s, start) {
            return Some((v, end));
        }
        let (v, len) = chinese_int(r)?;
        return Some((Some(v), start + len));
    }
    let (v, len) = chinese_int(rest)?;
    let after = &rest[len..];
    if after.starts_with('成') && v <= 10 {
        return Some((Some(v * 10), j + len + '成'.len_utf8()));
    }
    None
}

/// A Chinese numeral below 1000 at the start of `s` (`四十五`, `九十`,
/// `十`, `两`), with its byte length.
pub fn chinese_int(s: &str) -> Option<(u32, usize)> {
    let digit = |c: char| "零一二三四五六七八九".find(c).map(|k| (k / 3) as u32).or((c == '两').then_some(2));
    let mut total = 0u32;
    let mut cur: Option<u32> = None;
    let mut len = 0;
    for c in s.chars() {
        if let Some(d) = digit(c) {
            cur = Some(d);
        } else if c == '十' {
            total += cur.unwrap_or(1) * 10;
            cur = None;
        } else if c == '百' {
            total += cur.unwrap_or(1) * 100;
            cur = None;
        } else {
            break;
        }
        len += c.len_utf8();
    }
    if len == 0 {
        return None;
    }
    Some((total + cur.unwrap_or(0), len))
}

/// The last `N%` figure in the text.
fn last_percent(s: &str) -> Option<ProgressMatch> {
    let b = s.as_bytes();
    let pct = b.iter().rposition(|&c| c == b'%')?;
    let mut i = pct;
    while i > 0 && b[i - 1] == b' ' {
        i -= 1;
    }
    let digits_end = i;
    while i > 0 && (b[i - 1].is_ascii_digit() || b[i - 1] == b'.') {
        i -= 1;
    }
    if i == digits_end {
        return None;
    }
    Some(ProgressMatch { value: parse_int(&s[i..digits_end]), start: i, end: pct + 1 })
}

/// A number at byte `j`, optionally followed by spaces and `%`; returns the
/// value and the end of the figure.
fn number_at(s: &str, j: usize) -> Option<(Option<u32>, usize)> {
    let b = s.as_bytes();
    let mut e = j;
    while e < b.len() && (b[e].is_ascii_digit() || b[e] == b'.') {
        e += 1;
    }
    if e == j || !b[j].is_ascii_digit() {
        return None;
    }
    let value = parse_int(&s[j..e]);
    let mut k = e;
    while k < b.len() && b[k] == b' ' {
        k += 1;
    }
    let end = if b.get(k) == Some(&b'%') { k + 1 } else { e };
    Some((value, end))
}

fn parse_int(s: &str) -> Option<u32> {
    if s.contains('.') || s.len() > 6 {
        return None;
    }
    s.parse().ok()
}

/// Surnames common enough that a two- or three-character word starting with
/// one, in a name position, is very likely a person. Without a directory of
/// the team, this is what separates `张三明天…` from `文档明天…`.
const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝";

/// Words that start with a surname character but are not names.
const NOT_NAMES: &[&str] = &[
    "老板", "老师", "老大", "老铁", "老版", "老接口", "小伙", "小组", "小程序", "小时", "小的", "小问题", "小需求", "阿里", "小红书",
    "麻烦", "冷静", "江湖", "祝大", "路过", "米饭",
    "周一", "周二", "周三", "周四", "周五", "周六", "周日", "周天", "周末", "周报", "周会", "周内", "马上", "方案", "方便", "方向", "方式",
    "方面", "高优", "高于", "任务", "任何", "谢谢", "曾经", "万一", "于是", "程序", "金额", "时间", "时候", "安排", "文档", "文件", "文案",
    "明天", "明日", "明早", "明晚", "明确", "白天", "陆续", "向大", "关于", "和大", "和你", "全部", "全体", "全员", "全力", "应该", "成功",
    "成本", "章节", "简单", "管理", "连续", "项目", "华为", "包括", "单独", "车上", "毕竟", "季度", "商品", "商务", "商户", "党建", "师傅",
    "宫格", "景点", "路上", "游戏", "游客", "解决", "房间", "司机", "古代", "吉祥", "简历", "卫生", "宗旨", "尤其", "应用", "齐全", "易用",
    "黄色", "红色", "蓝色", "高级", "高度", "高效", "石头", "上线", "边界", "边框", "查看", "查询", "查一", "申请", "安全", "安装", "温度",
    "康复", "施工", "牛逼", "葛优", "严重", "严格", "武器", "孔子", "汤圆", "常规", "常用", "文章", "文字", "时长", "穆斯", "农历", "古典",
    "凌晨", "程度", "何时", "何况", "于此", "余下", "余额", "杜绝", "叶子", "苏州", "沈阳", "钟头", "范围", "夏天", "付款", "付费", "龙头",
    "史上", "陶瓷", "黎明", "贺卡", "顾客", "顾问", "毛病", "钱包", "莫名", "向上", "向下", "文本", "庞大", "颜色", "章程", "欧洲", "关键",
    "关闭", "关注", "焦点", "左边", "左右", "祝贺", "包装", "宁可", "尚未", "符合", "舒服", "纪要", "纪律", "单元", "单子", "成果", "成员",
    "苗头", "谷歌", "曲线", "蓝牙", "路由", "路径", "辛苦", "管道", "解释", "解析", "阳光", "卓越", "连接", "费用", "沙发", "荣誉", "迟到",
    "黄金", "王者", "张贴", "刘海", "陈述", "杨柳", "周边", "周期", "周围", "胡说", "罗列", "郑重", "宋体", "许可",
];

/// Characters that stop a name when the text glues the name to what follows
/// (`@张三明天…`, `请李四本周内…`): time words, verbs and function words.
const NAME_STOPS: &[&str] = &[
    "今天", "今日", "今晚", "明天", "明日", "明早", "明晚", "后天", "大后天", "本周", "这周", "下周", "下下周", "周一", "周二",
    "周三", "周四", "周五", "周六", "周日", "周末", "星期", "礼拜", "月底", "月初", "年底", "上午", "中午", "下午", "晚上",
    "下班", "节前", "节后", "尽快", "马上", "抓紧", "赶紧", "务必", "一定", "把", "将", "来", "去", "负责", "帮", "给",
    "跟", "和", "与", "及", "在", "再", "先", "也", "都", "就", "要", "请", "的", "看", "做", "写", "出", "提",
    "交", "完成", "处理", "修", "改", "整理", "准备", "跟进", "确认", "这", "那", "同学", "老师", "你", "您", "接手",
    "接", "review", "前", "内", "之", "已", "还", "有", "是", "也", "能", "可",
    "1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "一", "两", "二", "三", "十", "发", "上", "搞", "弄",
    "安排", "对接", "联调", "测试", "开发", "设计", "更新", "补", "画", "输出", "检查", "排查", "优化", "回复",
    "提供", "汇总", "统计", "评估", "调研", "梳理", "实现", "上传", "核对", "联系", "沟通", "填", "报", "过",
];

/// Display names the bot must never take as owners.
const GROUP_NAMES: &[&str] = &[
    "所有人", "全体成员", "全体", "all", "All", "ALL", "everyone", "here", "大家", "群办", "qunban", "Qunban", "bot",
    "机器人", "群办助手", "小助手",
];

/// Whether a mention names a group or the bot rather than one person.
pub fn is_group_name(name: &str) -> bool {
    GROUP_NAMES.contains(&name)
}

/// Reads a person's name at `s[i..]`. `explicit` is true after `@`, where any
/// short word is a name; otherwise the name must start with a common surname
/// (or 小/老/阿 + a character). Returns the name's byte length.
pub fn name_at(s: &str, i: usize, explicit: bool) -> Option<usize> {
    let rest = s.get(i..)?;
    let first = rest.chars().next()?;
    if first.is_ascii_alphabetic() {
        let len = rest
            .char_indices()
            .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-'))
            .map_or(rest.len(), |(k, _)| k);
        let word = rest[..len].trim_end_matches(['.', '-']);
        // Without `@`, only a capitalised word (`Tom`, not `PRD` or `bug`)
        // is taken for an English name.
        let capitalised = word.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && word.chars().skip(1).all(|c| c.is_ascii_lowercase());
        if explicit || capitalised {
            return (!word.is_empty()).then_some(word.len());
        }
        return None;
    }
    if !is_cjk(first) {
        return None;
    }
    // `阿May`, `小K`: a nickname prefix with a Latin name, closed by a space
    // or punctuation.
    if matches!(first, '阿' | '小' | '老') {
        let latin: usize = rest[first.len_utf8()..].chars().take_while(|c| c.is_ascii_alphabetic()).map(char::len_utf8).sum();
        let end = first.len_utf8() + latin;
        if latin > 0 && rest[end..].chars().next().is_none_or(|c| c.is_whitespace() || is_separator(c) || is_cjk(c)) {
            return Some(end);
        }
    }
    if explicit {
        if let Some(len) = display_name(rest) {
            return Some(len);
        }
        // `@阿May`, `@小K`: a display name mixing scripts, closed by a
        // space, punctuation or the end.
        let mixed: usize = rest.chars().take_while(|c| is_cjk(*c) || c.is_ascii_alphanumeric()).map(char::len_utf8).sum();
        let closed = mixed == rest.len() || rest[mixed..].starts_with(|c: char| c.is_whitespace() || is_separator(c) || c == '@');
        let name = &rest[..mixed];
        if closed && name.chars().any(|c| c.is_ascii_alphabetic()) && name.chars().any(is_cjk) && name.chars().count() <= 12 {
            return Some(mixed);
        }
    }
    let run: Vec<(usize, char)> = rest.char_indices().take_while(|&(_, c)| is_cjk(c) || c == '·').collect();
    let run_len = run.last().map_or(0, |&(k, c)| k + c.len_utf8());
    // After `@` the client separates the mention from the text: take it whole.
    if explicit && run.len() <= 4 && delimited(rest, run_len) {
        return Some(run_len);
    }
    let mut n = 0;
    for (idx, &(k, _)) in run.iter().enumerate().take(3) {
        if idx >= 2 && NAME_STOPS.iter().any(|w| rest[k..].starts_with(w)) {
            break;
        }
        n = idx + 1;
    }
    if n < 2 {
        return None;
    }
    let len = run[n - 1].0 + run[n - 1].1.len_utf8();
    let name = &rest[..len];
    if !explicit && !looks_like_name(name) {
        return None;
    }
    Some(len)
}

/// A mention the client closed with a space or punctuation, taken whole even
/// with inner dashes (`@产品-小王`): display names are what the team
/// chose, not what a heuristic guesses.
fn display_name(rest: &str) -> Option<usize> {
    let len = rest
        .char_indices()
        .find(|&(_, c)| !(is_cjk(c) || c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '·' | '.')))
        .map_or(rest.len(), |(k, _)| k);
    let name = rest[..len].trim_end_matches(['-', '.', '_']);
    let chars = name.chars().count();
    let closed = len == rest.len() || rest[len..].starts_with(|c: char| c.is_whitespace() || is_separator(c) || c == '@');
    let has_joiner = name.contains(['-', '_', '·', '.']);
    (closed && has_joiner && chars <= 16).then_some(name.len())
}

fn delimited(rest: &str, len: usize) -> bool {
    rest[len..].chars().next().is_none_or(|c| !is_cjk(c))
}

/// Whether a bare CJK word plausibly is a person's name.
pub fn looks_like_name(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else { return false };
    if NOT_NAMES.iter().any(|w| name.starts_with(w) && w.chars().count() >= 2) {
        return false;
    }
    if matches!(first, '小' | '老' | '阿') {
        return chars.next().is_some_and(is_cjk);
    }
    SURNAMES.contains(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs() {
        assert_eq!(ref_at("#task-001 ok", 0).map(|r| r.canonical), Some("TASK-001".into()));
        assert_eq!(ref_at("#3 ok", 0).map(|r| (r.canonical, r.end)), Some(("3".into(), 2)));
        assert_eq!(ref_at("TASK001 完成", 0).map(|r| r.canonical), Some("TASK-001".into()));
        assert_eq!(ref_at("P0 完成", 0), None);
        assert_eq!(ref_at("3 完成", 0), None);
    }

    #[test]
    fn names() {
        let s = "李四本周内完成";
        assert_eq!(name_at(s, 0, false).map(|n| &s[..n]), Some("李四"));
        let s = "张小明明天";
        assert_eq!(name_at(s, 0, false).map(|n| &s[..n]), Some("张小明"));
        assert_eq!(name_at("文档明天", 0, false), None);
        assert_eq!(name_at("大家周五前", 0, false), None);
    }

    #[test]
    fn status_and_progress() {
        assert_eq!(find_status("还没完成"), None);
        assert_eq!(find_status("已完成").map(|m| m.status), Some("done"));
        assert_eq!(find_progress("进度: 60%").and_then(|p| p.value), Some(60));
        assert_eq!(find_progress("进度 60 %").and_then(|p| p.value), Some(60));
    }
}
