//! The CLI as a user meets it: real binary, real database file, exit codes
//! and one-line errors.

use std::path::Path;
use std::process::{Command, Output};

struct Cli {
    dir: tempfile::TempDir,
}

impl Cli {
    fn new() -> Cli {
        Cli { dir: tempfile::tempdir().unwrap() }
    }

    fn db_url(&self) -> String {
        format!("sqlite:{}", self.dir.path().join("q.db").display())
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_with_db(&self.db_url(), args)
    }

    fn run_with_db(&self, db: &str, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_qunban"))
            .args(args)
            .env("QUNBAN_DATABASE_URL", db)
            .env_remove("QUNBAN_HOLIDAYS_DIR")
            .current_dir(self.dir.path())
            .output()
            .unwrap()
    }

    /// Runs and expects success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs and expects failure with a single-line error; returns it.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(!out.status.success(), "{args:?} unexpectedly succeeded");
        let err = String::from_utf8(out.stderr).unwrap();
        let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "expected a one-line error, got: {err}");
        assert!(lines[0].starts_with("error: "), "{err}");
        lines[0].to_string()
    }
}

fn setup(cli: &Cli) {
    cli.ok(&["init", "--name", "研发部"]);
    cli.ok(&["project", "add", "官网改版"]);
    cli.ok(&["group", "add", "官网改版总控群", "--chat-id", "wr001", "--kind", "master", "--project", "官网改版"]);
    cli.ok(&["member", "add", "张三", "--mobile", "13800001111", "--alias", "小张", "--id", "wecom:zhangsan"]);
}

#[test]
fn init_is_idempotent_and_prints_the_token_once() {
    let cli = Cli::new();
    let first = cli.ok(&["init", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(v["created"], true);
    assert!(v["admin_token"].as_str().unwrap().starts_with("qb_"));
    let again: serde_json::Value = serde_json::from_str(&cli.ok(&["init", "--json"])).unwrap();
    assert_eq!(again["created"], false);
    assert!(again["admin_token"].is_null());
    assert!(cli.dir.path().join("q.db").exists());
}

#[test]
fn directory_commands_round_trip() {
    let cli = Cli::new();
    setup(&cli);
    let projects: serde_json::Value = serde_json::from_str(&cli.ok(&["project", "list", "--json"])).unwrap();
    assert_eq!(projects[0]["name"], "官网改版");
    let groups: serde_json::Value = serde_json::from_str(&cli.ok(&["group", "list", "--json"])).unwrap();
    assert_eq!(groups[0]["kind"], "master");
    let members: serde_json::Value = serde_json::from_str(&cli.ok(&["member", "list", "--json"])).unwrap();
    assert_eq!(members[0]["display_name"], "张三");
    assert_eq!(members[0]["aliases"][0], "小张");
    cli.ok(&["member", "role", "小张", "--project", "官网改版", "--role", "pm"]);
}

#[test]
fn chat_through_the_cli_creates_tasks_and_lists_them() {
    let cli = Cli::new();
    setup(&cli);
    let reply = cli.ok(&["say", "--group", "官网改版总控群", "--sender", "张三", "--at", "2026-01-14T10:30:00+08:00", "@李四 明天下午3点前把需求文档写完"]);
    assert!(reply.contains("TASK-001") && reply.contains("1月15日（周四）15:00"), "{reply}");
    cli.ok(&["say", "--group", "官网改版总控群", "--sender", "李四", "--at", "2026-01-14T11:00:00+08:00", "#1 进度60%"]);

    let tasks: serde_json::Value = serde_json::from_str(&cli.ok(&["task", "list", "--project", "官网改版", "--json"])).unwrap();
    assert_eq!(tasks.as_array().unwrap().len(), 1);
    assert_eq!(tasks[0]["reference"], "TASK-001");
    assert_eq!(tasks[0]["owner_names"][0], "李四");
    assert_eq!(tasks[0]["status"], "in_progress");
    assert_eq!(tasks[0]["progress"], 60);
    // filters
    let by_owner: serde_json::Value = serde_json::from_str(&cli.ok(&["task", "list", "--owner", "张三", "--json"])).unwrap();
    assert!(by_owner.as_array().unwrap().is_empty());
    let overdue: serde_json::Value = serde_json::from_str(&cli.ok(&["task", "list", "--overdue", "--json"])).unwrap();
    assert_eq!(overdue.as_array().unwrap().len(), 1, "a 2026-01-15 deadline is past today");
    let done: serde_json::Value = serde_json::from_str(&cli.ok(&["task", "list", "--status", "done", "--json"])).unwrap();
    assert!(done.as_array().unwrap().is_empty());

    let show: serde_json::Value = serde_json::from_str(&cli.ok(&["task", "show", "1", "--project", "官网改版", "--json"])).unwrap();
    let fields: Vec<&str> = show["history"].as_array().unwrap().iter().map(|h| h["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["created", "status", "progress"]);
    let text = cli.ok(&["task", "show", "TASK-001", "--project", "官网改版"]);
    assert!(text.contains("需求文档写完") && text.contains("李四"), "{text}");

    // replay rebuilds the same state
    let before = cli.ok(&["task", "list", "--json"]);
    let report: serde_json::Value = serde_json::from_str(&cli.ok(&["replay", "--json"])).unwrap();
    assert_eq!(report["messages"], 2);
    let after = cli.ok(&["task", "list", "--json"]);
    let strip = |s: &str| {
        let mut v: serde_json::Value = serde_json::from_str(s).unwrap();
        for t in v.as_array_mut().unwrap() {
            t.as_object_mut().unwrap().remove("id");
        }
        v
    };
    assert_eq!(strip(&before), strip(&after));
}

#[test]
fn bad_input_is_a_clear_one_line_error_and_changes_nothing() {
    let cli = Cli::new();
    setup(&cli);
    assert!(cli.fails(&["project", "add", "官网改版"]).contains("already exists"));
    assert!(cli.fails(&["group", "add", "x", "--chat-id", "c", "--project", "不存在"]).contains("unknown project '不存在'"));
    assert!(cli.fails(&["task", "list", "--project", "不存在"]).contains("unknown project"));
    assert!(cli.fails(&["task", "show", "TASK-009", "--project", "官网改版"]).contains("unknown task"));
    assert!(cli.fails(&["member", "add", "王五", "--id", "wecom"]).contains("PLATFORM:USER_ID"));
    assert!(cli.fails(&["member", "add", "王五", "--alias", "小张"]).contains("alias '小张' already exists"));
    assert!(cli.fails(&["say", "--group", "官网改版总控群", "--sender", "张三", "--at", "2026-13-45", "hi"]).contains("bad --at"));
    assert!(cli.fails(&["parse", "deadline", "--now", "yesterday", "明天"]).contains("bad --now"));
    // the failed alias insert left no half-written member
    let members: serde_json::Value = serde_json::from_str(&cli.ok(&["member", "list", "--json"])).unwrap();
    assert_eq!(members.as_array().unwrap().len(), 1);
    // unreachable database
    let out = cli.run_with_db("postgres://nobody@127.0.0.1:9/none", &["project", "list"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error: cannot open the database"), "{err}");
    let out = cli.run_with_db("mysql://x", &["project", "list"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported database URL"));
    // clap rejects an unknown status with exit code 2
    let out = cli.run(&["task", "list", "--status", "finished"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn parse_contract() {
    let cli = Cli::new();
    assert_eq!(cli.ok(&["parse", "deadline", "--now", "2026-01-14T10:30:00+08:00", "明天下午3点"]).trim(), "2026-01-15T15:00:00+08:00");
    assert_eq!(cli.ok(&["parse", "deadline", "--now", "2026-01-14T10:30:00+08:00", "尽快"]).trim(), "NONE");
    let mut child = Command::new(env!("CARGO_BIN_EXE_qunban"))
        .args(["parse", "deadline", "--tsv"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let stdin = child.stdin.as_mut().unwrap();
        stdin.write_all("2026-04-22T14:00:00+08:00\t7个工作日内\n2026-04-22T14:00:00+08:00\t随时\n2026-04-22T14:00:00+08:00\t五一前\n".as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "2026-05-06T23:59:59+08:00\nNONE\n2026-04-30T23:59:59+08:00\n"
    );
    let v: serde_json::Value = serde_json::from_str(&cli.ok(&[
        "parse", "message", "--now", "2026-01-14T10:30:00+08:00", "--sender", "张三", "#task-001 已完成",
    ]))
    .unwrap();
    assert_eq!(v["intents"][0]["type"], "update_task");
    assert_eq!(v["intents"][0]["ref"], "TASK-001");
    assert_eq!(v["intents"][0]["status"], "done");
    let v: serde_json::Value = serde_json::from_str(&cli.ok(&["parse", "message", "--sender", "张三", "好的👌"])).unwrap();
    assert_eq!(v["intents"][0]["type"], "none");
}

#[test]
fn member_aliases_resolve_nicknames_in_the_chat() {
    let cli = Cli::new();
    setup(&cli);
    cli.ok(&["member", "add", "李建国"]);
    cli.ok(&["member", "add", "Kevin Li"]);
    let say = |at: &str, text: &str| cli.ok(&["say", "--group", "官网改版总控群", "--sender", "张三", "--at", at, text]);
    // before the alias: a question, no task, no member 老李
    let reply = say("2026-01-14T10:30:00+08:00", "@老李 明天下午3点前把需求文档写完");
    assert!(reply.contains("「老李」是指 @李建国 吗？"), "{reply}");
    assert!(cli.ok(&["task", "list", "--json"]).trim() == "[]");

    let out = cli.ok(&["member", "alias", "add", "老李", "--member", "李建国"]);
    assert!(out.contains("'老李' now means 李建国"), "{out}");
    cli.ok(&["member", "alias", "add", "kev", "--member", "Kevin Li"]);
    let reply = say("2026-01-14T10:31:00+08:00", "@老李 明天下午3点前把需求文档写完");
    assert!(reply.contains("TASK-001") && reply.contains("负责人：李建国"), "{reply}");
    let reply = say("2026-01-14T10:32:00+08:00", "@KEV 周五前完成接口联调");
    assert!(reply.contains("负责人：Kevin Li"), "{reply}");

    let list: serde_json::Value = serde_json::from_str(&cli.ok(&["member", "alias", "list", "--json"])).unwrap();
    let pairs: Vec<(&str, &str)> = list.as_array().unwrap().iter().map(|a| (a["alias"].as_str().unwrap(), a["member"].as_str().unwrap())).collect();
    assert_eq!(pairs, [("kev", "Kevin Li"), ("小张", "张三"), ("老李", "李建国")]);
    assert!(cli.ok(&["member", "alias", "list"]).contains("老李\t李建国\tcli"));
    // a member's name is no alias; an alias of someone else is refused
    assert!(cli.fails(&["member", "alias", "add", "张三", "--member", "李建国"]).contains("another member's name"));
    assert!(cli.fails(&["member", "alias", "add", "老李", "--member", "张三"]).contains("alias"));
    assert!(cli.fails(&["member", "alias", "add", "老王", "--member", "王五"]).contains("王五"));

    assert!(cli.ok(&["member", "alias", "remove", "老李"]).contains("no longer means 李建国"));
    assert!(cli.fails(&["member", "alias", "remove", "老李"]).contains("no alias"));
    for cmd in [&["member", "alias", "add", "--help"][..], &["member", "alias", "list", "--help"], &["member", "alias", "remove", "--help"]] {
        assert!(cli.ok(cmd).contains("Examples:"), "{cmd:?}");
    }
}

#[test]
fn help_has_examples() {
    let cli = Cli::new();
    for cmd in [&["serve", "--help"][..], &["task", "list", "--help"], &["parse", "deadline", "--help"], &["replay", "--help"]] {
        assert!(cli.ok(cmd).contains("Examples:"), "{cmd:?}");
    }
    assert!(Path::new(env!("CARGO_BIN_EXE_qunban")).exists());
}
