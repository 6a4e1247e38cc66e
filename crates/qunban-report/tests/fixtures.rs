//! Metrics and reports checked against hand-computed figures.
//!
//! The project (all times Asia/Shanghai, week of Mon 2026-01-12):
//!
//! | task | owners | story |
//! |---|---|---|
//! | T1 | 张三 | due 14日 18:00; done 13日 10:00, reopened 14日 09:00, done again 15日 10:00 (16 h late) |
//! | T2 | 张三 → 李四 (13日 09:00) | due 16日 18:00, done 14日 12:00 (on time; credited to 李四) |
//! | T3 | 王五 | due 13日 18:00 → 15日 18:00 (13日 17:00) → 16日 18:00 (15日 17:00); done 16日 15:00 |
//! | T4 | 李四 | due 15日, cancelled 14日 |
//! | T5 | 王五 | due 19日 18:00, in progress: overdue at "now" (20日 12:00) |
//! | T6 | 张三 | no deadline, done 12日 15:00 |
//!
//! All tasks were created 12日 09:00.

use std::collections::HashMap;

use qunban_core::TaskStatus;
use qunban_report::metrics::nearest_rank;
use qunban_report::*;

fn at(s: &str) -> i64 {
    format!("{s}+08:00").parse::<jiff::Timestamp>().unwrap().as_second()
}

fn iso(s: &str) -> String {
    jiff::Timestamp::from_second(at(s)).unwrap().to_string()
}

struct B {
    data: Dataset,
}

impl B {
    fn task(&mut self, id: i64, owners: &[i64], due: Option<&str>, status: TaskStatus, done: Option<&str>, milestone: Option<i64>) {
        let created = at("2026-01-12T09:00:00");
        self.data.tasks.push(RTask {
            id,
            project_id: 1,
            reference: format!("TASK-{id:03}"),
            title: format!("任务{id}"),
            status,
            progress: if status == TaskStatus::Done { 100 } else { 30 },
            priority: None,
            owners: owners.to_vec(),
            due: due.map(at),
            created_at: created,
            updated_at: created,
            done_at: done.map(at),
            milestone_id: milestone,
            parent_task_id: None,
            depends_on: vec![],
        });
        self.h(id, "2026-01-12T09:00:00", "created", None, Some(&format!("TASK-{id:03}")));
    }

    fn h(&mut self, task: i64, when: &str, field: &str, old: Option<&str>, new: Option<&str>) {
        self.data.history.push(HistoryRow {
            task_id: task,
            at: at(when),
            actor: Some(1),
            field: field.into(),
            old_value: old.map(str::to_string),
            new_value: new.map(str::to_string),
        });
    }
}

fn fixture() -> Dataset {
    let mut b = B { data: Dataset::default() };
    b.data.projects.push(Project { id: 1, name: "官网改版".into() });
    b.data.members = HashMap::from([(1, "张三".into()), (2, "李四".into()), (3, "王五".into())]);
    b.data.roster = vec![1, 2, 3];
    b.data.milestones.push(Milestone { id: 1, project_id: 1, name: "一期上线".into(), due_at: Some(at("2026-01-16T18:00:00")), status: "open".into(), created_at: at("2026-01-10T09:00:00") });
    // T1: done, reopened, done again late.
    b.task(1, &[1], Some("2026-01-14T18:00:00"), TaskStatus::Done, Some("2026-01-15T10:00:00"), Some(1));
    b.h(1, "2026-01-13T10:00:00", "status", Some("todo"), Some("done"));
    b.h(1, "2026-01-13T10:00:00", "progress", Some("0"), Some("100"));
    b.h(1, "2026-01-14T09:00:00", "status", Some("done"), Some("in_progress"));
    b.h(1, "2026-01-14T09:00:00", "progress", Some("100"), Some("90"));
    b.h(1, "2026-01-15T10:00:00", "status", Some("in_progress"), Some("done"));
    // T2: reassigned, then done on time.
    b.task(2, &[2], Some("2026-01-16T18:00:00"), TaskStatus::Done, Some("2026-01-14T12:00:00"), Some(1));
    b.h(2, "2026-01-13T09:00:00", "owners", Some("1"), Some("2"));
    b.h(2, "2026-01-14T12:00:00", "status", Some("todo"), Some("done"));
    // T3: deadline moved twice, done before the final deadline.
    b.task(3, &[3], Some("2026-01-16T18:00:00"), TaskStatus::Done, Some("2026-01-16T15:00:00"), Some(1));
    b.h(3, "2026-01-13T17:00:00", "due", Some(&iso("2026-01-13T18:00:00")), Some(&iso("2026-01-15T18:00:00")));
    b.h(3, "2026-01-15T17:00:00", "due", Some(&iso("2026-01-15T18:00:00")), Some(&iso("2026-01-16T18:00:00")));
    b.h(3, "2026-01-16T15:00:00", "status", Some("in_progress"), Some("done"));
    // T4: cancelled.
    b.task(4, &[2], Some("2026-01-15T23:59:59"), TaskStatus::Cancelled, None, None);
    b.h(4, "2026-01-14T10:00:00", "status", Some("todo"), Some("cancelled"));
    // T5: overdue.
    b.task(5, &[3], Some("2026-01-19T18:00:00"), TaskStatus::InProgress, None, None);
    b.h(5, "2026-01-12T10:00:00", "status", Some("todo"), Some("in_progress"));
    // T6: no deadline.
    b.task(6, &[1], None, TaskStatus::Done, Some("2026-01-12T15:00:00"), None);
    b.h(6, "2026-01-12T15:00:00", "status", Some("todo"), Some("done"));
    // T3 started in progress at creation (first status row says so).
    b.data.history.sort_by_key(|h| (h.task_id, h.at));
    b.data.standups.push(Standup {
        member_id: 1,
        project_id: Some(1),
        day: "2026-01-15".into(),
        yesterday: vec!["完成接口文档".into()],
        today: vec!["联调".into()],
        blockers: vec![],
        created_at: at("2026-01-15T09:30:00"),
    });
    b.data.goals.push(Goal { id: 1, project_id: 1, name: "注册转化率".into(), metric: None, target: Some(40.0), current: Some(30.0), unit: Some("%".into()), deadline_at: None });
    b.data.risks.push(Risk { id: 1, project_id: 1, title: "UI 设计延期".into(), probability: "high".into(), impact: "medium".into(), owner: Some(2), status: "open".into(), created_at: at("2026-01-13T11:00:00") });
    b.data
}

fn ctx() -> Ctx {
    Ctx::shanghai(at("2026-01-20T12:00:00"))
}

#[test]
fn nearest_rank_percentiles() {
    assert_eq!(nearest_rank(&[], 50), None);
    assert_eq!(nearest_rank(&[7], 90), Some(7));
    assert_eq!(nearest_rank(&[4, 1, 3, 2], 50), Some(2));
    assert_eq!(nearest_rank(&[4, 1, 3, 2], 90), Some(4));
    assert_eq!(nearest_rank(&[15, 20, 35, 40, 50], 30), Some(20));
    assert_eq!(nearest_rank(&[15, 20, 35, 40, 50], 100), Some(50));
}

#[test]
fn metrics_match_hand_computed_figures() {
    let data = fixture();
    let m = compute_metrics(&data, &ctx(), at("2026-01-12T00:00:00"), at("2026-01-19T00:00:00"));
    assert_eq!((m.tasks_total, m.open, m.done, m.cancelled), (6, 1, 4, 1));
    // T1, T2, T3, T6 — T1 once although it was completed twice.
    assert_eq!(m.completed, 4);
    assert_eq!((m.completed_with_deadline, m.completed_without_deadline), (3, 1));
    // vs the deadline in force at completion: T2, T3 on time; T1 late.
    assert_eq!(m.on_time_final, 2);
    assert!((m.on_time_final_rate.unwrap() - 2.0 / 3.0).abs() < 1e-9);
    // vs the original deadline: only T2 (T3's first deadline was the 13th).
    assert_eq!(m.on_time_original, 1);
    assert_eq!(m.late, 1);
    assert!((m.delay_rate.unwrap() - 1.0 / 3.0).abs() < 1e-9);
    assert_eq!(m.avg_delay_hours, Some(16.0));
    assert_eq!(m.completed_with_moved_deadline, 1);
    // cycle times 6 h (T6), 51 h (T2), 73 h (T1), 102 h (T3)
    assert_eq!(m.cycle_time_p50_hours, Some(51.0));
    assert_eq!(m.cycle_time_p90_hours, Some(102.0));
    assert_eq!((m.deadline_moves, m.deadline_slips), (2, 2));
    assert_eq!(m.reopens, 1);
    assert_eq!(m.reassignments, 1);
    assert_eq!(m.overdue, 1);
    let tp: Vec<(String, String, u64)> = m.throughput.iter().map(|t| (t.week.clone(), t.member.clone(), t.completed)).collect();
    assert_eq!(
        tp,
        [
            ("2026-W03".to_string(), "张三".to_string(), 2),
            ("2026-W03".to_string(), "李四".to_string(), 1),
            ("2026-W03".to_string(), "王五".to_string(), 1)
        ]
    );
    assert_eq!(m.workload.len(), 1);
    let w = &m.workload[0];
    assert_eq!((w.member.as_str(), w.open, w.due_this_week, w.overdue, w.blocked), ("王五", 1, 1, 1, 0));
    let burn = &m.milestones[0];
    let pts: Vec<(&str, u64, u64, u64)> = burn.points.iter().map(|p| (p.day.as_str(), p.scope, p.done, p.remaining)).collect();
    assert_eq!(
        pts,
        [("2026-01-12", 3, 0, 3), ("2026-01-13", 3, 1, 2), ("2026-01-14", 3, 1, 2), ("2026-01-15", 3, 2, 1), ("2026-01-16", 3, 3, 0)]
    );
    assert_eq!(m.goals[0].ratio, Some(0.75));
}

#[test]
fn a_period_counts_only_its_own_completions() {
    let data = fixture();
    // 13日 only: T1's first completion was reverted later, so nothing stands.
    let m = compute_metrics(&data, &ctx(), at("2026-01-13T00:00:00"), at("2026-01-14T00:00:00"));
    assert_eq!(m.completed, 0);
    assert_eq!((m.reassignments, m.deadline_moves, m.reopens), (1, 1, 0));
}

#[test]
fn daily_report_and_standup_digest() {
    let data = fixture();
    let r = daily_report(&data, &ctx(), "2026-01-15".parse().unwrap());
    let refs = |v: &[report::TaskLine]| v.iter().map(|t| t.reference.clone()).collect::<Vec<_>>();
    assert_eq!(refs(&r.completed), ["TASK-001"]);
    assert!(r.created.is_empty());
    assert!(r.due_today.is_empty(), "T3's deadline moved off the 15th that day: {:?}", r.due_today);
    assert!(r.overdue.is_empty());
    assert_eq!(r.deadline_changes.len(), 1);
    assert_eq!(r.deadline_changes[0].task.reference, "TASK-003");
    assert_eq!(r.standups.len(), 1);
    assert_eq!(r.standups[0].member, "张三");
    assert_eq!(r.standups[0].today, ["联调"]);
    assert_eq!(r.missing_standups, ["李四", "王五"]);
    let md = markdown::daily(&r, &ctx());
    assert!(md.contains("日报") && md.contains("未提交站会：李四、王五"), "{md}");
    // On the 20th T5 is overdue.
    let r = daily_report(&data, &ctx(), "2026-01-20".parse().unwrap());
    assert_eq!(refs(&r.overdue), ["TASK-005"]);
}

#[test]
fn weekly_report_lists_done_slipped_risks_and_next_week() {
    let data = fixture();
    let r = weekly_report(&data, &ctx(), "2026-01-15".parse().unwrap());
    assert_eq!(r.week, "2026-W03");
    assert_eq!((r.from.as_str(), r.to.as_str()), ("2026-01-12", "2026-01-18"));
    let refs = |v: &[report::TaskLine]| v.iter().map(|t| t.reference.clone()).collect::<Vec<_>>();
    assert_eq!(refs(&r.completed), ["TASK-001", "TASK-002", "TASK-003", "TASK-006"]);
    assert_eq!(r.slipped.iter().map(|s| s.task.reference.as_str()).collect::<Vec<_>>(), ["TASK-003", "TASK-003"]);
    assert_eq!(r.new_risks.len(), 1);
    assert_eq!(refs(&r.due_next_week), ["TASK-005"]);
    assert_eq!(r.metrics.completed, 4);
    let md = markdown::weekly(&r, &ctx());
    assert!(md.contains("周报") && md.contains("按时完成率") && md.contains("66.7%"), "{md}");
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["metrics"]["on_time_final"], 2);
}

#[test]
fn weekly_report_names_the_weeks_stars() {
    let mut data = fixture();
    let kudos = |to: i64, reason: &str, when: &str| qunban_report::KudosRow { to, reason: reason.into(), at: at(when) };
    data.kudos = vec![
        kudos(3, "接口提前完成", "2026-01-12T10:00:00"),
        kudos(2, "帮忙排查线上问题", "2026-01-13T10:00:00"),
        kudos(3, "文档写得清楚", "2026-01-16T17:00:00"),
        kudos(2, "上周的事", "2026-01-09T10:00:00"),
        kudos(2, "下周的事", "2026-01-19T00:00:00"),
    ];
    let r = weekly_report(&data, &ctx(), "2026-01-15".parse().unwrap());
    let stars: Vec<(&str, usize)> = r.stars.iter().map(|s| (s.member.as_str(), s.count)).collect();
    assert_eq!(stars, [("王五", 2), ("李四", 1)]);
    assert_eq!(r.stars[0].reasons, ["接口提前完成", "文档写得清楚"]);
    let md = markdown::weekly(&r, &ctx());
    assert!(md.contains("本周之星") && md.contains("⭐ 王五 ×2：接口提前完成；文档写得清楚"), "{md}");
}

#[test]
fn gantt_marks_today_overdue_dependencies_and_milestones() {
    let mut data = fixture();
    data.tasks[4].depends_on = vec![3];
    let svg = gantt::svg(&data, &ctx(), "官网改版");
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains(r#"class="today""#));
    assert!(svg.contains("bar overdue"));
    assert!(svg.contains(r#"class="dependency""#));
    assert!(svg.contains(r#"class="milestone""#));
    assert!(!svg.contains("任务4"), "cancelled tasks are left out");
    let mm = gantt::mermaid(&data, &ctx(), "官网改版");
    assert!(mm.starts_with("gantt\n"));
    assert!(mm.contains("TASK-005 任务5 : crit, t5, after t3, 2026-01-20 12:00"), "{mm}");
    assert!(mm.contains("TASK-001 任务1 : done, t1, 2026-01-12 09:00, 2026-01-15 10:00"), "{mm}");
    assert!(mm.contains("一期上线 : milestone, m1, 2026-01-16 18:00, 0d"), "{mm}");
}
