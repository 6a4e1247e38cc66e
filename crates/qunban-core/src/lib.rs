//! qunban-core
