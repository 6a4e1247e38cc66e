//! `qunban import chat`: seed a group with its WeChat history.

use std::io::{BufReader, IsTerminal};
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use qunban_connect::wechat_export::ExportFormat;
use qunban_server::connectors::import::import_wechat_export;
use qunban_server::Engine;

use super::print_json;

#[derive(Debug, Subcommand)]
pub enum ImportCmd {
    /// Import a personal-WeChat group chat exported with WeChatMsg (留痕),
    /// TXT or CSV. Messages are interpreted like live chat (tasks created,
    /// updated) but the bot stays silent. Re-importing is safe: messages
    /// already imported are skipped.
    #[command(after_help = "Examples:\n  qunban group add 官网改版群 --platform wechat --chat-id gw-team --project 官网改版\n  qunban import chat 官网改版群.txt --group 官网改版群\n  qunban import chat export.csv --group wechat:gw-team --json")]
    Chat(ChatArgs),
    /// Import tasks from a CSV or XLSX file (the export's columns); every row
    /// is checked first and a file imports whole or not at all.
    #[command(after_help = "Examples:\n  qunban import tasks 任务.xlsx --project 官网改版 --dry-run\n  qunban import tasks tasks.csv --project 官网改版\n  qunban import tasks tasks.csv --json")]
    Tasks(super::import_tasks::ImportTasksArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Txt,
    Csv,
}

#[derive(Debug, Args)]
pub struct ChatArgs {
    /// The export file.
    file: PathBuf,
    /// The qunban group (name or PLATFORM:CHAT_ID) the chat belongs to.
    #[arg(long)]
    group: String,
    /// Defaults to the file extension.
    #[arg(long, value_enum)]
    format: Option<Format>,
    #[arg(long)]
    json: bool,
}

pub async fn run(cmd: ImportCmd, engine: &Engine) -> Result<()> {
    let a = match cmd {
        ImportCmd::Chat(a) => a,
        ImportCmd::Tasks(a) => return super::import_tasks::run(a, engine).await,
    };
    let group = engine
        .store()
        .group_by_name(&a.group)
        .await
        .with_context(|| format!("register the group first: qunban group add '{}' --platform wechat --chat-id ID --project P", a.group))?;
    let format = match a.format {
        Some(Format::Txt) => ExportFormat::Txt,
        Some(Format::Csv) => ExportFormat::Csv,
        None => ExportFormat::from_path(&a.file).context("cannot tell the export format from the file name; pass --format txt|csv")?,
    };
    let file = std::fs::File::open(&a.file).with_context(|| format!("cannot open {}", a.file.display()))?;
    let show = std::io::stderr().is_terminal();
    let report = import_wechat_export(engine, BufReader::new(file), format, &group, |n| {
        if show && n % 250 == 0 {
            eprint!("\rimporting: {n} messages");
        }
    })
    .await?;
    if show {
        eprintln!("\rimporting: {} messages", report.read);
    }
    if a.json {
        return print_json(&report);
    }
    println!(
        "Imported {} messages into '{}' ({} already imported, skipped): {} tasks created, {} updates.",
        report.imported, group.name, report.duplicates, report.tasks_created, report.tasks_updated
    );
    if report.skipped_non_text + report.skipped_empty > 0 {
        println!("Skipped {} non-text and {} empty messages.", report.skipped_non_text, report.skipped_empty);
    }
    if report.errors > 0 {
        println!("{} unreadable rows were skipped, e.g.:", report.errors);
        for e in &report.error_samples {
            println!("  {e}");
        }
    }
    Ok(())
}
