//! The running side of qunban: the message pipeline and the HTTP server.
//!
//! [`pipeline::Engine`] is the straight line every message follows —
//! log → interpret → state + outbox — whether it arrives from a platform
//! callback, a chat-export import, the playground, or a replay of the log.
//! [`http`] puts the platform callbacks and the REST API in front of it.

pub mod connectors;
pub mod delivery;
pub mod http;
pub mod http_reports;
pub mod limits;
pub mod pipeline;
pub mod recovery;
pub mod scheduler;
pub mod trace;
pub mod web;

pub use pipeline::{Engine, Handled, ReplayReport};
