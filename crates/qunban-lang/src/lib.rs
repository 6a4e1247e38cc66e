//! The language of team chats, turned into structured intents.
//!
//! This crate is pure: no IO, no clock, no database. Everything that depends on
//! the outside world (the current instant, the holiday calendar, the sender) is
//! passed in, so that the same input always yields the same output and the
//! labelled corpora under `tests/` can act as the specification.

pub mod calendar;
pub mod command;
pub mod deadline;
pub mod followup;
pub mod intent;
pub mod lunar;
pub mod message;

pub use calendar::Calendar;
pub use command::{parse_bot_command, BotCommand};
pub use deadline::{find_deadlines, parse_deadline, DeadlineMatch};
pub use followup::{bare_names, parse_followup, FollowUp};
pub use intent::{Intent, MessageContext, Standup, TaskFields, TaskUpdate};
pub use message::parse_message;
