//! The disk spool: batches the collector did not take wait here, one file per batch
//! (JSON lines, oldest first by name), until they can be sent again, by this process or
//! the next one. Bounded in bytes: past the cap the oldest batches go, counted.

use std::fs;
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::export::SpanRecord;

#[derive(Debug)]
pub(crate) struct Spool {
    dir: PathBuf,
    max_bytes: u64,
    seq: AtomicU64,
}

const READY: &str = "jsonl";

impl Spool {
    pub(crate) fn new(dir: PathBuf, max_bytes: u64) -> Self {
        let spool = Self {
            dir,
            max_bytes,
            seq: AtomicU64::new(0),
        };
        spool.reclaim_stale();
        spool
    }

    /// Files claimed by a process that is gone (killed mid-send) are ready again.
    fn reclaim_stale(&self) {
        for path in self.files_with(|name| name.contains(".sending-")) {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let Some((base, pid)) = name.rsplit_once(".sending-") else {
                continue;
            };
            let alive = pid
                .parse::<u32>()
                .is_ok_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
            if !alive || pid == std::process::id().to_string() {
                let _ = fs::rename(&path, self.dir.join(base));
            }
        }
    }

    fn files_with(&self, keep: impl Fn(&str) -> bool) -> Vec<PathBuf> {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.file_name().is_some_and(|n| keep(&n.to_string_lossy())))
            .collect();
        paths.sort();
        paths
    }

    fn ready_files(&self) -> Vec<PathBuf> {
        self.files_with(|name| name.ends_with(&format!(".{READY}")))
    }

    /// Writes one batch; it becomes visible (renamed into place) only once complete.
    pub(crate) fn write(&self, records: &[SpanRecord]) -> io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let name = format!("{nanos:024}-{}-{seq:06}", std::process::id());
        let partial = self.dir.join(format!("{name}.partial"));
        let mut bytes = Vec::new();
        for record in records {
            serde_json::to_writer(&mut bytes, record).map_err(io::Error::other)?;
            bytes.push(b'\n');
        }
        let mut file = fs::File::create(&partial)?;
        file.write_all(&bytes)?;
        file.sync_data()?;
        fs::rename(&partial, self.dir.join(format!("{name}.{READY}")))
    }

    /// Deletes the oldest batches while the spool is over its size; returns how many
    /// spans were dropped.
    pub(crate) fn enforce_limit(&self) -> u64 {
        let mut files: Vec<(PathBuf, u64)> = self
            .ready_files()
            .into_iter()
            .map(|p| {
                let len = fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
                (p, len)
            })
            .collect();
        let mut total: u64 = files.iter().map(|(_, len)| len).sum();
        let mut dropped = 0;
        while total > self.max_bytes && files.len() > 1 {
            let (oldest, len) = files.remove(0);
            let spans = count_lines(&oldest);
            if fs::remove_file(&oldest).is_ok() {
                dropped += spans;
                total -= len;
            }
        }
        dropped
    }

    /// Claims the oldest ready batch (renamed so no other process sends it too).
    pub(crate) fn claim_oldest(&self) -> Option<PathBuf> {
        for path in self.ready_files() {
            let claimed = path.with_extension(format!("{READY}.sending-{}", std::process::id()));
            if fs::rename(&path, &claimed).is_ok() {
                return Some(claimed);
            }
        }
        None
    }

    /// Gives a claimed batch back (its send failed).
    pub(crate) fn release(&self, claimed: &Path) {
        if let Some(name) = claimed
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
        {
            if let Some((base, _)) = name.rsplit_once(".sending-") {
                let _ = fs::rename(claimed, self.dir.join(base));
            }
        }
    }

    /// How many spans wait in the spool.
    pub(crate) fn pending_spans(&self) -> u64 {
        self.ready_files().iter().map(|p| count_lines(p)).sum()
    }
}

fn count_lines(path: &Path) -> u64 {
    fs::File::open(path)
        .map(|f| BufReader::new(f).lines().count() as u64)
        .unwrap_or(0)
}

/// The records of a spooled batch; lines that do not parse are skipped (and counted).
pub(crate) fn read_batch(path: &Path) -> io::Result<(Vec<SpanRecord>, u64)> {
    let mut records = Vec::new();
    let mut bad = 0;
    for line in BufReader::new(fs::File::open(path)?).lines() {
        match serde_json::from_str::<SpanRecord>(&line?) {
            Ok(record) => records.push(record),
            Err(_) => bad += 1,
        }
    }
    Ok((records, bad))
}
