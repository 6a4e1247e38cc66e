//! `qunban task`, `say`, `replay`.

use std::io::IsTerminal;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use qunban_core::TaskStatus;
use qunban_server::Engine;
use qunban_store::{InboundMessage, TaskFilter, TaskView};

use super::print_json;

#[derive(Debug, Subcommand)]
pub enum TaskCmd {
    /// List tasks, filtered.
    #[command(after_help = "Examples:\n  qunban task list --project 官网改版\n  qunban task list --owner 张三 --status in_progress\n  qunban task list --overdue --json")]
    List {
        #[arg(long)]
        project: Option<String>,
        #[arg(long)]
        owner: Option<String>,
        /// todo, in_progress, blocked, paused, review, done, cancelled.
        #[arg(long)]
        status: Option<TaskStatus>,
        /// Only open tasks past their deadline.
        #[arg(long)]
        overdue: bool,
        #[arg(long)]
        json: bool,
    },
    /// Show one task with its history.
    #[command(after_help = "Examples:\n  qunban task show TASK-001 --project 官网改版\n  qunban task show 3 --project 官网改版 --json")]
    Show {
        reference: String,
        #[arg(long)]
        project: String,
        #[arg(long)]
        json: bool,
    },
}

fn local(ts: Option<jiff::Timestamp>, tz: &jiff::tz::TimeZone) -> String {
    ts.map(|t| t.to_zoned(tz.clone()).strftime("%Y-%m-%d %H:%M").to_string()).unwrap_or_else(|| "-".into())
}

pub async fn task(cmd: TaskCmd, engine: &Engine) -> Result<()> {
    let store = engine.store();
    let tz = engine.workspace().await?.tz();
    match cmd {
        TaskCmd::List { project, owner, status, overdue, json } => {
            let mut filter = TaskFilter { status, ..Default::default() };
            if let Some(p) = &project {
                filter.project_id = Some(store.project_by_name(p).await?.id);
            }
            if let Some(o) = &owner {
                filter.owner_id = Some(store.member_by_name(o).await?.id);
            }
            if overdue {
                filter.overdue_at = Some(jiff::Timestamp::now());
            }
            let tasks = store.tasks(&filter).await?;
            if json {
                return print_json(&tasks);
            }
            for TaskView { task, project, owner_names } in tasks {
                println!(
                    "{}\t{}\t{}\t{}\t{}%\t{}\t{}",
                    project,
                    task.reference,
                    task.title,
                    task.status,
                    task.progress,
                    owner_names.join(","),
                    local(task.due, &tz)
                );
            }
            Ok(())
        }
        TaskCmd::Show { reference, project, json } => {
            let p = store.project_by_name(&project).await?;
            let view = store.task_by_ref(p.id, &reference).await?;
            let history = store.task_history(view.task.id).await?;
            if json {
                return print_json(&serde_json::json!({ "task": view, "history": history }));
            }
            let t = &view.task;
            println!("#{} {}", t.reference, t.title);
            println!("  project:  {}", view.project);
            println!("  owners:   {}", view.owner_names.join(", "));
            println!("  status:   {} ({}%)", t.status, t.progress);
            println!("  due:      {}", local(t.due, &tz));
            if let Some(p) = t.priority {
                println!("  priority: {}", p.label());
            }
            if let Some(n) = &t.note {
                println!("  note:     {n}");
            }
            println!("  history:");
            for h in history {
                let at = jiff::Timestamp::from_second(h.at).ok();
                println!(
                    "    {}  {}  {}: {} → {}  ({}{})",
                    local(at, &tz),
                    h.actor.as_deref().unwrap_or("-"),
                    h.field,
                    h.old_value.as_deref().unwrap_or("∅"),
                    h.new_value.as_deref().unwrap_or("∅"),
                    h.source,
                    h.message_id.map(|m| format!(", message {m}")).unwrap_or_default()
                );
            }
            Ok(())
        }
    }
}

#[derive(Debug, Args)]
pub struct SayArgs {
    /// Group name, or PLATFORM:CHAT_ID.
    #[arg(long)]
    group: String,
    /// Sender display name.
    #[arg(long)]
    sender: String,
    /// When the message was sent (RFC 3339); defaults to now.
    #[arg(long)]
    at: Option<String>,
    text: String,
    #[arg(long)]
    json: bool,
}

pub async fn say(a: SayArgs, engine: &Engine) -> Result<()> {
    let group = engine.store().group_by_name(&a.group).await?;
    let sent_at = match &a.at {
        Some(s) => qunban_lang::intent::parse_rfc3339(s).with_context(|| format!("bad --at '{s}'"))?.timestamp(),
        None => jiff::Timestamp::now(),
    };
    let msg = InboundMessage {
        platform: group.platform.clone(),
        platform_msg_id: format!("cli-{}", sent_at.as_nanosecond()),
        chat_id: group.chat_id.clone(),
        chat_name: Some(group.name.clone()),
        sender_id: format!("cli:{}", a.sender),
        sender_name: a.sender.clone(),
        text: a.text.clone(),
        sent_at: sent_at.as_second(),
        raw: serde_json::json!({ "source": "cli", "text": a.text }).to_string(),
    };
    let handled = engine.handle(msg).await?;
    if a.json {
        return print_json(&serde_json::json!({
            "message_id": handled.message_id,
            "reply": handled.reply,
            "created": handled.created,
            "updated": handled.updated,
        }));
    }
    println!("{}", handled.reply.unwrap_or_else(|| "(no reply)".into()));
    Ok(())
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    #[arg(long)]
    json: bool,
}

pub async fn replay(a: ReplayArgs, engine: &Engine) -> Result<()> {
    let show = std::io::stderr().is_terminal() && !a.json;
    let report = engine
        .replay(|done, total| {
            if show && (done % 200 == 0 || done == total) {
                eprint!("\rreplaying {done}/{total} messages");
            }
        })
        .await?;
    if show {
        eprintln!();
    }
    if a.json {
        return print_json(&report);
    }
    println!(
        "Replayed {} messages: {} tasks created, {} updates.",
        report.messages, report.tasks_created, report.tasks_updated
    );
    Ok(())
}
