use std::io::{BufReader, Cursor, Write};

use qunban_connect::wechat_export::{CsvExport, ExportError, ExportFormat, TxtExport};

const TXT: &str = "\u{feff}2024-05-06 09:00:01 张三\n明天交周报\n\n2024-05-06 09:01:00 李 四\n第一段\n\n第二段\n\n\n2024-05-06 09:02:00 张三\n[图片]\n\n2024-05-06 09:02:00 张三\nok\n\n2024-05-06 09:02:00 张三\nok\n";

#[test]
fn txt_blocks() {
    let mut it = TxtExport::new(Cursor::new(TXT));
    let msgs: Vec<_> = it.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(msgs.len(), 5);
    assert_eq!(msgs[0].sender_name, "张三");
    assert_eq!(msgs[0].text, "明天交周报");
    assert_eq!(msgs[0].sent_at.to_string(), "2024-05-06T09:00:01");
    assert_eq!(msgs[0].sent_at_timestamp().to_string(), "2024-05-06T01:00:01Z");
    assert_eq!(msgs[0].line, 1);
    assert_eq!(msgs[1].sender_name, "李 四");
    assert_eq!(msgs[1].text, "第一段\n\n第二段");
    assert_eq!(msgs[1].line, 4);
    // Identical messages in the same second get distinct, deterministic ids.
    assert_ne!(msgs[3].stable_id, msgs[4].stable_id);
    let again: Vec<_> = TxtExport::new(Cursor::new(TXT)).map(Result::unwrap).collect();
    assert_eq!(msgs.iter().map(|m| &m.stable_id).collect::<Vec<_>>(), again.iter().map(|m| &m.stable_id).collect::<Vec<_>>());
    assert_eq!(it.stats().messages, 5);
}

#[test]
fn txt_tolerates_crlf_preamble_and_fake_headers() {
    let txt = "群聊: 项目组\r\n\r\n2024-05-06 09:00:01 张三\r\n2024-13-45 99:99:99 不是时间\r\n2024-05-06 09:00:02\r\n\r\n2024-05-06 10:00:00 王五\r\n好\r\n";
    let mut it = TxtExport::new(Cursor::new(txt));
    let msgs: Vec<_> = it.by_ref().map(Result::unwrap).collect();
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[0].text, "2024-13-45 99:99:99 不是时间\n2024-05-06 09:00:02");
    assert_eq!(msgs[1].text, "好");
    assert_eq!(it.stats().skipped_lines, 1);
}

#[test]
fn txt_reports_invalid_utf8_with_line_number_and_continues() {
    let mut data = b"2024-05-06 09:00:01 A\nfine\n".to_vec();
    data.extend_from_slice(b"bad \xff line\nmore\n\n2024-05-06 09:00:02 B\nnext\n");
    let items: Vec<_> = TxtExport::new(Cursor::new(data)).collect();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0].as_ref().unwrap().text, "fine\nmore");
    assert!(matches!(items[1], Err(ExportError::NotUtf8 { line: 3 })));
    assert_eq!(items[2].as_ref().unwrap().text, "next");
}

const CSV_HEADER: &str = "localId,TalkerId,Type,SubType,IsSender,CreateTime,Status,StrContent,StrTime,Remark,NickName,Sender\n";

#[test]
fn csv_rows() {
    let csv = format!(
        "\u{feff}{CSV_HEADER}1,5,1,0,0,1714957201,2,\"明天交周报, 谢谢\",2024-05-06 09:00:01,老张,张三,wxid_a\n\
         2,5,3,0,0,1714957202,2,<img/>,2024-05-06 09:00:02,,张三,wxid_a\n\
         3,5,1,0,1,1714957203,2,\"多行\n内容\",,,,wxid_me\n\
         4,5,10000,0,0,1714957204,2,撤回,2024-05-06 09:00:04,,,\n"
    );
    let mut it = CsvExport::new(Cursor::new(csv));
    let msgs: Vec<_> = it.by_ref().map(Result::unwrap).collect();
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[0].local_id, Some(1));
    assert_eq!(msgs[0].sender_name, "老张");
    assert_eq!(msgs[0].sender_id.as_deref(), Some("wxid_a"));
    assert_eq!(msgs[0].text, "明天交周报, 谢谢");
    assert_eq!(msgs[0].line, 2);
    // StrTime missing → CreateTime interpreted in +08:00.
    assert_eq!(msgs[1].sent_at.to_string(), "2024-05-06T09:00:03");
    assert_eq!(msgs[1].text, "多行\n内容");
    assert!(msgs[1].is_self);
    assert_eq!(msgs[1].sender_name, "wxid_me");
    let st = it.stats();
    assert_eq!(st.messages, 2);
    assert_eq!(st.skipped_non_text(), 2);
    assert_eq!(st.skipped_by_type.get(&3), Some(&1));
}

#[test]
fn csv_errors_have_line_numbers() {
    let csv = format!("{CSV_HEADER}1,5,x,0,0,1,2,hi,2024-05-06 09:00:01,,a,b\n2,5,1,0,0,nope,2,hi,,,a,b\n3,5,1,0,0,1,2,ok,2024-05-06 09:00:01,,a,b\n");
    let items: Vec<_> = CsvExport::new(Cursor::new(csv)).collect();
    assert!(matches!(&items[0], Err(ExportError::BadField { line: 2, column: "Type", .. })), "{:?}", items[0]);
    assert!(matches!(&items[1], Err(ExportError::BadField { line: 3, .. })), "{:?}", items[1]);
    assert_eq!(items[2].as_ref().unwrap().text, "ok");
    let e = CsvExport::new(Cursor::new("a,b,c\n1,2,3\n")).next().unwrap().unwrap_err();
    assert!(matches!(e, ExportError::MissingColumn(_)));
    assert!(e.to_string().contains("Type"));
}

#[test]
fn format_from_path() {
    assert_eq!(ExportFormat::from_path("a/聊天记录.TXT".as_ref()), Some(ExportFormat::Txt));
    assert_eq!(ExportFormat::from_path("x.csv".as_ref()), Some(ExportFormat::Csv));
    assert_eq!(ExportFormat::from_path("x.html".as_ref()), None);
}

#[test]
fn fifty_thousand_messages_txt_and_csv() {
    const N: usize = 50_000;
    let names = ["张三", "李四", "王五", "Zhao Liu"];
    let dir = tempfile::tempdir().unwrap();

    let txt_path = dir.path().join("export.txt");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&txt_path).unwrap());
    let csv_path = dir.path().join("export.csv");
    let mut w = csv::Writer::from_path(&csv_path).unwrap();
    w.write_record(CSV_HEADER.trim().split(',')).unwrap();
    let base = jiff::civil::date(2024, 1, 1).at(8, 0, 0, 0);
    for i in 0..N {
        let at = base.checked_add(jiff::SignedDuration::from_secs(i as i64 * 7)).unwrap();
        let at_s = at.strftime("%Y-%m-%d %H:%M:%S").to_string();
        let name = names[i % names.len()];
        let text = if i % 10 == 0 { format!("消息 {i}\n\n第二段 {i}") } else { format!("消息 {i}") };
        write!(f, "{at_s} {name}\n{text}\n\n").unwrap();
        let ts = (i64::from(1_704_067_200i32) + i as i64 * 7).to_string();
        let typ = if i % 5 == 4 { "3" } else { "1" };
        w.write_record([&i.to_string(), "1", typ, "0", "0", &ts, "2", &text, &at_s, "", name, "wxid"]).unwrap();
    }
    f.flush().unwrap();
    drop(f);
    w.flush().unwrap();

    let mut it = TxtExport::new(BufReader::new(std::fs::File::open(&txt_path).unwrap()));
    let mut count = 0;
    let mut ids = std::collections::HashSet::new();
    let mut last = None;
    for m in it.by_ref() {
        let m = m.unwrap();
        if count == 12_340 {
            assert_eq!(m.text, "消息 12340\n\n第二段 12340");
            assert_eq!(m.sender_name, names[0]);
            assert_eq!(m.sent_at, base.checked_add(jiff::SignedDuration::from_secs(12_340 * 7)).unwrap());
        }
        ids.insert(m.stable_id.clone());
        count += 1;
        last = Some(m);
    }
    assert_eq!(count, N);
    assert_eq!(ids.len(), N);
    assert_eq!(last.unwrap().text, format!("消息 {}", N - 1));
    assert_eq!(it.stats().messages, N as u64);

    let mut it = CsvExport::new(std::fs::File::open(&csv_path).unwrap());
    let msgs: Vec<_> = it.by_ref().map(Result::unwrap).collect();
    assert_eq!(msgs.len(), N - N / 5);
    assert_eq!(it.stats().skipped_non_text(), (N / 5) as u64);
    assert_eq!(msgs[0].text, "消息 0\n\n第二段 0");
    // Same time/sender/text as the TXT export → same stable id across formats.
    let txt_first = TxtExport::new(BufReader::new(std::fs::File::open(&txt_path).unwrap())).next().unwrap().unwrap();
    assert_eq!(msgs[0].stable_id, txt_first.stable_id);
}
