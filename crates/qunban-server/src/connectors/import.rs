//! Importing a personal-WeChat group history (WeChatMsg TXT/CSV export).
//!
//! Personal WeChat has no bot API, so an export is how a team seeds qunban
//! with what was already agreed in the group. Each message goes through
//! [`Engine::handle_with`] like live chat — logged, interpreted, applied —
//! but without notifications: nobody wants the bot answering last month.
//! Ids come from [`ExportedMessage::stable_id`], so importing the same (or a
//! longer) export again only adds what is new.

use std::io::BufRead;

use qunban_connect::wechat_export::{CsvExport, ExportError, ExportFormat, ExportStats, ExportedMessage, TxtExport};
use qunban_store::{Group, InboundMessage, StoreError};
use serde::Serialize;

use crate::pipeline::Engine;

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Text messages read from the export.
    pub read: u64,
    /// New messages logged and interpreted.
    pub imported: u64,
    /// Already in the log from an earlier import.
    pub duplicates: u64,
    pub tasks_created: u64,
    pub tasks_updated: u64,
    /// Images, voice, system rows… (CSV) that carry no text.
    pub skipped_non_text: u64,
    pub skipped_empty: u64,
    /// Unreadable rows, with line numbers (first 20 kept).
    pub errors: u64,
    pub error_samples: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Export(#[from] ExportError),
}

/// Platform of imported messages: ids are namespaced by it, so an export can
/// never collide with live messages of the group's own platform.
pub const IMPORT_PLATFORM: &str = qunban_store::IMPORT_PLATFORM;

/// Imports an export into `group`. `progress(read)` is called after every
/// message. A row the parser cannot read is counted and skipped; an I/O
/// error or a CSV without the required columns stops the import (what was
/// imported so far stays, and a re-run continues where it stopped).
pub async fn import_wechat_export<R: BufRead>(
    engine: &Engine,
    reader: R,
    format: ExportFormat,
    group: &Group,
    mut progress: impl FnMut(u64),
) -> Result<ImportReport, ImportError> {
    let mut report = ImportReport::default();
    let stats = match format {
        ExportFormat::Txt => {
            let mut it = TxtExport::new(reader);
            run(engine, group, &mut it, &mut report, &mut progress).await?;
            it.stats().clone()
        }
        ExportFormat::Csv => {
            let mut it = CsvExport::new(reader);
            run(engine, group, &mut it, &mut report, &mut progress).await?;
            it.stats().clone()
        }
    };
    let ExportStats { skipped_empty, .. } = stats;
    report.skipped_non_text = stats.skipped_non_text();
    report.skipped_empty = skipped_empty;
    Ok(report)
}

async fn run(
    engine: &Engine,
    group: &Group,
    it: &mut dyn Iterator<Item = Result<ExportedMessage, ExportError>>,
    report: &mut ImportReport,
    progress: &mut impl FnMut(u64),
) -> Result<(), ImportError> {
    for item in it {
        let m = match item {
            Ok(m) => m,
            // Fatal: nothing after this can be read reliably.
            Err(e @ (ExportError::Io { .. } | ExportError::MissingColumn(_))) => return Err(e.into()),
            Err(e) => {
                report.errors += 1;
                if report.error_samples.len() < 20 {
                    report.error_samples.push(e.to_string());
                }
                continue;
            }
        };
        report.read += 1;
        let sender_id = m.sender_id.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| m.sender_name.clone());
        let msg = InboundMessage {
            platform: group.platform.clone(),
            platform_msg_id: format!("{IMPORT_PLATFORM}:{}", m.stable_id),
            chat_id: group.chat_id.clone(),
            chat_name: Some(group.name.clone()),
            sender_id: format!("{IMPORT_PLATFORM}:{sender_id}"),
            sender_name: m.sender_name.clone(),
            text: m.text.clone(),
            sent_at: m.sent_at_timestamp().as_second(),
            raw: serde_json::json!({ "source": IMPORT_PLATFORM, "line": m.line, "local_id": m.local_id, "sender": m.sender_name, "text": m.text })
                .to_string(),
        };
        let handled = engine.handle_with(msg, false).await?;
        if handled.duplicate {
            report.duplicates += 1;
        } else {
            report.imported += 1;
            report.tasks_created += handled.created.len() as u64;
            report.tasks_updated += handled.updated.len() as u64;
        }
        progress(report.read);
    }
    Ok(())
}
