//! `qunban import tasks`, `report` and `export` through the real binary.

use std::process::{Command, Output};

struct Cli {
    dir: tempfile::TempDir,
}

impl Cli {
    fn new() -> Cli {
        let cli = Cli { dir: tempfile::tempdir().unwrap() };
        cli.ok(&["init", "--name", "测试"]);
        cli.ok(&["project", "add", "官网改版"]);
        cli
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_qunban"))
            .args(args)
            .env("QUNBAN_DATABASE_URL", format!("sqlite:{}", self.dir.path().join("q.db").display()))
            .env_remove("QUNBAN_HOLIDAYS_DIR")
            .current_dir(self.dir.path())
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    fn task_count(&self) -> usize {
        let v: serde_json::Value = serde_json::from_str(&self.ok(&["task", "list", "--json"])).unwrap();
        v.as_array().unwrap().len()
    }

    fn write(&self, name: &str, text: &str) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }
}

#[test]
fn import_dry_run_and_bad_files_write_nothing() {
    let cli = Cli::new();
    let good = cli.write("good.csv", "标题,负责人,状态,截止时间,优先级,里程碑\n写周报,张三,进行中,2026-01-20,P1,\n部署,李四、王五,待办,2026-01-21 18:00,,M1 上线\n");
    let out = cli.ok(&["import", "tasks", &good, "--project", "官网改版", "--dry-run"]);
    assert!(out.contains("2 rows are valid"), "{out}");
    assert_eq!(cli.task_count(), 0, "--dry-run wrote tasks");

    let bad = cli.write("bad.csv", "标题,负责人,状态,截止时间\n写周报,张三,进行中,2026-01-20\n,李四,待办,\n测试,王五,完成了吗,2026-13-01\n");
    for extra in [&["--dry-run"][..], &[][..]] {
        let mut args = vec!["import", "tasks", bad.as_str(), "--project", "官网改版"];
        args.extend_from_slice(extra);
        let out = cli.run(&args);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("row 3, column 标题: missing title"), "{err}");
        assert!(err.contains("row 4, column 状态"), "{err}");
        assert!(err.contains("row 4, column 截止时间"), "{err}");
        assert!(err.contains("nothing was imported"), "{err}");
        assert_eq!(cli.task_count(), 0, "a bad file changed the tasks");
    }

    let out = cli.ok(&["import", "tasks", &good, "--project", "官网改版", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["imported"], 2);
    assert_eq!(cli.task_count(), 2);
    // Imported tasks have history with source "import".
    let show: serde_json::Value = serde_json::from_str(&cli.ok(&["task", "show", "2", "--project", "官网改版", "--json"])).unwrap();
    assert_eq!(show["history"][0]["source"], "import");
    assert_eq!(show["task"]["owner_names"], serde_json::json!(["李四", "王五"]));

    // Reports and exports run on the imported tasks.
    let md = cli.ok(&["report", "weekly", "--project", "官网改版", "--date", "2026-01-15"]);
    assert!(md.contains("周报") && md.contains("下周到期"), "{md}");
    let json: serde_json::Value = serde_json::from_str(&cli.ok(&["report", "metrics", "--project", "官网改版", "--json"])).unwrap();
    assert_eq!(json["tasks_total"], 2);
    let xlsx = cli.dir.path().join("out.xlsx");
    cli.ok(&["export", "xlsx", "-o", xlsx.to_str().unwrap()]);
    // The exported workbook imports back (dry run) without errors.
    let out = cli.ok(&["import", "tasks", xlsx.to_str().unwrap(), "--dry-run"]);
    assert!(out.contains("2 rows are valid"), "{out}");
    let out = cli.run(&["export", "xlsx"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("--output"));
    // The milestone column round-trips: created on import, exported by name.
    let csv = cli.ok(&["export", "csv", "--project", "官网改版"]);
    let mut lines = csv.trim_start_matches('\u{feff}').lines();
    assert!(lines.next().unwrap().ends_with(",所属项目,里程碑"), "{csv}");
    let rows: Vec<&str> = lines.collect();
    assert!(rows.iter().any(|l| l.contains("部署") && l.ends_with(",官网改版,M1 上线")), "{csv}");
    assert!(rows.iter().any(|l| l.contains("写周报") && l.ends_with(",官网改版,")), "{csv}");
    let ics = cli.ok(&["export", "ics", "--project", "官网改版"]);
    assert_eq!(ics.matches("BEGIN:VEVENT").count(), 2);
    let svg = cli.ok(&["export", "gantt", "--project", "官网改版"]);
    assert!(svg.starts_with("<svg"));
}
