//! Exported files re-read by independent readers: calamine for XLSX, the csv
//! crate for CSV, a structural RFC 5545 check for ICS — and, when
//! `QUNBAN_INTEROP_PYTHON` names a Python with openpyxl and icalendar, those.

use std::collections::HashMap;

use calamine::{Data, Reader, Xlsx};
use qunban_core::TaskStatus;
use qunban_report::export::{self, IcsOptions, HEADERS};
use qunban_report::import;
use qunban_report::*;

fn at(s: &str) -> i64 {
    format!("{s}+08:00").parse::<jiff::Timestamp>().unwrap().as_second()
}

fn ctx() -> Ctx {
    Ctx::shanghai(at("2026-01-20T12:00:00"))
}

fn data() -> Dataset {
    let mut d = Dataset {
        projects: vec![Project { id: 1, name: "官网改版".into() }, Project { id: 2, name: "App: 二期/测试".into() }],
        members: HashMap::from([(1, "张三".into()), (2, "李四".into())]),
        ..Default::default()
    };
    let t = |id: i64, project: i64, title: &str, owners: Vec<i64>, due: Option<&str>, status: TaskStatus| RTask {
        id,
        project_id: project,
        reference: format!("TASK-{id:03}"),
        title: title.into(),
        status,
        progress: if status == TaskStatus::Done { 100 } else { 40 },
        priority: Some("p1".into()),
        owners,
        due: due.map(at),
        created_at: at("2026-01-12T09:00:00"),
        updated_at: at("2026-01-13T09:00:00"),
        done_at: (status == TaskStatus::Done).then(|| at("2026-01-14T16:30:00")),
        milestone_id: None,
        parent_task_id: None,
        depends_on: vec![],
    };
    d.tasks = vec![
        t(1, 1, "需求文档撰写, 含评审; 以及\\反斜杠", vec![1], Some("2026-01-15T15:00:00"), TaskStatus::InProgress),
        t(2, 1, "接口联调", vec![1, 2], Some("2026-01-16T23:59:59"), TaskStatus::Done),
        t(3, 2, "一个非常非常长的标题，用来检查 ICS 的折行是否按照 75 个八位字节处理而且不会把中文字符切成两半", vec![2], Some("2026-01-20T10:00:00"), TaskStatus::Todo),
        t(4, 2, "无截止时间", vec![2], None, TaskStatus::Todo),
    ];
    d.milestones = vec![Milestone { id: 7, project_id: 1, name: "M1 上线".into(), due_at: None, status: "open".into(), created_at: at("2026-01-10T09:00:00") }];
    d.tasks[1].milestone_id = Some(7);
    d
}

#[test]
fn csv_round_trips_through_the_csv_crate_and_the_importer() {
    let bytes = export::csv(&data(), &ctx()).unwrap();
    assert_eq!(&bytes[..3], &[0xEF, 0xBB, 0xBF]);
    let mut r = csv::Reader::from_reader(&bytes[3..]);
    assert_eq!(r.headers().unwrap().iter().collect::<Vec<_>>(), HEADERS);
    let recs: Vec<csv::StringRecord> = r.records().map(|r| r.unwrap()).collect();
    assert_eq!(recs.len(), 4);
    assert_eq!(&recs[0][1], "需求文档撰写, 含评审; 以及\\反斜杠");
    assert_eq!(&recs[1][2], "张三、李四");
    assert_eq!(&recs[1][3], "已完成");
    assert_eq!(&recs[0][6], "2026-01-15 15:00");
    assert_eq!(&recs[1][8], "2026-01-14 16:30");
    assert_eq!((&recs[0][10], &recs[1][10]), ("", "M1 上线"));
    // The importer reads its own export back.
    let parsed = import::validate(&import::read_csv(&bytes).unwrap(), &ctx()).unwrap();
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    assert_eq!(parsed.rows.len(), 4);
    assert_eq!(parsed.rows[1].owners, ["张三", "李四"]);
    assert_eq!(parsed.rows[1].status, Some(TaskStatus::Done));
    assert_eq!(parsed.rows[0].due, Some(at("2026-01-15T15:00:00")));
    assert_eq!((parsed.rows[0].milestone.as_deref(), parsed.rows[1].milestone.as_deref()), (None, Some("M1 上线")));
}

#[test]
fn xlsx_is_read_back_by_calamine_with_real_dates() {
    let bytes = export::xlsx(&data(), &ctx()).unwrap();
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.clone())).unwrap();
    let names = wb.sheet_names();
    assert_eq!(names[0], "汇总");
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(names.contains(&"官网改版".to_string()));
    assert!(names.contains(&"App_ 二期_测试".to_string()), "{names:?}");
    let summary = wb.worksheet_range("汇总").unwrap();
    assert_eq!(summary.get((0, 0)), Some(&Data::String("所属项目".into())));
    let sheet = wb.worksheet_range("官网改版").unwrap();
    let head: Vec<String> = sheet.rows().next().unwrap().iter().map(|c| c.to_string()).collect();
    assert_eq!(head, HEADERS);
    let row = &sheet.rows().nth(1).unwrap().to_vec();
    assert_eq!(row[0], Data::String("TASK-001".into()));
    match &row[6] {
        Data::DateTime(d) => {
            // 2026-01-15 15:00 local = serial 46037.625
            assert!((d.as_f64() - 46037.625).abs() < 1e-6, "{}", d.as_f64());
        }
        other => panic!("due is not an Excel date-time: {other:?}"),
    }
    // The importer reads the XLSX back too (first project sheet).
    let parsed = import::validate(&import::read_xlsx(&bytes, Some("官网改版")).unwrap(), &ctx()).unwrap();
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    assert_eq!(parsed.rows[0].due, Some(at("2026-01-15T15:00:00")));
    assert_eq!(parsed.rows[1].milestone.as_deref(), Some("M1 上线"));
    interop("xlsx", &bytes);
}

/// Unfolds an ICS text and checks its structure: CRLF everywhere, lines of
/// at most 75 octets, balanced BEGIN/END, required properties per VEVENT.
fn check_ics(text: &str) -> Vec<String> {
    assert!(text.ends_with("\r\n"));
    for raw in text.split("\r\n") {
        assert!(!raw.contains('\n') && !raw.contains('\r'), "bare line break in {raw:?}");
        assert!(raw.len() <= 75, "line longer than 75 octets: {raw:?}");
    }
    let unfolded = text.replace("\r\n ", "");
    let lines: Vec<String> = unfolded.split("\r\n").filter(|l| !l.is_empty()).map(str::to_string).collect();
    let mut stack = Vec::new();
    let mut uids = Vec::new();
    let mut props: Vec<String> = Vec::new();
    for l in &lines {
        if let Some(c) = l.strip_prefix("BEGIN:") {
            stack.push(c.to_string());
            if c == "VEVENT" {
                props.clear();
            }
        } else if let Some(c) = l.strip_prefix("END:") {
            assert_eq!(stack.pop().as_deref(), Some(c));
            if c == "VEVENT" {
                for p in ["UID", "DTSTAMP", "DTSTART", "SUMMARY"] {
                    assert!(props.iter().any(|x| x == p), "VEVENT without {p}");
                }
            }
        } else if stack.last().map(String::as_str) == Some("VEVENT") {
            let name = l.split([':', ';']).next().unwrap().to_string();
            if name == "UID" {
                uids.push(l.clone());
            }
            props.push(name);
        }
    }
    assert!(stack.is_empty());
    assert_eq!(lines.first().map(String::as_str), Some("BEGIN:VCALENDAR"));
    uids
}

#[test]
fn ics_is_valid_rfc5545() {
    let text = export::ics(&data(), &ctx(), &IcsOptions { name: "官网改版, 截止时间".into(), ..Default::default() });
    let uids = check_ics(&text);
    // open tasks with a deadline: T1 and T3
    assert_eq!(uids, ["UID:task-1-1@qunban", "UID:task-2-3@qunban"]);
    let unfolded = text.replace("\r\n ", "");
    assert!(unfolded.contains("X-WR-CALNAME:官网改版\\, 截止时间"));
    assert!(unfolded.contains("需求文档撰写\\, 含评审\\; 以及\\\\反斜杠"));
    assert!(unfolded.contains("DTSTART:20260115T070000Z"));
    // UIDs are stable: a second export names the same events.
    let again = export::ics(&data(), &Ctx::shanghai(at("2026-02-01T08:00:00")), &IcsOptions::default());
    assert_eq!(check_ics(&again), uids);
    // Per member: 张三 owns only T1 among the open ones.
    let mine = export::ics(&data(), &ctx(), &IcsOptions { member: Some(1), ..Default::default() });
    assert_eq!(check_ics(&mine), ["UID:task-1-1@qunban"]);
    interop("ics", text.as_bytes());
}

#[test]
fn folding_never_splits_a_character() {
    let mut out = String::new();
    export::fold_line(&mut out, &format!("SUMMARY:{}", "中".repeat(60)));
    for l in out.split("\r\n") {
        assert!(l.len() <= 75);
    }
    assert_eq!(out.replace("\r\n ", ""), format!("SUMMARY:{}\r\n", "中".repeat(60)));
}

#[test]
fn import_reports_every_bad_row() {
    let csv = "标题,负责人,状态,截止时间,进度,优先级\n写文档,张三,进行中,2026-01-15,50%,P1\n,李四,待办,,,\n联调,,完成了吗,2026-13-40,,P9\n上线,王五,done,2026/01/20 18:00,120,\n";
    let parsed = import::validate(&import::read_csv(csv.as_bytes()).unwrap(), &ctx()).unwrap();
    assert_eq!(parsed.rows.len(), 1);
    assert_eq!(parsed.rows[0].due, Some(at("2026-01-15T23:59:59")));
    assert_eq!(parsed.rows[0].progress, Some(50));
    let errs: Vec<(usize, Option<&str>)> = parsed.errors.iter().map(|e| (e.row, e.column.as_deref())).collect();
    assert_eq!(
        errs,
        [
            (3, Some("标题")),
            (4, Some("状态")),
            (4, Some("截止时间")),
            (4, Some("优先级")),
            (4, Some("负责人")),
            (5, Some("进度")),
        ]
    );
    let missing = import::validate(&import::read_csv("名字,负责人\nx,y\n".as_bytes()).unwrap(), &ctx()).unwrap();
    assert_eq!(missing.errors[0].row, 1);
}

/// Runs `tests/interop.py KIND FILE` with `QUNBAN_INTEROP_PYTHON` when set.
fn interop(kind: &str, bytes: &[u8]) {
    let Ok(py) = std::env::var("QUNBAN_INTEROP_PYTHON") else {
        eprintln!("SKIPPED: {kind} interop check (set QUNBAN_INTEROP_PYTHON to a python with openpyxl and icalendar)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("export.{kind}"));
    std::fs::write(&path, bytes).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop.py");
    let out = std::process::Command::new(py).arg(script).arg(kind).arg(&path).output().expect("run the interop python");
    assert!(out.status.success(), "interop {kind} failed:\n{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}
