//! Per-process copies of rows the ingest path reads on every message but
//! that (almost) never change, so that each callback does not pay a round
//! trip for them.
//!
//! Why this is correct with several instances on one database:
//! - The workspace row is written once (`init_workspace` inserts it with
//!   `ON CONFLICT DO NOTHING` and nothing updates it), so a copy taken after
//!   it exists can never be stale. "Not initialised" is never cached.
//! - A connector's name, kind and (decrypted) configuration never change once
//!   it is created: connectors are neither renamed, edited nor deleted; key
//!   rotation re-seals the same plain values. Only found connectors are
//!   cached (a connector added on another instance is seen at once), and
//!   each copy expires after [`CONNECTOR_TTL`] anyway, so a future "edit" or
//!   "delete" would take effect within that time on every instance.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::connectors::Connector;
use crate::directory::Workspace;

/// How long a connector read from the database is reused.
pub const CONNECTOR_TTL: Duration = Duration::from_secs(30);

/// At most this many connectors are kept (only existing ones are cached,
/// so this is never reached in practice; it bounds memory regardless).
const MAX_CONNECTORS: usize = 256;

#[derive(Default)]
pub(crate) struct Caches {
    workspace: OnceLock<Workspace>,
    connectors: Mutex<HashMap<String, (Instant, Connector)>>,
}

impl Caches {
    pub(crate) fn workspace(&self) -> Option<Workspace> {
        self.workspace.get().cloned()
    }

    pub(crate) fn set_workspace(&self, ws: &Workspace) {
        let _ = self.workspace.set(ws.clone());
    }

    pub(crate) fn connector(&self, name: &str) -> Option<Connector> {
        let map = self.connectors.lock().unwrap_or_else(|e| e.into_inner());
        map.get(name).filter(|(at, _)| at.elapsed() < CONNECTOR_TTL).map(|(_, c)| c.clone())
    }

    pub(crate) fn set_connector(&self, c: &Connector) {
        let mut map = self.connectors.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_CONNECTORS {
            map.retain(|_, (at, _)| at.elapsed() < CONNECTOR_TTL);
            if map.len() >= MAX_CONNECTORS {
                map.clear();
            }
        }
        map.insert(c.name.clone(), (Instant::now(), c.clone()));
    }

    pub(crate) fn forget_connectors(&self) {
        self.connectors.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}
