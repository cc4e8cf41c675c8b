//! Counting every span through the pipeline, so none is lost without being reported.

use std::sync::atomic::{AtomicU64, Ordering};

/// What became of the spans handed to the export pipeline. With several destinations,
/// `ended` counts each span once and the other figures are summed over the destinations
/// (two destinations that both took every span show `exported == 2 * ended`);
/// [`Guard::destinations`](crate::Guard::destinations) has each one's.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("traced-doc-stats-{}", std::process::id()));
/// let guard = traced::Config::new().embedded(&dir).init().unwrap();
/// let stats = guard.shutdown();
/// assert_eq!(stats.dropped, 0);
/// ```
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

/// What became of the spans sent to one destination, and how it is doing
/// ([`Guard::destinations`](crate::Guard::destinations)).
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("traced-doc-dstats-{}", std::process::id()));
/// let guard = traced::Config::new().embedded(&dir).init().unwrap();
/// let destinations = guard.destinations();
/// assert_eq!(destinations.len(), 1);
/// assert!(!destinations[0].failing);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DestinationStats {
    /// The destination, in words (`OTLP http/protobuf to https://...`).
    pub destination: String,
    /// Delivered on the first attempt.
    pub exported: u64,
    /// Written to this destination's spool after a failed attempt.
    pub spooled: u64,
    /// Delivered later from the spool.
    pub resent: u64,
    /// Lost by this destination (its spool past its size, its disk failed, its exporter
    /// panicked).
    pub dropped: u64,
    /// Still in this destination's spool, to be sent by a later run.
    pub pending_on_disk: u64,
    /// The last export failure (kept after a recovery).
    pub last_error: Option<crate::ExportFailure>,
    /// Whether its exports are failing now.
    pub failing: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) ended: AtomicU64,
    /// Spans the export thread handed to the destinations (the rest of `ended` was
    /// dropped before export).
    pub(crate) handed: AtomicU64,
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

    /// What one destination did with the spans.
    pub(crate) fn destination(&self, destination: &str) -> DestinationStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        DestinationStats {
            destination: destination.to_owned(),
            exported: get(&self.exported),
            spooled: get(&self.spooled),
            resent: get(&self.resent),
            dropped: get(&self.spool_dropped) + get(&self.lost),
            pending_on_disk: get(&self.pending_on_disk),
            last_error: None,
            failing: false,
        }
    }

    /// The pipeline's figures: `ended`, and the spans dropped before export, from the
    /// recorder's counts (those exact once the pipeline is flushed); the rest summed over
    /// the destinations.
    pub(crate) fn snapshot(&self, destinations: &[DestinationStats], flushed: bool) -> ExportStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let ended = get(&self.ended);
        let queue_dropped = if flushed {
            ended.saturating_sub(get(&self.handed))
        } else {
            0
        };
        let sum = |f: fn(&DestinationStats) -> u64| destinations.iter().map(f).sum::<u64>();
        ExportStats {
            ended,
            exported: sum(|d| d.exported),
            spooled: sum(|d| d.spooled),
            resent: sum(|d| d.resent),
            dropped: sum(|d| d.dropped) + queue_dropped,
            pending_on_disk: sum(|d| d.pending_on_disk),
        }
    }
}
