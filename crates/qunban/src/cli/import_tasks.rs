//! `qunban import tasks FILE [--dry-run]`: tasks from CSV or XLSX, validated
//! whole before anything is written, then created in one transaction through
//! the same `CreateTask` command the chat uses (history source `import`).

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use qunban_core::{Command, Decision, NewTask};
use qunban_report::import::{self, RowError};
use qunban_report::Ctx;
use qunban_server::Engine;
use qunban_store::MessageContext;

use super::print_json;

#[derive(Debug, Args)]
pub struct ImportTasksArgs {
    /// A .csv or .xlsx file with the export's headers (任务编号, 标题,
    /// 负责人, 状态, 进度, 优先级, 截止时间, 所属项目, 里程碑; 标题 and 负责人
    /// required; a milestone that does not exist is created).
    pub file: PathBuf,
    /// The project to create the tasks in (a 所属项目 column may name others).
    #[arg(long)]
    pub project: Option<String>,
    /// XLSX: the worksheet to read (default: the first that is not 汇总).
    #[arg(long)]
    pub sheet: Option<String>,
    /// Check every row and list the errors; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Who the history names as the creator.
    #[arg(long = "as", default_value = "导入")]
    pub actor: String,
    #[arg(long)]
    pub json: bool,
}

pub async fn run(a: ImportTasksArgs, engine: &Engine) -> Result<()> {
    let store = engine.store();
    let ws = engine.workspace().await?;
    let tz = ws.tz();
    let now = jiff::Timestamp::now();
    let ctx = Ctx::new(now.as_second(), tz.clone());
    let bytes = std::fs::read(&a.file).with_context(|| format!("cannot read {}", a.file.display()))?;
    let ext = a.file.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let table = match ext.as_str() {
        "csv" | "txt" => import::read_csv(&bytes)?,
        "xlsx" => import::read_xlsx(&bytes, a.sheet.as_deref())?,
        other => bail!("cannot import '.{other}' files: use .csv or .xlsx"),
    };
    let mut parsed = import::validate(&table, &ctx)?;
    let default_project = match &a.project {
        Some(p) => Some(store.project_by_name(p).await?),
        None => None,
    };
    // Resolve each row's project; unknown projects are row errors.
    let mut commands = Vec::new();
    for r in &parsed.rows {
        let project = match (&r.project, &default_project) {
            (Some(name), _) => match store.project_by_name(name).await {
                Ok(p) => p,
                Err(_) => {
                    parsed.errors.push(RowError { row: r.row, column: Some("所属项目".into()), message: format!("unknown project '{name}'") });
                    continue;
                }
            },
            (None, Some(p)) => p.clone(),
            (None, None) => {
                parsed.errors.push(RowError { row: r.row, column: Some("所属项目".into()), message: "no project: add a 所属项目 column or pass --project".into() });
                continue;
            }
        };
        commands.push(Command::CreateTask(NewTask {
            project_id: project.id,
            requested_reference: r.reference.clone(),
            title: r.title.clone(),
            owner_names: r.owners.clone(),
            due: r.due.and_then(|d| jiff::Timestamp::from_second(d).ok()),
            status: r.status,
            progress: r.progress,
            priority: r.priority,
            note: r.note.clone(),
            milestone: r.milestone.clone(),
            ..Default::default()
        }));
    }
    parsed.errors.sort_by_key(|e| e.row);
    if !parsed.errors.is_empty() {
        if a.json {
            print_json(&serde_json::json!({ "imported": 0, "dry_run": a.dry_run, "errors": parsed.errors }))?;
        } else {
            for e in &parsed.errors {
                eprintln!("{}: {e}", a.file.display());
            }
        }
        bail!("{} error(s) in {}; nothing was imported", parsed.errors.len(), a.file.display());
    }
    if a.dry_run {
        if a.json {
            return print_json(&serde_json::json!({ "imported": 0, "dry_run": true, "valid_rows": commands.len(), "errors": [] }));
        }
        println!("{}: {} rows are valid; nothing written (--dry-run).", a.file.display(), commands.len());
        return Ok(());
    }
    let actor = store.ensure_member("import", &format!("import:{}", a.actor), &a.actor).await?;
    let mctx = MessageContext { message_id: None, source: "import".into(), group: None, actor, now, emit_outbox: false };
    let n = commands.len();
    let applied = store.apply(&mctx, Decision { commands, replies: vec![], ..Default::default() }, &tz, ws.locale).await?;
    if a.json {
        return print_json(&serde_json::json!({ "imported": n, "dry_run": false, "created": applied.created, "errors": [] }));
    }
    println!("Imported {n} tasks from {}: {}", a.file.display(), applied.created.join(", "));
    Ok(())
}
