//! Who a name in the chat means, without inventing anyone.
//!
//! People write `@老李`, `小王`, `王工`, `Kevin` or half a name. A name is
//! resolved, in order, by
//!
//! 1. a member's exact display name;
//! 2. a taught alias (`/别名 老李 = 李建国`), compared case-insensitively and
//!    ignoring spaces for Latin names;
//! 3. otherwise, the members it *could* mean: the same name in another case
//!    or spacing (`kevin li` / `Kevin Li`), part of a name or a name plus a
//!    character (`李建` / `李建国`, `王芳芳` / `王芳`, `建国` / `李建国`), a
//!    nickname on a surname or given name (`小王`, `老李`, `阿芳`, `芳芳`,
//!    `王工`, `王总`, `李老师`), a Latin first name or a one-letter typo
//!    (`Kevin` / `Kevin Li`, `Kevn` / `Kevin`). If there are any, the bot
//!    asks which one is meant — even when there is exactly one, since a
//!    nickname could also be a new colleague — and changes nothing;
//! 4. a name with no such candidate is a new member.

/// A member as name resolution sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: i64,
    pub name: String,
}

/// The workspace's members and their aliases.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directory {
    pub members: Vec<Person>,
    /// `(alias key, member id)`; the key is [`alias_key`] of the alias.
    pub aliases: Vec<(String, i64)>,
}

/// What a name means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameMatch {
    /// This member, by display name or alias.
    Member(Person),
    /// Could be any of these members (display names, by id): ask.
    Unsure(Vec<String>),
    /// Nobody like it: a new member.
    New,
}

/// The form an alias is compared in: without `@`, spaces, and with Latin
/// letters in lower case (`Kevin Li`, `@kevinli` → `kevinli`).
pub fn alias_key(name: &str) -> String {
    clean(name).chars().filter(|c| !c.is_whitespace()).map(|c| c.to_ascii_lowercase()).collect()
}

/// A name as written, without surrounding space and a leading `@`.
pub fn clean(name: &str) -> &str {
    name.trim().trim_start_matches(['@', '＠']).trim()
}

/// Prefixes that make a nickname of a surname or given-name character.
const PREFIXES: [char; 3] = ['小', '老', '阿'];
/// Titles that follow a surname (`王工`) or a name (`建国哥`).
const TITLES: [&str; 14] = ["老师", "经理", "主管", "老板", "师傅", "总监", "同学", "博士", "教授", "工", "总", "哥", "姐", "姐姐"];

impl Directory {
    pub fn by_id(&self, id: i64) -> Option<&Person> {
        self.members.iter().find(|p| p.id == id)
    }

    /// Resolves a name written in the chat.
    pub fn resolve(&self, name: &str) -> NameMatch {
        let name = clean(name);
        if let Some(p) = self.members.iter().find(|p| p.name == name) {
            return NameMatch::Member(p.clone());
        }
        let key = alias_key(name);
        let mut by_alias: Vec<i64> = self.aliases.iter().filter(|(k, _)| *k == key).map(|(_, id)| *id).collect();
        by_alias.dedup();
        if let [id] = by_alias[..] {
            if let Some(p) = self.by_id(id) {
                return NameMatch::Member(p.clone());
            }
        }
        let mut candidates: Vec<&Person> = self.members.iter().filter(|p| by_alias.contains(&p.id) || could_mean(name, &p.name)).collect();
        candidates.sort_by_key(|p| p.id);
        candidates.dedup_by_key(|p| p.id);
        if candidates.is_empty() {
            NameMatch::New
        } else {
            NameMatch::Unsure(candidates.into_iter().map(|p| p.name.clone()).collect())
        }
    }
}

/// Whether `name` (not equal to `member`) could be a way of writing the
/// member's name; see the module documentation.
fn could_mean(name: &str, member: &str) -> bool {
    let (n, m) = (alias_key(name), alias_key(member));
    if n.is_empty() || m.is_empty() {
        return false;
    }
    if n == m {
        return true;
    }
    let latin = |s: &str| s.is_ascii();
    if latin(&n) && latin(&m) {
        return could_mean_latin(name, member);
    }
    let (nc, mc): (Vec<char>, Vec<char>) = (n.chars().collect(), m.chars().collect());
    // Part of the name, or the name and more: 李建 / 李建国, 王芳芳 / 王芳, 建国 / 李建国.
    let (short, long) = if nc.len() <= mc.len() { (&nc, &mc) } else { (&mc, &nc) };
    if short.len() >= 2 && long.windows(short.len()).any(|w| w == short.as_slice()) {
        return true;
    }
    let surname = mc[0];
    let last = mc[mc.len() - 1];
    // 小王, 老李, 阿芳
    if nc.len() == 2 && PREFIXES.contains(&nc[0]) && (nc[1] == surname || (mc.len() > 1 && nc[1] == last)) {
        return true;
    }
    // 芳芳
    if nc.len() == 2 && nc[0] == nc[1] && mc.len() > 1 && nc[1] == last {
        return true;
    }
    // 王工, 王总, 李老师, 建国哥
    for title in TITLES {
        if let Some(stem) = n.strip_suffix(title) {
            let stem: Vec<char> = stem.chars().collect();
            match stem.len() {
                0 => {}
                1 if stem[0] == surname => return true,
                1 => {}
                k => {
                    if mc.windows(k).any(|w| w == stem.as_slice()) {
                        return true;
                    }
                }
            }
        }
    }
    false
}

/// Latin names: a word of the member's name (`Kevin` / `Kevin Li`), a prefix
/// of at least three letters (`Kev` / `Kevin`), or one letter off in a name
/// of four or more, whole or word by word (`Kevn` / `Kevin Li`).
fn could_mean_latin(name: &str, member: &str) -> bool {
    let words = |s: &str| -> Vec<String> {
        clean(s).split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).map(|w| w.to_ascii_lowercase()).collect()
    };
    let (nw, mw) = (words(name), words(member));
    if nw.iter().any(|w| w.len() >= 2 && mw.contains(w)) {
        return true;
    }
    let (n, m) = (alias_key(name), alias_key(member));
    let (short, long) = if n.len() <= m.len() { (&n, &m) } else { (&m, &n) };
    if short.len() >= 3 && long.starts_with(short.as_str()) {
        return true;
    }
    if short.len() >= 4 && edit_distance(&n, &m) <= 1 {
        return true;
    }
    nw.iter().any(|a| a.len() >= 4 && mw.iter().any(|b| edit_distance(a, b) <= 1))
}

fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(names: &[&str]) -> Directory {
        Directory {
            members: names.iter().enumerate().map(|(i, n)| Person { id: i as i64 + 1, name: n.to_string() }).collect(),
            aliases: Vec::new(),
        }
    }

    fn unsure(names: &[&str]) -> NameMatch {
        NameMatch::Unsure(names.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn exact_names_and_aliases_resolve() {
        let mut d = dir(&["李建国", "王芳", "王强", "Kevin Li"]);
        assert_eq!(d.resolve("@李建国"), NameMatch::Member(Person { id: 1, name: "李建国".into() }));
        d.aliases.push((alias_key("老李"), 1));
        d.aliases.push((alias_key("KL"), 4));
        assert_eq!(d.resolve("老李"), NameMatch::Member(Person { id: 1, name: "李建国".into() }));
        assert_eq!(d.resolve("@kl"), NameMatch::Member(Person { id: 4, name: "Kevin Li".into() }));
    }

    #[test]
    fn nicknames_of_several_members_are_asked_about() {
        let d = dir(&["李建国", "王芳", "王强"]);
        assert_eq!(d.resolve("小王"), unsure(&["王芳", "王强"]));
        assert_eq!(d.resolve("老王"), unsure(&["王芳", "王强"]));
        assert_eq!(d.resolve("王工"), unsure(&["王芳", "王强"]));
        assert_eq!(d.resolve("王总"), unsure(&["王芳", "王强"]));
    }

    #[test]
    fn names_close_to_one_member_are_asked_about() {
        let d = dir(&["李建国", "王芳", "王强", "Kevin Li", "Anna"]);
        assert_eq!(d.resolve("李建"), unsure(&["李建国"]));
        assert_eq!(d.resolve("建国"), unsure(&["李建国"]));
        assert_eq!(d.resolve("王芳芳"), unsure(&["王芳"]));
        assert_eq!(d.resolve("老李"), unsure(&["李建国"]), "a nickname matching one member is asked about once");
        assert_eq!(d.resolve("阿芳"), unsure(&["王芳"]));
        assert_eq!(d.resolve("芳芳"), unsure(&["王芳"]));
        assert_eq!(d.resolve("建国哥"), unsure(&["李建国"]));
        assert_eq!(d.resolve("kevin li"), unsure(&["Kevin Li"]));
        assert_eq!(d.resolve("KevinLi"), unsure(&["Kevin Li"]));
        assert_eq!(d.resolve("Kevin"), unsure(&["Kevin Li"]));
        assert_eq!(d.resolve("anna"), unsure(&["Anna"]));
        assert_eq!(d.resolve("Kevn"), unsure(&["Kevin Li"]));
        assert_eq!(d.resolve("Kev"), unsure(&["Kevin Li"]));
    }

    #[test]
    fn clearly_new_names_are_new() {
        let d = dir(&["李建国", "王芳", "王强", "Kevin Li"]);
        assert_eq!(d.resolve("赵六"), NameMatch::New);
        assert_eq!(d.resolve("张三"), NameMatch::New);
        assert_eq!(d.resolve("小张"), NameMatch::New);
        assert_eq!(d.resolve("Tom"), NameMatch::New);
        assert_eq!(d.resolve("Lily"), NameMatch::New);
        // one shared character is not enough
        assert_eq!(d.resolve("刘芳"), NameMatch::New);
        assert_eq!(Directory::default().resolve("李四"), NameMatch::New);
    }
}
