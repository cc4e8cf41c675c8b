//! The disk spool: batches the collector did not take wait here, one file per batch
//! (JSON lines, oldest first by name), until they can be sent again, by this process or
//! the next one. Bounded in bytes: past the cap the oldest batches go, counted.
//!
//! A file's name carries its span count (`{time}-{pid}-{seq}-n{count}.jsonl`), so the
//! spool is measured from its directory listing alone: no file is read to count it.
//! Lines leave out the resource (the exporter that sends them again has its own), which
//! keeps a small span near a third of its size in the embedded store.

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

const READY: &str = ".jsonl";
const PARTIAL: &str = ".partial";
const CLAIMED: &str = ".sending-";

/// The span count a file name carries (`...-n{count}.jsonl`, possibly claimed).
fn span_count(path: &Path) -> u64 {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name.split(READY).next().unwrap_or_default();
    stem.rsplit_once("-n")
        .and_then(|(_, count)| count.parse().ok())
        .unwrap_or(0)
}

fn pid_is_alive(pid: &str) -> bool {
    pid.parse::<u32>()
        .is_ok_and(|pid| pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists())
}

impl Spool {
    pub(crate) fn new(dir: PathBuf, max_bytes: u64) -> Self {
        let spool = Self {
            dir,
            max_bytes,
            seq: AtomicU64::new(0),
        };
        spool.recover();
        spool
    }

    /// What a process that is gone left behind: claimed batches are ready again, and a
    /// batch it was writing when killed keeps the lines it completed.
    fn recover(&self) {
        for path in self.files_with(|name| name.contains(CLAIMED)) {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if let Some((base, pid)) = name.rsplit_once(CLAIMED) {
                if !pid_is_alive(pid) || pid == std::process::id().to_string() {
                    let _ = fs::rename(&path, self.dir.join(base));
                }
            }
        }
        for path in self.files_with(|name| name.ends_with(PARTIAL)) {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let pid = name.split('-').nth(1).unwrap_or_default();
            if pid_is_alive(pid) && pid != std::process::id().to_string() {
                continue; // another live process is writing it
            }
            match read_batch(&path) {
                Ok((records, torn)) => {
                    if torn > 0 {
                        log::warn!(
                            "traced: {torn} spans of a batch a killed process was writing are lost"
                        );
                    }
                    if !records.is_empty() && self.write(&records).is_err() {
                        continue;
                    }
                    let _ = fs::remove_file(&path);
                }
                Err(error) => log::warn!("traced: cannot read {}: {error}", path.display()),
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
        self.files_with(|name| name.ends_with(READY))
    }

    /// Writes one batch; it becomes visible (renamed into place) only once complete.
    pub(crate) fn write(&self, records: &[SpanRecord]) -> io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let name = format!(
            "{nanos:024}-{}-{seq:06}-n{}",
            std::process::id(),
            records.len()
        );
        let partial = self.dir.join(format!("{name}{PARTIAL}"));
        let mut bytes = Vec::with_capacity(records.len() * 400);
        for record in records {
            if record.resource.is_empty() {
                serde_json::to_writer(&mut bytes, record).map_err(io::Error::other)?;
            } else {
                let mut lean = record.clone();
                lean.resource = Default::default();
                serde_json::to_writer(&mut bytes, &lean).map_err(io::Error::other)?;
            }
            bytes.push(b'\n');
        }
        let mut file = fs::File::create(&partial)?;
        file.write_all(&bytes)?;
        file.sync_data()?;
        fs::rename(&partial, self.dir.join(format!("{name}{READY}")))
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
            if fs::remove_file(&oldest).is_ok() {
                dropped += span_count(&oldest);
                total -= len;
            }
        }
        dropped
    }

    /// Claims the oldest ready batch (renamed so no other process sends it too).
    pub(crate) fn claim_oldest(&self) -> Option<PathBuf> {
        for path in self.ready_files() {
            let mut claimed = path.clone().into_os_string();
            claimed.push(format!("{CLAIMED}{}", std::process::id()));
            let claimed = PathBuf::from(claimed);
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
            if let Some((base, _)) = name.rsplit_once(CLAIMED) {
                let _ = fs::rename(claimed, self.dir.join(base));
            }
        }
    }

    /// How many spans wait in the spool (from the file names).
    pub(crate) fn pending_spans(&self) -> u64 {
        self.ready_files().iter().map(|p| span_count(p)).sum()
    }
}

/// The records of a spooled batch, and how many lines did not parse.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_come_from_names_and_partial_batches_are_salvaged() {
        let dir = std::env::temp_dir().join(format!("traced-spool-unit-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let spool = Spool::new(dir.clone(), 1 << 20);
        let record: SpanRecord = serde_json::from_str(
            r#"{"scope":{},"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","name":"n","kind":1,"startTimeUnixNano":"1","endTimeUnixNano":"2"}"#,
        )
        .unwrap();
        spool.write(&[record.clone(), record.clone()]).unwrap();
        assert_eq!(spool.pending_spans(), 2);
        // A batch a killed process (pid 0 is never a process of ours) half wrote.
        let line = serde_json::to_string(&record).unwrap();
        fs::write(
            dir.join("000000000000000000000001-0-000000-n3.partial"),
            format!("{line}\n{line}\n{{\"tra"),
        )
        .unwrap();
        let recovered = Spool::new(dir.clone(), 1 << 20);
        assert_eq!(recovered.pending_spans(), 4, "the two complete lines kept");
        assert!(recovered.files_with(|n| n.ends_with(PARTIAL)).is_empty());
        let _ = fs::remove_dir_all(&dir);
    }
}
