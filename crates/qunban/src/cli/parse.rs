//! `qunban parse`: what the bot understands, for users and scripts.

use std::io::{BufRead, Write};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use jiff::Zoned;
use qunban_lang::intent::{parse_rfc3339, rfc3339};
use qunban_lang::{parse_deadline, parse_message, Calendar, MessageContext};

#[derive(Debug, Subcommand)]
pub enum ParseCmd {
    /// Resolve a deadline phrase to an instant (RFC 3339, +08:00), or NONE.
    #[command(after_help = "Examples:\n  qunban parse deadline --now 2026-01-14T10:30:00+08:00 明天下午3点\n  printf '2026-04-22T14:00:00+08:00\\t3个工作日内\\n' | qunban parse deadline --tsv")]
    Deadline(DeadlineArgs),
    /// Show the intents found in a chat message, as JSON.
    #[command(after_help = "Examples:\n  qunban parse message --now 2026-01-14T10:30:00+08:00 --sender 张三 '@李四 明天下午3点前把需求文档写完'\n  qunban parse message --sender 张三 '#3 进度60%'")]
    Message(MessageArgs),
}

#[derive(Debug, Args)]
pub struct DeadlineArgs {
    /// Reference instant (RFC 3339); defaults to now in Asia/Shanghai.
    #[arg(long)]
    now: Option<String>,
    /// Read `now<TAB>text` lines from stdin; print one result per line.
    #[arg(long, conflicts_with = "text")]
    tsv: bool,
    /// The phrase.
    #[arg(required_unless_present = "tsv")]
    text: Option<String>,
}

#[derive(Debug, Args)]
pub struct MessageArgs {
    /// Reference instant (RFC 3339); defaults to now in Asia/Shanghai.
    #[arg(long)]
    now: Option<String>,
    /// Display name of the sender ("我" means them).
    #[arg(long, default_value = "我")]
    sender: String,
    /// The message text.
    text: String,
}

fn now_arg(now: Option<&str>) -> Result<Zoned> {
    match now {
        Some(s) => parse_rfc3339(s.trim()).with_context(|| format!("bad --now '{s}': expected RFC 3339 like 2026-01-14T10:30:00+08:00")),
        None => Ok(jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::get("Asia/Shanghai")?)),
    }
}

fn shown(d: Option<Zoned>) -> String {
    d.map(|z| rfc3339(&z)).unwrap_or_else(|| "NONE".into())
}

pub fn run(cmd: ParseCmd, calendar: &Calendar) -> Result<()> {
    match cmd {
        ParseCmd::Deadline(a) if a.tsv => {
            let stdin = std::io::stdin();
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            for (n, line) in stdin.lock().lines().enumerate() {
                let line = line?;
                let line = line.trim_end_matches('\r');
                let Some((now, text)) = line.split_once('\t') else {
                    bail!("line {}: expected now<TAB>text", n + 1);
                };
                let now = now_arg(Some(now)).with_context(|| format!("line {}", n + 1))?;
                writeln!(out, "{}", shown(parse_deadline(text, &now, calendar)))?;
            }
            out.flush()?;
            Ok(())
        }
        ParseCmd::Deadline(a) => {
            let now = now_arg(a.now.as_deref())?;
            println!("{}", shown(parse_deadline(a.text.as_deref().unwrap_or_default(), &now, calendar)));
            Ok(())
        }
        ParseCmd::Message(a) => {
            let now = now_arg(a.now.as_deref())?;
            let ctx = MessageContext { now, sender: a.sender, calendar };
            let intents = parse_message(&a.text, &ctx);
            #[derive(serde::Serialize)]
            struct Output<'a> {
                intents: &'a [qunban_lang::Intent],
            }
            println!("{}", serde_json::to_string_pretty(&Output { intents: &intents })?);
            Ok(())
        }
    }
}
