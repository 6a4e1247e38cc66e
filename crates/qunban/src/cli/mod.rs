//! Command-line definitions and their dispatch.

mod bench_ingest;
mod connector;
mod directory;
mod export;
mod import;
mod outbox;
mod import_tasks;
mod parse;
mod remind;
mod report;
pub mod retention;
mod secrets;
mod serve;
mod tasks;
mod web;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use qunban_lang::Calendar;
use qunban_server::Engine;
use qunban_store::Store;

/// qunban (群办): chat-native project management for WeCom, DingTalk and
/// Feishu groups.
#[derive(Debug, Parser)]
#[command(name = "qunban", version, about, long_about = None, after_help = "Examples:\n  qunban serve\n  qunban init --name 研发部\n  qunban project add 官网改版\n  qunban task list --project 官网改版 --overdue --json\n  qunban parse deadline --now 2026-01-14T10:30:00+08:00 明天下午3点")]
pub struct Cli {
    /// Database: sqlite:PATH (embedded, the default) or postgres://user:pass@host/db.
    #[arg(long, global = true, env = "QUNBAN_DATABASE_URL", default_value = "sqlite:qunban-data/qunban.db", hide_env_values = true)]
    pub database_url: String,

    /// A folder of holiday calendar files (YYYY.txt) that override or extend
    /// the built-in China calendar.
    #[arg(long, global = true, env = "QUNBAN_HOLIDAYS_DIR")]
    pub holidays_dir: Option<PathBuf>,

    /// The file holding the key connector secrets are encrypted with
    /// (created 0600 with a random key on first use). Default: secret.key
    /// next to the SQLite database, or qunban-data/secret.key. Ignored when
    /// QUNBAN_SECRET_KEY (base64, 32 bytes) is set; older keys for reading
    /// go in QUNBAN_SECRET_KEY_OLD (see docs/SECRETS.md).
    #[arg(long, global = true, env = "QUNBAN_SECRET_KEY_FILE")]
    pub secret_key_file: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: platform callbacks, REST API, outbox delivery.
    #[command(after_help = "Examples:\n  qunban serve\n  qunban serve --listen 0.0.0.0:8080\n  QUNBAN_DATABASE_URL=postgres://qb@127.0.0.1/qunban qunban serve")]
    Serve(serve::ServeArgs),
    /// Create the workspace and its first admin API token (idempotent).
    #[command(after_help = "Examples:\n  qunban init\n  qunban init --name 研发部 --timezone Asia/Shanghai --json")]
    Init(directory::InitArgs),
    /// Projects: add and list.
    #[command(subcommand)]
    Project(directory::ProjectCmd),
    /// Chat groups: add, list, bind to projects.
    #[command(subcommand)]
    Group(directory::GroupCmd),
    /// Members: add, list, give roles, aliases (老李 → 李建国).
    #[command(subcommand)]
    Member(directory::MemberCmd),
    /// Tasks: list and show.
    #[command(subcommand)]
    Task(tasks::TaskCmd),
    /// Send a chat message through the bot as if typed in a group.
    #[command(after_help = "Examples:\n  qunban say --group 官网改版总控群 --sender 张三 '@李四 周五前把登录页做完'\n  qunban say --group wecom:wr123 --sender 李四 '#1 进度60%' --json")]
    Say(tasks::SayArgs),
    /// Rebuild all tasks and history from the message log.
    #[command(after_help = "Examples:\n  qunban replay\n  qunban replay --json")]
    Replay(tasks::ReplayArgs),
    /// Show what qunban understands in a text (deadlines, messages).
    #[command(subcommand)]
    Parse(parse::ParseCmd),
    /// Reports: daily (with the stand-up digest), weekly, metrics.
    #[command(subcommand, after_help = "Examples:\n  qunban report daily --project 官网改版\n  qunban report weekly --project 官网改版 --date 2026-01-15 --format json\n  qunban report metrics --project 官网改版 --from 2026-01-01 --to 2026-03-31")]
    Report(report::ReportCmd),
    /// Exports: CSV, XLSX, ICS calendar, Gantt (SVG / Mermaid), JSON.
    #[command(subcommand, after_help = "Examples:\n  qunban export xlsx -o 任务.xlsx\n  qunban export ics --member 张三 -o 张三.ics\n  qunban export gantt --project 官网改版 --format mermaid")]
    Export(export::ExportCmd),
    /// Benchmarks on generated data in a temporary database.
    #[command(subcommand, after_help = "Examples:\n  qunban bench reports\n  qunban bench reports --tasks 10000 --history 100000 --baseline\n  qunban bench ingest --messages 2000 --clients 8")]
    Bench(report::BenchCmd),
    /// Reminders on the work calendar: run the rules at an instant, list the next occurrences, change a group's rules.
    #[command(subcommand, after_help = "Examples:\n  qunban remind run --at 2026-01-15T16:00:00+08:00\n  qunban remind list --group 官网改版总控群\n  qunban remind set --group 官网改版总控群 --rule morning --at 09:30")]
    Remind(remind::RemindCmd),
    /// Platform connectors: WeCom, DingTalk, Feishu callbacks and generic webhooks.
    #[command(subcommand, after_help = "Examples:\n  qunban connector add wecom-bot --name pm-bot --token T --aes-key K43\n  qunban connector list --json")]
    Connector(connector::ConnectorCmd),
    /// The outbox of bot messages: list, retry dead letters.
    #[command(subcommand, after_help = "Examples:\n  qunban outbox list --failed\n  qunban outbox retry 42")]
    Outbox(outbox::OutboxCmd),
    /// Import chat history (WeChatMsg TXT/CSV exports).
    #[command(subcommand, after_help = "Examples:\n  qunban import chat 聊天记录.txt --group 官网改版群")]
    Import(import::ImportCmd),
    /// Load a realistic demo project (groups, members, three weeks of chat) into an empty database.
    #[command(after_help = "Examples:\n  qunban demo\n  qunban demo --json")]
    Demo(web::DemoArgs),
    /// The key connector secrets are encrypted with: rotate, generate.
    #[command(subcommand, after_help = "Examples:\n  qunban secrets rotate --generate\n  qunban secrets generate-key")]
    Secrets(secrets::SecretsCmd),
    /// Prune delivered outbox rows, expired sessions and the replay cache (the message log is kept).
    #[command(subcommand, after_help = "Examples:\n  qunban retention run\n  qunban retention run --json")]
    Retention(retention::RetentionCmd),
    /// Dashboard sign-in accounts: add, reset a password.
    #[command(subcommand, after_help = "Examples:\n  qunban account add 张三 --login zhangsan\n  qunban account password zhangsan")]
    Account(web::AccountCmd),
}

pub async fn run(cli: Cli) -> Result<()> {
    let calendar = Arc::new(load_calendar(cli.holidays_dir.as_deref())?);
    match cli.command {
        Command::Parse(cmd) => parse::run(cmd, &calendar),
        Command::Bench(cmd) => report::bench(cmd, &cli.database_url).await,
        command => {
            let mut keys = qunban_store::KeyConfig::from_env();
            if cli.secret_key_file.is_some() {
                keys.key_file = cli.secret_key_file.clone();
            }
            let store = Store::open_with(&cli.database_url, &keys).await.context("cannot open the database")?;
            let engine = Engine::new(store.clone(), calendar);
            let result = match command {
                Command::Serve(a) => serve::run(a, engine).await,
                Command::Init(a) => directory::init(a, &store).await,
                Command::Project(c) => directory::project(c, &store).await,
                Command::Group(c) => directory::group(c, &store).await,
                Command::Member(c) => directory::member(c, &store).await,
                Command::Task(c) => tasks::task(c, &engine).await,
                Command::Say(a) => tasks::say(a, &engine).await,
                Command::Replay(a) => tasks::replay(a, &engine).await,
                Command::Remind(c) => remind::remind(c, &engine).await,
                Command::Connector(c) => connector::run(c, &store).await,
                Command::Outbox(c) => outbox::run(c, &store).await,
                Command::Import(c) => import::run(c, &engine).await,
                Command::Report(c) => report::run(c, &engine).await,
                Command::Export(c) => export::run(c, &engine).await,
                Command::Demo(a) => web::demo(a, &engine).await,
                Command::Account(c) => web::account(c, &engine).await,
                Command::Secrets(c) => secrets::run(c, &store).await,
                Command::Retention(c) => retention::run(c, &store).await,
                Command::Parse(_) | Command::Bench(_) => unreachable!("handled above"),
            };
            store.close().await;
            result
        }
    }
}

fn load_calendar(dir: Option<&std::path::Path>) -> Result<Calendar> {
    let mut calendar = Calendar::builtin();
    if let Some(dir) = dir {
        let entries = std::fs::read_dir(dir).with_context(|| format!("cannot read holidays dir {}", dir.display()))?;
        for entry in entries {
            let path = entry?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("txt") {
                continue;
            }
            let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
            calendar = calendar.with_year_text(&path.display().to_string(), &text).with_context(|| format!("bad holiday file {}", path.display()))?;
        }
    }
    Ok(calendar)
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json<T: serde::Serialize>(v: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}
