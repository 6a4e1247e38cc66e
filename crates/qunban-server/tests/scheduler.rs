//! The scheduler on both backends, with a controllable clock: a simulated
//! fortnight across 国庆 2026 with its make-up workday, two instances racing
//! for the same occurrences, a crash between queueing and marking, overdue
//! escalation with real @-mention data, catch-up after downtime, splitting.

#[path = "../../qunban-store/tests/support/mod.rs"]
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use qunban_core::schedule::RuleKind;
use qunban_core::{GroupKind, Locale, Role};
use qunban_lang::Calendar;
use qunban_server::scheduler::{run_due, upcoming, SchedulerConfig};
use qunban_server::Engine;
use qunban_store::{InboundMessage, OutboxItem, Store};
use support::TestDb;

struct Team {
    engine: Engine,
    cal: Calendar,
    group_id: i64,
    seq: u32,
    token: String,
}

fn t(local: &str) -> Timestamp {
    format!("{local}+08:00").parse().unwrap()
}

fn cfg(instance: &str) -> SchedulerConfig {
    SchedulerConfig { instance: instance.into(), ..SchedulerConfig::default() }
}

impl Team {
    /// A project with a master group, an owner (李四), a lead (王五) and a
    /// PM (赵六), each with a mobile and a WeCom user id.
    async fn new(db: &TestDb) -> Team {
        let store = db.store.clone();
        let token = store.init_workspace("测试", "Asia/Shanghai", Locale::Zh).await.unwrap().unwrap();
        let p = store.create_project("官网改版", None).await.unwrap();
        let g = store.add_group("wecom", "wr-master", "官网改版总控群", GroupKind::Master, Some(p.id), None).await.unwrap();
        for (name, mobile, uid, role) in [
            ("李四", "13800000001", "lisi", Role::Executor),
            ("王五", "13800000002", "wangwu", Role::Lead),
            ("赵六", "13800000003", "zhaoliu", Role::Pm),
        ] {
            let m = store.add_member(name, Some(mobile), &[], &[("wecom".into(), uid.into())]).await.unwrap();
            store.set_role(p.id, m.id, role).await.unwrap();
        }
        Team { engine: Engine::new(store, Arc::new(Calendar::builtin())), cal: Calendar::builtin(), group_id: g.id, seq: 0, token }
    }

    fn store(&self) -> &Store {
        self.engine.store()
    }

    /// A chat message from `sender` (their WeCom id is their name's pinyin
    /// when known) at local time `at`.
    async fn say(&mut self, sender: &str, at: &str, text: &str) -> Option<String> {
        self.seq += 1;
        let uid = match sender {
            "李四" => "lisi".to_string(),
            "王五" => "wangwu".to_string(),
            "赵六" => "zhaoliu".to_string(),
            other => format!("uid-{other}"),
        };
        let m = InboundMessage {
            platform: "wecom".into(),
            platform_msg_id: format!("m{}", self.seq),
            chat_id: "wr-master".into(),
            chat_name: None,
            sender_id: uid,
            sender_name: sender.into(),
            text: text.into(),
            sent_at: t(at).as_second(),
            raw: "{}".into(),
        };
        self.engine.handle(m).await.unwrap().reply
    }

    async fn run(&self, at: &str) -> qunban_server::scheduler::RunReport {
        run_due(self.store(), &self.cal, t(at), None, &cfg("a")).await.unwrap()
    }
}

async fn reminders(store: &Store) -> Vec<OutboxItem> {
    let mut rows: Vec<OutboxItem> = store.outbox(None, 100_000).await.unwrap().into_iter().filter(|o| o.kind == "reminder").collect();
    rows.sort_by_key(|o| o.id);
    rows
}

fn occurrence(o: &OutboxItem) -> &str {
    o.payload["occurrence"].as_str().unwrap()
}

fn mention_summary(o: &OutboxItem) -> Vec<String> {
    o.payload["mentions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| format!("{}/{}/{}", m["display_name"].as_str().unwrap(), m["platform_user_id"].as_str().unwrap_or("-"), m["mobile"].as_str().unwrap_or("-")))
        .collect()
}

/// Two weeks around 国庆 2026, the clock stepping every 15 minutes: morning
/// and digest on workdays only (Saturday 10/10 is a make-up workday), weekly
/// reports on Wednesday 9/30 (the last workday before the holiday) and
/// Friday 10/9.
async fn fortnight_across_national_day(db: TestDb) {
    let mut team = Team::new(&db).await;
    team.say("王五", "2026-09-27T10:00:00", "@李四 10月9日下午6点前把上线方案写完").await.unwrap();
    let start = t("2026-09-28T00:00:00");
    let end = t("2026-10-12T00:00:00");
    let mut now = start;
    while now < end {
        run_due(team.store(), &team.cal, now, None, &cfg("a")).await.unwrap();
        now += SignedDuration::from_mins(15);
    }
    let rows = reminders(team.store()).await;
    let mut by_rule: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for o in &rows {
        let key = occurrence(o);
        let rule = key.split(':').next().unwrap().to_string();
        by_rule.entry(rule).or_default().push(key.rsplit(':').next().unwrap().to_string());
    }
    let workdays = ["2026-09-28", "2026-09-29", "2026-09-30", "2026-10-08", "2026-10-09", "2026-10-10"];
    assert_eq!(by_rule["morning"], workdays);
    assert_eq!(by_rule["digest"], workdays);
    assert_eq!(by_rule["weekly"], ["2026-W40", "2026-W41"]);
    // Deadline alerts for the task: 24 h and 2 h before, then the owner,
    // the lead (+24 h, Saturday's make-up workday) and the PM (+48 h).
    assert_eq!(by_rule["due_soon"], ["24h", "2h"]);
    assert_eq!(by_rule["overdue"], ["owner", "lead", "pm"]);
    // Each reminder queued once, at the right time.
    assert_eq!(rows.iter().map(|o| o.idempotency_key.as_str()).collect::<BTreeSet<_>>().len(), rows.len());
    let runs = team.store().schedule_runs(None, 1000).await.unwrap();
    let sent_at = |k: &str| runs.iter().find(|r| r.occurrence_key == k).map(|r| r.scheduled_at).unwrap();
    let g = team.group_id;
    assert_eq!(sent_at(&format!("morning:g{g}:2026-10-10")), t("2026-10-10T09:00:00").as_second());
    assert_eq!(sent_at(&format!("weekly:g{g}:2026-W40")), t("2026-09-30T17:00:00").as_second());
    assert!(runs.iter().all(|r| r.status == "sent"), "nothing was skipped while ticking: {runs:?}");
    // The words.
    let morning = rows.iter().find(|o| occurrence(o) == format!("morning:g{g}:2026-10-09")).unwrap();
    let text = morning.payload["text"].as_str().unwrap();
    assert!(text.starts_with("☀️ 早安！10月9日（周五）") && text.contains("【李四】\n#TASK-001 上线方案写完 · 18:00") && text.ends_with("📣 每人一句话：昨日进展+今日计划"), "{text}");
    let digest = rows.iter().find(|o| occurrence(o) == format!("digest:g{g}:2026-10-08")).unwrap();
    let text = digest.payload["text"].as_str().unwrap();
    assert!(text.contains("尚未提交今日站会：李四、王五、赵六"), "{text}");
    let overdue = rows.iter().find(|o| occurrence(o).starts_with("overdue:")).unwrap();
    assert_eq!(mention_summary(overdue), ["李四/lisi/13800000001"]);
}

/// Two instances on one database run the same instants at the same time:
/// every occurrence is queued exactly once.
async fn two_instances_race(db: TestDb) {
    let mut team = Team::new(&db).await;
    team.say("王五", "2026-01-12T08:00:00", "@李四 1月14日下午3点前把需求文档写完").await.unwrap();
    let a = Store::open(&db.url).await.unwrap();
    let b = Store::open(&db.url).await.unwrap();
    let cal = Arc::new(Calendar::builtin());
    let mut instants = Vec::new();
    let mut now = t("2026-01-12T08:30:00");
    while now < t("2026-01-17T00:00:00") {
        instants.push(now);
        now += SignedDuration::from_mins(30);
    }
    let race = |store: Store, name: &'static str| {
        let (cal, instants) = (cal.clone(), instants.clone());
        tokio::spawn(async move {
            let mut sent = 0;
            for at in instants {
                sent += run_due(&store, &cal, at, None, &cfg(name)).await.unwrap().sent().count();
            }
            sent
        })
    };
    let (ha, hb) = (race(a.clone(), "a"), race(b.clone(), "b"));
    let (ra, rb) = (ha.await.unwrap(), hb.await.unwrap());
    let rows = reminders(&a).await;
    let keys: Vec<&str> = rows.iter().map(occurrence).collect();
    let distinct: BTreeSet<&str> = keys.iter().copied().collect();
    assert_eq!(keys.len(), distinct.len(), "an occurrence was queued twice: {keys:?}");
    // 5 workdays × (morning, digest) + weekly + 24h + 2h + owner + lead + pm
    assert_eq!(distinct.len(), 16, "{distinct:?}");
    assert_eq!(ra + rb, 16, "each occurrence reported sent by exactly one instance");
    let runs = a.schedule_runs(None, 1000).await.unwrap();
    assert_eq!(runs.len(), runs.iter().map(|r| &r.occurrence_key).collect::<BTreeSet<_>>().len());
    a.close().await;
    b.close().await;
}

/// A crash before the commit leaves nothing behind; a crash after it leaves
/// the mark and the outbox rows together, so the restarted instance sends
/// nothing twice.
async fn crash_between_send_and_mark(db: TestDb) {
    let team = Team::new(&db).await;
    let at = "2026-01-15T09:00:00";
    // A crash inside the firing transaction: the mark and the outbox row
    // were written but never committed.
    {
        let store = Store::open(&db.url).await.unwrap();
        let mut tx = store.pool().begin().await.unwrap();
        let key = format!("morning:g{}:2026-01-15", team.group_id);
        sqlx::query("INSERT INTO schedule_runs (occurrence_key, rule, group_id, scheduled_at, status, outbox_rows, instance, recorded_at) VALUES ($1, 'morning', $2, $3, 'sent', 1, 'crashed', $3)")
            .bind(&key)
            .bind(team.group_id)
            .bind(t(at).as_second())
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query("INSERT INTO outbox (idempotency_key, group_id, kind, payload, status, attempts, next_attempt_at, created_at) VALUES ($1, $2, 'reminder', '{}', 'pending', 0, 0, 0)")
            .bind(format!("{key}#1"))
            .bind(team.group_id)
            .execute(&mut *tx)
            .await
            .unwrap();
        drop(tx); // the process dies: rolled back
        store.close().await;
    }
    assert!(reminders(team.store()).await.is_empty());
    // The next instance fires it.
    let first = Store::open(&db.url).await.unwrap();
    let r = run_due(&first, &team.cal, t(at), None, &cfg("first")).await.unwrap();
    assert_eq!(r.sent().count(), 1);
    let before = reminders(&first).await;
    assert_eq!(before.len(), 1);
    // It crashes right after the commit (before the delivery worker marks
    // the row sent); a restarted instance runs the same instant again.
    drop(first);
    let restarted = Store::open(&db.url).await.unwrap();
    let r = run_due(&restarted, &team.cal, t(at), None, &cfg("restarted")).await.unwrap();
    assert_eq!(r.sent().count(), 0);
    assert_eq!(r.already, 1);
    let r = run_due(&restarted, &team.cal, t("2026-01-15T09:00:30"), None, &cfg("restarted")).await.unwrap();
    assert_eq!(r.sent().count(), 0);
    assert_eq!(reminders(&restarted).await, before);
    restarted.close().await;
}

/// Overdue: the owner is @-mentioned at the deadline, the lead joins after
/// 24 h, the PM after 48 h — each step once, with the mobile and WeCom id
/// in the payload. A finished task escalates no further.
async fn overdue_escalation(db: TestDb) {
    let mut team = Team::new(&db).await;
    team.say("王五", "2026-01-14T10:30:00", "@李四 明天下午3点前把需求文档写完").await.unwrap();
    team.say("王五", "2026-01-14T10:31:00", "@李四 明天下午5点前把接口文档写完").await.unwrap();
    for at in [
        "2026-01-14T15:00:00",
        "2026-01-14T17:00:00",
        "2026-01-15T13:00:00",
        "2026-01-15T15:00:00",
        "2026-01-15T15:00:00",
        "2026-01-15T17:00:00",
        "2026-01-16T15:00:00",
    ] {
        team.run(at).await;
    }
    team.say("李四", "2026-01-16T16:00:00", "#2 已完成").await.unwrap();
    for at in ["2026-01-16T17:00:00", "2026-01-17T15:00:00", "2026-01-17T17:00:00", "2026-01-18T17:00:00"] {
        team.run(at).await;
    }
    let rows = reminders(team.store()).await;
    let task_alerts: Vec<(String, Vec<String>)> = rows
        .iter()
        .filter(|o| ["due_soon", "overdue"].contains(&o.payload["rule"].as_str().unwrap()))
        .map(|o| {
            let k = occurrence(o);
            let parts: Vec<&str> = k.split(':').collect();
            (format!("{}:{}:{}", parts[0], parts[1], parts[3]), mention_summary(o))
        })
        .collect();
    let lisi = "李四/lisi/13800000001".to_string();
    let wangwu = "王五/wangwu/13800000002".to_string();
    let zhaoliu = "赵六/zhaoliu/13800000003".to_string();
    let t1 = rows.iter().find_map(|o| occurrence(o).strip_prefix("overdue:t").map(|s| s.split(':').next().unwrap().to_string())).unwrap();
    let t2 = (t1.parse::<i64>().unwrap() + 1).to_string();
    assert_eq!(
        task_alerts,
        [
            (format!("due_soon:t{t1}:24h"), vec![lisi.clone()]),
            (format!("due_soon:t{t2}:24h"), vec![lisi.clone()]),
            (format!("due_soon:t{t1}:2h"), vec![lisi.clone()]),
            (format!("due_soon:t{t2}:2h"), vec![lisi.clone()]),
            (format!("overdue:t{t1}:owner"), vec![lisi.clone()]),
            (format!("overdue:t{t2}:owner"), vec![lisi.clone()]),
            (format!("overdue:t{t1}:lead"), vec![lisi.clone(), wangwu.clone()]),
            // task 2 was finished before its lead step
            (format!("overdue:t{t1}:pm"), vec![lisi.clone(), wangwu.clone(), zhaoliu.clone()]),
        ]
    );
    let pm = rows.iter().find(|o| occurrence(o).ends_with(":pm")).unwrap();
    let text = pm.payload["text"].as_str().unwrap();
    assert!(text.starts_with("🚨 逾期升级：#TASK-001 需求文档写完") && text.contains("已逾期 2 天") && text.contains("组长：王五") && text.contains("请项目经理 赵六协调处理"), "{text}");
    let lead = rows.iter().find(|o| occurrence(o).ends_with(":lead")).unwrap();
    assert!(lead.payload["text"].as_str().unwrap().contains("请组长 王五跟进"));
    assert_eq!(pm.group_id, Some(team.group_id));
    assert!(pm.idempotency_key.starts_with(occurrence(pm)) && pm.idempotency_key.ends_with("#1"));
}

/// Downtime: missed occurrences older than the catch-up window are recorded
/// as skipped, the latest fresh one is sent, nothing floods the group.
async fn catch_up_window(db: TestDb) {
    let team = Team::new(&db).await;
    let g = team.group_id;
    team.run("2026-01-12T08:00:00").await; // Monday, before the morning reminder
    let r = team.run("2026-01-14T10:00:00").await; // back on Wednesday 10:00
    let sent: Vec<&str> = r.sent().map(|f| f.key.as_str()).collect();
    assert_eq!(sent, [format!("morning:g{g}:2026-01-14")]);
    let skipped: Vec<(String, String)> = r.fired.iter().filter(|f| f.status != "sent").map(|f| (f.key.clone(), f.status.clone())).collect();
    assert_eq!(
        skipped,
        [
            (format!("morning:g{g}:2026-01-12"), "superseded".to_string()),
            (format!("digest:g{g}:2026-01-12"), "superseded".to_string()),
            (format!("morning:g{g}:2026-01-13"), "superseded".to_string()),
            (format!("digest:g{g}:2026-01-13"), "stale".to_string()),
        ]
    );
    // Down again from 15:00 to 18:30: the 16:00 digest is stale.
    team.run("2026-01-14T15:00:00").await;
    let r = team.run("2026-01-14T18:30:00").await;
    assert_eq!(r.sent().count(), 0);
    assert_eq!(r.fired.iter().map(|f| f.status.as_str()).collect::<Vec<_>>(), ["stale"]);
    // Within the window it is sent late, once.
    team.run("2026-01-15T15:00:00").await;
    let r = team.run("2026-01-15T17:30:00").await;
    assert_eq!(r.sent().map(|f| f.key.as_str()).collect::<Vec<_>>(), [format!("digest:g{g}:2026-01-15")]);
    assert_eq!(team.run("2026-01-15T17:31:00").await.fired.len(), 0);
    // A narrower window makes it stale.
    let narrow = SchedulerConfig { catch_up: SignedDuration::from_mins(30), ..cfg("a") };
    run_due(team.store(), &team.cal, t("2026-01-16T15:00:00"), None, &narrow).await.unwrap();
    let r = run_due(team.store(), &team.cal, t("2026-01-16T16:45:00"), None, &narrow).await.unwrap();
    assert_eq!(r.fired.iter().map(|f| f.status.as_str()).collect::<Vec<_>>(), ["stale"]);
    let reminders = reminders(team.store()).await;
    assert_eq!(reminders.len(), 2);
}

/// Rules can be switched off and moved per group; `--group` limits a run;
/// `upcoming` lists the next occurrences.
async fn rules_are_configurable(db: TestDb) {
    let team = Team::new(&db).await;
    let g = team.group_id;
    let store = team.store();
    store.set_schedule_rule(g, RuleKind::Morning, None, qunban_core::schedule::rules::parse_hhmm("09:30"), None).await.unwrap();
    store.set_schedule_rule(g, RuleKind::Digest, Some(false), None, None).await.unwrap();
    assert!(store.set_schedule_rule(g, RuleKind::Overdue, None, qunban_core::schedule::rules::parse_hhmm("10:00"), None).await.is_err());
    let rules = store.schedule_rules(g).await.unwrap();
    assert_eq!(rules.rule(RuleKind::Morning).describe(), "on 09:30");
    assert_eq!(rules.rule(RuleKind::Digest).describe(), "off 16:00");
    let next = upcoming(store, &team.cal, t("2026-01-15T09:10:00"), Some(g), 7).await.unwrap();
    let keys: Vec<(&str, Timestamp)> = next.iter().map(|o| (o.key.as_str(), o.at)).collect();
    assert_eq!(
        keys,
        [
            (format!("morning:g{g}:2026-01-15").as_str(), t("2026-01-15T09:30:00")),
            (format!("weekly:g{g}:2026-W03").as_str(), t("2026-01-16T17:00:00")),
        ]
    );
    let other = store.add_group("wecom", "wr-other", "别的群", GroupKind::Master, Some(store.projects().await.unwrap()[0].id), None).await.unwrap();
    let r = run_due(store, &team.cal, t("2026-01-15T09:30:00"), Some(g), &cfg("a")).await.unwrap();
    assert_eq!(r.sent().map(|f| f.key.clone()).collect::<Vec<_>>(), [format!("morning:g{g}:2026-01-15")]);
    let r = run_due(store, &team.cal, t("2026-01-15T09:30:00"), None, &cfg("a")).await.unwrap();
    // the other group's 09:00 reminder is half an hour old: within the window
    assert_eq!(r.sent().map(|f| f.key.clone()).collect::<Vec<_>>(), [format!("morning:g{}:2026-01-15", other.id)]);
}

/// A long reminder is split into chunks of at most 2048 bytes, each its own
/// outbox row, the mentions on the first.
async fn long_reminders_are_split(db: TestDb) {
    let mut team = Team::new(&db).await;
    for i in 1..=40 {
        team.say("王五", "2026-01-15T08:00:00", &format!("@李四 今天下午6点前完成第{i}项首页改版接口联调与回归测试工作")).await.unwrap();
    }
    let r = team.run("2026-01-15T09:00:00").await;
    let fired = r.sent().next().unwrap();
    assert!(fired.outbox_ids.len() >= 2, "{fired:?}");
    let rows = reminders(team.store()).await;
    assert_eq!(rows.len(), fired.outbox_ids.len());
    for (i, o) in rows.iter().enumerate() {
        let text = o.payload["text"].as_str().unwrap();
        assert!(text.len() <= 2048, "chunk {i} has {} bytes", text.len());
        assert_eq!(o.idempotency_key, format!("{}#{}", fired.key, i + 1));
    }
    let all: String = rows.iter().map(|o| o.payload["text"].as_str().unwrap()).collect::<Vec<_>>().join("\n");
    assert_eq!(all.matches("#TASK-").count(), 40);
}

/// The REST API reads and changes a group's rules and runs the scheduler.
async fn api_configures_and_runs(db: TestDb) {
    use tower::ServiceExt;
    let team = Team::new(&db).await;
    let app = qunban_server::http::router(team.engine.clone());
    let call = |method: &str, uri: &str, body: Option<serde_json::Value>, token: &str| {
        let mut req = axum::http::Request::builder().method(method).uri(uri).header("Authorization", format!("Bearer {token}"));
        if body.is_some() {
            req = req.header("Content-Type", "application/json");
        }
        let req = req.body(axum::body::Body::from(body.map(|b| b.to_string()).unwrap_or_default())).unwrap();
        let app = app.clone();
        async move {
            let resp = app.oneshot(req).await.unwrap();
            let status = resp.status().as_u16();
            let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
            (status, serde_json::from_slice::<serde_json::Value>(&bytes).unwrap_or(serde_json::Value::Null))
        }
    };
    let tok = team.token.clone();
    let (s, v) = call("PUT", "/api/v1/groups/wecom:wr-master/reminders/morning", Some(serde_json::json!({ "at": "08:45" })), &tok).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["rule"]["at"], "08:45:00");
    let (s, _) = call("PUT", "/api/v1/groups/wecom:wr-master/reminders/lunch", Some(serde_json::json!({ "enabled": false })), &tok).await;
    assert_eq!(s, 404);
    let (s, _) = call("PUT", "/api/v1/groups/wecom:wr-master/reminders/digest", Some(serde_json::json!({ "enabled": false })), "wrong").await;
    assert_eq!(s, 401);
    let (s, v) = call("GET", "/api/v1/groups/wecom:wr-master/reminders?after=2026-01-15T00:00:00%2B08:00&days=1", None, &tok).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["next"][0]["key"], format!("morning:g{}:2026-01-15", team.group_id));
    let (s, v) = call("POST", "/api/v1/reminders/run", Some(serde_json::json!({ "at": "2026-01-15T08:45:00+08:00" })), &tok).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["fired"][0]["status"], "sent");
    assert_eq!(reminders(team.store()).await.len(), 1);
}

/// End to end: the overdue alert goes out through the group's WeCom robot
/// with a real @ (`mentioned_list` / `mentioned_mobile_list`).
async fn overdue_alert_reaches_the_robot_with_real_mentions(db: TestDb) {
    use std::sync::Mutex;
    let mut team = Team::new(&db).await;
    let bodies: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let robot = {
        let bodies = bodies.clone();
        axum::Router::new().route(
            "/robot",
            axum::routing::post(move |axum::Json(body): axum::Json<serde_json::Value>| {
                let bodies = bodies.clone();
                async move {
                    bodies.lock().unwrap().push(body);
                    axum::Json(serde_json::json!({ "errcode": 0, "errmsg": "ok" }))
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, robot).await.unwrap() });
    team.store().set_group_robot(team.group_id, qunban_store::RobotKind::Wecom, &format!("http://{addr}/robot"), None).await.unwrap();
    team.say("王五", "2026-01-14T10:30:00", "@李四 明天下午3点前把需求文档写完").await.unwrap();
    // Only the scheduler's rows: drop the chat reply from the queue.
    for o in team.store().outbox(None, 100).await.unwrap().into_iter().filter(|o| o.kind != "reminder") {
        team.store().mark_sent(o.id).await.unwrap();
    }
    team.run("2026-01-15T15:00:00").await;
    let mut worker = qunban_server::delivery::Worker::new(team.store().clone(), Default::default()).unwrap();
    let pass = worker.run_once().await.unwrap();
    assert_eq!(pass.sent, 1, "{pass:?}");
    let bodies = bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    let text = &bodies[0]["text"];
    assert!(text["content"].as_str().unwrap().starts_with("⚠️ 逾期提醒：#TASK-001"), "{text}");
    let mentioned = format!("{}{}", text["mentioned_list"], text["mentioned_mobile_list"]);
    assert!(mentioned.contains("lisi"), "{bodies:?}");
}

on_both_backends! {
    fortnight => super::fortnight_across_national_day;
    race => super::two_instances_race;
    crash => super::crash_between_send_and_mark;
    escalation => super::overdue_escalation;
    catch_up => super::catch_up_window;
    configurable => super::rules_are_configurable;
    splitting => super::long_reminders_are_split;
    api => super::api_configures_and_runs;
    robot => super::overdue_alert_reaches_the_robot_with_real_mentions;
}
