//! `GET /api/v1/tasks` pages through a large list on both backends: every
//! task exactly once across pages (no duplicates, no gaps), in list order,
//! with its owners; filters and the caller's read scope applied in SQL so
//! every page but the last is full; bad paging input is a 400.

#[path = "../../qunban-store/tests/support/mod.rs"]
mod support;

use std::collections::BTreeSet;

use jiff::Timestamp;
use qunban_core::{Command, Decision, Locale, NewTask, Role, TaskPatch, TaskStatus};
use qunban_store::{MessageContext, Store, TaskFilter};
use serde_json::Value;

struct Fixture {
    base: String,
    admin: String,
    /// PM of project A only.
    zhang: String,
    a: i64,
    b: i64,
    _db: support::TestDb,
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// Projects A (23 tasks, 张三 is PM), B (7 tasks, only 李四 has a role) and
/// C (5 tasks, nobody has a role: open to every member). Owners alternate
/// between 王五 and 赵六 (every fifth task has both); a third of A's tasks
/// are past due, and some of those are done.
async fn fixture(db: support::TestDb) -> Fixture {
    let store: &Store = &db.store;
    let admin = store.init_workspace("测试", "Asia/Shanghai", Locale::Zh).await.unwrap().expect("admin token");
    let zhang = store.add_member("张三", None, &[], &[]).await.unwrap();
    let li = store.add_member("李四", None, &[], &[]).await.unwrap();
    let mut ids = Vec::new();
    for (name, n) in [("A", 23), ("B", 7), ("C", 5)] {
        let p = store.create_project(name, None).await.unwrap();
        ids.push(p.id);
        let ctx = MessageContext { message_id: None, source: "test".into(), group: None, actor: zhang.clone(), now: at("2026-01-14T02:30:00Z"), emit_outbox: false };
        let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
        for i in 0..n {
            let owners = match i % 5 {
                0 => vec!["王五".to_string(), "赵六".to_string()],
                k if k % 2 == 1 => vec!["王五".to_string()],
                _ => vec!["赵六".to_string()],
            };
            let due = if i % 3 == 0 { at("2026-01-15T07:00:00Z") } else { at("2030-01-15T07:00:00Z") };
            let new = NewTask { project_id: p.id, title: format!("{name} 任务 {i}"), owner_names: owners, due: Some(due), ..Default::default() };
            let d = Decision { commands: vec![Command::CreateTask(new)], ..Default::default() };
            store.apply(&ctx, d, &tz, Locale::Zh).await.unwrap();
        }
        let list = store.tasks(&TaskFilter { project_id: Some(p.id), ..Default::default() }).await.unwrap();
        for v in list.iter().filter(|v| v.task.title.ends_with(" 0") || v.task.title.ends_with(" 6")) {
            let patch = TaskPatch { status: Some(TaskStatus::Done), ..Default::default() };
            let cmd = Command::UpdateTask { task_id: v.task.id, reference: v.task.reference.clone(), patch, owner_names: None };
            store.apply(&ctx, Decision { commands: vec![cmd], ..Default::default() }, &tz, Locale::Zh).await.unwrap();
        }
    }
    store.set_role(ids[0], zhang.id, Role::Pm).await.unwrap();
    store.set_role(ids[1], li.id, Role::Lead).await.unwrap();
    let (_, zhang_token) = store.create_member_token(zhang.id, "test").await.unwrap();
    let engine = qunban_server::Engine::new(store.clone(), std::sync::Arc::new(qunban_lang::Calendar::builtin()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, qunban_server::http::router(engine)).await });
    Fixture { base, admin, zhang: zhang_token, a: ids[0], b: ids[1], _db: db }
}

async fn get(f: &Fixture, token: &str, query: &str) -> (u16, Value) {
    let res = reqwest::Client::new().get(format!("{}/api/v1/tasks?{query}", f.base)).bearer_auth(token).send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

/// Follows `next_cursor` from the first page; returns the tasks in order
/// and the size of each page.
async fn all_pages(f: &Fixture, token: &str, query: &str) -> (Vec<Value>, Vec<usize>) {
    let (mut tasks, mut sizes) = (Vec::new(), Vec::new());
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let q = match &cursor {
            Some(c) => format!("{query}&cursor={c}"),
            None => query.to_string(),
        };
        let (status, page) = get(f, token, &q).await;
        assert_eq!(status, 200, "{q}: {page}");
        let items = page["tasks"].as_array().unwrap().clone();
        sizes.push(items.len());
        tasks.extend(items);
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => {
                assert!(page["next_cursor"].is_null());
                return (tasks, sizes);
            }
        }
    }
    panic!("more than 100 pages for {query}");
}

/// The same list unpaged (admin's view), as (id, reference, owners) rows.
fn rows(tasks: &[Value]) -> Vec<(i64, String, Vec<String>)> {
    tasks
        .iter()
        .map(|t| {
            let owners = t["owner_names"].as_array().unwrap().iter().map(|o| o.as_str().unwrap().to_string()).collect();
            (t["id"].as_i64().unwrap(), t["reference"].as_str().unwrap().to_string(), owners)
        })
        .collect()
}

fn expected(list: Vec<qunban_store::TaskView>) -> Vec<(i64, String, Vec<String>)> {
    list.into_iter().map(|v| (v.task.id, v.task.reference, v.owner_names)).collect()
}

fn assert_full_pages(sizes: &[usize], limit: usize, total: usize) {
    let (last, full) = sizes.split_last().unwrap();
    assert!(full.iter().all(|&n| n == limit), "pages {sizes:?}");
    assert_eq!(full.len() * limit + last, total, "pages {sizes:?}");
    assert!(*last <= limit && (*last > 0 || total == 0), "pages {sizes:?}");
}

async fn pages(db: support::TestDb) {
    let f = fixture(db).await;
    let store = f._db.store.clone();

    // Everything, 4 at a time: each task once, in order, owners included.
    let (tasks, sizes) = all_pages(&f, &f.admin, "limit=4").await;
    let all = expected(store.tasks(&TaskFilter::default()).await.unwrap());
    assert_eq!(all.len(), 35);
    assert_eq!(rows(&tasks), all);
    assert_full_pages(&sizes, 4, 35);
    let ids: BTreeSet<i64> = tasks.iter().map(|t| t["id"].as_i64().unwrap()).collect();
    assert_eq!(ids.len(), 35, "duplicates across pages");
    assert!(all.iter().any(|(_, _, o)| o.len() == 2), "multi-owner tasks keep both owners");

    // The default page holds them all; the last page has no cursor.
    let (status, page) = get(&f, &f.admin, "").await;
    assert_eq!(status, 200);
    assert_eq!(page["tasks"].as_array().unwrap().len(), 35);
    assert!(page["next_cursor"].is_null());

    // Filters run before paging: project A, owner 王五, 3 per page.
    let (tasks, sizes) = all_pages(&f, &f.admin, &format!("project_id={}&owner=王五&limit=3", f.a)).await;
    let wang = store.member_by_name("王五").await.unwrap();
    let want = expected(store.tasks(&TaskFilter { project_id: Some(f.a), owner_id: Some(wang.id), ..Default::default() }).await.unwrap());
    assert!(want.len() > 6 && want.len() < 23, "{}", want.len());
    assert_eq!(rows(&tasks), want);
    assert_full_pages(&sizes, 3, want.len());

    // Overdue (open, past due) and status, across projects.
    let (tasks, sizes) = all_pages(&f, &f.admin, "overdue=true&limit=2").await;
    let want = expected(store.tasks(&TaskFilter { overdue_at: Some(Timestamp::now()), ..Default::default() }).await.unwrap());
    assert!(!want.is_empty());
    assert!(tasks.iter().all(|t| t["status"] != "done"));
    assert_eq!(rows(&tasks), want);
    assert_full_pages(&sizes, 2, want.len());
    let (tasks, _) = all_pages(&f, &f.admin, "status=done&limit=1").await;
    assert_eq!(tasks.len(), 5, "tasks 0 and 6 of A and B, task 0 of C are done");

    // 张三 reads A (his role) and C (nobody's), never B: scoped in SQL, so
    // the pages stay full.
    let (tasks, sizes) = all_pages(&f, &f.zhang, "limit=5").await;
    assert_eq!(tasks.len(), 28);
    assert!(tasks.iter().all(|t| t["project_id"].as_i64() != Some(f.b)));
    assert_full_pages(&sizes, 5, 28);
    let (status, body) = get(&f, &f.zhang, &format!("project_id={}", f.b)).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")));

    // Bad paging input: a clear 400, nothing listed.
    for q in ["limit=0", "limit=501", "limit=x", "cursor=abc", "cursor=t1.1", "cursor=t1.x.2"] {
        let (status, body) = get(&f, &f.admin, q).await;
        assert_eq!(status, 400, "{q}: {body}");
        assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{q}: {body}");
    }
    let (status, page) = get(&f, &f.admin, "limit=500").await;
    assert_eq!((status, page["tasks"].as_array().unwrap().len()), (200, 35));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_list_pages_on_sqlite() {
    pages(support::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_list_pages_on_postgres() {
    let Some(db) = support::postgres().await else { return };
    pages(db).await;
}
