//! `qunban export csv|xlsx|ics|gantt|json`.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use qunban_report::export::IcsOptions;
use qunban_report::Ctx;
use qunban_server::Engine;
use qunban_store::StandupDays;

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The project name; all projects when left out.
    #[arg(long)]
    project: Option<String>,
    /// Write to this file instead of stdout (required for xlsx).
    #[arg(long, short)]
    output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GanttFormat {
    Svg,
    Mermaid,
}

#[derive(Debug, Subcommand)]
pub enum ExportCmd {
    /// Tasks as CSV (UTF-8 with BOM, Chinese headers, local times).
    #[command(after_help = "Examples:\n  qunban export csv --project 官网改版 > tasks.csv\n  qunban export csv --output all.csv")]
    Csv(ExportArgs),
    /// Tasks as XLSX: a summary sheet plus one sheet per project, real Excel dates.
    #[command(after_help = "Examples:\n  qunban export xlsx --output 任务.xlsx\n  qunban export xlsx --project 官网改版 -o 官网改版.xlsx")]
    Xlsx(ExportArgs),
    /// Deadlines as an iCalendar (RFC 5545) feed, per project or per member.
    #[command(after_help = "Examples:\n  qunban export ics --project 官网改版 -o 官网改版.ics\n  qunban export ics --member 张三 > 张三.ics\nSubscribable URL (served by `qunban serve`):\n  http://HOST/api/v1/calendar/project/官网改版.ics?token=API_TOKEN\n  http://HOST/api/v1/calendar/member/张三.ics?token=API_TOKEN")]
    Ics {
        #[command(flatten)]
        common: ExportArgs,
        /// Only this member's tasks.
        #[arg(long)]
        member: Option<String>,
        /// Include done and cancelled tasks.
        #[arg(long)]
        all: bool,
    },
    /// A Gantt chart: SVG, or Mermaid `gantt` text for docs.
    #[command(after_help = "Examples:\n  qunban export gantt --project 官网改版 -o gantt.svg\n  qunban export gantt --project 官网改版 --format mermaid")]
    Gantt {
        #[command(flatten)]
        common: ExportArgs,
        #[arg(long, value_enum, default_value = "svg")]
        format: GanttFormat,
    },
    /// Tasks as JSON.
    #[command(after_help = "Examples:\n  qunban export json --project 官网改版")]
    Json(ExportArgs),
}

fn write_out(output: &Option<PathBuf>, bytes: &[u8]) -> Result<()> {
    match output {
        Some(p) => {
            std::fs::write(p, bytes).with_context(|| format!("cannot write {}", p.display()))?;
            eprintln!("wrote {} ({} bytes)", p.display(), bytes.len());
            Ok(())
        }
        None => {
            use std::io::Write;
            std::io::stdout().lock().write_all(bytes)?;
            Ok(())
        }
    }
}

pub async fn run(cmd: ExportCmd, engine: &Engine) -> Result<()> {
    let store = engine.store();
    let tz = engine.workspace().await?.tz();
    let ctx = Ctx::new(jiff::Timestamp::now().as_second(), tz);
    let common = match &cmd {
        ExportCmd::Csv(a) | ExportCmd::Xlsx(a) | ExportCmd::Json(a) => a,
        ExportCmd::Ics { common, .. } | ExportCmd::Gantt { common, .. } => common,
    };
    let project = match &common.project {
        Some(p) => Some(store.project_by_name(p).await?),
        None => None,
    };
    let data = store.report_dataset(project.as_ref().map(|p| p.id), &StandupDays::default()).await?;
    let title = project.as_ref().map(|p| p.name.clone()).unwrap_or_else(|| "全部项目".into());
    match &cmd {
        ExportCmd::Csv(a) => write_out(&a.output, &qunban_report::export::csv(&data, &ctx)?),
        ExportCmd::Xlsx(a) => {
            if a.output.is_none() {
                bail!("xlsx is binary: pass --output FILE.xlsx");
            }
            write_out(&a.output, &qunban_report::export::xlsx(&data, &ctx)?)
        }
        ExportCmd::Json(a) => write_out(&a.output, serde_json::to_string_pretty(&qunban_report::export::json(&data, &ctx))?.as_bytes()),
        ExportCmd::Ics { common, member, all } => {
            let member_id = match member {
                Some(m) => Some(store.member_by_name(m).await?.id),
                None => None,
            };
            let name = match member {
                Some(m) => format!("{m} 的截止时间"),
                None => format!("{title} 截止时间"),
            };
            let opts = IcsOptions { name, member: member_id, include_closed: *all, ..Default::default() };
            write_out(&common.output, qunban_report::export::ics(&data, &ctx, &opts).as_bytes())
        }
        ExportCmd::Gantt { common, format } => {
            let text = match format {
                GanttFormat::Svg => qunban_report::gantt::svg(&data, &ctx, &title),
                GanttFormat::Mermaid => qunban_report::gantt::mermaid(&data, &ctx, &title),
            };
            write_out(&common.output, text.as_bytes())
        }
    }
}
