//! WeChat chat-export files (TXT and CSV) read line by line: never panic,
//! never loop forever.
#![no_main]
use libfuzzer_sys::fuzz_target;
use qunban_connect::wechat_export::{CsvExport, TxtExport};

fuzz_target!(|data: &[u8]| {
    for m in TxtExport::new(std::io::BufReader::new(data)).take(10_000) {
        let _ = m;
    }
    for m in CsvExport::new(data).take(10_000) {
        let _ = m;
    }
});
