//! Parsers for personal-WeChat group chats exported with WeChatMsg (留痕),
//! so a team can seed qunban with its history. Personal WeChat has no bot
//! API; an export is the only way in.
//!
//! Both parsers stream (constant memory apart from the duplicate counter
//! behind [`ExportedMessage::stable_id`]) and yield per-message errors with
//! line numbers, so one bad row does not abort a 100k-message import; the
//! caller decides whether to stop.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, Read};

use jiff::civil::DateTime;
use sha2::{Digest, Sha256};

/// WeChat exports are in China time; +08:00 has had no DST since 1991, so a
/// fixed offset avoids depending on a tz database being installed.
pub const CHINA_OFFSET_HOURS: i8 = 8;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedMessage {
    /// Deterministic id from (time, sender, text, occurrence index): re-importing
    /// the same export yields the same ids, so the importer can upsert.
    pub stable_id: String,
    /// `localId` of the CSV row (absent for TXT).
    pub local_id: Option<i64>,
    /// Civil time in Asia/Shanghai.
    pub sent_at: DateTime,
    pub sender_name: String,
    /// wxid from the CSV `Sender` column, when present.
    pub sender_id: Option<String>,
    /// CSV `IsSender = 1`: the exporting user wrote it.
    pub is_self: bool,
    pub text: String,
    /// 1-based line where the message starts, for error reports.
    pub line: u64,
}

impl ExportedMessage {
    pub fn sent_at_timestamp(&self) -> jiff::Timestamp {
        china_offset().to_timestamp(self.sent_at).expect("export dates are within jiff's range")
    }
}

fn china_offset() -> jiff::tz::Offset {
    jiff::tz::offset(CHINA_OFFSET_HOURS)
}

/// Counts of what was not turned into messages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportStats {
    pub messages: u64,
    /// CSV rows whose `Type` is not 1 (images, voice, system…), by type.
    pub skipped_by_type: BTreeMap<i64, u64>,
    /// Messages with empty text.
    pub skipped_empty: u64,
    /// TXT lines before the first message header.
    pub skipped_lines: u64,
}

impl ExportStats {
    pub fn skipped_non_text(&self) -> u64 {
        self.skipped_by_type.values().sum()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("line {line}: read error: {source}")]
    Io { line: u64, source: std::io::Error },
    #[error("line {line}: not valid UTF-8")]
    NotUtf8 { line: u64 },
    #[error("line {line}: CSV error: {msg}")]
    Csv { line: u64, msg: String },
    #[error("CSV header lacks required column {0:?}")]
    MissingColumn(&'static str),
    #[error("line {line}: column {column}: invalid value {value:?}")]
    BadField { line: u64, column: &'static str, value: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Txt,
    Csv,
}

impl ExportFormat {
    /// By file extension, case-insensitive.
    pub fn from_path(path: &std::path::Path) -> Option<Self> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "txt" => Some(ExportFormat::Txt),
            "csv" => Some(ExportFormat::Csv),
            _ => None,
        }
    }
}

/// Hands out stable ids; the occurrence index keeps two identical "ok"s sent
/// in the same second distinct while staying deterministic across re-imports.
#[derive(Default)]
struct IdMinter {
    seen: HashMap<[u8; 16], u32>,
}

impl IdMinter {
    fn mint(&mut self, at: DateTime, sender: &str, text: &str) -> String {
        let base: [u8; 32] = Sha256::new()
            .chain_update(at.to_string())
            .chain_update([0x1f])
            .chain_update(sender)
            .chain_update([0x1f])
            .chain_update(text)
            .finalize()
            .into();
        let key: [u8; 16] = base[..16].try_into().expect("16 bytes");
        let n = self.seen.entry(key).or_insert(0);
        let idx = *n;
        *n += 1;
        let full = Sha256::new().chain_update(base).chain_update(idx.to_be_bytes()).finalize();
        format!("wx:{}", hex::encode(&full[..16]))
    }
}

fn parse_civil(s: &str) -> Option<DateTime> {
    DateTime::strptime("%Y-%m-%d %H:%M:%S", s.trim()).ok()
}

/// `YYYY-MM-DD HH:MM:SS Name` → (time, name). A line that merely looks
/// similar (bad date, no name) is content, not a header.
fn parse_header(line: &str) -> Option<(DateTime, &str)> {
    let b = line.as_bytes();
    if b.len() < 21 || b[19] != b' ' {
        return None;
    }
    let shape_ok = b[..19].iter().enumerate().all(|(i, c)| match i {
        4 | 7 => *c == b'-',
        10 => *c == b' ',
        13 | 16 => *c == b':',
        _ => c.is_ascii_digit(),
    });
    if !shape_ok {
        return None;
    }
    let name = line[20..].trim();
    if name.is_empty() {
        return None;
    }
    Some((parse_civil(&line[..19])?, name))
}

/// Streaming parser of the TXT export: blocks of a header line
/// `YYYY-MM-DD HH:MM:SS Name`, content lines, and a blank separator. Content
/// may itself contain blank lines; only a header starts a new message, and
/// trailing blank lines of a block are dropped.
pub struct TxtExport<R> {
    reader: R,
    line_no: u64,
    pending: Option<(DateTime, String, u64)>,
    eof: bool,
    ids: IdMinter,
    stats: ExportStats,
    buf: Vec<u8>,
    queued_error: Option<ExportError>,
}

impl<R: BufRead> TxtExport<R> {
    pub fn new(reader: R) -> Self {
        TxtExport { reader, line_no: 0, pending: None, eof: false, ids: IdMinter::default(), stats: ExportStats::default(), buf: Vec::new(), queued_error: None }
    }

    pub fn stats(&self) -> &ExportStats {
        &self.stats
    }

    /// Reads one line without its terminator; `Ok(None)` at EOF.
    fn read_line(&mut self) -> Result<Option<String>, ExportError> {
        self.buf.clear();
        let n = self
            .reader
            .read_until(b'\n', &mut self.buf)
            .map_err(|source| ExportError::Io { line: self.line_no + 1, source })?;
        if n == 0 {
            return Ok(None);
        }
        self.line_no += 1;
        while matches!(self.buf.last(), Some(b'\n' | b'\r')) {
            self.buf.pop();
        }
        let mut s = String::from_utf8(std::mem::take(&mut self.buf)).map_err(|_| ExportError::NotUtf8 { line: self.line_no })?;
        if self.line_no == 1 && s.starts_with('\u{feff}') {
            s.drain(..3);
        }
        Ok(Some(s))
    }

    fn finish(&mut self, at: DateTime, sender: String, line: u64, mut content: Vec<String>) -> Option<ExportedMessage> {
        while content.last().is_some_and(|l| l.trim().is_empty()) {
            content.pop();
        }
        let text = content.join("\n");
        if text.trim().is_empty() {
            self.stats.skipped_empty += 1;
            return None;
        }
        self.stats.messages += 1;
        Some(ExportedMessage {
            stable_id: self.ids.mint(at, &sender, &text),
            local_id: None,
            sent_at: at,
            sender_name: sender,
            sender_id: None,
            is_self: false,
            text,
            line,
        })
    }
}

impl<R: BufRead> Iterator for TxtExport<R> {
    type Item = Result<ExportedMessage, ExportError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.queued_error.take() {
            return Some(Err(e));
        }
        loop {
            if self.eof {
                return None;
            }
            // Find the header that starts the next block.
            let (at, sender, start) = match self.pending.take() {
                Some(h) => h,
                None => loop {
                    match self.read_line() {
                        Err(e @ ExportError::NotUtf8 { .. }) => {
                            self.stats.skipped_lines += 1;
                            return Some(Err(e));
                        }
                        Err(e) => {
                            // I/O errors are not line-local; stop here.
                            self.eof = true;
                            return Some(Err(e));
                        }
                        Ok(None) => {
                            self.eof = true;
                            return None;
                        }
                        Ok(Some(l)) => match parse_header(&l) {
                            Some((at, name)) => break (at, name.to_owned(), self.line_no),
                            None => {
                                if !l.trim().is_empty() {
                                    self.stats.skipped_lines += 1;
                                }
                            }
                        },
                    }
                },
            };
            let mut content = Vec::new();
            loop {
                match self.read_line() {
                    Err(e @ ExportError::NotUtf8 { .. }) => {
                        // Skip just that line; the block goes on and the
                        // error is reported right after its message.
                        self.queued_error.get_or_insert(e);
                    }
                    Err(e) => {
                        self.eof = true;
                        return Some(Err(e));
                    }
                    Ok(None) => {
                        self.eof = true;
                        break;
                    }
                    Ok(Some(l)) => {
                        if let Some((nat, name)) = parse_header(&l) {
                            self.pending = Some((nat, name.to_owned(), self.line_no));
                            break;
                        }
                        content.push(l);
                    }
                }
            }
            if let Some(m) = self.finish(at, sender, start, content) {
                return Some(Ok(m));
            }
            if let Some(e) = self.queued_error.take() {
                return Some(Err(e));
            }
        }
    }
}

/// Column positions of a WeChatMsg CSV, looked up by name so column order
/// changes between WeChatMsg versions do not matter.
struct Columns {
    local_id: Option<usize>,
    typ: usize,
    is_sender: Option<usize>,
    create_time: Option<usize>,
    content: usize,
    str_time: Option<usize>,
    remark: Option<usize>,
    nick: Option<usize>,
    sender: Option<usize>,
}

/// Streaming parser of the CSV export (columns `localId, TalkerId, Type,
/// SubType, IsSender, CreateTime, Status, StrContent, StrTime, Remark,
/// NickName, Sender`). Only `Type = 1` (text) rows become messages; the
/// rest are counted in [`ExportStats::skipped_by_type`].
pub struct CsvExport<R> {
    records: csv::StringRecordsIntoIter<R>,
    cols: Result<Columns, Option<ExportError>>,
    ids: IdMinter,
    stats: ExportStats,
}

impl<R: Read> CsvExport<R> {
    pub fn new(reader: R) -> Self {
        let mut rdr = csv::ReaderBuilder::new().flexible(true).has_headers(true).from_reader(reader);
        let cols = match rdr.headers() {
            Ok(h) => Self::columns(h).map_err(Some),
            Err(e) => Err(Some(ExportError::Csv { line: 1, msg: e.to_string() })),
        };
        CsvExport { records: rdr.into_records(), cols, ids: IdMinter::default(), stats: ExportStats::default() }
    }

    pub fn stats(&self) -> &ExportStats {
        &self.stats
    }

    fn columns(h: &csv::StringRecord) -> Result<Columns, ExportError> {
        let find = |name: &str| h.iter().position(|c| c.trim_start_matches('\u{feff}').trim().eq_ignore_ascii_case(name));
        let cols = Columns {
            local_id: find("localId"),
            typ: find("Type").ok_or(ExportError::MissingColumn("Type"))?,
            is_sender: find("IsSender"),
            create_time: find("CreateTime"),
            content: find("StrContent").ok_or(ExportError::MissingColumn("StrContent"))?,
            str_time: find("StrTime"),
            remark: find("Remark"),
            nick: find("NickName"),
            sender: find("Sender"),
        };
        if cols.str_time.is_none() && cols.create_time.is_none() {
            return Err(ExportError::MissingColumn("StrTime"));
        }
        Ok(cols)
    }

    fn row(&mut self, rec: &csv::StringRecord) -> Result<Option<ExportedMessage>, ExportError> {
        let Ok(c) = &self.cols else { unreachable!("checked by next()") };
        let line = rec.position().map_or(0, |p| p.line());
        let get = |i: Option<usize>| i.and_then(|i| rec.get(i)).map(str::trim).unwrap_or("");
        let typ_s = get(Some(c.typ));
        let typ: i64 = typ_s.parse().map_err(|_| ExportError::BadField { line, column: "Type", value: typ_s.to_owned() })?;
        if typ != 1 {
            *self.stats.skipped_by_type.entry(typ).or_insert(0) += 1;
            return Ok(None);
        }
        let sent_at = match parse_civil(get(c.str_time)) {
            Some(t) => t,
            None => {
                let raw = get(c.create_time);
                let secs: i64 = raw.parse().map_err(|_| ExportError::BadField { line, column: "StrTime/CreateTime", value: raw.to_owned() })?;
                let ts = jiff::Timestamp::from_second(secs)
                    .map_err(|_| ExportError::BadField { line, column: "CreateTime", value: raw.to_owned() })?;
                china_offset().to_datetime(ts)
            }
        };
        let text = rec.get(c.content).unwrap_or("").to_owned();
        if text.trim().is_empty() {
            self.stats.skipped_empty += 1;
            return Ok(None);
        }
        let sender_id = Some(get(c.sender).to_owned()).filter(|s| !s.is_empty());
        let sender_name = [get(c.remark), get(c.nick), get(c.sender)]
            .into_iter()
            .find(|s| !s.is_empty())
            .unwrap_or("")
            .to_owned();
        let local_id_s = get(c.local_id);
        let local_id = if local_id_s.is_empty() {
            None
        } else {
            Some(local_id_s.parse().map_err(|_| ExportError::BadField { line, column: "localId", value: local_id_s.to_owned() })?)
        };
        self.stats.messages += 1;
        Ok(Some(ExportedMessage {
            stable_id: self.ids.mint(sent_at, &sender_name, &text),
            local_id,
            sent_at,
            sender_name,
            sender_id,
            is_self: get(c.is_sender) == "1",
            text,
            line,
        }))
    }
}

impl<R: Read> Iterator for CsvExport<R> {
    type Item = Result<ExportedMessage, ExportError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Err(e) = &mut self.cols {
            // Report a bad header once, then stop.
            return e.take().map(Err);
        }
        loop {
            let rec = match self.records.next()? {
                Ok(r) => r,
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    return Some(Err(ExportError::Csv { line, msg: e.to_string() }));
                }
            };
            match self.row(&rec) {
                Ok(Some(m)) => return Some(Ok(m)),
                Ok(None) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}
