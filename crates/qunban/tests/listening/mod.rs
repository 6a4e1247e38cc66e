//! The address a `qunban serve` child prints on stdout
//! (`qunban listening on http://…`), shared by the tests that start one.

use std::io::{BufRead, BufReader};
use std::process::ChildStdout;
use std::sync::mpsc;

/// Reads the child's stdout on a thread and sends the listen address once;
/// the thread keeps draining stdout afterwards so the server never blocks
/// on a full pipe.
pub fn listening_address(stdout: ChildStdout) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(addr) = line.strip_prefix("qunban listening on http://") {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(addr.trim().to_string());
                }
            }
        }
    });
    rx
}
