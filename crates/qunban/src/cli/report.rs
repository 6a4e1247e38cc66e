//! `qunban report daily|weekly|metrics` and `qunban bench reports`.

use std::io::Write;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use jiff::civil::Date;
use qunban_report::{add_days, Ctx};
use qunban_server::Engine;
use qunban_store::{StandupDays, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Md,
    Json,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The project name.
    #[arg(long)]
    pub project: String,
    /// The day (YYYY-MM-DD, workspace time zone); defaults to today. Weekly
    /// and metrics use the ISO week (Monday–Sunday) containing it.
    #[arg(long)]
    pub date: Option<Date>,
    /// Metrics only: start of the period (inclusive), instead of the week.
    #[arg(long, requires = "to")]
    pub from: Option<Date>,
    /// Metrics only: end of the period (inclusive).
    #[arg(long, requires = "from")]
    pub to: Option<Date>,
    #[arg(long, value_enum, default_value = "md")]
    pub format: Format,
    /// Shorthand for --format json.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ReportCmd {
    /// Daily report: done, new, due today, overdue, blocked, deadline changes,
    /// and the stand-up digest (per person, and who is missing).
    #[command(after_help = "Examples:\n  qunban report daily --project 官网改版\n  qunban report daily --project 官网改版 --date 2026-01-15 --format json")]
    Daily(ReportArgs),
    /// Weekly report: done, slipped, new risks, due next week, and the week's metrics.
    #[command(after_help = "Examples:\n  qunban report weekly --project 官网改版\n  qunban report weekly --project 官网改版 --date 2026-01-15 > 周报.md")]
    Weekly(ReportArgs),
    /// Metrics: on-time and delay rates, cycle time, throughput, workload,
    /// burndown per milestone, goals (definitions: docs/METRICS.md).
    #[command(after_help = "Examples:\n  qunban report metrics --project 官网改版\n  qunban report metrics --project 官网改版 --from 2026-01-01 --to 2026-03-31 --json")]
    Metrics(ReportArgs),
}

pub async fn run(cmd: ReportCmd, engine: &Engine) -> Result<()> {
    let (kind, a) = match cmd {
        ReportCmd::Daily(a) => ("daily", a),
        ReportCmd::Weekly(a) => ("weekly", a),
        ReportCmd::Metrics(a) => ("metrics", a),
    };
    let json = a.json || a.format == Format::Json;
    let out = render(engine, kind, &a.project, a.date, a.from.zip(a.to), json).await?;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    if !out.ends_with('\n') {
        stdout.write_all(b"\n")?;
    }
    Ok(())
}

/// Renders one report as Markdown or pretty JSON. Shared by the CLI and the
/// HTTP API.
pub async fn render(engine: &Engine, kind: &str, project: &str, date: Option<Date>, period: Option<(Date, Date)>, json: bool) -> Result<String> {
    let store = engine.store();
    let tz = engine.workspace().await?.tz();
    let ctx = Ctx::new(jiff::Timestamp::now().as_second(), tz);
    let day = date.unwrap_or_else(|| ctx.day_of(ctx.now));
    let p = store.project_by_name(project).await?;
    let monday = qunban_report::week_monday(day);
    let days = match kind {
        "daily" => StandupDays { from: day.to_string(), to: day.to_string() },
        _ => StandupDays { from: monday.to_string(), to: add_days(monday, 6).to_string() },
    };
    let period = match (kind, period) {
        ("metrics", Some((f, t))) => {
            if t < f {
                bail!("--to {t} is before --from {f}");
            }
            (ctx.start_of(f), ctx.start_of(add_days(t, 1)))
        }
        ("daily", _) => ctx.day_range(day),
        _ => ctx.week_range(day),
    };
    // Only what can matter from the start of the day, week or period on.
    // The daily report has no burn-downs: its load leaves their steps out;
    // the metrics need whole history rows only for some tasks.
    let data = match kind {
        "daily" => store.report_window_daily(Some(p.id), &days, period.0, &ctx.tz).await?,
        "metrics" => store.report_window_metrics(Some(p.id), &days, period.0, &ctx).await?,
        _ => store.report_window(Some(p.id), &days, period.0, &ctx.tz).await?,
    };
    Ok(match kind {
        "daily" => {
            let r = qunban_report::daily_report(&data, &ctx, day);
            if json { serde_json::to_string_pretty(&r)? } else { qunban_report::markdown::daily(&r, &ctx) }
        }
        "weekly" => {
            let r = qunban_report::weekly_report(&data, &ctx, day);
            if json { serde_json::to_string_pretty(&r)? } else { qunban_report::markdown::weekly(&r, &ctx) }
        }
        "metrics" => {
            let (from, to) = period;
            let m = qunban_report::compute_metrics(&data, &ctx, from, to);
            if json { serde_json::to_string_pretty(&m)? } else { qunban_report::markdown::metrics(&p.name, &m, &ctx) }
        }
        other => bail!("unknown report '{other}' (daily, weekly, metrics)"),
    })
}

#[derive(Debug, Subcommand)]
pub enum BenchCmd {
    /// Generate a large project in a temporary SQLite database and time the
    /// daily report and the metrics (load + compute), loading for the window
    /// (`Store::report_window`); `--baseline` also times the full load.
    #[command(after_help = "Examples:\n  qunban bench reports\n  qunban bench reports --tasks 10000 --history 100000 --runs 3 --baseline")]
    Reports(BenchArgs),
    /// Send signed generic-webhook, WeCom and Feishu callbacks over loopback
    /// to `qunban serve` processes on a fresh database; report messages/s,
    /// latency, server memory and the database's raw insert rate.
    #[command(after_help = "Examples:\n  qunban bench ingest\n  qunban bench ingest --messages 5000 --clients 16 --rate 500\n  qunban bench ingest --database-url postgres://postgres@127.0.0.1:5432/postgres --instances 2 --json")]
    Ingest(super::bench_ingest::IngestArgs),
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[arg(long, default_value_t = 100_000)]
    tasks: u64,
    /// Total history rows (including one `created` row per task).
    #[arg(long, default_value_t = 1_000_000)]
    history: u64,
    #[arg(long, default_value_t = 5)]
    runs: u32,
    /// Also time the full load (`Store::report_dataset`, every task and its
    /// whole history) once, and check that it gives the same reports.
    #[arg(long)]
    baseline: bool,
    /// Also time the naive per-task loader (one query per task and table).
    #[arg(long)]
    per_task: bool,
    /// Keep the database here instead of a temporary folder.
    #[arg(long)]
    keep: Option<std::path::PathBuf>,
}

pub async fn bench(cmd: BenchCmd, database_url: &str) -> Result<()> {
    let a = match cmd {
        BenchCmd::Reports(a) => a,
        BenchCmd::Ingest(a) => return super::bench_ingest::run(a, database_url).await,
    };
    let dir = tempfile::tempdir()?;
    let path = a.keep.clone().unwrap_or_else(|| dir.path().join("bench.db"));
    let reuse = a.keep.is_some() && path.exists();
    let store = Store::open(&format!("sqlite:{}", path.display())).await.context("cannot open the bench database")?;
    let project = match reuse.then_some(()).and(store.project_by_name("基准项目").await.ok()) {
        Some(p) => {
            eprintln!("reusing the project in {}", path.display());
            p.id
        }
        None => {
            store.init_workspace("bench", "Asia/Shanghai", qunban_core::Locale::Zh).await?;
            let t0 = Instant::now();
            let project = qunban_store::bench_fill(&store, "基准项目", a.tasks, a.history, |done, total| {
                eprint!("\rgenerating: {done}/{total} tasks");
            })
            .await?;
            eprintln!("\rgenerated {} tasks and {} history rows in {:.1} s", a.tasks, a.history, t0.elapsed().as_secs_f64());
            project
        }
    };
    let ctx = Ctx::shanghai(qunban_store::BENCH_NOW);
    let day = ctx.day_of(ctx.now);
    let days = StandupDays { from: day.to_string(), to: day.to_string() };
    // The daily report of today, the metrics of the last 28 days.
    let (day_start, _) = ctx.day_range(day);
    let (from, to) = (ctx.now - 28 * 86_400, ctx.now);
    let mut timings: Vec<(String, Vec<f64>)> = Vec::new();
    let mut record = |name: &str, ms: f64| match timings.iter_mut().find(|(n, _)| n == name) {
        Some((_, v)) => v.push(ms),
        None => timings.push((name.to_string(), vec![ms])),
    };
    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1e3;
    let (mut rows_daily, mut rows_metrics, mut tasks_daily, mut tasks_metrics) = (0, 0, 0, 0);
    let mut last = None;
    for run in 0..a.runs {
        eprint!("\rrun {}/{}", run + 1, a.runs);
        let t = Instant::now();
        let data = store.report_window_daily(Some(project), &days, day_start, &ctx.tz).await?;
        let load = ms(t);
        let t = Instant::now();
        let daily = qunban_report::daily_report(&data, &ctx, day);
        let daily_ms = ms(t);
        (rows_daily, tasks_daily) = (data.history.len(), data.tasks.len());
        drop(data);
        let t = Instant::now();
        let data = store.report_window_metrics(Some(project), &days, from, &ctx).await?;
        let load_m = ms(t);
        let t = Instant::now();
        let m = qunban_report::compute_metrics(&data, &ctx, from, to);
        let metrics_ms = ms(t);
        (rows_metrics, tasks_metrics) = (data.history.len(), data.tasks.len());
        record("daily: window load (since 00:00 today)", load);
        record("daily: compute", daily_ms);
        record("**daily report total (load + compute)**", load + daily_ms);
        record("metrics: window load (since the period start)", load_m);
        record("metrics: compute (28 days, incl. 20 burn-downs)", metrics_ms);
        record("**metrics total (load + compute)**", load_m + metrics_ms);
        last = Some((daily, m));
    }
    let mut same = None;
    if a.baseline {
        eprint!("\rbaseline: full load…");
        let t = Instant::now();
        let data = store.report_dataset(Some(project), &days).await?;
        let load = ms(t);
        let t = Instant::now();
        let daily = qunban_report::daily_report(&data, &ctx, day);
        let daily_ms = ms(t);
        let t = Instant::now();
        let m = qunban_report::compute_metrics(&data, &ctx, from, to);
        let metrics_ms = ms(t);
        record("baseline: full load (1 run)", load);
        record("baseline: daily report total", load + daily_ms);
        record("baseline: metrics total", load + metrics_ms);
        if let Some((d, wm)) = &last {
            same = Some(*d == daily && *wm == m);
        }
    }
    if a.per_task {
        eprint!("\rbaseline: per-task loader…");
        let t = Instant::now();
        let data = store.report_dataset_per_task(project).await?;
        record("baseline: per-task loader (1 run)", ms(t));
        std::hint::black_box(&data);
    }
    eprintln!();
    println!(
        "tasks={} history_rows={} runs={} loaded: daily {tasks_daily} tasks / {rows_daily} history rows, metrics {tasks_metrics} tasks / {rows_metrics} history rows",
        a.tasks, a.history, a.runs
    );
    if let Some(same) = same {
        println!("window results identical to the full load: {}", if same { "yes" } else { "NO" });
    }
    println!("| step | median ms | min ms | max ms |\n|---|---|---|---|");
    for (name, mut v) in timings {
        v.sort_by(|a, b| a.total_cmp(b));
        println!("| {name} | {:.1} | {:.1} | {:.1} |", v[v.len() / 2], v[0], v[v.len() - 1]);
    }
    store.close().await;
    if same == Some(false) {
        bail!("the window load gave different reports than the full load");
    }
    Ok(())
}
