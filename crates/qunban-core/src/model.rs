//! Small vocabulary types shared by every layer. Each has a stable lower-case
//! name used in the database, the API and the CLI.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Error for a name that is not one of a vocabulary's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} '{value}' (expected one of: {expected})")]
pub struct UnknownName {
    pub kind: &'static str,
    pub value: String,
    pub expected: &'static str,
}

macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident, $kind:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownName;
            fn from_str(s: &str) -> Result<Self, UnknownName> {
                match s.trim().to_ascii_lowercase().as_str() {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownName {
                        kind: $kind,
                        value: s.to_string(),
                        expected: concat!($($text, " "),+),
                    }),
                }
            }
        }
    };
}

vocabulary!(
    /// Where a task is in its life. `done` and `cancelled` are closed.
    TaskStatus, "status" {
        Todo => "todo",
        InProgress => "in_progress",
        Blocked => "blocked",
        Paused => "paused",
        Review => "review",
        Done => "done",
        Cancelled => "cancelled",
    }
);

impl TaskStatus {
    pub fn is_closed(self) -> bool {
        matches!(self, TaskStatus::Done | TaskStatus::Cancelled)
    }

    /// The word the bot uses in Chinese replies.
    pub fn zh(self) -> &'static str {
        match self {
            TaskStatus::Todo => "待办",
            TaskStatus::InProgress => "进行中",
            TaskStatus::Blocked => "阻塞",
            TaskStatus::Paused => "暂停",
            TaskStatus::Review => "待验收",
            TaskStatus::Done => "已完成",
            TaskStatus::Cancelled => "已取消",
        }
    }
}

vocabulary!(
    /// A member's role in one project. Roles decide who may change what.
    Role, "role" {
        Pm => "pm",
        Lead => "lead",
        Executor => "executor",
        Supervisor => "supervisor",
        Viewer => "viewer",
    }
);

impl Role {
    /// PMs and leads manage other people's work.
    pub fn manages(self) -> bool {
        matches!(self, Role::Pm | Role::Lead)
    }
}

vocabulary!(
    /// What a chat group is for in a project hierarchy.
    GroupKind, "group kind" {
        Master => "master",
        Subtask => "subtask",
        Support => "support",
        Unbound => "unbound",
    }
);

vocabulary!(
    /// Task priority; P0 is the most urgent.
    Priority, "priority" {
        P0 => "p0",
        P1 => "p1",
        P2 => "p2",
        P3 => "p3",
    }
);

impl Priority {
    pub fn label(self) -> &'static str {
        match self {
            Priority::P0 => "P0",
            Priority::P1 => "P1",
            Priority::P2 => "P2",
            Priority::P3 => "P3",
        }
    }
}

vocabulary!(
    /// The language the bot answers in.
    Locale, "locale" {
        Zh => "zh",
        En => "en",
    }
);

// `vocabulary!` declares the enum, so `#[derive(Default)]` cannot be put on it.
#[allow(clippy::derivable_impls)]
impl Default for Locale {
    fn default() -> Self {
        Locale::Zh
    }
}
