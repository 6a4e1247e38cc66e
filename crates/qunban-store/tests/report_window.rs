//! `Store::report_window` (history loaded for the window only, the rest
//! counted in SQL) gives exactly the reports and metrics of the full load
//! (`Store::report_dataset`), on both backends.
//!
//! The fixture is the benchmark generator at a small size — a year of tasks
//! with reopen cycles, reassignments, moved deadlines, cancellations and
//! milestones — plus sub-tasks, a task created done, a task whose deadline
//! was cleared, and a task reopened and reassigned inside the windows.

mod support;

use jiff::tz::TimeZone;
use qunban_report::{add_days, compute_metrics, daily_report, weekly_report, Ctx, Dataset};
use qunban_store::{bench_fill, StandupDays, Store, BENCH_NOW};
use support::TestDb;

fn iso(t: i64) -> String {
    jiff::Timestamp::from_second(t).unwrap().to_string()
}

async fn history(store: &Store, task: i64, at: i64, field: &str, old: Option<&str>, new: Option<&str>) {
    sqlx::query("INSERT INTO task_history (task_id, at, actor_member_id, source, message_id, field, old_value, new_value) VALUES ($1, $2, NULL, 'test', NULL, $3, $4, $5)")
        .bind(task)
        .bind(at)
        .bind(field)
        .bind(old)
        .bind(new)
        .execute(store.pool())
        .await
        .unwrap();
}

async fn task_id(store: &Store, project: i64, seq: i64) -> i64 {
    sqlx::query_scalar("SELECT id FROM tasks WHERE project_id = $1 AND seq = $2").bind(project).bind(seq).fetch_one(store.pool()).await.unwrap()
}

/// The generated project, with a few stories the generator does not write.
async fn fixture(store: &Store) -> i64 {
    store.init_workspace("测试", "Asia/Shanghai", qunban_core::Locale::Zh).await.unwrap();
    let project = bench_fill(store, "窗口", 1_500, 15_000, |_, _| {}).await.unwrap();
    let pool = store.pool();
    let day = 86_400;
    // Sub-tasks: tasks 2..=12 under task 1 (open or closed, old or recent).
    let parent = task_id(store, project, 1).await;
    sqlx::query("UPDATE tasks SET parent_task_id = $1 WHERE project_id = $2 AND seq BETWEEN 2 AND 12").bind(parent).bind(project).execute(pool).await.unwrap();
    // A task created done long ago, never changed, in a milestone.
    let t = task_id(store, project, 20).await;
    let ms: i64 = sqlx::query_scalar("SELECT MIN(id) FROM milestones WHERE project_id = $1").bind(project).fetch_one(pool).await.unwrap();
    sqlx::query("DELETE FROM task_history WHERE task_id = $1").bind(t).execute(pool).await.unwrap();
    sqlx::query("UPDATE tasks SET status = 'done', done_at = created_at, updated_at = created_at, milestone_id = $2 WHERE id = $1")
        .bind(t)
        .bind(ms)
        .execute(pool)
        .await
        .unwrap();
    // A task finished long ago, whose deadline was cleared on the way.
    let t = task_id(store, project, 21).await;
    let created = BENCH_NOW - 200 * day;
    sqlx::query("DELETE FROM task_history WHERE task_id = $1").bind(t).execute(pool).await.unwrap();
    sqlx::query("UPDATE tasks SET status = 'done', due_at = NULL, created_at = $2, updated_at = $3, done_at = $3, milestone_id = $4 WHERE id = $1")
        .bind(t)
        .bind(created)
        .bind(created + 3 * day)
        .bind(ms)
        .execute(pool)
        .await
        .unwrap();
    history(store, t, created + day, "due", Some(&iso(created + 2 * day)), None).await;
    history(store, t, created + 3 * day, "status", Some("todo"), Some("done")).await;
    // A task done months ago, reopened 3 days ago, reassigned and re-planned, done again yesterday.
    let t = task_id(store, project, 22).await;
    let created = BENCH_NOW - 100 * day;
    let owner: i64 = sqlx::query_scalar("SELECT member_id FROM task_owners WHERE task_id = $1").bind(t).fetch_one(pool).await.unwrap();
    let other: i64 = sqlx::query_scalar("SELECT MAX(id) FROM members").fetch_one(pool).await.unwrap();
    sqlx::query("DELETE FROM task_history WHERE task_id = $1").bind(t).execute(pool).await.unwrap();
    sqlx::query("UPDATE tasks SET status = 'done', due_at = $2, created_at = $3, updated_at = $4, done_at = $4, milestone_id = $5 WHERE id = $1")
        .bind(t)
        .bind(BENCH_NOW - 2 * day)
        .bind(created)
        .bind(BENCH_NOW - day)
        .bind(ms)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("UPDATE task_owners SET member_id = $2 WHERE task_id = $1").bind(t).bind(other).execute(pool).await.unwrap();
    history(store, t, created + 2 * day, "status", Some("todo"), Some("done")).await;
    history(store, t, BENCH_NOW - 3 * day, "status", Some("done"), Some("in_progress")).await;
    history(store, t, BENCH_NOW - 3 * day + 60, "owners", Some(&owner.to_string()), Some(&other.to_string())).await;
    history(store, t, BENCH_NOW - 3 * day + 120, "due", Some(&iso(created + 5 * day)), Some(&iso(BENCH_NOW - 2 * day))).await;
    history(store, t, BENCH_NOW - day, "status", Some("in_progress"), Some("done")).await;
    // An open task outside milestones (its rows since a window start are
    // only counted by a metrics-only load): reopened, reassigned twice, its
    // deadline set, moved later, moved earlier and set to a value that is no
    // instant, inside the windows.
    let t = task_id(store, project, 23).await;
    sqlx::query("DELETE FROM task_history WHERE task_id = $1").bind(t).execute(pool).await.unwrap();
    sqlx::query("UPDATE tasks SET status = 'in_progress', due_at = $2, created_at = $3, updated_at = $4, done_at = NULL, milestone_id = NULL WHERE id = $1")
        .bind(t)
        .bind(BENCH_NOW + 3 * day)
        .bind(BENCH_NOW - 50 * day)
        .bind(BENCH_NOW - day + 180)
        .execute(pool)
        .await
        .unwrap();
    let next: i64 = sqlx::query_scalar("SELECT MIN(id) FROM members").fetch_one(pool).await.unwrap();
    history(store, t, BENCH_NOW - 40 * day, "status", Some("todo"), Some("done")).await;
    history(store, t, BENCH_NOW - 2 * day, "status", Some("done"), Some("in_progress")).await;
    history(store, t, BENCH_NOW - 2 * day + 60, "owners", Some(&owner.to_string()), Some(&other.to_string())).await;
    history(store, t, BENCH_NOW - day, "owners", Some(&other.to_string()), Some(&next.to_string())).await;
    history(store, t, BENCH_NOW - 3 * day, "due", None, Some(&iso(BENCH_NOW + day))).await;
    history(store, t, BENCH_NOW - 2 * day + 120, "due", Some(&iso(BENCH_NOW + day)), Some(&iso(BENCH_NOW + 5 * day))).await;
    history(store, t, BENCH_NOW - day + 120, "due", Some(&iso(BENCH_NOW + 5 * day)), Some(&iso(BENCH_NOW + 2 * day))).await;
    history(store, t, BENCH_NOW - day + 150, "due", Some(&iso(BENCH_NOW + 2 * day)), Some("next week")).await;
    history(store, t, BENCH_NOW - day + 180, "due", Some("next week"), Some(&iso(BENCH_NOW + 3 * day))).await;
    // Open tasks unchanged for months, with two owners (a metrics-only load
    // only counts them): one blocked, overdue and in a milestone, one in
    // review due this week, outside milestones.
    for (seq, status, due, milestone) in [(24, "blocked", BENCH_NOW - 30 * day, Some(ms)), (25, "review", BENCH_NOW + day, None)] {
        let t = task_id(store, project, seq).await;
        sqlx::query("DELETE FROM task_history WHERE task_id = $1").bind(t).execute(pool).await.unwrap();
        sqlx::query("UPDATE tasks SET status = $2, due_at = $3, created_at = $4, updated_at = $5, done_at = NULL, milestone_id = $6 WHERE id = $1")
            .bind(t)
            .bind(status)
            .bind(due)
            .bind(BENCH_NOW - 90 * day)
            .bind(BENCH_NOW - 80 * day)
            .bind(milestone)
            .execute(pool)
            .await
            .unwrap();
        history(store, t, BENCH_NOW - 80 * day, "status", Some("todo"), Some(status)).await;
        sqlx::query("DELETE FROM task_owners WHERE task_id = $1").bind(t).execute(pool).await.unwrap();
        for (position, member) in [owner, other].into_iter().enumerate() {
            sqlx::query("INSERT INTO task_owners (task_id, member_id, position) VALUES ($1, $2, $3)")
                .bind(t)
                .bind(member)
                .bind(position as i64)
                .execute(pool)
                .await
                .unwrap();
        }
    }
    project
}

async fn window(store: &Store, project: i64, since: i64, tz: &TimeZone) -> Dataset {
    store.report_window(Some(project), &StandupDays::default(), since, tz).await.unwrap()
}

async fn compare(store: &Store, project: i64, ctx: &Ctx) {
    let full = store.report_dataset(Some(project), &StandupDays::default()).await.unwrap();
    assert!(full.reduced.is_none());
    let today = ctx.day_of(ctx.now);
    let mut smaller = false;
    for back in [0, 1, 2, 3, 6, 13, 40, 150, 300, 400] {
        let day = add_days(today, -back);
        let (start, end) = ctx.day_range(day);
        let w = window(store, project, start, &ctx.tz).await;
        assert!(w.reduced.is_some(), "a window load");
        smaller |= w.tasks.len() < full.tasks.len();
        assert_eq!(daily_report(&w, ctx, day), daily_report(&full, ctx, day), "daily report of {day}");
        let d = store.report_window_daily(Some(project), &StandupDays::default(), start, &ctx.tz).await.unwrap();
        assert!(d.reduced.as_ref().is_some_and(|r| r.without_burn_steps && r.burn_steps.is_empty()));
        assert_eq!(daily_report(&d, ctx, day), daily_report(&full, ctx, day), "daily report of {day} (daily load)");
        assert_eq!(compute_metrics(&w, ctx, start, end), compute_metrics(&full, ctx, start, end), "metrics of {day}");
        assert_eq!(compute_metrics(&w, ctx, start, ctx.now), compute_metrics(&full, ctx, start, ctx.now), "metrics since {day}");
        // A period starting mid-day (the last N×24 hours).
        let from = ctx.now - back * 86_400 - 3_600;
        let w = window(store, project, from, &ctx.tz).await;
        assert_eq!(compute_metrics(&w, ctx, from, ctx.now), compute_metrics(&full, ctx, from, ctx.now), "metrics from {from}");
        // Loads for the metrics only.
        let w = store.report_window_metrics(Some(project), &StandupDays::default(), start, ctx).await.unwrap();
        assert!(w.reduced.as_ref().is_some_and(|r| r.metrics_only));
        // The open tasks unchanged since the start are counted, not loaded.
        let left = w.reduced.as_ref().and_then(|r| r.open_left_out.as_ref()).expect("open tasks left out");
        if back < 60 {
            assert!(left.tasks.iter().map(|c| c.count).sum::<u64>() > 0 && left.owners.iter().any(|g| g.status == qunban_core::TaskStatus::Blocked && g.overdue));
        }
        assert!(w.tasks.iter().all(|t| t.status.is_closed() || t.updated_at >= start || t.created_at >= start || w.history.iter().any(|h| h.task_id == t.id)));
        assert_eq!(compute_metrics(&w, ctx, start, end), compute_metrics(&full, ctx, start, end), "metrics of {day} (metrics load)");
        assert_eq!(compute_metrics(&w, ctx, start, ctx.now), compute_metrics(&full, ctx, start, ctx.now), "metrics since {day} (metrics load)");
        let w = store.report_window_metrics(Some(project), &StandupDays::default(), from, ctx).await.unwrap();
        assert_eq!(compute_metrics(&w, ctx, from, ctx.now), compute_metrics(&full, ctx, from, ctx.now), "metrics from {from} (metrics load)");
        let (week, _) = ctx.week_range(day);
        let w = window(store, project, week, &ctx.tz).await;
        assert_eq!(weekly_report(&w, ctx, day), weekly_report(&full, ctx, day), "weekly report of {day}");
    }
    assert!(smaller, "the window loads should leave tasks out");
    // The open task's changes of the last 3 days are counted from a
    // metrics-only load (its rows are left out of its history).
    let since = ctx.now - 3 * 86_400;
    let w = store.report_window_metrics(Some(project), &StandupDays::default(), since, ctx).await.unwrap();
    assert!(w.reduced.as_ref().is_some_and(|r| r.changes.len() >= 5), "{:?}", w.reduced.as_ref().map(|r| r.changes.len()));
    let (m, f) = (compute_metrics(&w, ctx, since, ctx.now), compute_metrics(&full, ctx, since, ctx.now));
    assert_eq!(m, f);
    assert!(m.reopens >= 2 && m.reassignments >= 3 && m.deadline_moves >= 3 && m.deadline_slips >= 2, "{m:#?}");
    let m = compute_metrics(&full, ctx, ctx.now - 28 * 86_400, ctx.now);
    assert!(m.reopens > 0 && m.reassignments > 0 && m.deadline_moves > 0 && m.completed_with_moved_deadline > 0, "{m:#?}");
    assert!(m.milestones.iter().any(|b| b.points.len() > 100), "burn-downs span the window start");
}

async fn window_equals_full_load(db: TestDb) {
    let project = fixture(&db.store).await;
    compare(&db.store, project, &Ctx::shanghai(BENCH_NOW)).await;
    // A zone with daylight saving time: burn-down days are summed by instant.
    compare(&db.store, project, &Ctx::new(BENCH_NOW, TimeZone::get("Europe/Berlin").unwrap())).await;
}

/// A report's queries share one snapshot: a write committed by another
/// instance after the first read is not seen by the later ones (on
/// PostgreSQL this needs more than the default READ COMMITTED).
async fn report_reads_share_one_snapshot(db: TestDb) {
    let store = &db.store;
    store.init_workspace("测试", "Asia/Shanghai", qunban_core::Locale::Zh).await.unwrap();
    store.create_project("快照", None).await.unwrap();
    let other = Store::open(&db.url).await.unwrap();
    let count = || sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM projects");
    let mut tx = store.read_snapshot().await.unwrap();
    let before = count().fetch_one(&mut *tx).await.unwrap();
    other.create_project("另一个实例的项目", None).await.unwrap();
    assert_eq!(count().fetch_one(&mut *tx).await.unwrap(), before, "the snapshot saw a later write");
    tx.commit().await.unwrap();
    assert_eq!(count().fetch_one(store.pool()).await.unwrap(), before + 1);
    other.close().await;
}

on_both_backends! {
    window_equals_full_load => super::window_equals_full_load;
    report_reads_share_one_snapshot => super::report_reads_share_one_snapshot;
}
