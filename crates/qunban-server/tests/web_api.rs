//! The dashboard's REST API over a real socket, on a fresh database per test:
//! sign-in, roles, bad input, and every JSON answer checked against the
//! OpenAPI document the server publishes.

#[path = "../../qunban-store/tests/support/mod.rs"]
mod support;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use qunban_lang::Calendar;
use qunban_server::Engine;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

struct App {
    base: String,
    spec: Value,
    /// (method, path template, status) seen and validated.
    seen: Arc<Mutex<BTreeSet<(String, String, u16)>>>,
    _db: support::TestDb,
}

/// A client with its own cookie jar: one browser, one signed-in person.
struct Browser<'a> {
    app: &'a App,
    client: reqwest::Client,
    bearer: Option<String>,
}

async fn spawn() -> App {
    spawn_on(support::sqlite().await).await
}

/// The same API on a fresh PostgreSQL database, or `None` when no server
/// is configured (a failure under `QUNBAN_REQUIRE_POSTGRES=1`).
async fn spawn_on_postgres() -> Option<App> {
    Some(spawn_on(support::postgres().await?).await)
}

async fn spawn_on(db: support::TestDb) -> App {
    let engine = Engine::new(db.store.clone(), Arc::new(Calendar::builtin()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    // The real server loop; sign-ins are not rate-limited here (the tests
    // sign in often; tests/hostile.rs covers the limits).
    let limits = qunban_server::limits::HttpLimits { sign_in_per_minute: 0, ..Default::default() };
    tokio::spawn(qunban_server::http::serve_with(engine, listener, limits, std::future::pending()));
    let spec: Value = reqwest::get(format!("{base}/api/openapi.json")).await.unwrap().json().await.unwrap();
    App { base, spec, seen: Default::default(), _db: db }
}

/// The spec's path template matching a concrete path (`/api/v1/tasks/3` →
/// `/api/v1/tasks/{id}`).
fn template_of(spec: &Value, path: &str) -> String {
    let path = path.split('?').next().unwrap();
    let segs: Vec<&str> = path.split('/').collect();
    spec["paths"]
        .as_object()
        .unwrap()
        .keys()
        .find(|t| {
            let ts: Vec<&str> = t.split('/').collect();
            ts.len() == segs.len() && ts.iter().zip(&segs).all(|(a, b)| a == b || (a.starts_with('{') && a.ends_with('}')))
        })
        .unwrap_or_else(|| panic!("{path} is not in the OpenAPI document"))
        .clone()
}

/// Validates a JSON body against the schema the spec documents for this
/// method, path and status; an undocumented status fails the test.
fn validate(app: &App, method: &Method, path: &str, status: StatusCode, body: &Value) {
    let template = template_of(&app.spec, path);
    let m = method.as_str().to_lowercase();
    let pointer = |s: &str| s.replace('~', "~0").replace('/', "~1");
    let resp = format!("/paths/{}/{m}/responses/{}", pointer(&template), status.as_u16());
    assert!(app.spec.pointer(&resp).is_some(), "{m} {template} answered {status}, which the OpenAPI document does not list: {body}");
    app.seen.lock().unwrap().insert((m.clone(), template.clone(), status.as_u16()));
    let schema_ptr = format!("{resp}/content/application~1json/schema");
    if app.spec.pointer(&schema_ptr).is_none() {
        return;
    }
    let mut root = app.spec.clone();
    root["$ref"] = json!(format!("#{}", schema_ptr.replace('{', "%7B").replace('}', "%7D")));
    let validator = jsonschema::validator_for(&root).expect("the OpenAPI schemas compile");
    let errors: Vec<String> = validator.iter_errors(body).map(|e| format!("{e} at {}", e.instance_path)).collect();
    assert!(errors.is_empty(), "{m} {path} → {status}: body does not match the OpenAPI document:\n{}\n{body:#}", errors.join("\n"));
}

impl App {
    fn browser(&self) -> Browser<'_> {
        Browser { app: self, client: reqwest::Client::builder().cookie_store(true).build().unwrap(), bearer: None }
    }

    fn script(&self, token: &str) -> Browser<'_> {
        Browser { app: self, client: reqwest::Client::new(), bearer: Some(token.to_string()) }
    }
}

impl Browser<'_> {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self.client.request(method.clone(), format!("{}{path}", self.app.base));
        if let Some(t) = &self.bearer {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        let v: Value = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or_else(|_| panic!("{path}: not JSON: {text}")) };
        if status != StatusCode::NO_CONTENT {
            if !status.is_success() {
                assert!(v["error"]["code"].is_string() && v["error"]["message"].is_string(), "{path}: error body {v}");
            }
            validate(self.app, &method, path, status, &v);
        } else {
            validate(self.app, &method, path, status, &Value::Null);
        }
        (status, v)
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, path, Some(body)).await
    }

    async fn sign_in(&self, login: &str, password: &str) {
        let (s, v) = self.post("/api/v1/session", json!({ "login": login, "password": password })).await;
        assert_eq!(s, 200, "{v}");
    }
}

/// Loads the demo anonymously and returns (login → password).
async fn load_demo(app: &App) -> (Browser<'_>, Vec<(String, String, String)>) {
    let b = app.browser();
    let (s, v) = b.call(Method::POST, "/api/v1/demo", None).await;
    assert_eq!(s, 201, "{v}");
    let accounts = v["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["login"].as_str().unwrap().to_string(), a["password"].as_str().unwrap().to_string(), a["role"].as_str().unwrap().to_string()))
        .collect();
    (b, accounts)
}

fn password_of<'a>(accounts: &'a [(String, String, String)], login: &str) -> &'a str {
    &accounts.iter().find(|a| a.0 == login).unwrap().1
}

async fn task_id(b: &Browser<'_>, reference: &str) -> i64 {
    let (_, v) = b.get("/api/v1/tasks").await;
    v["tasks"].as_array().unwrap().iter().find(|t| t["reference"] == reference).unwrap_or_else(|| panic!("no {reference}"))["id"].as_i64().unwrap()
}

async fn tasks_with_milestone(b: &Browser<'_>, project: i64) -> usize {
    let (_, v) = b.get(&format!("/api/v1/tasks?project_id={project}")).await;
    v["tasks"].as_array().unwrap().iter().filter(|t| t["milestone_id"].is_i64()).count()
}

#[tokio::test]
async fn first_visit_creates_the_admin_account_once() {
    let app = spawn().await;
    let b = app.browser();
    let (_, v) = b.get("/api/v1/setup").await;
    assert_eq!(v, json!({ "has_accounts": false, "has_projects": false, "demo_available": true }));
    assert_eq!(b.get("/api/v1/me").await.0, 401);

    let (s, v) = b.post("/api/v1/setup", json!({ "login": "admin", "password": "short", "name": "王强" })).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid")));
    let (s, v) = b.post("/api/v1/setup", json!({ "login": "admin", "password": "correct horse", "name": "王强" })).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["member"]["is_admin"], true);
    let (s, me) = b.get("/api/v1/me").await;
    assert_eq!((s, me["name"].as_str()), (StatusCode::OK, Some("王强")));

    // A second visitor cannot become admin too.
    let other = app.browser();
    let (s, _) = other.post("/api/v1/setup", json!({ "login": "mallory", "password": "correct horse", "name": "M" })).await;
    assert_eq!(s, 409);
    assert_eq!(other.get("/api/v1/setup").await.1["has_accounts"], true);

    // Sign out ends the session; signing in again works, a wrong password does not.
    assert_eq!(b.call(Method::DELETE, "/api/v1/session", None).await.0, 204);
    assert_eq!(b.get("/api/v1/me").await.0, 401);
    let (s, _) = b.post("/api/v1/session", json!({ "login": "admin", "password": "wrong horse" })).await;
    assert_eq!(s, 401);
    let (s, _) = b.post("/api/v1/session", json!({ "login": "nobody", "password": "wrong horse" })).await;
    assert_eq!(s, 401);
    b.sign_in("admin", "correct horse").await;
    assert_eq!(b.get("/api/v1/me").await.0, 200);
}

#[tokio::test]
async fn malformed_requests_get_json_errors() {
    let app = spawn().await;
    let b = app.browser();
    // Not JSON at all, and JSON without the content type (a cross-site form).
    let r = b.client.post(format!("{}/api/v1/session", app.base)).header("content-type", "application/json").body("{login").send().await.unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    validate(&app, &Method::POST, "/api/v1/session", StatusCode::BAD_REQUEST, &v);
    let r = b.client.post(format!("{}/api/v1/session", app.base)).body(r#"{"login":"a","password":"b"}"#).send().await.unwrap();
    assert_eq!(r.status(), 415);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "unsupported_media_type");
    // An unknown endpoint is a JSON 404.
    let r = b.client.get(format!("{}/api/v1/nope", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "not_found");
}

#[tokio::test]
async fn the_demo_is_a_realistic_project() {
    demo_is_a_realistic_project(spawn().await).await;
}

#[tokio::test]
async fn the_demo_is_a_realistic_project_on_postgres() {
    let Some(app) = spawn_on_postgres().await else { return };
    demo_is_a_realistic_project(app).await;
}

async fn demo_is_a_realistic_project(app: App) {
    let (pm, accounts) = load_demo(&app).await;
    assert_eq!(accounts.len(), 6);
    // The anonymous loader is signed in as the demo PM, an admin.
    let (_, me) = pm.get("/api/v1/me").await;
    assert_eq!(me["login"], "wangqiang");
    assert_eq!(me["is_admin"], true);

    let (_, v) = pm.get("/api/v1/projects").await;
    let project = &v["projects"][0];
    assert_eq!(project["name"], "门店小程序2.0");
    assert_eq!(project["total"], 12, "{v}");
    assert!(project["overdue"].as_i64().unwrap() >= 1, "the demo has late work: {v}");
    assert_ne!(project["health"], "good");
    let id = project["id"].as_i64().unwrap();

    let (_, detail) = pm.get(&format!("/api/v1/projects/{id}")).await;
    let kinds: BTreeSet<&str> = detail["groups"].as_array().unwrap().iter().map(|g| g["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, BTreeSet::from(["master", "subtask", "support"]));
    assert_eq!(detail["members"].as_array().unwrap().len(), 6);
    assert_eq!(detail["milestones"].as_array().unwrap().len(), 2);
    let in_milestones = tasks_with_milestone(&pm, id).await;
    assert!(in_milestones >= 5, "the demo's burn-down has tasks: {in_milestones}");

    // Three weeks of history: done, late, moved, blocked.
    let (_, tasks) = pm.get(&format!("/api/v1/tasks?project_id={id}")).await;
    let status_of = |r: &str| tasks["tasks"].as_array().unwrap().iter().find(|t| t["reference"] == r).unwrap()["status"].clone();
    assert_eq!(status_of("TASK-001"), "done");
    assert_eq!(status_of("TASK-007"), "blocked");
    assert_eq!(status_of("TASK-008"), "done");

    let (s, m) = pm.get(&format!("/api/v1/projects/{id}/metrics")).await;
    assert_eq!(s, 200);
    assert!(m["done"].as_i64().unwrap() >= 5, "{m}");
    let (_, w) = pm.get(&format!("/api/v1/projects/{id}/workload")).await;
    let zhang = w["members"].as_array().unwrap().iter().find(|m| m["name"] == "张伟").unwrap();
    assert!(zhang["open"].as_i64().unwrap() >= 2, "{w}");

    let r = pm.client.get(format!("{}/api/v1/projects/{id}/gantt.svg", app.base)).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "image/svg+xml; charset=utf-8");
    assert!(r.text().await.unwrap().contains("支付接口对接"));

    // Only once, and only on an empty database.
    let (s, _) = pm.call(Method::POST, "/api/v1/demo", None).await;
    assert_eq!(s, 409);
    let (s, _) = app.browser().call(Method::POST, "/api/v1/demo", None).await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn roles_decide_who_changes_which_task() {
    let app = spawn().await;
    let (pm, accounts) = load_demo(&app).await;
    let zhang = app.browser();
    zhang.sign_in("zhangwei", password_of(&accounts, "zhangwei")).await;
    let viewer = app.browser();
    viewer.sign_in("zhaomin", password_of(&accounts, "zhaomin")).await;
    let lead = app.browser();
    lead.sign_in("lina", password_of(&accounts, "lina")).await;

    let own = task_id(&zhang, "TASK-005").await; // 张伟's 订单列表页
    let others = task_id(&zhang, "TASK-004").await; // 刘洋's 支付接口对接

    // The executor moves their own card: the change is announced in the master group.
    let (s, v) = zhang.patch(&format!("/api/v1/tasks/{own}"), json!({ "status": "review" })).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["task"]["status"], "review");
    assert!(v["reply"].as_str().unwrap().contains("TASK-005"), "{v}");

    // …but not someone else's, and the task stays as it was.
    let (s, v) = zhang.patch(&format!("/api/v1/tasks/{others}"), json!({ "status": "done" })).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("TASK-004") && v["error"]["message"].as_str().unwrap().chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "the bot's refusal, in Chinese by default: {v}");
    let r = zhang.client.patch(format!("{}/api/v1/tasks/{others}", app.base)).header("accept-language", "en-US,en;q=0.9").json(&json!({ "status": "done" })).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let v: Value = r.json().await.unwrap();
    assert!(v["error"]["message"].as_str().unwrap().is_ascii() || v["error"]["message"].as_str().unwrap().contains("not"), "English on request: {v}");
    assert_eq!(pm.get(&format!("/api/v1/tasks/{others}")).await.1["task"]["status"], "in_progress");

    // A viewer reads but never writes.
    assert_eq!(viewer.get(&format!("/api/v1/tasks/{others}")).await.0, 200);
    assert_eq!(viewer.patch(&format!("/api/v1/tasks/{others}"), json!({ "progress": 90 })).await.0, 403);

    // The lead changes any task of the project.
    let (s, v) = lead.patch(&format!("/api/v1/tasks/{others}"), json!({ "progress": 90, "due": "2030-01-10" })).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["task"]["progress"], 90);
    assert_eq!(v["task"]["due"], "2030-01-10T10:00:00Z");

    // The outbox is for managers; it holds the announcements.
    assert_eq!(zhang.get("/api/v1/outbox").await.0, 403);
    let (_, out) = lead.get("/api/v1/outbox?status=pending").await;
    let texts: Vec<&str> = out["items"].as_array().unwrap().iter().filter_map(|i| i["text"].as_str()).collect();
    assert!(texts.iter().any(|t| t.contains("TASK-005")), "{out}");
    assert!(out["items"].as_array().unwrap().iter().all(|i| i["group"] == "门店小程序2.0·总控群"), "{out}");
    // Reminder rules: everyone reads, the executor cannot change, the lead can.
    let gid = lead.get("/api/v1/groups").await.1["groups"].as_array().unwrap().iter().find(|g| g["kind"] == "master").unwrap()["id"].as_i64().unwrap();
    assert_eq!(zhang.get(&format!("/api/v1/groups/{gid}/reminders")).await.0, 200);
    assert_eq!(zhang.call(Method::PUT, &format!("/api/v1/groups/{gid}/reminders/digest"), Some(json!({ "enabled": false }))).await.0, 403);
    let (s, v) = lead.call(Method::PUT, &format!("/api/v1/groups/{gid}/reminders/digest"), Some(json!({ "enabled": false }))).await;
    assert_eq!((s.as_u16(), &v["rule"]["enabled"]), (200, &json!(false)), "{v}");
    assert_eq!(lead.call(Method::PUT, &format!("/api/v1/groups/{gid}/reminders/digest"), Some(json!({ "at": "25:99" }))).await.0, 422);
    assert_eq!(lead.post("/api/v1/reminders/run", json!({})).await.0, 403);
    // Connector set-up is for admins only.
    assert_eq!(lead.get("/api/v1/connectors").await.0, 403);
    assert_eq!(pm.get("/api/v1/connectors").await.0, 200);

    // History says it came from the web, by whom.
    let (_, d) = pm.get(&format!("/api/v1/tasks/{others}")).await;
    let last = d["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["source"].as_str(), last["actor"].as_str()), (Some("web"), Some("李娜")), "{d}");
}

#[tokio::test]
async fn bad_task_changes_are_refused_without_touching_the_task() {
    let app = spawn().await;
    let (pm, _) = load_demo(&app).await;
    let id = task_id(&pm, "TASK-006").await;
    let before = pm.get(&format!("/api/v1/tasks/{id}")).await.1;
    for (body, status) in [
        (json!({ "progress": 120 }), 422),
        (json!({ "status": "flying" }), 422),
        (json!({ "due": "next blue moon" }), 422),
        (json!({ "colour": "red" }), 400),
        (json!({ "progress": "half" }), 400),
    ] {
        let (s, v) = pm.patch(&format!("/api/v1/tasks/{id}"), body.clone()).await;
        assert_eq!(s.as_u16(), status, "{body} → {v}");
    }
    assert_eq!(pm.patch("/api/v1/tasks/99999", json!({ "progress": 10 })).await.0, 404);
    assert_eq!(pm.get(&format!("/api/v1/tasks/{id}")).await.1, before);
    assert_eq!(pm.get("/api/v1/outbox?status=bogus").await.0, 400);
    assert_eq!(pm.get("/api/v1/search?q=").await.0, 400);
    assert_eq!(pm.get("/api/v1/projects/424242").await.0, 404);
}

#[tokio::test]
async fn task_history_links_the_chat_messages() {
    let app = spawn().await;
    let (pm, _) = load_demo(&app).await;
    let id = task_id(&pm, "TASK-002").await;
    let (_, d) = pm.get(&format!("/api/v1/tasks/{id}")).await;
    assert!(d["created_by_message"]["text"].as_str().unwrap().contains("首页UI设计稿"), "{d}");
    let texts: Vec<&str> = d["history"].as_array().unwrap().iter().filter_map(|h| h["message"]["text"].as_str()).collect();
    assert!(texts.contains(&"#TASK-002 已完成"), "{texts:?}");
    assert!(d["history"].as_array().unwrap().iter().all(|h| h["message"]["sender"].is_null() || h["message"]["group"] == "门店小程序2.0·总控群"));
}

#[tokio::test]
async fn the_playground_speaks_as_the_signed_in_member() {
    let app = spawn().await;
    let (pm, accounts) = load_demo(&app).await;
    let zhang = app.browser();
    zhang.sign_in("zhangwei", password_of(&accounts, "zhangwei")).await;
    let (_, groups) = zhang.get("/api/v1/groups").await;
    let master = groups["groups"].as_array().unwrap().iter().find(|g| g["kind"] == "master").unwrap();
    assert_eq!(master["rules"].as_array().unwrap().len(), 6);
    let gid = master["id"].as_i64().unwrap();
    let (_, members) = zhang.get("/api/v1/members").await;
    let id_of = |n: &str| members["members"].as_array().unwrap().iter().find(|m| m["name"] == n).unwrap()["id"].as_i64().unwrap();

    let (s, v) = zhang.post("/api/v1/messages", json!({ "group_id": gid, "member_id": id_of("张伟"), "text": "@张伟 明天下午3点前把验收清单整理好" })).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["created"].as_array().unwrap().len(), 1, "{v}");
    assert!(v["reply"].as_str().unwrap().contains("验收清单"));
    // An executor does not hand work to others: the bot says so, nothing is created.
    let (_, v) = zhang.post("/api/v1/messages", json!({ "group_id": gid, "text": "@陈静 明天下午3点前把验收报告整理好" })).await;
    assert!(v["created"].as_array().unwrap().is_empty(), "{v}");
    assert!(v["reply"].as_str().unwrap().contains("项目经理或组长"), "{v}");
    // Nobody but an admin speaks for someone else.
    let (s, _) = zhang.post("/api/v1/messages", json!({ "group_id": gid, "member_id": id_of("王强"), "text": "#TASK-004 已完成" })).await;
    assert_eq!(s, 403);
    let (s, _) = pm.post("/api/v1/messages", json!({ "group_id": gid, "member_id": id_of("刘洋"), "text": "#TASK-004 进度90%" })).await;
    assert_eq!(s, 200);
    // An ambiguous message gets a question, not invented data.
    let (_, v) = zhang.post("/api/v1/messages", json!({ "group_id": gid, "text": "明天把验收报告写完" })).await;
    assert!(v["created"].as_array().unwrap().is_empty(), "{v}");
    assert!(v["reply"].as_str().is_some_and(|r| !r.is_empty()), "{v}");

    let (_, t) = zhang.get(&format!("/api/v1/messages?group_id={gid}&limit=5")).await;
    let last = t["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["text"], "明天把验收报告写完");
    assert!(last["reply"].is_string(), "{t}");
    let (s, v) = zhang.post("/api/v1/messages", json!({ "group_id": gid, "text": "  " })).await;
    assert_eq!(s, 422, "{v}");
}

#[tokio::test]
async fn search_finds_tasks_messages_and_decisions() {
    let app = spawn().await;
    let (pm, _) = load_demo(&app).await;
    let (s, v) = pm.get("/api/v1/search?q=%E6%94%AF%E4%BB%98").await; // 支付
    assert_eq!(s, 200);
    assert!(v["tasks"].as_array().unwrap().iter().any(|t| t["title"] == "支付接口对接"), "{v}");
    assert!(!v["messages"].as_array().unwrap().is_empty());
    assert!(v["decisions"].as_array().unwrap().iter().any(|d| d["text"].as_str().unwrap().contains("微信支付")), "{v}");
    // Wildcards are literal.
    let (_, v) = pm.get("/api/v1/search?q=%25").await;
    assert!(v["tasks"].as_array().unwrap().is_empty(), "{v}");
}

#[tokio::test]
async fn api_tokens_act_as_their_member_until_revoked() {
    let app = spawn().await;
    let (_, accounts) = load_demo(&app).await;
    let zhang = app.browser();
    zhang.sign_in("zhangwei", password_of(&accounts, "zhangwei")).await;
    let (s, t) = zhang.post("/api/v1/tokens", json!({ "name": "ci script" })).await;
    assert_eq!(s, 201);
    let token = t["token"].as_str().unwrap().to_string();
    let script = app.script(&token);
    let (_, me) = script.get("/api/v1/me").await;
    assert_eq!(me["name"], "张伟");
    // The token carries the member's rights, no more.
    let others = task_id(&script, "TASK-004").await;
    assert_eq!(script.patch(&format!("/api/v1/tasks/{others}"), json!({ "status": "done" })).await.0, 403);
    let (_, list) = zhang.get("/api/v1/tokens").await;
    assert_eq!(list["tokens"][0]["name"], "ci script");
    assert!(list["tokens"][0].get("token").is_none(), "secrets are shown once");
    let tid = t["id"].as_i64().unwrap();
    assert_eq!(zhang.call(Method::DELETE, &format!("/api/v1/tokens/{tid}"), None).await.0, 204);
    assert_eq!(script.get("/api/v1/me").await.0, 401);
    assert_eq!(zhang.call(Method::DELETE, &format!("/api/v1/tokens/{tid}"), None).await.0, 404);
}

#[tokio::test]
async fn managers_test_send_and_requeue() {
    let app = spawn().await;
    let (pm, accounts) = load_demo(&app).await;
    let (_, groups) = pm.get("/api/v1/groups").await;
    let gid = groups["groups"].as_array().unwrap().iter().find(|g| g["kind"] == "master").unwrap()["id"].as_i64().unwrap();
    // No robot configured yet: a clear error rather than a silent no-op.
    let (s, v) = pm.post(&format!("/api/v1/groups/{gid}/test-send"), json!({})).await;
    assert_eq!(s, 422, "{v}");
    let zhang = app.browser();
    zhang.sign_in("zhangwei", password_of(&accounts, "zhangwei")).await;
    assert_eq!(zhang.post(&format!("/api/v1/groups/{gid}/test-send"), json!({})).await.0, 403);
    app._db.store.set_group_robot(gid, qunban_store::RobotKind::Wecom, "http://127.0.0.1:9/cgi-bin/webhook/send?key=k", None).await.unwrap();
    let (s, v) = pm.post(&format!("/api/v1/groups/{gid}/test-send"), json!({})).await;
    assert_eq!(s, 202, "{v}");
    let (_, out) = pm.get("/api/v1/outbox").await;
    assert!(out["items"][0]["text"].as_str().unwrap().contains("测试消息"), "{out}");
    // A waiting or dead message can be retried now; a delivered one cannot.
    let oid = v["outbox_id"].as_i64().unwrap();
    assert_eq!(pm.post(&format!("/api/v1/outbox/{oid}/requeue"), json!({})).await.0, 200);
    app._db.store.mark_sent(oid).await.unwrap();
    assert_eq!(pm.post(&format!("/api/v1/outbox/{oid}/requeue"), json!({})).await.0, 409);
    assert_eq!(pm.post("/api/v1/outbox/999999/requeue", json!({})).await.0, 404);
}

/// Every documented operation was exercised and matched its schema.
#[tokio::test]
async fn the_openapi_document_covers_the_api() {
    openapi_document_covers_the_api(spawn().await).await;
}

/// Every operation again on PostgreSQL, each answer checked against the
/// same document.
#[tokio::test]
async fn the_openapi_document_covers_the_api_on_postgres() {
    let Some(app) = spawn_on_postgres().await else { return };
    openapi_document_covers_the_api(app).await;
}

async fn openapi_document_covers_the_api(app: App) {
    // The first account, then the demo loaded by that admin.
    let admin = app.browser();
    admin.get("/api/v1/setup").await;
    admin.post("/api/v1/setup", json!({ "login": "root", "password": "12345678", "name": "管理员" })).await;
    let (s, demo) = admin.call(Method::POST, "/api/v1/demo", None).await;
    assert_eq!(s, 201, "{demo}");
    let accounts: Vec<(String, String, String)> = demo["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["login"].as_str().unwrap().into(), a["password"].as_str().unwrap().into(), a["role"].as_str().unwrap().into()))
        .collect();
    let pm = app.browser();
    pm.sign_in("wangqiang", password_of(&accounts, "wangqiang")).await;
    assert_eq!(pm.get("/api/v1/me").await.1["is_admin"], false, "only the first account is an admin");
    let (_, p) = pm.get("/api/v1/projects").await;
    let pid = p["projects"][0]["id"].as_i64().unwrap();
    let tid = task_id(&pm, "TASK-006").await;
    pm.get("/api/v1/me").await;
    pm.get(&format!("/api/v1/projects/{pid}")).await;
    pm.get(&format!("/api/v1/projects/{pid}/metrics?from=2020-01-01")).await;
    pm.get(&format!("/api/v1/projects/{pid}/workload")).await;
    let r = pm.client.get(format!("{}/api/v1/projects/{pid}/gantt.svg", app.base)).send().await.unwrap();
    validate(&app, &Method::GET, &format!("/api/v1/projects/{pid}/gantt.svg"), r.status(), &Value::Null);
    pm.get("/api/v1/members").await;
    pm.get("/api/v1/tasks?overdue=true").await;
    pm.get(&format!("/api/v1/tasks/{tid}")).await;
    pm.patch(&format!("/api/v1/tasks/{tid}"), json!({ "status": "in_progress", "progress": 30 })).await;
    let (_, g) = pm.get("/api/v1/groups").await;
    let gid = g["groups"][0]["id"].as_i64().unwrap();
    app._db.store.set_group_robot(gid, qunban_store::RobotKind::Wecom, "http://127.0.0.1:9/cgi-bin/webhook/send?key=k", None).await.unwrap();
    let (_, sent) = pm.post(&format!("/api/v1/groups/{gid}/test-send"), json!({})).await;
    let oid = sent["outbox_id"].as_i64().unwrap();
    admin.get("/api/v1/connectors").await;
    app._db.store.mark_failed(oid, "HTTP 500 from the robot", None).await.unwrap();
    let (_, dead) = pm.get("/api/v1/outbox?status=dead").await;
    assert_eq!(dead["items"][0]["id"], oid);
    let (s, _) = pm.post(&format!("/api/v1/outbox/{oid}/requeue"), json!({})).await;
    assert_eq!(s, 200);
    pm.get("/api/v1/search?q=TASK").await;
    pm.get(&format!("/api/v1/messages?group_id={gid}")).await;
    let (_, r) = pm.get(&format!("/api/v1/groups/{gid}/reminders")).await;
    assert_eq!(r["rules"].as_array().unwrap().len(), 6);
    let (s, r) = pm.call(Method::PUT, &format!("/api/v1/groups/{gid}/reminders/morning"), Some(json!({ "at": "09:45" }))).await;
    assert_eq!((s.as_u16(), r["rule"]["at"].as_str()), (200, Some("09:45:00")), "{r}");
    let (s, _) = admin.post("/api/v1/reminders/run", json!({ "at": "2030-01-01T01:00:00Z" })).await;
    assert_eq!(s, 200);
    pm.post("/api/v1/messages", json!({ "group_id": gid, "text": "#TASK-006 进度40%" })).await;
    let (s, v) = admin
        .post("/api/v1/bridge/messages", json!({ "group_id": gid, "text": "#TASK-006 进度45%", "message_id": "bridge-1", "sent_at": "2030-01-01T01:00:00Z" }))
        .await;
    assert_eq!(s, 200, "{v}");
    let (_, t) = pm.post("/api/v1/tokens", json!({ "name": "t" })).await;
    pm.get("/api/v1/tokens").await;
    pm.call(Method::DELETE, &format!("/api/v1/tokens/{}", t["id"]), None).await;
    pm.post("/api/v1/calendar-token", json!({})).await;
    pm.get("/api/v1/calendar-token").await;
    pm.call(Method::DELETE, "/api/v1/calendar-token", None).await;
    let other = app.browser();
    other.post("/api/v1/session", json!({ "login": "lina", "password": password_of(&accounts, "lina") })).await;
    other.post("/api/v1/setup", json!({ "login": "x", "password": "12345678", "name": "x" })).await;
    other.call(Method::DELETE, "/api/v1/session", None).await;

    let seen = app.seen.lock().unwrap().clone();
    let mut missing = Vec::new();
    for (path, ops) in app.spec["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let ok = op["responses"].as_object().unwrap().keys().find(|s| s.starts_with('2')).unwrap();
            if !seen.contains(&(method.clone(), path.clone(), ok.parse().unwrap())) {
                missing.push(format!("{method} {path} {ok}"));
            }
        }
    }
    assert!(missing.is_empty(), "operations never answered with success in the tests: {missing:?}");
}

#[tokio::test]
async fn dashboard_assets_are_embedded() {
    let app = spawn().await;
    let client = reqwest::Client::new();
    let r = client.get(format!("{}/", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(r.headers().contains_key("content-security-policy"));
    let html = r.text().await.unwrap();
    assert!(html.contains("app.js") && !html.contains("http://") && !html.contains("https://"), "no external assets: {html}");
    for (path, kind) in [("/app.js", "text/javascript"), ("/app.css", "text/css"), ("/api/openapi.json", "application/json")] {
        let r = client.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with(kind), "{path}");
    }
}

/// Every operation that is not public answers 401 without credentials, and
/// 401 with a forged token or session, before looking at anything else.
#[tokio::test]
async fn every_private_endpoint_needs_credentials() {
    let app = spawn().await;
    let (_pm, _) = load_demo(&app).await;
    let anonymous = app.browser();
    let forged = app.script("qb_forged");
    let stale = reqwest::Client::new();
    let mut checked = 0;
    for (path, ops) in app.spec["paths"].as_object().unwrap().clone() {
        for (method, op) in ops.as_object().unwrap() {
            if op.get("security").is_some_and(|s| s.as_array().is_some_and(|a| a.is_empty())) {
                continue;
            }
            let concrete = path.replace("{id}", "1").replace("{group}", "1").replace("{rule}", "morning");
            let m: Method = method.to_uppercase().parse().unwrap();
            let body = (m != Method::GET && m != Method::DELETE).then(|| json!({}));
            for client in [&anonymous, &forged] {
                let (s, v) = client.call(m.clone(), &concrete, body.clone()).await;
                assert_eq!(s, 401, "{method} {path} without valid credentials: {v}");
            }
            let r = stale.request(m.clone(), format!("{}{concrete}", app.base)).header("cookie", "qunban_session=qs_ended").send().await.unwrap();
            assert_eq!(r.status(), 401, "{method} {path} with a stale session");
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} operations checked");
}

/// A project where a member has no role stays invisible to them everywhere:
/// lists, tasks, reports, calendar feeds.
#[tokio::test]
async fn projects_without_a_role_stay_private() {
    let app = spawn().await;
    let (_pm, accounts) = load_demo(&app).await;
    let store = &app._db.store;
    let secret = store.create_project("保密项目", None).await.unwrap();
    let wang = store.member_by_name("王强").await.unwrap();
    store.set_role(secret.id, wang.id, qunban_core::Role::Pm).await.unwrap();
    let zhang = app.browser();
    zhang.sign_in("zhangwei", password_of(&accounts, "zhangwei")).await;
    let (_, t) = zhang.post("/api/v1/tokens", json!({ "name": "calendar" })).await;
    let api_token = t["token"].as_str().unwrap().to_string();
    let (_, t) = zhang.post("/api/v1/calendar-token", json!({})).await;
    let token = t["token"].as_str().unwrap().to_string();

    let (_, v) = zhang.get("/api/v1/projects").await;
    assert!(v["projects"].as_array().unwrap().iter().all(|p| p["name"] != "保密项目"), "{v}");
    assert_eq!(zhang.get(&format!("/api/v1/projects/{}", secret.id)).await.0, 403);
    assert_eq!(zhang.get(&format!("/api/v1/tasks?project_id={}", secret.id)).await.0, 403);
    let get = |url: String| {
        let client = zhang.client.clone();
        async move { client.get(url).send().await.unwrap().status().as_u16() }
    };
    let base = &app.base;
    assert_eq!(get(format!("{base}/api/v1/reports/metrics?project=%E4%BF%9D%E5%AF%86%E9%A1%B9%E7%9B%AE")).await, 403);
    assert_eq!(get(format!("{base}/api/v1/reports/daily?project=%E9%97%A8%E5%BA%97%E5%B0%8F%E7%A8%8B%E5%BA%8F2.0")).await, 200);
    // Calendar feeds carry the token in the URL: a read-only calendar
    // token, never an API token; the same rules apply.
    assert_eq!(get(format!("{base}/api/v1/calendar/member/%E5%BC%A0%E4%BC%9F.ics?token={api_token}")).await, 403);
    assert_eq!(get(format!("{base}/api/v1/calendar/project/%E4%BF%9D%E5%AF%86%E9%A1%B9%E7%9B%AE.ics?token={token}")).await, 403);
    assert_eq!(get(format!("{base}/api/v1/calendar/member/%E5%BC%A0%E4%BC%9F.ics?token={token}")).await, 200);
    assert_eq!(get(format!("{base}/api/v1/calendar/member/%E6%9D%8E%E5%A8%9C.ics?token={token}")).await, 403);
}

/// Guessing passwords is slowed down: five failures lock the login, even the
/// right password is refused while it is locked, other logins are unaffected.
#[tokio::test]
async fn repeated_wrong_passwords_lock_the_login() {
    let app = spawn().await;
    let (_pm, accounts) = load_demo(&app).await;
    let b = app.browser();
    for _ in 0..5 {
        let (s, _) = b.post("/api/v1/session", json!({ "login": "liuyang", "password": "guess-guess" })).await;
        assert_eq!(s, 401);
    }
    let r = b.client.post(format!("{}/api/v1/session", app.base)).json(&json!({ "login": "liuyang", "password": password_of(&accounts, "liuyang") })).send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    let v: Value = r.json().await.unwrap();
    validate(&app, &Method::POST, "/api/v1/session", StatusCode::TOO_MANY_REQUESTS, &v);
    assert_eq!(v["error"]["code"], "too_many_attempts");
    b.sign_in("chenjing", password_of(&accounts, "chenjing")).await;
}

/// The outbox and its requeue are per project: a lead of project B sees
/// none of project A's rows and cannot requeue them; A's PM can.
#[tokio::test]
async fn the_outbox_is_visible_per_project() {
    let app = spawn().await;
    let (pm, accounts) = load_demo(&app).await;
    let store = &app._db.store;
    let (_, groups) = pm.get("/api/v1/groups").await;
    let a_group = groups["groups"].as_array().unwrap().iter().find(|g| g["kind"] == "master").unwrap()["id"].as_i64().unwrap();
    let a_row = store.enqueue("test:a", Some(a_group), "reply", &json!({ "text": "项目A的消息" })).await.unwrap().unwrap();
    store.mark_failed(a_row, "HTTP 500 from the robot", None).await.unwrap();
    // Project B, led by 赵敏 (a viewer in the demo project), with its own group and row.
    let b = store.create_project("项目B", None).await.unwrap();
    let zhao = store.member_by_name("赵敏").await.unwrap();
    store.set_role(b.id, zhao.id, qunban_core::Role::Lead).await.unwrap();
    let b_group = store.add_group("wecom", "chat-b", "项目B群", qunban_core::GroupKind::Master, Some(b.id), None).await.unwrap();
    let b_row = store.enqueue("test:b", Some(b_group.id), "reply", &json!({ "text": "项目B的消息" })).await.unwrap().unwrap();
    let lead_b = app.browser();
    lead_b.sign_in("zhaomin", password_of(&accounts, "zhaomin")).await;

    let (s, v) = lead_b.get("/api/v1/outbox").await;
    assert_eq!(s, 200);
    let ids: Vec<i64> = v["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [b_row], "the lead of B sees B's rows only: {v}");
    let (_, v) = lead_b.get("/api/v1/outbox?status=dead").await;
    assert!(v["items"].as_array().unwrap().is_empty(), "{v}");
    let (s, v) = lead_b.post(&format!("/api/v1/outbox/{a_row}/requeue"), json!({})).await;
    assert_eq!(s, 404, "{v}");
    assert_eq!(store.outbox_item(a_row).await.unwrap().unwrap().status, qunban_store::OutboxStatus::Dead, "A's row untouched");
    assert_eq!(lead_b.post(&format!("/api/v1/outbox/{b_row}/requeue"), json!({})).await.0, 200);
    // A's lead sees A's row (not B's) and requeues it.
    let lead_a = app.browser();
    lead_a.sign_in("lina", password_of(&accounts, "lina")).await;
    let (_, v) = lead_a.get("/api/v1/outbox").await;
    let ids: Vec<i64> = v["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect();
    assert!(ids.contains(&a_row) && !ids.contains(&b_row), "{v}");
    assert_eq!(lead_a.post(&format!("/api/v1/outbox/{b_row}/requeue"), json!({})).await.0, 404);
    assert_eq!(lead_a.post(&format!("/api/v1/outbox/{a_row}/requeue"), json!({})).await.0, 200);
    // The workspace admin (the demo's first account) sees both.
    assert_eq!(pm.get("/api/v1/me").await.1["is_admin"], true);
    let (_, v) = pm.get("/api/v1/outbox").await;
    let ids: Vec<i64> = v["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect();
    assert!(ids.contains(&a_row) && ids.contains(&b_row), "{v}");
    // Test sends follow the same rule.
    store.set_group_robot(a_group, qunban_store::RobotKind::Wecom, "http://127.0.0.1:9/cgi-bin/webhook/send?key=k", None).await.unwrap();
    assert_eq!(lead_b.post(&format!("/api/v1/groups/{a_group}/test-send"), json!({})).await.0, 403);
    assert_eq!(lead_b.get("/api/v1/connectors").await.0, 403);
    assert_eq!(lead_b.call(Method::PUT, &format!("/api/v1/groups/{a_group}/reminders/morning"), Some(json!({ "at": "09:45" }))).await.0, 403);
}

/// The playground cannot choose message ids or send times (a member could
/// pre-empt a bridge's real message or back-date metrics); the admin bridge
/// route can, within 2000..2100. Far-away deadlines and report dates are
/// refused too.
#[tokio::test]
async fn message_ids_times_and_instants_are_the_servers() {
    let app = spawn().await;
    let (pm, accounts) = load_demo(&app).await;
    let zhang = app.browser();
    zhang.sign_in("zhangwei", password_of(&accounts, "zhangwei")).await;
    let (_, groups) = zhang.get("/api/v1/groups").await;
    let gid = groups["groups"].as_array().unwrap().iter().find(|g| g["kind"] == "master").unwrap()["id"].as_i64().unwrap();
    for extra in [json!({ "message_id": "wx-real-1" }), json!({ "sent_at": "2020-01-01T00:00:00Z" })] {
        let mut body = json!({ "group_id": gid, "text": "#TASK-005 进度50%" });
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let (s, v) = zhang.post("/api/v1/messages", body).await;
        assert_eq!(s, 422, "{v}");
    }
    let (s, v) = zhang.post("/api/v1/bridge/messages", json!({ "group_id": gid, "text": "#TASK-005 进度50%", "message_id": "wx-real-1" })).await;
    assert_eq!(s, 403, "{v}");
    // The server's own id and time.
    let before = jiff::Timestamp::now();
    let (s, v) = zhang.post("/api/v1/messages", json!({ "group_id": gid, "text": "#TASK-005 进度50%" })).await;
    assert_eq!(s, 200, "{v}");
    let (_, list) = zhang.get(&format!("/api/v1/messages?group_id={gid}&limit=1")).await;
    let sent: jiff::Timestamp = list["messages"][0]["sent_at"].as_str().unwrap().parse().unwrap();
    assert!(sent >= before - jiff::SignedDuration::from_secs(1), "{list}");

    // Deadlines, report windows and reminder instants stay within 2000..2100.
    let tid = task_id(&zhang, "TASK-005").await;
    let (s, v) = zhang.patch(&format!("/api/v1/tasks/{tid}"), json!({ "due": "9999-12-31" })).await;
    assert_eq!(s, 422, "{v}");
    let (s, v) = zhang.patch(&format!("/api/v1/tasks/{tid}"), json!({ "due": "1970-01-01T00:00:00Z" })).await;
    assert_eq!(s, 422, "{v}");
    let (_, t) = zhang.get(&format!("/api/v1/tasks/{tid}")).await;
    assert_ne!(t["task"]["due"], "9999-12-31T10:00:00Z");
    let (_, p) = pm.get("/api/v1/projects").await;
    let pid = p["projects"][0]["id"].as_i64().unwrap();
    assert_eq!(pm.get(&format!("/api/v1/projects/{pid}/metrics?from=1000-01-01&to=2026-01-01")).await.0, 422);
    assert_eq!(pm.get(&format!("/api/v1/groups/{gid}/reminders?after=9999-01-01T00:00:00Z")).await.0, 422);
}

/// A cross-site form cannot change anything with the session cookie: form
/// bodies are refused (415), and so is a body-less POST from another origin
/// (403); the dashboard's own requests pass.
#[tokio::test]
async fn cross_site_requests_are_refused() {
    let app = spawn().await;
    let (pm, _) = load_demo(&app).await;
    let store = &app._db.store;
    let (_, groups) = pm.get("/api/v1/groups").await;
    let gid = groups["groups"].as_array().unwrap().iter().find(|g| g["kind"] == "master").unwrap()["id"].as_i64().unwrap();
    let row = store.enqueue("test:csrf", Some(gid), "reply", &json!({ "text": "x" })).await.unwrap().unwrap();
    store.mark_failed(row, "HTTP 500", None).await.unwrap();
    let url = format!("{}/api/v1/outbox/{row}/requeue", app.base);
    let evil = "http://evil.example";
    // A form post from another site: url-encoded, then text/plain.
    for ct in ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x"] {
        let r = pm.client.post(&url).header("content-type", ct).header("origin", evil).body("a=b").send().await.unwrap();
        assert_eq!(r.status(), 415, "{ct}");
        let v: Value = r.json().await.unwrap();
        validate(&app, &Method::POST, &format!("/api/v1/outbox/{row}/requeue"), StatusCode::UNSUPPORTED_MEDIA_TYPE, &v);
    }
    // The same even when the form claims to come from here: form bodies are not JSON.
    let r = pm.client.post(&url).header("content-type", "application/x-www-form-urlencoded").body("").send().await.unwrap();
    assert_eq!(r.status(), 415);
    // A body-less POST from another origin.
    let r = pm.client.post(&url).header("origin", evil).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "cross_origin");
    validate(&app, &Method::POST, &format!("/api/v1/outbox/{row}/requeue"), StatusCode::FORBIDDEN, &v);
    let r = pm.client.delete(format!("{}/api/v1/session", app.base)).header("origin", "null").send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(store.outbox_item(row).await.unwrap().unwrap().status, qunban_store::OutboxStatus::Dead, "nothing was requeued");
    assert_eq!(pm.get("/api/v1/me").await.0, 200, "still signed in");
    // The dashboard's own request (same origin, JSON or no body) passes.
    let origin = app.base.clone();
    let r = pm.client.post(&url).header("origin", &origin).send().await.unwrap();
    assert_eq!(r.status(), 200);
}
