//! Chat messages to intents.
//!
//! One message goes through the readers from the most structured to the
//! least: a stand-up (section headers), a task template (field markers),
//! updates (a task reference), and finally free text. The first reader that
//! recognises the message decides; structure is a stronger signal than words,
//! and a template that happens to contain `#TASK-001` must still be read as
//! a template.

mod common;
mod freetext;
mod lex;
mod normalize;
mod owners;
mod standup;
mod template;
mod update;

use crate::intent::{Intent, MessageContext};

pub use normalize::normalize;

/// Messages longer than this are not chat lines but pasted documents; the
/// parser reads only their beginning so its cost stays bounded.
const MAX_BYTES: usize = 16 * 1024;

/// What a message asks for; `[Intent::None]` when it asks for nothing.
pub fn parse_message(text: &str, ctx: &MessageContext<'_>) -> Vec<Intent> {
    let cut = floor_char_boundary(text, MAX_BYTES);
    let norm = normalize(&text[..cut]);
    let t = norm.trim();
    if t.is_empty() {
        return vec![Intent::None];
    }
    if let Some(s) = standup::parse(t) {
        return vec![Intent::Standup(s)];
    }
    let tasks = template::parse(t, ctx);
    if !tasks.is_empty() {
        return tasks.into_iter().map(Intent::CreateTask).collect();
    }
    if let Some(updates) = update::parse(t, ctx) {
        return updates;
    }
    match freetext::parse(t, ctx) {
        Some(task) => vec![Intent::CreateTask(task)],
        None => vec![Intent::None],
    }
}

fn floor_char_boundary(s: &str, max: usize) -> usize {
    if s.len() <= max {
        return s.len();
    }
    (0..=max).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0)
}
