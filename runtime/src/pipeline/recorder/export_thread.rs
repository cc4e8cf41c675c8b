//! The export thread: takes the buffered spans when woken (a batch is full, a flush, the
//! shutdown) or on its schedule, and hands them to the exporter in batches.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

use opentelemetry::Context;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

use super::buffers::Buffers;
use super::finished::Batch;
use super::signal::Signal;
use crate::pipeline::stats::Counters;

/// How the export thread batches.
#[derive(Clone, Copy, Debug)]
pub(super) struct Schedule {
    pub(super) delay: Duration,
    /// Spans per export call.
    pub(super) max_batch: usize,
    /// The buffers' byte budget, for the drop notice.
    pub(super) max_buffered_bytes: usize,
    /// Whether drops are told on stderr when no logger shows warnings.
    pub(super) notices: bool,
}

/// How often at most a drop notice is told.
const DROP_NOTICE_EVERY: Duration = Duration::from_secs(60);

/// Starts the export thread of `pipeline`.
pub(super) fn spawn<E: SpanExporter + 'static>(
    pipeline: Arc<Buffers>,
    exporter: E,
    schedule: Schedule,
    counters: Arc<Counters>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("traced-export".into())
        .spawn(move || {
            // Whatever happens below, a shutdown waiting for this thread hears it stop.
            let _stopped = Stopped(&pipeline.signal);
            // What the exporter does (an HTTP client's own instrumentation, say) is not
            // traced: it would feed the pipeline it is draining.
            let _suppressed = Context::enter_telemetry_suppressed_scope();
            run(&pipeline, &exporter, schedule, &counters);
            match catch_unwind(AssertUnwindSafe(|| exporter.shutdown())) {
                Ok(Ok(())) => {}
                Ok(Err(error)) => log::debug!("traced: exporter shutdown: {error}"),
                Err(_) => log::warn!("traced: the span exporter panicked in shutdown"),
            }
        })
}

/// Tells the waiting shutdown that the export thread has stopped, when dropped.
struct Stopped<'a>(&'a Signal);

impl Drop for Stopped<'_> {
    fn drop(&mut self) {
        self.0.stopped();
    }
}

fn run<E: SpanExporter>(pipeline: &Buffers, exporter: &E, schedule: Schedule, counters: &Counters) {
    let mut last_notice: Option<Instant> = None;
    let mut dropped_since_notice = 0u64;
    loop {
        let work = pipeline.signal.wait(schedule.delay);
        let taken = pipeline.take();
        Counters::add(&counters.ended, (taken.spans + taken.rejected) as usize);
        if taken.rejected > 0 {
            dropped_since_notice += taken.rejected;
            if last_notice.is_none_or(|at| at.elapsed() >= DROP_NOTICE_EVERY) {
                last_notice = Some(Instant::now());
                crate::pipeline::health::tell(
                    &format!(
                        "traced: {dropped_since_notice} ended spans dropped: they came faster than \
                         export took them and filled the buffers ({} KiB); raise \
                         Config::max_buffered_bytes, or let producers wait with \
                         Config::blocking(true) (TRACED_BLOCKING=true)",
                        schedule.max_buffered_bytes >> 10
                    ),
                    schedule.notices,
                );
                dropped_since_notice = 0;
            }
        }
        export_merged(
            pipeline,
            exporter,
            taken.batches,
            schedule.max_batch,
            counters,
        );
        pipeline.signal.flushed(work.flush);
        if work.shutdown {
            return;
        }
    }
}

/// Exports the threads' batches as export batches of `max_batch` spans: the partial
/// batches of many threads are merged, so each export call (one request to a collector)
/// is as full as it can be.
fn export_merged<E: SpanExporter>(
    pipeline: &Buffers,
    exporter: &E,
    batches: Vec<Batch>,
    max_batch: usize,
    counters: &Counters,
) {
    let max_batch = max_batch.max(1);
    let mut out: Vec<SpanData> = Vec::new();
    for mut batch in batches {
        for span in batch.drain_span_data() {
            if out.capacity() == 0 {
                out.reserve_exact(max_batch);
            }
            out.push(span);
            if out.len() == max_batch {
                export(exporter, std::mem::take(&mut out), counters);
            }
        }
        pipeline.recycle(batch);
    }
    if !out.is_empty() {
        export(exporter, out, counters);
    }
}

/// One export; a panicking exporter loses its batch (counted as dropped), not the thread.
fn export<E: SpanExporter>(exporter: &E, batch: Vec<SpanData>, counters: &Counters) {
    let n = batch.len();
    let result = catch_unwind(AssertUnwindSafe(|| {
        futures_executor::block_on(exporter.export(batch))
    }));
    match result {
        Ok(Ok(())) => Counters::add(&counters.handed, n),
        Ok(Err(error)) => {
            Counters::add(&counters.handed, n);
            log::debug!("traced: export failed: {error}");
        }
        Err(_) => log::warn!("traced: the span exporter panicked; its batch is lost"),
    }
}
