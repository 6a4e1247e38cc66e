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
