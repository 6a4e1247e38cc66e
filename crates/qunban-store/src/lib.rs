//! qunban-store
