//! Reading the embedded store back: every `*.jsonl` file of a directory, merged.

use std::fs;
use std::io::{self, BufRead, BufReader};

/// Splits a file into lines as bytes: a line that is not UTF-8 (torn inside a character
/// by a killed process) is one bad line, not a failed store.
fn byte_lines(reader: impl BufRead) -> impl Iterator<Item = io::Result<Vec<u8>>> {
    reader.split(b'\n')
}
use std::path::Path;

use traced::export::SpanRecord;

/// The spans of a store, and how many lines could not be read.
#[derive(Debug, Default)]
pub struct Store {
    /// Every span read, from every file.
    pub spans: Vec<SpanRecord>,
    /// Lines that were not a span (a torn last line of a killed process, say).
    pub skipped_lines: usize,
}

/// Reads every `*.jsonl` file under `dir`. A missing directory is an empty store.
///
/// ```
/// let store = traced_viewer::read_store("/no/such/dir").unwrap();
/// assert!(store.spans.is_empty());
/// ```
pub fn read_store(dir: impl AsRef<Path>) -> io::Result<Store> {
    let mut store = Store::default();
    let entries = match fs::read_dir(dir.as_ref()) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(store),
        Err(error) => return Err(error),
    };
    let mut paths: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "jsonl"))
        .collect();
    paths.sort();
    for path in paths {
        let reader = BufReader::new(fs::File::open(&path)?);
        for line in byte_lines(reader) {
            let line = line?;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<SpanRecord>(&line) {
                Ok(span) => store.spans.push(span),
                Err(_) => store.skipped_lines += 1,
            }
        }
    }
    Ok(store)
}
