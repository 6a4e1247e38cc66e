//! The JSON endpoints behind the dashboard (docs/API.md, /api/openapi.json).
//!
//! Handlers stay thin: authorise, load, shape. A task change from the web is
//! turned into the same intent a chat message would produce and goes through
//! the interpreter, so permissions, transition rules, history and the group
//! announcement are exactly those of the chat.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use jiff::Timestamp;
use qunban_core::reply::Reply;
use qunban_core::{interpret, GroupKind, TaskStatus};
use qunban_lang::{Intent, TaskUpdate};
use qunban_report::Ctx;
use qunban_store::{Group, InboundMessage, MessageContext, OutboxStatus, StandupDays, StoreError, TaskFilter, TaskView};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::Caller;
use super::JsonBody;
use crate::http::ApiError;
use crate::pipeline::Engine;

type ApiResult<T> = Result<T, ApiError>;

fn bad_request(msg: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_request", msg)
}

fn invalid(msg: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", msg)
}

fn rfc3339(secs: i64) -> Value {
    Timestamp::from_second(secs).map(|t| json!(t.to_string())).unwrap_or(Value::Null)
}

/// Counts and health of one project, from its tasks.
fn project_stats(tasks: &[TaskView], now: Timestamp) -> Value {
    let total = tasks.len();
    let open: Vec<&TaskView> = tasks.iter().filter(|v| !v.task.status.is_closed()).collect();
    let done: Vec<&TaskView> = tasks.iter().filter(|v| v.task.status == TaskStatus::Done).collect();
    let overdue = open.iter().filter(|v| v.task.due.is_some_and(|d| d < now)).count();
    let with_due: Vec<_> = done.iter().filter_map(|v| Some((v.task.due?, v.task.done_at?))).collect();
    let on_time = with_due.iter().filter(|(due, done)| done <= due).count();
    let on_time_rate = (!with_due.is_empty()).then(|| on_time as f64 / with_due.len() as f64);
    // Off track: a quarter of the open work is late, or most finished work was.
    let overdue_share = if open.is_empty() { 0.0 } else { overdue as f64 / open.len() as f64 };
    let health = if overdue_share > 0.25 || on_time_rate.is_some_and(|r| r < 0.6) {
        "off_track"
    } else if overdue > 0 || on_time_rate.is_some_and(|r| r < 0.8) {
        "at_risk"
    } else {
        "good"
    };
    json!({ "total": total, "open": open.len(), "done": done.len(), "overdue": overdue, "on_time_rate": on_time_rate, "health": health })
}

async fn project_json(engine: &Engine, p: &qunban_store::Project, now: Timestamp) -> ApiResult<Value> {
    let tasks = engine.store().tasks(&TaskFilter { project_id: Some(p.id), ..Default::default() }).await?;
    let mut v = json!({ "id": p.id, "name": p.name, "description": p.description, "status": p.status, "created_at": rfc3339(p.created_at) });
    if let (Value::Object(o), Value::Object(s)) = (&mut v, project_stats(&tasks, now)) {
        o.extend(s);
    }
    Ok(v)
}

/// `GET /api/v1/projects`
pub async fn list_projects(State(engine): State<Engine>, caller: Caller) -> ApiResult<Json<Value>> {
    let now = Timestamp::now();
    let mut out = Vec::new();
    for p in engine.store().projects().await? {
        if caller.can_read(&engine, p.id).await? {
            out.push(project_json(&engine, &p, now).await?);
        }
    }
    Ok(Json(json!({ "projects": out })))
}

fn group_json(g: &Group, project: Option<&str>) -> Value {
    json!({
        "id": g.id, "name": g.name, "platform": g.platform, "chat_id": g.chat_id, "kind": g.kind,
        "project_id": g.project_id, "project": project, "parent_group_id": g.parent_group_id, "parent_task_id": g.parent_task_id,
    })
}

/// `GET /api/v1/projects/{id}`
pub async fn project_detail(State(engine): State<Engine>, caller: Caller, Path(id): Path<i64>) -> ApiResult<Json<Value>> {
    let store = engine.store();
    let p = store.project(id).await?;
    caller.check_read(&engine, id).await?;
    let roles = store.project_roles(id).await?;
    let mut members: Vec<Value> = Vec::new();
    let mut seen = Vec::new();
    for (member_id, _) in &roles {
        if seen.contains(member_id) {
            continue;
        }
        seen.push(*member_id);
        let m = store.member(*member_id).await?;
        let rs: Vec<_> = roles.iter().filter(|(mid, _)| mid == member_id).map(|(_, r)| *r).collect();
        members.push(json!({ "id": m.id, "name": m.display_name, "roles": rs }));
    }
    let groups: Vec<Value> = project_groups(&engine, id).await?.iter().map(|g| group_json(g, Some(&p.name))).collect();
    let data = store.report_dataset(Some(id), &StandupDays::default()).await?;
    let milestones: Vec<Value> = data
        .milestones
        .iter()
        .map(|m| json!({ "id": m.id, "name": m.name, "due": m.due_at.map(rfc3339), "status": m.status }))
        .collect();
    Ok(Json(json!({ "project": project_json(&engine, &p, Timestamp::now()).await?, "members": members, "groups": groups, "milestones": milestones })))
}

/// The groups working on a project: bound to it, or supporting it.
async fn project_groups(engine: &Engine, project_id: i64) -> ApiResult<Vec<Group>> {
    let mut out = Vec::new();
    for g in engine.store().groups().await? {
        let serves = g.project_id == Some(project_id)
            || (g.kind == GroupKind::Support && engine.store().projects_of_support_group(g.id).await?.iter().any(|p| p.id == project_id));
        if serves {
            out.push(g);
        }
    }
    Ok(out)
}

#[derive(Debug, Deserialize)]
pub struct MetricsQuery {
    from: Option<String>,
    to: Option<String>,
}

/// `GET /api/v1/projects/{id}/metrics?from=&to=` (dates; default: the last 28 days)
pub async fn project_metrics(State(engine): State<Engine>, caller: Caller, Path(id): Path<i64>, Query(q): Query<MetricsQuery>) -> ApiResult<Json<Value>> {
    engine.store().project(id).await?;
    caller.check_read(&engine, id).await?;
    let ctx = Ctx::new(Timestamp::now().as_second(), engine.workspace().await?.tz());
    let date = |s: &Option<String>, what: &str| -> ApiResult<Option<jiff::civil::Date>> {
        s.as_deref()
            .map(|d| d.parse().map_err(|e| bad_request(format!("{what}: {e}"))).and_then(|d| crate::http::check_date(what, d)))
            .transpose()
    };
    let today = ctx.day_of(ctx.now);
    let to = date(&q.to, "to")?.unwrap_or(today);
    let from = date(&q.from, "from")?.unwrap_or_else(|| qunban_report::add_days(to, -27));
    if from > to {
        return Err(invalid("from must not be after to"));
    }
    let (a, b) = (ctx.start_of(from), ctx.start_of(qunban_report::add_days(to, 1)));
    let data = engine.store().report_window_metrics(Some(id), &StandupDays::default(), a, &ctx).await?;
    let m = qunban_report::compute_metrics(&data, &ctx, a, b);
    Ok(Json(serde_json::to_value(m).map_err(ApiError::internal)?))
}

/// `GET /api/v1/projects/{id}/workload`
pub async fn project_workload(State(engine): State<Engine>, caller: Caller, Path(id): Path<i64>) -> ApiResult<Json<Value>> {
    let store = engine.store();
    store.project(id).await?;
    caller.check_read(&engine, id).await?;
    let tz = engine.workspace().await?.tz();
    let now = Timestamp::now();
    let local = now.to_zoned(tz.clone());
    let monday = qunban_report::week_monday(local.date());
    let week_end = qunban_report::add_days(monday, 7).to_zoned(tz).map_err(|e| invalid(e.to_string()))?.timestamp();
    let week_ago = now - jiff::SignedDuration::from_hours(24 * 7);
    let tasks = store.tasks(&TaskFilter { project_id: Some(id), ..Default::default() }).await?;
    let mut rows: Vec<(i64, String, [u64; 4])> = Vec::new();
    for v in &tasks {
        for (member_id, name) in v.task.owners.iter().zip(&v.owner_names) {
            let idx = match rows.iter().position(|(m, _, _)| m == member_id) {
                Some(i) => i,
                None => {
                    rows.push((*member_id, name.clone(), [0; 4]));
                    rows.len() - 1
                }
            };
            let c = &mut rows[idx].2;
            let t = &v.task;
            if !t.status.is_closed() {
                c[0] += 1;
                if t.due.is_some_and(|d| d < week_end) {
                    c[1] += 1;
                }
                if t.due.is_some_and(|d| d < now) {
                    c[2] += 1;
                }
            } else if t.status == TaskStatus::Done && t.done_at.is_some_and(|d| d >= week_ago) {
                c[3] += 1;
            }
        }
    }
    rows.sort_by(|a, b| b.2[0].cmp(&a.2[0]).then(a.1.cmp(&b.1)));
    let members: Vec<Value> = rows
        .iter()
        .map(|(id, name, c)| json!({ "id": id, "name": name, "open": c[0], "due_this_week": c[1], "overdue": c[2], "done_last_7_days": c[3] }))
        .collect();
    Ok(Json(json!({ "members": members })))
}

/// `GET /api/v1/projects/{id}/gantt.svg`
pub async fn project_gantt(State(engine): State<Engine>, caller: Caller, Path(id): Path<i64>) -> ApiResult<Response> {
    let store = engine.store();
    let p = store.project(id).await?;
    caller.check_read(&engine, id).await?;
    let ctx = Ctx::new(Timestamp::now().as_second(), engine.workspace().await?.tz());
    let data = store.report_dataset(Some(id), &StandupDays::default()).await?;
    let svg = qunban_report::gantt::svg(&data, &ctx, &p.name);
    Ok(([(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8")], svg).into_response())
}

/// `GET /api/v1/members`
pub async fn list_members(State(engine): State<Engine>, _caller: Caller) -> ApiResult<Json<Value>> {
    let members: Vec<Value> = engine
        .store()
        .members()
        .await?
        .into_iter()
        .filter(|m| !(m.identities.len() == 1 && m.identities[0] == ("api".to_string(), "admin".to_string())))
        .map(|m| {
            let ids: Vec<Value> = m.identities.iter().map(|(p, u)| json!({ "platform": p, "user_id": u })).collect();
            json!({ "id": m.id, "name": m.display_name, "aliases": m.aliases, "identities": ids })
        })
        .collect();
    Ok(Json(json!({ "members": members })))
}

#[derive(Debug, Deserialize)]
pub struct TaskQuery {
    project: Option<String>,
    project_id: Option<i64>,
    owner: Option<String>,
    status: Option<String>,
    #[serde(default)]
    overdue: bool,
    /// Page size, 1..=500 (default 100).
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Default and largest page of `GET /api/v1/tasks`.
pub const TASK_PAGE_DEFAULT: i64 = 100;
pub const TASK_PAGE_MAX: i64 = 500;

/// `GET /api/v1/tasks`: one page in project then reference order, with
/// `next_cursor` (null on the last page). Filters and the caller's read
/// scope run in SQL, so every page but the last is full.
pub async fn list_tasks(
    State(engine): State<Engine>,
    caller: Caller,
    q: Result<Query<TaskQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    // `limit=x` is a JSON 400 like every other bad input.
    let Query(q) = q.map_err(|e| bad_request(e.body_text()))?;
    let store = engine.store();
    let mut filter = TaskFilter::default();
    if let Some(p) = &q.project {
        filter.project_id = Some(store.project_by_name(p).await?.id);
    }
    if let Some(id) = q.project_id {
        filter.project_id = Some(store.project(id).await?.id);
    }
    if let Some(o) = &q.owner {
        filter.owner_id = Some(store.member_by_name(o).await?.id);
    }
    if let Some(s) = &q.status {
        filter.status = Some(s.parse::<TaskStatus>().map_err(|e| bad_request(e.to_string()))?);
    }
    if q.overdue {
        filter.overdue_at = Some(Timestamp::now());
    }
    let limit = q.limit.unwrap_or(TASK_PAGE_DEFAULT);
    if !(1..=TASK_PAGE_MAX).contains(&limit) {
        return Err(bad_request(format!("limit must be between 1 and {TASK_PAGE_MAX}")));
    }
    if let Some(c) = &q.cursor {
        filter.after = Some(c.parse().map_err(|e: qunban_store::StoreError| bad_request(e.to_string()))?);
    }
    if let Some(p) = filter.project_id {
        caller.check_read(&engine, p).await?;
    }
    if !caller.is_admin {
        // The admin token belongs to no member; any other caller does.
        filter.readable_by = Some(caller.member.as_ref().map_or(-1, |m| m.id));
    }
    let page = store.tasks_page(&filter, limit).await?;
    Ok(Json(json!({ "tasks": page.tasks, "next_cursor": page.next.map(|c| c.to_string()) })))
}

/// `GET /api/v1/tasks/{id}`: the task, its history with the chat messages
/// behind each change, and the message that created it.
pub async fn task_detail(State(engine): State<Engine>, caller: Caller, Path(id): Path<i64>) -> ApiResult<Json<Value>> {
    let store = engine.store();
    let view = store.task_view(id).await?;
    caller.check_read(&engine, view.task.project_id).await?;
    let history = store.task_history(id).await?;
    let origin = store.task_origin_message(id).await?;
    let mut ids: Vec<i64> = history.iter().filter_map(|h| h.message_id).chain(origin).collect();
    ids.sort_unstable();
    ids.dedup();
    let messages = store.chat_messages(&ids).await?;
    let find = |id: Option<i64>| id.and_then(|id| messages.iter().find(|m| m.id == id)).map(message_json);
    let history: Vec<Value> = history
        .iter()
        .map(|h| {
            json!({
                "at": rfc3339(h.at), "actor": h.actor, "source": h.source, "field": h.field,
                "old_value": h.old_value, "new_value": h.new_value, "message": find(h.message_id),
            })
        })
        .collect();
    Ok(Json(json!({ "task": view, "history": history, "created_by_message": find(origin) })))
}

fn message_json(m: &qunban_store::ChatMessage) -> Value {
    json!({ "id": m.id, "group_id": m.group_id, "group": m.group, "sender": m.sender, "text": m.text, "sent_at": rfc3339(m.sent_at), "reply": m.reply })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskPatchBody {
    status: Option<String>,
    progress: Option<i64>,
    /// RFC 3339 instant, or a date (`2026-12-01`, meaning the end of the work day 18:00).
    due: Option<String>,
    owners: Option<Vec<String>>,
    title: Option<String>,
    note: Option<String>,
}

/// `PATCH /api/v1/tasks/{id}`
pub async fn patch_task(
    State(engine): State<Engine>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    Path(id): Path<i64>,
    body: JsonBody<TaskPatchBody>,
) -> ApiResult<Json<Value>> {
    let b = body.0;
    let store = engine.store();
    let view = store.task_view(id).await?;
    let project_id = view.task.project_id;
    caller.check_read(&engine, project_id).await?;
    let tz = engine.workspace().await?.tz();
    if let Some(s) = &b.status {
        s.parse::<TaskStatus>().map_err(|e| invalid(e.to_string()))?;
    }
    let progress = match b.progress {
        Some(p) if !(0..=100).contains(&p) => return Err(invalid(format!("progress must be between 0 and 100, got {p}"))),
        Some(p) => Some(p as u8),
        None => None,
    };
    let due = match b.due.as_deref() {
        None => None,
        Some(s) => {
            let due = parse_due(s, &tz).ok_or_else(|| invalid(format!("due: '{s}' is neither an RFC 3339 instant nor a YYYY-MM-DD date")))?;
            crate::http::check_instant("due", due.timestamp())?;
            Some(due)
        }
    };
    let update = TaskUpdate {
        reference: view.task.reference.clone(),
        status: b.status,
        progress,
        due,
        due_text: None,
        owners: b.owners.unwrap_or_default(),
        priority: None,
        note: b.note,
        title: b.title,
    };
    let actor = caller.actor(&engine).await?;
    let intents = [Intent::UpdateTask(update)];
    let now = Timestamp::now();
    let mut snapshot = store.snapshot_for_project(project_id, &actor, &intents, now).await?;
    // Workspace admins act with a PM's rights.
    if caller.is_admin && !snapshot.actor.roles.contains(&qunban_core::Role::Pm) {
        snapshot.actor.roles.push(qunban_core::Role::Pm);
    }
    let decision = interpret(&intents, &snapshot);
    // A refusal is the bot's sentence, in the reader's language.
    let workspace_locale = engine.workspace().await?.locale;
    let reader = reader_locale(&headers, workspace_locale);
    let words = |r: &Reply| qunban_core::reply::render_all(std::slice::from_ref(r), &tz, reader).unwrap_or_default();
    if let Some(refusal) = decision.replies.iter().find_map(|r| match r {
        Reply::Refused { .. } => Some(Caller::forbidden(&words(r))),
        Reply::Invalid { .. } | Reply::DeadlineUnclear { .. } | Reply::AskWhichMember { .. } => Some(invalid(words(r))),
        _ => None,
    }) {
        return Err(refusal);
    }
    let group = announce_group(&engine, project_id).await?;
    // The group may have chosen its own language (/设置 语言 English).
    let locale = match &group {
        Some(g) => store.group_settings(g.id).await?.into_iter().find(|(k, _)| k == "locale").and_then(|(_, v)| v.parse().ok()).unwrap_or(workspace_locale),
        None => workspace_locale,
    };
    let ctx = MessageContext { message_id: None, source: "web".into(), group, actor, now, emit_outbox: true };
    let applied = store.apply(&ctx, decision, &tz, locale).await?;
    Ok(Json(json!({ "task": store.task_view(id).await?, "reply": applied.text })))
}

/// `Accept-Language: en…` reads English, `zh…` Chinese; otherwise the workspace's language.
fn reader_locale(headers: &axum::http::HeaderMap, default: qunban_core::Locale) -> qunban_core::Locale {
    let lang = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("").trim().to_ascii_lowercase();
    if lang.starts_with("en") {
        qunban_core::Locale::En
    } else if lang.starts_with("zh") {
        qunban_core::Locale::Zh
    } else {
        default
    }
}

/// A date alone means the end of that work day, as in chat (18:00).
fn parse_due(s: &str, tz: &jiff::tz::TimeZone) -> Option<jiff::Zoned> {
    if let Ok(t) = s.parse::<Timestamp>() {
        return Some(t.to_zoned(tz.clone()));
    }
    let d: jiff::civil::Date = s.parse().ok()?;
    d.at(18, 0, 0, 0).to_zoned(tz.clone()).ok()
}

/// Where web changes are announced: the project's master group, else its
/// first group.
async fn announce_group(engine: &Engine, project_id: i64) -> ApiResult<Option<Group>> {
    let groups = project_groups(engine, project_id).await?;
    Ok(groups.iter().find(|g| g.kind == GroupKind::Master).or_else(|| groups.first()).cloned())
}

/// `GET /api/v1/groups`
pub async fn list_groups(State(engine): State<Engine>, caller: Caller) -> ApiResult<Json<Value>> {
    let store = engine.store();
    let projects = store.projects().await?;
    let mut out = Vec::new();
    for g in store.groups().await? {
        if let Some(p) = g.project_id {
            if !caller.can_read(&engine, p).await? {
                continue;
            }
        }
        let project = g.project_id.and_then(|id| projects.iter().find(|p| p.id == id)).map(|p| p.name.as_str());
        let mut v = group_json(&g, project);
        let rules = store.schedule_rules(g.id).await?.all();
        let robot = store.group_robot(g.id).await?;
        if let Value::Object(o) = &mut v {
            o.insert("rules".into(), json!(rules));
            o.insert("robot".into(), json!(robot.map(|r| r.kind)));
        }
        out.push(v);
    }
    Ok(Json(json!({ "groups": out })))
}

/// `POST /api/v1/groups/{id}/test-send`: a test message through the group's robot.
pub async fn test_send(State(engine): State<Engine>, caller: Caller, Path(id): Path<i64>) -> ApiResult<Response> {
    let store = engine.store();
    let group = store.groups().await?.into_iter().find(|g| g.id == id).ok_or_else(|| StoreError::NotFound { kind: "group", name: id.to_string() })?;
    let allowed = caller.is_admin || group.project_id.is_some_and(|p| caller.manages(p));
    if !allowed {
        return Err(Caller::forbidden("only a PM or lead of the group's project can send a test message"));
    }
    if store.group_robot(id).await?.is_none() {
        return Err(invalid("this group has no robot webhook; set one with `qunban connector robot`"));
    }
    let now = Timestamp::now();
    let who = caller.member.as_ref().map_or("admin".to_string(), |m| m.display_name.clone());
    let text = format!("🔔 qunban 测试消息（{who} 从网页发送）：机器人已连通。");
    let key = format!("test:{id}:{}", now.as_nanosecond());
    let outbox_id = store.enqueue(&key, Some(id), "reply", &json!({ "text": text })).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "outbox_id": outbox_id }))).into_response())
}

/// `GET /api/v1/connectors` (admins: the secrets are redacted, but the set-up is theirs)
pub async fn list_connectors(State(engine): State<Engine>, caller: Caller) -> ApiResult<Json<Value>> {
    if !caller.is_admin {
        return Err(Caller::forbidden("connector set-up is for workspace admins"));
    }
    let list: Vec<Value> = engine.store().connectors().await?.iter().map(|c| c.redacted_json()).collect();
    Ok(Json(json!({ "connectors": list })))
}

#[derive(Debug, Deserialize)]
pub struct OutboxQuery {
    status: Option<String>,
    limit: Option<i64>,
}

/// The groups whose outbox rows the caller may see and requeue: all for
/// admins (`None`); else the groups bound to a project the caller is PM or
/// lead of. Rows of support groups (several projects) and of no group stay
/// with the admins.
async fn managed_groups(engine: &Engine, caller: &Caller) -> ApiResult<Option<Vec<i64>>> {
    if caller.is_admin {
        return Ok(None);
    }
    let groups = engine.store().groups().await?;
    Ok(Some(groups.iter().filter(|g| g.project_id.is_some_and(|p| caller.manages(p))).map(|g| g.id).collect()))
}

/// `GET /api/v1/outbox?status=pending|sent|dead`: the rows of the groups of
/// the projects the caller manages (all of them for admins).
pub async fn list_outbox(State(engine): State<Engine>, caller: Caller, Query(q): Query<OutboxQuery>) -> ApiResult<Json<Value>> {
    if !caller.manages_any() {
        return Err(Caller::forbidden("the outbox is for PMs, leads and admins"));
    }
    let status = match q.status.as_deref() {
        None | Some("") | Some("all") => None,
        Some("pending") => Some(OutboxStatus::Pending),
        Some("sent") => Some(OutboxStatus::Sent),
        Some("dead") => Some(OutboxStatus::Dead),
        Some(other) => return Err(bad_request(format!("status must be pending, sent or dead, not '{other}'"))),
    };
    let groups = engine.store().groups().await?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let rows = match managed_groups(&engine, &caller).await? {
        None => engine.store().outbox(status, limit).await?,
        Some(ids) => engine.store().outbox_of_groups(status, &ids, limit).await?,
    };
    let items: Vec<Value> = rows
        .iter()
        .map(|i| {
            let group = i.group_id.and_then(|g| groups.iter().find(|x| x.id == g)).map(|g| g.name.clone());
            json!({
                "id": i.id, "kind": i.kind, "group_id": i.group_id, "group": group, "status": i.status,
                "attempts": i.attempts, "last_error": i.last_error, "created_at": rfc3339(i.created_at),
                "sent_at": i.sent_at.map(rfc3339), "text": i.payload.get("text").and_then(|t| t.as_str()),
                "event": i.payload.get("type").and_then(|t| t.as_str()),
            })
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}

/// `POST /api/v1/outbox/{id}/requeue`: retry a dead or waiting message now.
/// A row of a project the caller does not manage is as unknown as a missing one.
pub async fn requeue(State(engine): State<Engine>, caller: Caller, Path(id): Path<i64>) -> ApiResult<Json<Value>> {
    if !caller.manages_any() {
        return Err(Caller::forbidden("the outbox is for PMs, leads and admins"));
    }
    let not_found = || StoreError::NotFound { kind: "outbox item", name: id.to_string() };
    let item = engine.store().outbox_item(id).await?.ok_or_else(not_found)?;
    if let Some(ids) = managed_groups(&engine, &caller).await? {
        if !item.group_id.is_some_and(|g| ids.contains(&g)) {
            return Err(not_found().into());
        }
    }
    if !engine.store().requeue_outbox(id).await? {
        return Err(ApiError::new(StatusCode::CONFLICT, "conflict", "this message was already delivered"));
    }
    Ok(Json(json!({ "requeued": true })))
}

#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
}

/// `GET /api/v1/search?q=`
pub async fn search(State(engine): State<Engine>, caller: Caller, Query(q): Query<SearchQuery>) -> ApiResult<Json<Value>> {
    let words = q.q.unwrap_or_default();
    if words.trim().is_empty() {
        return Err(bad_request("q is required"));
    }
    if words.chars().count() > 200 {
        return Err(bad_request("q is limited to 200 characters"));
    }
    let hits = engine.store().search(&words, 50).await?;
    let groups = engine.store().groups().await?;
    let mut tasks = Vec::new();
    for t in hits.tasks {
        if caller.can_read(&engine, t.task.project_id).await? {
            tasks.push(t);
        }
    }
    let mut messages = Vec::new();
    for m in &hits.messages {
        let project = m.group_id.and_then(|g| groups.iter().find(|x| x.id == g)).and_then(|g| g.project_id);
        let ok = match project {
            Some(p) => caller.can_read(&engine, p).await?,
            None => caller.is_admin,
        };
        if ok {
            messages.push(message_json(m));
        }
    }
    let projects = engine.store().projects().await?;
    let mut decisions = Vec::new();
    for d in hits.decisions {
        let pid = d.project.as_ref().and_then(|n| projects.iter().find(|p| &p.name == n)).map(|p| p.id);
        let ok = match pid {
            Some(p) => caller.can_read(&engine, p).await?,
            None => caller.is_admin,
        };
        if ok {
            decisions.push(json!({ "id": d.id, "project": d.project, "member": d.member, "text": d.text, "at": rfc3339(d.at) }));
        }
    }
    Ok(Json(json!({ "tasks": tasks, "messages": messages, "decisions": decisions })))
}

#[derive(Debug, Deserialize)]
pub struct MessagesQuery {
    group_id: i64,
    limit: Option<i64>,
}

/// `GET /api/v1/messages?group_id=`
pub async fn list_messages(State(engine): State<Engine>, caller: Caller, Query(q): Query<MessagesQuery>) -> ApiResult<Json<Value>> {
    let group = readable_group(&engine, &caller, q.group_id).await?;
    let list: Vec<Value> = engine.store().group_messages(group.id, q.limit.unwrap_or(50)).await?.iter().map(message_json).collect();
    Ok(Json(json!({ "messages": list })))
}

async fn readable_group(engine: &Engine, caller: &Caller, id: i64) -> ApiResult<Group> {
    let group = engine
        .store()
        .groups()
        .await?
        .into_iter()
        .find(|g| g.id == id)
        .ok_or_else(|| StoreError::NotFound { kind: "group", name: id.to_string() })?;
    match group.project_id {
        Some(p) => caller.check_read(engine, p).await?,
        None if caller.is_admin || group.kind == GroupKind::Support => {}
        None => return Err(Caller::forbidden("this group is not bound to a project you can see")),
    }
    Ok(group)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostedMessage {
    /// Playground form: a group and a member by id.
    group_id: Option<i64>,
    member_id: Option<i64>,
    /// Script form (admins): a platform chat id and sender id.
    group: Option<String>,
    platform: Option<String>,
    sender: Option<String>,
    text: String,
    /// The platform's message id (bridge route only; else assigned).
    message_id: Option<String>,
    /// RFC 3339 (bridge route only; else now).
    sent_at: Option<String>,
}

/// `POST /api/v1/messages`: a chat message through the whole pipeline, as
/// if it came from the group (the playground, scripts). The server assigns
/// the message id and the send time: a member choosing them could pre-empt
/// a bridge's real message (then dropped as a duplicate) or back-date
/// metrics.
pub async fn post_message(State(engine): State<Engine>, caller: Caller, body: JsonBody<PostedMessage>) -> ApiResult<Json<Value>> {
    let m = body.0;
    if m.message_id.is_some() || m.sent_at.is_some() {
        return Err(invalid("message_id and sent_at are assigned by the server; a bridge passes them to POST /api/v1/bridge/messages (admin)"));
    }
    feed(&engine, &caller, m, Timestamp::now()).await
}

/// `POST /api/v1/bridge/messages` (admins): as `POST /api/v1/messages`, for
/// a bridge relaying a platform's messages with their own ids and send times.
pub async fn bridge_message(State(engine): State<Engine>, caller: Caller, body: JsonBody<PostedMessage>) -> ApiResult<Json<Value>> {
    if !caller.is_admin {
        return Err(Caller::forbidden("the bridge route is for workspace admins"));
    }
    let m = body.0;
    let sent_at = match &m.sent_at {
        Some(s) => crate::http::check_instant("sent_at", s.parse::<Timestamp>().map_err(|e| invalid(format!("sent_at: {e}")))?)?,
        None => Timestamp::now(),
    };
    if m.message_id.as_ref().is_some_and(|id| id.trim().is_empty() || id.len() > 256) {
        return Err(invalid("message_id must have 1 to 256 bytes"));
    }
    feed(&engine, &caller, m, sent_at).await
}

/// A posted message through the pipeline.
async fn feed(engine: &Engine, caller: &Caller, m: PostedMessage, sent_at: Timestamp) -> ApiResult<Json<Value>> {
    if m.text.trim().is_empty() {
        return Err(invalid("text is required"));
    }
    if m.text.len() > 16 * 1024 {
        return Err(invalid("text is limited to 16 KiB"));
    }
    let (platform, chat_id, chat_name, sender_id, sender_name) = match (m.group_id, &m.group) {
        (Some(gid), _) => {
            let group = readable_group(engine, caller, gid).await?;
            let member_id = match (m.member_id, &caller.member) {
                (Some(id), _) => id,
                (None, Some(me)) => me.id,
                (None, None) => return Err(invalid("member_id is required with the admin token")),
            };
            if !caller.is_admin && caller.member.as_ref().map(|me| me.id) != Some(member_id) {
                return Err(Caller::forbidden("only workspace admins may speak as someone else"));
            }
            let member = engine.store().member(member_id).await?;
            // Speak with the member's identity on the group's platform when
            // there is one, so the message is theirs exactly as from the app.
            let sender_id = member
                .identities
                .iter()
                .find(|(p, _)| *p == group.platform)
                .map(|(_, u)| u.clone())
                .unwrap_or_else(|| format!("member-{}", member.id));
            (group.platform, group.chat_id, Some(group.name), sender_id, member.display_name)
        }
        (None, Some(chat)) => {
            if !caller.is_admin {
                return Err(Caller::forbidden("posting by chat id and sender is for admin tokens; use group_id"));
            }
            let sender = m.sender.clone().filter(|s| !s.trim().is_empty()).ok_or_else(|| invalid("sender is required"))?;
            if chat.trim().is_empty() {
                return Err(invalid("group is required"));
            }
            (m.platform.clone().unwrap_or_else(|| "api".into()), chat.clone(), None, sender.clone(), sender)
        }
        (None, None) => return Err(invalid("group_id (or group) is required")),
    };
    let msg = InboundMessage {
        platform: platform.clone(),
        platform_msg_id: m.message_id.clone().unwrap_or_else(|| format!("api-{}-{}", sent_at.as_nanosecond(), rand::random::<u32>())),
        chat_id: chat_id.clone(),
        chat_name,
        sender_id: sender_id.clone(),
        sender_name,
        text: m.text.clone(),
        sent_at: sent_at.as_second(),
        raw: serde_json::to_string(&json!({ "group": chat_id, "sender": sender_id, "text": m.text, "via": "api" })).unwrap_or_default(),
    };
    let handled = engine.handle(msg).await?;
    Ok(Json(json!({
        "message_id": handled.message_id,
        "duplicate": handled.duplicate,
        "reply": handled.reply,
        "created": handled.created,
        "updated": handled.updated,
    })))
}
