//! Counting every span through the pipeline, so none is lost without being reported.

use std::sync::atomic::{AtomicU64, Ordering};

/// What became of the spans handed to the export pipeline.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExportStats {
    /// Sampled spans that ended and entered the pipeline.
    pub ended: u64,
    /// Delivered on the first attempt.
    pub exported: u64,
    /// Written to the disk spool after a failed attempt.
    pub spooled: u64,
    /// Delivered later from the spool (this run's or an earlier run's).
    pub resent: u64,
    /// Dropped: the in-memory queue was full, the spool past its size, or the disk failed.
    pub dropped: u64,
    /// Still in the spool, to be sent by a later run.
    pub pending_on_disk: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) ended: AtomicU64,
    pub(crate) exported: AtomicU64,
    pub(crate) spooled: AtomicU64,
    pub(crate) resent: AtomicU64,
    pub(crate) spool_dropped: AtomicU64,
    pub(crate) lost: AtomicU64,
    pub(crate) pending_on_disk: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// A snapshot; spans neither exported, spooled nor lost by the exporter were dropped
    /// by the in-memory queue (exact once the pipeline is flushed).
    pub(crate) fn snapshot(&self, flushed: bool) -> ExportStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let ended = get(&self.ended);
        let handled = get(&self.exported) + get(&self.spooled) + get(&self.lost);
        let queue_dropped = if flushed {
            ended.saturating_sub(handled)
        } else {
            0
        };
        ExportStats {
            ended,
            exported: get(&self.exported),
            spooled: get(&self.spooled),
            resent: get(&self.resent),
            dropped: get(&self.spool_dropped) + get(&self.lost) + queue_dropped,
            pending_on_disk: get(&self.pending_on_disk),
        }
    }
}
