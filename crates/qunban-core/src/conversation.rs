//! What the bot remembers between two messages of one sender in one group,
//! and what a follow-up (`是`, `@张三`, `不对，是下周一`, `撤销`) means given
//! that memory.
//!
//! The memory is a [`Conversation`]: at most one open question (a tentative
//! task waiting for a yes, a task waiting for its owner or for one of several
//! deadlines) and the sender's last message the bot acted on (created or
//! changed tasks). Both live for [`FOLLOW_UP_WINDOW`] after the message that
//! set them, counted in message send time so a replay of the log reaches the
//! same memory. Storage keeps it per (group, sender), serialized, and updates
//! it in the transaction that applies the message ([`advance`]).
//!
//! Rules:
//! - A question is answered only by its sender; any other message of that
//!   sender drops it silently (and is processed as usual). Others' answers
//!   are ordinary messages.
//! - Corrections and undo apply to the sender's last acted-on message and
//!   every correction of it. Undo cancels the tasks those messages created
//!   (cancelled, not deleted: the reference stays taken and the history
//!   shows both the creation and the undo) and restores every field they
//!   changed to its value before the first of them, from the task history.
//! - A correction goes through the same permission rules as any update; an
//!   undo reverts the sender's own change, which they were allowed to make.

use jiff::{SignedDuration, Timestamp};
use qunban_lang::{FollowUp, Intent, TaskFields, TaskUpdate};
use serde::{Deserialize, Serialize};

use crate::command::{ClearField, Command, TaskPatch};
use crate::interpret::Decision;
use crate::model::{Priority, TaskStatus};
use crate::reply::Reply;
use crate::task::Task;

/// How long a question or an action stays open to follow-ups.
pub const FOLLOW_UP_WINDOW: SignedDuration = SignedDuration::from_secs(30 * 60);

/// The bot's memory of one sender in one group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question: Option<Question>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acted: Option<Acted>,
}

/// A question the bot asked about a task it did not create yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Question {
    pub kind: QuestionKind,
    /// The task as proposed, to create once answered.
    pub task: TaskFields,
    pub asked_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    /// `这是给 @甲 的新任务吗？` — waits for a yes or a no.
    Confirm,
    /// `「…」由谁负责？` — waits for names.
    Owner,
    /// `截止时间是哪个：…？` — waits for one deadline.
    Deadline,
}

/// The sender's last message the bot acted on, with its corrections.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Acted {
    /// The acted-on message first, then each correction of it.
    pub message_ids: Vec<i64>,
    pub tasks: Vec<ActedTask>,
    pub at: Timestamp,
    /// Undone already: a second undo has nothing to undo.
    #[serde(default)]
    pub undone: bool,
}

/// A task a message created or changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActedTask {
    pub id: i64,
    pub reference: String,
}

/// How a message relates to the conversation, which decides how the memory
/// moves on once it is applied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Turn {
    /// An ordinary message (or an answered question): if it changes tasks it
    /// becomes the acted-on message.
    #[default]
    Fresh,
    /// A correction of the acted-on message: it joins it.
    Amend,
    /// An undo of the acted-on message.
    Undo,
}

impl Conversation {
    pub fn is_empty(&self) -> bool {
        self.question.is_none() && self.acted.is_none()
    }

    /// The memory as of `now`: what is older than the window is forgotten.
    pub fn live(mut self, now: Timestamp) -> Conversation {
        if self.question.as_ref().is_some_and(|q| now.duration_since(q.asked_at) > FOLLOW_UP_WINDOW) {
            self.question = None;
        }
        if self.acted.as_ref().is_some_and(|a| now.duration_since(a.at) > FOLLOW_UP_WINDOW) {
            self.acted = None;
        }
        self
    }
}

/// The memory after a message was applied: `question` is what the message
/// asked (replacing any earlier question, which it thereby dropped),
/// `changed` the tasks it created or changed.
pub fn advance(prev: Option<Conversation>, question: Option<Question>, turn: Turn, message_id: i64, now: Timestamp, changed: Vec<ActedTask>) -> Option<Conversation> {
    let mut c = prev.unwrap_or_default().live(now);
    c.question = question;
    match turn {
        Turn::Fresh => {
            if !changed.is_empty() {
                c.acted = Some(Acted { message_ids: vec![message_id], tasks: changed, at: now, undone: false });
            }
        }
        Turn::Amend => {
            if let Some(a) = &mut c.acted {
                a.message_ids.push(message_id);
                for t in changed {
                    if !a.tasks.contains(&t) {
                        a.tasks.push(t);
                    }
                }
            }
        }
        Turn::Undo => {
            if let Some(a) = &mut c.acted {
                a.undone = true;
            }
        }
    }
    (!c.is_empty()).then_some(c)
}

/// What to do with a message, given the sender's conversation.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// Not a follow-up: parse and interpret the message as usual.
    Normal,
    /// Interpret these intents as if the message had said them; `lead` is a
    /// line said before the outcome.
    Interpret { intents: Vec<Intent>, turn: Turn, lead: Option<Reply> },
    /// Revert the acted-on message (storage loads its history, then [`undo`]).
    Undo,
    /// Answer with this and nothing else (the question, if any, is dropped).
    Say(Reply),
}

/// What a follow-up means given the conversation (already [`Conversation::live`]).
pub fn plan(follow_up: Option<&FollowUp>, conv: &Conversation) -> Plan {
    let Some(f) = follow_up else { return Plan::Normal };
    let question = conv.question.as_ref();
    let acted = conv.acted.as_ref().filter(|a| !a.undone);
    let create = |task: TaskFields| Plan::Interpret { intents: vec![Intent::CreateTask(task)], turn: Turn::Fresh, lead: None };
    match (f, question.map(|q| q.kind)) {
        (FollowUp::Yes, Some(QuestionKind::Confirm)) => {
            let mut task = question.map(|q| q.task.clone()).unwrap_or_default();
            task.tentative = false;
            return create(task);
        }
        (FollowUp::No, Some(QuestionKind::Confirm)) => {
            let title = question.and_then(|q| q.task.title.clone()).unwrap_or_default();
            return Plan::Say(Reply::NotCreated { title });
        }
        (FollowUp::Names(names), Some(QuestionKind::Owner)) => {
            let mut task = question.map(|q| q.task.clone()).unwrap_or_default();
            task.owners = names.clone();
            return create(task);
        }
        (FollowUp::Due(z) | FollowUp::CorrectDue(z), Some(QuestionKind::Deadline)) => {
            let mut task = question.map(|q| q.task.clone()).unwrap_or_default();
            task.due = Some(z.clone());
            task.due_candidates.clear();
            return create(task);
        }
        _ => {}
    }
    match f {
        FollowUp::Undo if acted.is_some() => Plan::Undo,
        FollowUp::Undo => Plan::Say(Reply::NothingToUndo),
        FollowUp::CorrectDue(z) => match acted {
            Some(a) => correct(a, |u| u.due = Some(z.clone())),
            None => Plan::Normal,
        },
        FollowUp::CorrectOwner { owners, .. } => match acted {
            // The names said to be wrong (`不是@乙`) are only context: they
            // are never resolved, so no member is made from them.
            Some(a) => correct(a, |u| u.owners = owners.clone()),
            None => Plan::Normal,
        },
        _ => Plan::Normal,
    }
}

fn correct(a: &Acted, set: impl Fn(&mut TaskUpdate)) -> Plan {
    let intents = a
        .tasks
        .iter()
        .map(|t| {
            let mut u = TaskUpdate { reference: t.reference.clone(), ..Default::default() };
            set(&mut u);
            Intent::UpdateTask(u)
        })
        .collect();
    Plan::Interpret { intents, turn: Turn::Amend, lead: Some(Reply::Corrected) }
}

/// One field change from the task history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryChange {
    pub task_id: i64,
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// The commands that revert `acted`: `history` holds the history rows its
/// messages wrote, oldest first; `tasks` the acted tasks as they are now.
pub fn undo(acted: &Acted, history: &[HistoryChange], tasks: &[Task]) -> Decision {
    let mut d = Decision { turn: Turn::Undo, replies: vec![Reply::Undone], ..Default::default() };
    for at in &acted.tasks {
        let Some(task) = tasks.iter().find(|t| t.id == at.id) else { continue };
        let rows: Vec<&HistoryChange> = history.iter().filter(|h| h.task_id == at.id).collect();
        let mut patch = TaskPatch::default();
        if rows.iter().any(|h| h.field == "created") {
            patch.status = Some(TaskStatus::Cancelled);
        } else {
            // The value before the first change wins.
            let mut seen: Vec<&str> = Vec::new();
            for h in &rows {
                if seen.contains(&h.field.as_str()) {
                    continue;
                }
                seen.push(&h.field);
                restore(&mut patch, h);
            }
            // Done means 100 %: a progress restored with it is implied.
            if patch.status.is_some_and(|s| s.is_closed()) {
                patch.progress = None;
            }
        }
        if patch.is_empty() {
            continue;
        }
        d.commands.push(Command::UpdateTask { task_id: task.id, reference: task.reference.clone(), patch, owner_names: None });
    }
    if d.commands.is_empty() {
        d.replies = vec![Reply::NothingToUndo];
    }
    d
}

fn restore(patch: &mut TaskPatch, h: &HistoryChange) {
    let old = h.old.as_deref();
    match h.field.as_str() {
        "title" => patch.title = old.map(str::to_string),
        "status" => patch.status = old.and_then(|s| s.parse().ok()),
        "progress" => patch.progress = old.and_then(|s| s.parse().ok()),
        "due" => match old.and_then(|s| s.parse::<Timestamp>().ok()) {
            Some(t) => patch.due = Some(t),
            None => patch.clear.push(ClearField::Due),
        },
        "priority" => match old.and_then(|s| s.parse::<Priority>().ok()) {
            Some(p) => patch.priority = Some(p),
            None => patch.clear.push(ClearField::Priority),
        },
        "note" => match old {
            Some(n) => patch.note = Some(n.to_string()),
            None => patch.clear.push(ClearField::Note),
        },
        "owners" => patch.owners = Some(old.unwrap_or_default().split(',').filter_map(|s| s.trim().parse().ok()).collect()),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::tz::TimeZone;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn proposed() -> TaskFields {
        TaskFields { title: Some("周报".into()), owners: vec!["李四".into()], tentative: true, ..Default::default() }
    }

    fn asked(kind: QuestionKind) -> Conversation {
        Conversation { question: Some(Question { kind, task: proposed(), asked_at: ts("2026-01-14T02:00:00Z") }), acted: None }
    }

    fn acted() -> Conversation {
        Conversation {
            question: None,
            acted: Some(Acted { message_ids: vec![7], tasks: vec![ActedTask { id: 3, reference: "TASK-003".into() }], at: ts("2026-01-14T02:00:00Z"), undone: false }),
        }
    }

    #[test]
    fn yes_creates_the_proposed_task_no_drops_it() {
        match plan(Some(&FollowUp::Yes), &asked(QuestionKind::Confirm)) {
            Plan::Interpret { intents, turn: Turn::Fresh, lead: None } => {
                assert!(matches!(&intents[..], [Intent::CreateTask(f)] if !f.tentative && f.owners == ["李四"]));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(plan(Some(&FollowUp::No), &asked(QuestionKind::Confirm)), Plan::Say(Reply::NotCreated { title: "周报".into() }));
        // a yes to nothing is an ordinary message
        assert_eq!(plan(Some(&FollowUp::Yes), &acted()), Plan::Normal);
        assert_eq!(plan(None, &asked(QuestionKind::Confirm)), Plan::Normal);
    }

    #[test]
    fn names_answer_the_owner_question_and_a_deadline_the_deadline_question() {
        match plan(Some(&FollowUp::Names(vec!["王五".into()])), &asked(QuestionKind::Owner)) {
            Plan::Interpret { intents, .. } => assert!(matches!(&intents[..], [Intent::CreateTask(f)] if f.owners == ["王五"])),
            other => panic!("{other:?}"),
        }
        let z = ts("2026-01-19T15:59:59Z").to_zoned(TimeZone::get("Asia/Shanghai").unwrap());
        match plan(Some(&FollowUp::Due(z.clone())), &asked(QuestionKind::Deadline)) {
            Plan::Interpret { intents, .. } => assert!(matches!(&intents[..], [Intent::CreateTask(f)] if f.due == Some(z.clone()) && f.due_candidates.is_empty())),
            other => panic!("{other:?}"),
        }
        // names when no owner was asked for are an ordinary message
        assert_eq!(plan(Some(&FollowUp::Names(vec!["王五".into()])), &asked(QuestionKind::Confirm)), Plan::Normal);
    }

    #[test]
    fn corrections_and_undo_need_an_action() {
        let z = ts("2026-01-19T15:59:59Z").to_zoned(TimeZone::get("Asia/Shanghai").unwrap());
        match plan(Some(&FollowUp::CorrectDue(z.clone())), &acted()) {
            Plan::Interpret { intents, turn: Turn::Amend, lead: Some(Reply::Corrected) } => {
                assert!(matches!(&intents[..], [Intent::UpdateTask(u)] if u.reference == "TASK-003" && u.due == Some(z.clone())));
            }
            other => panic!("{other:?}"),
        }
        let owner = FollowUp::CorrectOwner { owners: vec!["甲".into()], not: vec!["乙".into()] };
        match plan(Some(&owner), &acted()) {
            Plan::Interpret { intents, .. } => assert!(matches!(&intents[..], [Intent::UpdateTask(u)] if u.owners == ["甲"])),
            other => panic!("{other:?}"),
        }
        assert_eq!(plan(Some(&FollowUp::CorrectDue(z)), &asked(QuestionKind::Confirm)), Plan::Normal);
        assert_eq!(plan(Some(&FollowUp::Undo), &acted()), Plan::Undo);
        assert_eq!(plan(Some(&FollowUp::Undo), &Conversation::default()), Plan::Say(Reply::NothingToUndo));
        let mut undone = acted();
        undone.acted.as_mut().unwrap().undone = true;
        assert_eq!(plan(Some(&FollowUp::Undo), &undone), Plan::Say(Reply::NothingToUndo));
    }

    #[test]
    fn memory_moves_on_and_expires() {
        let t0 = ts("2026-01-14T02:00:00Z");
        let task = ActedTask { id: 3, reference: "TASK-003".into() };
        let c = advance(None, None, Turn::Fresh, 7, t0, vec![task.clone()]).unwrap();
        assert_eq!(c.acted.as_ref().unwrap().message_ids, [7]);
        // a message that changes nothing keeps the action; a correction joins it
        let c = advance(Some(c), None, Turn::Fresh, 8, t0, vec![]).unwrap();
        let c = advance(Some(c), None, Turn::Amend, 9, t0, vec![task.clone()]).unwrap();
        assert_eq!(c.acted.as_ref().unwrap().message_ids, [7, 9]);
        let c = advance(Some(c), None, Turn::Undo, 10, t0, vec![]).unwrap();
        assert!(c.acted.as_ref().unwrap().undone);
        // a question is replaced by the next message's (or dropped)
        let c = advance(Some(asked(QuestionKind::Confirm)), None, Turn::Fresh, 11, ts("2026-01-14T02:10:00Z"), vec![]);
        assert_eq!(c, None);
        // after the window nothing is left
        let late = ts("2026-01-14T02:31:00Z");
        assert!(acted().live(late).is_empty());
        assert!(!acted().live(ts("2026-01-14T02:30:00Z")).is_empty());
    }

    fn task() -> Task {
        Task {
            id: 3,
            project_id: 1,
            reference: "TASK-003".into(),
            title: "登录页".into(),
            owners: vec![2],
            due: Some(ts("2026-01-16T15:59:59Z")),
            status: TaskStatus::Done,
            progress: 100,
            priority: None,
            note: None,
            parent_task_id: None,
            milestone_id: None,
            created_at: ts("2026-01-10T02:00:00Z"),
            updated_at: ts("2026-01-10T02:00:00Z"),
            done_at: Some(ts("2026-01-14T02:00:00Z")),
        }
    }

    fn h(field: &str, old: Option<&str>, new: Option<&str>) -> HistoryChange {
        HistoryChange { task_id: 3, field: field.into(), old: old.map(Into::into), new: new.map(Into::into) }
    }

    #[test]
    fn undo_restores_the_values_before_the_first_change() {
        let acted = acted().acted.unwrap();
        let rows = [
            h("status", Some("in_progress"), Some("done")),
            h("progress", Some("60"), Some("100")),
            h("due", None, Some("2026-01-16T15:59:59Z")),
            h("owners", Some("1"), Some("2")),
            // a correction of the same message
            h("due", Some("2026-01-16T15:59:59Z"), Some("2026-01-19T15:59:59Z")),
        ];
        let d = undo(&acted, &rows, &[task()]);
        assert_eq!(d.turn, Turn::Undo);
        assert_eq!(d.replies, [Reply::Undone]);
        match &d.commands[..] {
            [Command::UpdateTask { task_id: 3, patch, owner_names: None, .. }] => {
                assert_eq!(patch.status, Some(TaskStatus::InProgress));
                assert_eq!(patch.progress, Some(60));
                assert_eq!(patch.clear, [ClearField::Due]);
                assert_eq!(patch.owners, Some(vec![1]));
            }
            other => panic!("{other:?}"),
        }
        // a created task is cancelled
        let d = undo(&acted, &[h("created", None, Some("TASK-003"))], &[task()]);
        assert!(matches!(&d.commands[..], [Command::UpdateTask { patch, .. }] if patch.status == Some(TaskStatus::Cancelled) && patch.due.is_none()));
        // restoring done leaves progress to the status
        let d = undo(&acted, &[h("status", Some("done"), Some("in_progress")), h("progress", Some("100"), Some("90"))], &[task()]);
        assert!(matches!(&d.commands[..], [Command::UpdateTask { patch, .. }] if patch.status == Some(TaskStatus::Done) && patch.progress.is_none()));
    }
}
