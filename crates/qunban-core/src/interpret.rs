//! From intents to commands, given the state of the project.
//!
//! The interpreter never guesses: a task with no owner, a message with two
//! possible deadlines, a deadline it cannot read, a reference it does not know
//! — each becomes a question in the reply instead of data.

use std::collections::HashMap;

use jiff::Timestamp;
use qunban_lang::{Intent, Standup, TaskFields, TaskUpdate};

use crate::command::{Command, NewTask, TaskPatch};
use crate::conversation::{Question, QuestionKind, Turn};
use crate::model::{Priority, Role, TaskStatus};
use crate::people::{clean, Directory, NameMatch};
use crate::reply::Reply;
use crate::task::{check_progress, Task};

/// The project a group is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectRef {
    pub id: i64,
    pub name: String,
}

/// The member who sent the message (or called the API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub member_id: i64,
    pub name: String,
    /// Roles in the project the group is bound to.
    pub roles: Vec<Role>,
}

/// The part of the project state one message can touch, loaded by storage
/// before interpretation.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub now: Timestamp,
    pub project: Option<ProjectRef>,
    /// For a support group serving several projects (and so no single
    /// `project`): the projects a request may be for.
    pub candidate_projects: Vec<ProjectRef>,
    /// Set when the group is a sub-task group under a task of the project.
    pub parent_task_id: Option<i64>,
    pub actor: Actor,
    /// Permissions apply once a project has a PM or a lead; before that a
    /// fresh team can start working without any set-up.
    pub project_has_managers: bool,
    /// Tasks named by the intents, keyed by the reference exactly as the
    /// intent gives it (`"TASK-001"`, `"3"`).
    pub tasks: HashMap<String, Task>,
    /// Members and aliases, to tell who an owner name means (loaded when an
    /// intent names owners).
    pub people: Directory,
}

impl Snapshot {
    fn can_manage(&self) -> bool {
        !self.project_has_managers || self.actor.roles.iter().any(|r| r.manages())
    }

    fn is_viewer_only(&self) -> bool {
        !self.actor.roles.is_empty() && self.actor.roles.iter().all(|r| *r == Role::Viewer)
    }

    fn owns(&self, task: &Task) -> bool {
        task.owners.contains(&self.actor.member_id)
    }
}

/// What to do and what to say about one message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decision {
    pub commands: Vec<Command>,
    pub replies: Vec<Reply>,
    /// A question the sender can answer with a short reply (`是`, `@张三`,
    /// `下周一`); the first one the message raised.
    pub question: Option<Question>,
    /// How the message relates to the sender's conversation with the bot.
    pub turn: Turn,
}

/// Decides what a message's intents mean for the project.
pub fn interpret(intents: &[Intent], snap: &Snapshot) -> Decision {
    let mut d = Decision::default();
    let needs_project = intents
        .iter()
        .any(|i| matches!(i, Intent::CreateTask(_) | Intent::UpdateTask(_)));
    if needs_project && snap.project.is_none() && snap.candidate_projects.is_empty() {
        d.replies.push(Reply::NotBound);
        return d;
    }
    for intent in intents {
        match intent {
            Intent::CreateTask(fields) => match project_for(fields, snap) {
                Ok(project_id) => create(fields, project_id, snap, &mut d),
                Err(reply) => d.replies.push(reply),
            },
            Intent::UpdateTask(update) if snap.project.is_none() => d.replies.push(ask_project(&format!("#{}", update.reference), snap)),
            Intent::UpdateTask(update) => self::update(update, snap, &mut d),
            Intent::Standup(s) => standup(s, &mut d),
            Intent::None => {}
        }
    }
    d
}

/// The project a new task belongs to: the group's, or — in a support group
/// serving several — the one the message names (【所属项目】).
fn project_for(f: &TaskFields, snap: &Snapshot) -> Result<i64, Reply> {
    if let Some(p) = &snap.project {
        return Ok(p.id);
    }
    let named = f.project.as_deref().map(str::trim);
    match snap.candidate_projects.iter().find(|p| Some(p.name.as_str()) == named) {
        Some(p) => Ok(p.id),
        None => Err(ask_project(f.title.as_deref().unwrap_or_default(), snap)),
    }
}

fn ask_project(subject: &str, snap: &Snapshot) -> Reply {
    Reply::AskProject { subject: subject.to_string(), candidates: snap.candidate_projects.iter().map(|p| p.name.clone()).collect() }
}

fn create(f: &TaskFields, project_id: i64, snap: &Snapshot, d: &mut Decision) {
    // A template naming an existing task with the same (or a clearly similar)
    // title restates it: treat it as an update. A different title is a new
    // task that reused a number: it is created under the next free reference
    // and storage says so (`Reply::ReferenceTaken`); nothing is overwritten.
    let restated = f.reference.as_ref().and_then(|r| snap.tasks.get(r)).filter(|task| match f.title.as_deref() {
        Some(title) if !title.trim().is_empty() => titles_match(title, &task.title),
        _ => true,
    });
    if let Some(task) = restated {
        let update = TaskUpdate {
            reference: task.reference.clone(),
            status: f.status.clone(),
            progress: f.progress,
            due: f.due.clone(),
            due_text: f.due_text.clone(),
            owners: f.owners.clone(),
            priority: f.priority.clone(),
            note: f.note.clone(),
            title: f.title.clone(),
        };
        return apply_update(task, &update, snap, d);
    }
    let title = f.title.clone().unwrap_or_default();
    let label = if title.is_empty() { f.reference.clone().unwrap_or_default() } else { title.clone() };
    if title.trim().is_empty() {
        d.replies.push(Reply::AskTitle { reference: f.reference.clone() });
        return;
    }
    // A possible task the text does not clearly ask for: confirm first —
    // unless the sender could not create it anyway; then, as it may well be
    // no task at all, say nothing rather than ask and refuse.
    if f.tentative {
        let assigns_others = f.owners.iter().any(|o| o != &snap.actor.name);
        if snap.is_viewer_only() || (assigns_others && !snap.can_manage()) {
            return;
        }
        d.replies.push(Reply::ConfirmTask { title: label, owners: f.owners.clone() });
        remember(d, QuestionKind::Confirm, f, snap);
        return;
    }
    if f.owners.is_empty() {
        d.replies.push(Reply::AskOwner { title: label });
        remember(d, QuestionKind::Owner, f, snap);
        return;
    }
    let Some(owners) = resolve_owners(&f.owners, snap, d) else { return };
    if f.due.is_none() && f.due_candidates.len() > 1 {
        remember(d, QuestionKind::Deadline, f, snap);
        d.replies.push(Reply::AskDeadline {
            title: label,
            candidates: f.due_candidates.iter().map(|z| z.timestamp()).collect(),
        });
        return;
    }
    if f.due.is_none() {
        if let Some(text) = &f.due_text {
            d.replies.push(Reply::DeadlineUnclear { subject: label, text: text.clone() });
            return;
        }
    }
    let assigns_others = owners.iter().any(|o| o != &snap.actor.name);
    if snap.is_viewer_only() || (assigns_others && !snap.can_manage()) {
        d.replies.push(Reply::Refused { subject: label, reason: Refusal::AssignOthers });
        return;
    }
    let status = f.status.as_deref().and_then(|s| s.parse::<TaskStatus>().ok());
    let progress = match f.progress.map(|p| check_progress(p.into())) {
        Some(Err(e)) => {
            d.replies.push(Reply::Invalid { subject: label, error: e });
            return;
        }
        Some(Ok(p)) => Some(p),
        None => None,
    };
    d.commands.push(Command::CreateTask(NewTask {
        project_id,
        requested_reference: f.reference.as_ref().map(|r| canonical_reference(r)),
        title,
        owner_names: owners,
        due: f.due.as_ref().map(|z| z.timestamp()),
        status,
        progress,
        priority: parse_priority(f.priority.as_deref()),
        note: f.note.clone(),
        milestone: f.milestone.clone(),
        depends_on: f.depends_on.iter().map(|r| canonical_reference(r)).collect(),
        parent_task_id: snap.parent_task_id,
    }));
}

/// Keeps the first question of a message, so a short reply can answer it.
fn remember(d: &mut Decision, kind: QuestionKind, f: &TaskFields, snap: &Snapshot) {
    if d.question.is_none() {
        let mut task = f.clone();
        task.tentative = false;
        d.question = Some(Question { kind, task, asked_at: snap.now });
    }
}

fn update(u: &TaskUpdate, snap: &Snapshot, d: &mut Decision) {
    match snap.tasks.get(&u.reference) {
        Some(task) => apply_update(task, u, snap, d),
        None => d.replies.push(Reply::UnknownTask { reference: u.reference.clone() }),
    }
}

fn apply_update(task: &Task, u: &TaskUpdate, snap: &Snapshot, d: &mut Decision) {
    let subject = task.reference.clone();
    if u.due.is_none() {
        if let Some(text) = &u.due_text {
            d.replies.push(Reply::DeadlineUnclear { subject, text: text.clone() });
            return;
        }
    }
    if snap.is_viewer_only() || (!snap.owns(task) && !snap.can_manage()) {
        d.replies.push(Reply::Refused { subject, reason: Refusal::NotYourTask });
        return;
    }
    let patch = TaskPatch {
        title: u.title.clone().filter(|t| t != &task.title),
        status: u.status.as_deref().and_then(|s| s.parse().ok()),
        progress: u.progress.map(i64::from),
        due: u.due.as_ref().map(|z| z.timestamp()),
        priority: parse_priority(u.priority.as_deref()),
        note: u.note.clone(),
        owners: None,
        clear: Vec::new(),
    };
    let owner_names = if u.owners.is_empty() {
        None
    } else {
        let Some(names) = resolve_owners(&u.owners, snap, d) else { return };
        Some(names)
    };
    if patch.is_empty() && owner_names.is_none() {
        d.replies.push(Reply::NothingToChange { reference: subject });
        return;
    }
    d.commands.push(Command::UpdateTask {
        task_id: task.id,
        reference: task.reference.clone(),
        patch,
        owner_names,
    });
}

/// The members the owner names mean, as display names (a clearly new name
/// stays as written and becomes a member). A name that could be someone
/// already known — several people, or close to one — is asked about instead
/// (`None`): the bot does not guess who `小王` is, nor create a member for a
/// nickname.
fn resolve_owners(names: &[String], snap: &Snapshot, d: &mut Decision) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    let mut unsure = false;
    for name in names {
        let resolved = match snap.people.resolve(name) {
            NameMatch::Member(p) => p.name,
            NameMatch::New => clean(name).to_string(),
            NameMatch::Unsure(candidates) => {
                d.replies.push(Reply::AskWhichMember { name: clean(name).to_string(), candidates });
                unsure = true;
                continue;
            }
        };
        if !out.contains(&resolved) {
            out.push(resolved);
        }
    }
    (!unsure).then_some(out)
}

fn standup(s: &Standup, d: &mut Decision) {
    d.commands.push(Command::RecordStandup {
        yesterday: s.yesterday.clone(),
        today: s.today.clone(),
        blockers: s.blockers.clone(),
    });
}

/// Why the bot will not do what was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    AssignOthers,
    NotYourTask,
}

fn parse_priority(p: Option<&str>) -> Option<Priority> {
    p.and_then(|p| p.parse().ok())
}

/// Whether two task titles name the same work, so that a template restating
/// a reference updates that task instead of making a second one.
///
/// Both titles are normalised (case folded; whitespace and punctuation
/// dropped). They match when equal, when one contains the other (the shorter
/// has at least two characters: `登录页` / `登录页开发`), or when the Dice
/// coefficient of their character bigrams is at least 0.6 (`需求文档撰写` /
/// `需求文档编写` share 3 of 5 bigrams each: 0.6).
pub fn titles_match(a: &str, b: &str) -> bool {
    let norm = |s: &str| -> Vec<char> { s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect() };
    let (a, b) = (norm(a), norm(b));
    if a == b {
        return true;
    }
    let (short, long) = if a.len() <= b.len() { (&a, &b) } else { (&b, &a) };
    if short.len() < 2 {
        return false;
    }
    if long.windows(short.len()).any(|w| w == short.as_slice()) {
        return true;
    }
    let bigrams = |v: &[char]| -> Vec<(char, char)> { v.windows(2).map(|w| (w[0], w[1])).collect() };
    let (ba, mut bb) = (bigrams(&a), bigrams(&b));
    let total = ba.len() + bb.len();
    let mut common = 0;
    for g in &ba {
        if let Some(i) = bb.iter().position(|x| x == g) {
            bb.swap_remove(i);
            common += 1;
        }
    }
    total > 0 && (2 * common) as f64 / total as f64 >= 0.6
}

/// `TASK-7`, `task-007` and `7` all name task 7 of a project; the stored form
/// is `TASK-007` (at least three digits).
pub fn canonical_reference(r: &str) -> String {
    let r = r.trim().trim_start_matches('#');
    let digits = r.rsplit('-').next().unwrap_or(r);
    match digits.parse::<u64>() {
        Ok(n) => format_reference(n),
        Err(_) => r.to_ascii_uppercase(),
    }
}

pub fn format_reference(n: u64) -> String {
    format!("TASK-{n:03}")
}

/// The sequence number inside a canonical reference.
pub fn reference_number(r: &str) -> Option<u64> {
    canonical_reference(r).strip_prefix("TASK-")?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::tz::TimeZone;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn snap() -> Snapshot {
        Snapshot {
            now: ts("2026-01-14T02:30:00Z"),
            project: Some(ProjectRef { id: 1, name: "官网改版".into() }),
            candidate_projects: vec![],
            parent_task_id: None,
            actor: Actor { member_id: 10, name: "张三".into(), roles: vec![] },
            project_has_managers: false,
            tasks: HashMap::new(),
            people: Directory::default(),
        }
    }

    fn task(owner: i64) -> Task {
        Task {
            id: 5,
            project_id: 1,
            reference: "TASK-003".into(),
            title: "登录页".into(),
            owners: vec![owner],
            due: None,
            status: TaskStatus::InProgress,
            progress: 10,
            priority: None,
            note: None,
            parent_task_id: None,
            milestone_id: None,
            created_at: ts("2026-01-10T02:00:00Z"),
            updated_at: ts("2026-01-10T02:00:00Z"),
            done_at: None,
        }
    }

    fn fields(owners: &[&str]) -> TaskFields {
        TaskFields {
            title: Some("需求文档".into()),
            owners: owners.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn no_owner_means_a_question_not_a_task() {
        let d = interpret(&[Intent::CreateTask(fields(&[]))], &snap());
        assert!(d.commands.is_empty());
        assert_eq!(d.replies, vec![Reply::AskOwner { title: "需求文档".into() }]);
    }

    #[test]
    fn two_deadlines_mean_a_question() {
        let tz = TimeZone::get("Asia/Shanghai").unwrap();
        let mut f = fields(&["张三"]);
        f.due_candidates = vec![
            ts("2026-01-16T15:59:59Z").to_zoned(tz.clone()),
            ts("2026-01-19T15:59:59Z").to_zoned(tz),
        ];
        let d = interpret(&[Intent::CreateTask(f)], &snap());
        assert!(d.commands.is_empty());
        assert!(matches!(&d.replies[0], Reply::AskDeadline { candidates, .. } if candidates.len() == 2));
    }

    #[test]
    fn unbound_group_asks_to_bind() {
        let mut s = snap();
        s.project = None;
        let d = interpret(&[Intent::CreateTask(fields(&["张三"]))], &s);
        assert_eq!(d.replies, vec![Reply::NotBound]);
        assert!(d.commands.is_empty());
    }

    #[test]
    fn unknown_reference_is_asked_about() {
        let u = TaskUpdate { reference: "9".into(), status: Some("done".into()), ..Default::default() };
        let d = interpret(&[Intent::UpdateTask(u)], &snap());
        assert_eq!(d.replies, vec![Reply::UnknownTask { reference: "9".into() }]);
    }

    #[test]
    fn executors_cannot_assign_or_change_others_once_managed() {
        let mut s = snap();
        s.project_has_managers = true;
        s.actor.roles = vec![Role::Executor];
        let d = interpret(&[Intent::CreateTask(fields(&["李四"]))], &s);
        assert!(matches!(d.replies[0], Reply::Refused { reason: Refusal::AssignOthers, .. }));
        // their own task is fine
        let d = interpret(&[Intent::CreateTask(fields(&["张三"]))], &s);
        assert_eq!(d.commands.len(), 1);
        // someone else's task is not
        s.tasks.insert("3".into(), task(99));
        let u = TaskUpdate { reference: "3".into(), status: Some("done".into()), ..Default::default() };
        let d = interpret(&[Intent::UpdateTask(u.clone())], &s);
        assert!(matches!(d.replies[0], Reply::Refused { reason: Refusal::NotYourTask, .. }));
        // a lead may
        s.actor.roles = vec![Role::Lead];
        let d = interpret(&[Intent::UpdateTask(u)], &s);
        assert_eq!(d.commands.len(), 1);
    }

    #[test]
    fn template_restating_an_existing_task_updates_it() {
        let mut s = snap();
        s.tasks.insert("TASK-003".into(), task(10));
        let mut f = fields(&["张三"]);
        f.reference = Some("TASK-003".into());
        f.title = Some("登录页面".into());
        f.status = Some("done".into());
        let d = interpret(&[Intent::CreateTask(f)], &s);
        match &d.commands[0] {
            Command::UpdateTask { task_id, patch, .. } => {
                assert_eq!(*task_id, 5);
                assert_eq!(patch.status, Some(TaskStatus::Done));
                assert_eq!(patch.title.as_deref(), Some("登录页面"));
            }
            other => panic!("expected an update, got {other:?}"),
        }
    }

    #[test]
    fn template_reusing_a_taken_reference_for_other_work_creates_a_new_task() {
        let mut s = snap();
        s.tasks.insert("TASK-003".into(), task(10)); // 登录页
        let mut f = fields(&["张三"]);
        f.reference = Some("TASK-003".into());
        f.title = Some("支付接口联调".into());
        let d = interpret(&[Intent::CreateTask(f.clone())], &s);
        match &d.commands[..] {
            // The store keeps the requested number only if it is free; it is
            // not, so it allocates the next one and says so.
            [Command::CreateTask(t)] => {
                assert_eq!(t.title, "支付接口联调");
                assert_eq!(t.requested_reference.as_deref(), Some("TASK-003"));
            }
            other => panic!("expected a new task, got {other:?}"),
        }
        // the same title written differently is still the same task
        f.title = Some(" 登录页 ".into());
        f.status = Some("done".into());
        let d = interpret(&[Intent::CreateTask(f.clone())], &s);
        assert!(matches!(&d.commands[0], Command::UpdateTask { task_id: 5, .. }), "{:?}", d.commands);
        f.title = Some("登录页开发".into());
        let d = interpret(&[Intent::CreateTask(f)], &s);
        assert!(matches!(&d.commands[0], Command::UpdateTask { task_id: 5, .. }), "{:?}", d.commands);
    }

    fn people() -> Directory {
        use crate::people::{alias_key, Person};
        Directory {
            members: [(10, "张三"), (11, "王芳"), (12, "王强"), (13, "李建国")].iter().map(|(id, n)| Person { id: *id, name: n.to_string() }).collect(),
            aliases: vec![(alias_key("老李"), 13)],
        }
    }

    #[test]
    fn an_owner_who_could_be_several_members_is_asked_about() {
        let mut s = snap();
        s.people = people();
        let d = interpret(&[Intent::CreateTask(fields(&["小王"]))], &s);
        assert!(d.commands.is_empty(), "{:?}", d.commands);
        assert_eq!(d.replies, vec![Reply::AskWhichMember { name: "小王".into(), candidates: vec!["王芳".into(), "王强".into()] }]);
        // close to exactly one member: asked too
        let d = interpret(&[Intent::CreateTask(fields(&["李建"]))], &s);
        assert!(d.commands.is_empty());
        assert_eq!(d.replies, vec![Reply::AskWhichMember { name: "李建".into(), candidates: vec!["李建国".into()] }]);
        // the full name, an alias and a clearly new name go through
        let d = interpret(&[Intent::CreateTask(fields(&["王芳", "老李", "赵六"]))], &s);
        match &d.commands[..] {
            [Command::CreateTask(t)] => assert_eq!(t.owner_names, vec!["王芳", "李建国", "赵六"]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn handing_a_task_to_an_unclear_name_changes_nothing() {
        let mut s = snap();
        s.people = people();
        s.tasks.insert("3".into(), task(10));
        let u = TaskUpdate { reference: "3".into(), owners: vec!["王工".into()], status: Some("in_progress".into()), ..Default::default() };
        let d = interpret(&[Intent::UpdateTask(u.clone())], &s);
        assert!(d.commands.is_empty(), "{:?}", d.commands);
        assert!(matches!(&d.replies[..], [Reply::AskWhichMember { name, .. }] if name == "王工"));
        let u = TaskUpdate { owners: vec!["老李".into()], ..u };
        let d = interpret(&[Intent::UpdateTask(u)], &s);
        assert!(matches!(&d.commands[..], [Command::UpdateTask { owner_names: Some(n), .. }] if n == &vec!["李建国".to_string()]), "{:?}", d);
    }

    #[test]
    fn assigning_oneself_by_alias_is_not_assigning_others() {
        let mut s = snap();
        s.people = people();
        s.people.aliases.push((crate::people::alias_key("三哥"), 10));
        s.project_has_managers = true;
        s.actor.roles = vec![Role::Executor];
        let d = interpret(&[Intent::CreateTask(fields(&["三哥"]))], &s);
        assert!(matches!(&d.commands[..], [Command::CreateTask(t)] if t.owner_names == vec!["张三"]), "{d:?}");
    }

    #[test]
    fn similar_titles() {
        assert!(titles_match("需求文档撰写", "需求文档撰写"));
        assert!(titles_match("需求文档撰写", "需求文档 撰写。"));
        assert!(titles_match("Login page", "login-page"));
        assert!(titles_match("登录页", "登录页开发"));
        assert!(titles_match("需求文档撰写", "需求文档编写"));
        assert!(!titles_match("需求文档撰写", "支付接口联调"));
        assert!(!titles_match("首页改版", "登录页改版上线"));
        assert!(!titles_match("页", "登录页"));
    }

    #[test]
    fn support_groups_ask_which_project_unless_told() {
        let mut s = snap();
        s.project = None;
        s.candidate_projects = vec![ProjectRef { id: 1, name: "官网改版".into() }, ProjectRef { id: 2, name: "小程序".into() }];
        let d = interpret(&[Intent::CreateTask(fields(&["张三"]))], &s);
        assert!(matches!(&d.replies[0], Reply::AskProject { candidates, .. } if candidates.len() == 2));
        let mut f = fields(&["张三"]);
        f.project = Some("小程序".into());
        let d = interpret(&[Intent::CreateTask(f)], &s);
        assert!(matches!(&d.commands[0], Command::CreateTask(t) if t.project_id == 2));
    }

    #[test]
    fn a_tentative_task_is_asked_about_and_remembered() {
        let mut f = fields(&["李四"]);
        f.tentative = true;
        let d = interpret(&[Intent::CreateTask(f)], &snap());
        assert!(d.commands.is_empty());
        assert_eq!(d.replies, vec![Reply::ConfirmTask { title: "需求文档".into(), owners: vec!["李四".into()] }]);
        let q = d.question.expect("remembered");
        assert_eq!(q.kind, QuestionKind::Confirm);
        assert!(!q.task.tentative, "the remembered task is the one to create");
        // an executor's possible task for someone else is not even asked about
        let mut s = snap();
        s.project_has_managers = true;
        s.actor.roles = vec![Role::Executor];
        let mut f = fields(&["李四"]);
        f.tentative = true;
        let d = interpret(&[Intent::CreateTask(f)], &s);
        assert_eq!(d, Decision::default());
        // the owner question is remembered too
        let d = interpret(&[Intent::CreateTask(fields(&[]))], &snap());
        assert_eq!(d.question.map(|q| q.kind), Some(QuestionKind::Owner));
    }

    #[test]
    fn the_owner_or_a_manager_may_reopen_a_done_task() {
        let mut s = snap();
        s.project_has_managers = true;
        let mut t = task(10);
        t.status = TaskStatus::Done;
        s.tasks.insert("3".into(), t);
        let u = TaskUpdate { reference: "3".into(), status: Some("in_progress".into()), ..Default::default() };
        let d = interpret(&[Intent::UpdateTask(u.clone())], &s);
        assert!(matches!(&d.commands[0], Command::UpdateTask { patch, .. } if patch.status == Some(TaskStatus::InProgress)));
        s.actor.member_id = 11;
        let d = interpret(&[Intent::UpdateTask(u.clone())], &s);
        assert!(matches!(d.replies[0], Reply::Refused { reason: Refusal::NotYourTask, .. }));
        s.actor.roles = vec![Role::Pm];
        let d = interpret(&[Intent::UpdateTask(u)], &s);
        assert_eq!(d.commands.len(), 1);
    }

    #[test]
    fn references_are_canonical() {
        assert_eq!(canonical_reference("#task-7"), "TASK-007");
        assert_eq!(canonical_reference("3"), "TASK-003");
        assert_eq!(canonical_reference("TASK-1234"), "TASK-1234");
        assert_eq!(reference_number("TASK-012"), Some(12));
    }
}
