//! The embedded store's reader: the input is written as a `.jsonl` file into a temporary
//! directory and read back with `traced_viewer::read_store`; it is also parsed whole as
//! one `SpanRecord` with `serde_json::from_slice`.
//!
//! Checks: no panic; a record that parses serialises and parses back the same; the store
//! reads every line of any file (UTF-8 or not), as a span or as a skipped line. (A line
//! that was not UTF-8 once failed the whole store: fuzz/artifacts/store_reader/ keeps the
//! input that found it.)
//!
//! The store is written under `$TMPDIR/traced-fuzz-store-<pid>/` (scripts/fuzz.sh points
//! TMPDIR at its own temporary directory).
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use traced::export::SpanRecord;
use traced_viewer::read_store;

struct Scratch {
    dir: PathBuf,
}

fn scratch() -> &'static Scratch {
    static SCRATCH: OnceLock<Scratch> = OnceLock::new();
    SCRATCH.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("traced-fuzz-store-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        Scratch { dir }
    })
}

fn round_trips(record: &SpanRecord) {
    let json = serde_json::to_string(record).expect("a record serialises");
    let again: SpanRecord = serde_json::from_str(&json).expect("what we write, we read");
    assert_eq!(&again, record, "{json}");
}

fuzz_target!(|data: &[u8]| {
    if let Ok(record) = serde_json::from_slice::<SpanRecord>(data) {
        round_trips(&record);
        let _ = (
            record.service_name(),
            record.duration_nanos(),
            record.attribute("a"),
        );
    }

    let scratch = scratch();
    std::fs::write(scratch.dir.join("spans.jsonl"), data).expect("write the store file");
    match read_store(&scratch.dir) {
        Ok(store) => {
            let lines = data
                .split(|&b| b == b'\n')
                .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
                .count();
            assert_eq!(store.spans.len() + store.skipped_lines, lines);
            for span in &store.spans {
                round_trips(span);
            }
        }
        Err(error) => panic!(
            "read_store failed on {:?}: {error}",
            String::from_utf8_lossy(data)
        ),
    }
});
