//! qunban-server
