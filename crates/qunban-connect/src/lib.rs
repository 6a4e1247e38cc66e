//! qunban-connect
