//! Importing a 50,000-message WeChatMsg export through the pipeline, then
//! importing it again: the second run must create nothing.

#[path = "connectors_support/mod.rs"]
mod support;

use std::io::{BufReader, Write};

use qunban_connect::wechat_export::ExportFormat;
use qunban_server::connectors::import::import_wechat_export;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_thousand_message_export_imports_once() {
    const N: u64 = 50_000;
    let app = support::spawn().await;
    app.bind("wechat", "team-chat").await;
    let group = app.store.group_by_name("wechat:team-chat").await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.txt");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let names = ["张三", "李四", "王五", "赵六"];
    let base = jiff::civil::date(2026, 1, 5).at(9, 0, 0, 0);
    let mut expected_tasks = 0;
    for i in 0..N {
        let at = base.checked_add(jiff::SignedDuration::from_secs(i as i64 * 11)).unwrap();
        let name = names[i as usize % names.len()];
        // Every 1000th message assigns work; the rest is chatter.
        let text = if i % 1000 == 0 {
            expected_tasks += 1;
            format!("@李四 明天下午3点前把第{i}号需求文档写完")
        } else if i % 7 == 0 {
            format!("收到 {i}\n\n好的")
        } else {
            format!("聊天 {i}")
        };
        write!(f, "{} {name}\n{text}\n\n", at.strftime("%Y-%m-%d %H:%M:%S")).unwrap();
    }
    f.flush().unwrap();
    drop(f);

    let open = || BufReader::new(std::fs::File::open(&path).unwrap());
    let mut last = 0;
    let first = import_wechat_export(&app.engine, open(), ExportFormat::Txt, &group, |n| last = n).await.unwrap();
    assert_eq!(last, N);
    assert_eq!((first.read, first.imported, first.duplicates, first.errors), (N, N, 0, 0), "{first:?}");
    assert_eq!(first.tasks_created, expected_tasks, "{first:?}");
    assert_eq!(app.messages().await, N as i64);
    assert_eq!(app.tasks().await.len() as u64, expected_tasks);
    // History does not notify anyone.
    assert!(app.store.outbox(None, 10).await.unwrap().is_empty());

    let again = import_wechat_export(&app.engine, open(), ExportFormat::Txt, &group, |_| {}).await.unwrap();
    assert_eq!((again.read, again.imported, again.duplicates, again.tasks_created), (N, 0, N, 0), "{again:?}");
    assert_eq!(app.messages().await, N as i64);
    assert_eq!(app.tasks().await.len() as u64, expected_tasks);
}

/// A chat history in which two different tasks were both given TASK-004 (a
/// copy-pasted template): importing it keeps both, each with its own title,
/// and the second one under the next free number. Restating TASK-004 with its
/// own title afterwards still updates it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reused_task_number_in_an_export_overwrites_nothing() {
    let app = support::spawn().await;
    app.bind("wechat", "team-chat").await;
    let group = app.store.group_by_name("wechat:team-chat").await.unwrap();
    let export = "\
2026-01-05 09:00:00 张三
【任务编号】TASK-004 【标题】登录页开发 【责任人】李四 【截止时间】2026-01-15 【状态】进行中

2026-01-06 10:30:00 张三
收到，大家加油

2026-01-07 11:00:00 王五
【任务编号】TASK-004 【标题】支付接口联调 【责任人】赵六 【截止时间】2026-01-20

2026-01-08 15:00:00 李四
【任务编号】TASK-004 【标题】登录页开发 【状态】已完成
";
    let report = import_wechat_export(&app.engine, BufReader::new(export.as_bytes()), ExportFormat::Txt, &group, |_| {}).await.unwrap();
    assert_eq!((report.imported, report.errors, report.tasks_created), (4, 0, 2), "{report:?}");
    let tasks = app.tasks().await;
    let seen: Vec<(String, String, Vec<String>, qunban_core::TaskStatus)> = tasks
        .iter()
        .map(|v| (v.task.reference.clone(), v.task.title.clone(), v.owner_names.clone(), v.task.status))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("TASK-004".into(), "登录页开发".into(), vec!["李四".into()], qunban_core::TaskStatus::Done),
            ("TASK-005".into(), "支付接口联调".into(), vec!["赵六".into()], qunban_core::TaskStatus::Todo),
        ]
    );
    // The first task's history has no trace of the second one.
    let history = app.store.task_history(tasks[0].task.id).await.unwrap();
    assert!(history.iter().all(|h| h.new_value.as_deref() != Some("支付接口联调")), "{history:?}");
}
