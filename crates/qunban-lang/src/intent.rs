//! What a chat message asks for, before any project state is consulted.
//!
//! Intents are the contract between the language crate and the interpreter in
//! `qunban-core`, and (through `qunban parse message`) with users and scripts,
//! so their JSON shape is stable: `{"type": "create_task" | "update_task" |
//! "standup" | "none", ...fields}`.

use jiff::Zoned;
use serde::{Deserialize, Serialize};

use crate::calendar::Calendar;

/// Everything the parser may know about a message besides its text.
#[derive(Debug, Clone)]
pub struct MessageContext<'a> {
    /// When the message was sent; relative deadlines are resolved against it.
    pub now: Zoned,
    /// Display name of the sender; "我" (I) in a message refers to them.
    pub sender: String,
    /// The workday calendar used for 工作日 and holiday phrases.
    pub calendar: &'a Calendar,
}

/// One thing a message asks for. A message may carry several (a template
/// message can define several tasks).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Intent {
    CreateTask(TaskFields),
    UpdateTask(TaskUpdate),
    Standup(Standup),
    /// Nothing to act on: chit-chat, announcements, questions, past events.
    None,
}

/// Fields of a new task, as far as the message states them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskFields {
    /// Reference given in the message, canonical: `"TASK-001"` or `"3"`.
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Owner display names without `@`. Empty means the message names nobody:
    /// the bot must ask rather than guess.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_rfc3339")]
    pub due: Option<Zoned>,
    /// Every deadline the message could mean when it names more than one
    /// (`周五或者下周一`); `due` is then `None` and the bot asks.
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "vec_rfc3339")]
    pub due_candidates: Vec<Zoned>,
    /// The deadline text as written when it could not be resolved
    /// (`截止时间：待定`), so the bot can quote it when asking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_text: Option<String>,
    /// One of todo, in_progress, blocked, paused, review, done, cancelled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<u8>,
    /// P0..P3 (高 = P1, 中 = P2, 低 = P3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub milestone: Option<String>,
    /// Canonical references of tasks this one depends on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    /// The text may be a task but does not clearly ask for one (no request
    /// word, a bare name as subject, a hedged plan): the bot asks the sender
    /// to confirm (`这是给 @甲 的新任务吗？回复"是"创建`) instead of creating it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub tentative: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A change to an existing task, addressed by reference.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskUpdate {
    /// Canonical reference: `"TASK-001"` for `#task-001`, `"3"` for `#3`.
    #[serde(rename = "ref")]
    pub reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<u8>,
    /// New deadline (`延期到下周三`).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_rfc3339")]
    pub due: Option<Zoned>,
    /// Deadline text that could not be resolved, so the bot can ask.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_text: Option<String>,
    /// New owners (`转给 @李四`), replacing the current ones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    /// A note or the reason of a block (`阻塞：等UI确认`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// A stand-up post: what was done, what is planned, what is in the way.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Standup {
    pub yesterday: Vec<String>,
    pub today: Vec<String>,
    pub blockers: Vec<String>,
}

mod opt_rfc3339 {
    use jiff::Zoned;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Zoned>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(z) => s.serialize_str(&super::rfc3339(z)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Zoned>, D::Error> {
        let s: Option<String> = Option::deserialize(d)?;
        s.map(|s| super::parse_rfc3339(&s).map_err(serde::de::Error::custom))
            .transpose()
    }
}

mod vec_rfc3339 {
    use jiff::Zoned;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[Zoned], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(super::rfc3339))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Zoned>, D::Error> {
        let v: Vec<String> = Vec::deserialize(d)?;
        v.iter()
            .map(|s| super::parse_rfc3339(s).map_err(serde::de::Error::custom))
            .collect()
    }
}

/// RFC 3339 with the numeric offset of the zone (`2026-01-15T15:00:00+08:00`),
/// the format of the CLI contract and the API.
pub fn rfc3339(z: &Zoned) -> String {
    z.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// Parses RFC 3339 into a zoned instant. The offset decides the instant; the
/// zone is Asia/Shanghai when the offset is +08:00, else a fixed offset.
pub fn parse_rfc3339(s: &str) -> Result<Zoned, jiff::Error> {
    let ts: jiff::Timestamp = s.parse()?;
    let offset = jiff::fmt::temporal::DateTimeParser::new()
        .parse_pieces(s)
        .ok()
        .and_then(|p| p.to_numeric_offset());
    let tz = match offset {
        Some(o) if o == jiff::tz::offset(8) => jiff::tz::TimeZone::get("Asia/Shanghai")?,
        Some(o) => jiff::tz::TimeZone::fixed(o),
        None => jiff::tz::TimeZone::UTC,
    };
    Ok(ts.to_zoned(tz))
}
