//! The scheduler's pure half: which reminders are due when, and what they say.
//!
//! [`rules`] turns per-group rule settings, the China work calendar, a time
//! zone and a window of time into [`rules::Occurrence`]s, each with a stable
//! occurrence key (`morning:g42:2026-01-15`) that storage uses to fire every
//! occurrence exactly once. [`compose`] turns the tasks and stand-ups an
//! occurrence is about into concise Chinese text grouped by owner, split to
//! fit a platform's message size. Neither does any IO; storage loads the
//! inputs and persists the results (`qunban-store`'s `schedule.rs`).

pub mod compose;
pub mod rules;

pub use compose::{split_for_limit, TaskLine};
pub use rules::{
    plan, GroupRules, GroupTarget, MilestoneTarget, Occurrence, Plan, Rule, RuleKind, Step, Subject, TaskTarget,
};
