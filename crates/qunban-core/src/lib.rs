//! The project domain and the interpreter, free of IO.
//!
//! `qunban-lang` says what a message *asks for*; this crate decides what that
//! means for the project as it stands (which task `#3` is, whether 张三 is a
//! member, whether the sender may change the task) and what must be answered.
//! Storage loads a [`Snapshot`] of the relevant state, calls
//! [`interpret::interpret`], and persists the resulting [`Command`]s and
//! [`Reply`]s in one transaction.

pub mod admin;
pub mod command;
pub mod conversation;
pub mod interpret;
pub mod model;
pub mod people;
pub mod reply;
pub mod schedule;
pub mod task;

pub use command::{Command, NewTask, TaskPatch};
pub use interpret::{interpret, Actor, Decision, Snapshot};
pub use model::{GroupKind, Locale, Priority, Role, TaskStatus};
pub use reply::Reply;
pub use task::{Task, TaskError};
