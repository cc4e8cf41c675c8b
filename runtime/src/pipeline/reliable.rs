//! An exporter that loses nothing: it sends each batch through the OTLP exporter on a
//! runtime of its own (tonic and async HTTP clients need a tokio reactor, which the
//! SDK's batch thread does not have), and when the collector is unreachable, slow or
//! answering errors, it spools the batch to disk and sends it again with backoff — in
//! this run or the next.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use tokio::runtime::Runtime;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use super::health::{FailureKind, Health};
use super::spool::{read_batch, Spool};
use super::stats::Counters;
use crate::export::{Resource, SpanRecord};

/// Sends in flight, bounded: the SDK's batch thread hands a batch over and goes on; when
/// this many sends are still waiting on the collector, batches go to the spool at once.
#[derive(Debug)]
pub(crate) struct InFlight {
    count: Mutex<usize>,
    idle: Condvar,
    max: usize,
}

impl InFlight {
    fn new(max: usize) -> Self {
        Self {
            count: Mutex::new(0),
            idle: Condvar::new(),
            max,
        }
    }

    fn try_begin(&self) -> bool {
        match self.count.lock() {
            Ok(mut count) if *count < self.max => {
                *count += 1;
                true
            }
            _ => false,
        }
    }

    fn end(&self) {
        if let Ok(mut count) = self.count.lock() {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.idle.notify_all();
            }
        }
    }

    /// Waits (blocking, bounded) until no send is in flight; whether that happened.
    pub(crate) fn wait_idle(&self, timeout: Duration) -> bool {
        let Ok(count) = self.count.lock() else {
            return false;
        };
        self.idle
            .wait_timeout_while(count, timeout, |count| *count > 0)
            .map(|(_, result)| !result.timed_out())
            .unwrap_or(false)
    }
}

/// How many sends may wait on the collector at once.
const MAX_IN_FLIGHT: usize = 4;

/// What the retry task shares with the exporter (not the runtime: dropping a runtime
/// from inside one of its own tasks would panic).
#[derive(Debug)]
struct Shared<E> {
    inner: E,
    spool: Spool,
    counters: Arc<Counters>,
    resource: Mutex<Resource>,
    timeout: Duration,
    retry_initial: Duration,
    retry_max: Duration,
    /// While set and in the future, batches go straight to the spool.
    down_until: Mutex<Option<Instant>>,
    wake: Notify,
    stop: watch::Sender<bool>,
    in_flight: Arc<InFlight>,
    health: Arc<Health>,
}

#[derive(Debug)]
pub(crate) struct ReliableExporter<E: SpanExporter + 'static> {
    shared: Arc<Shared<E>>,
    runtime: Option<Runtime>,
    retry_started: OnceLock<()>,
    retry_task: Mutex<Option<JoinHandle<()>>>,
    /// Spans an earlier run left in the spool, sent once the resource is known.
    pending_at_start: u64,
}

pub(crate) struct Settings {
    pub(crate) spool: Spool,
    pub(crate) counters: Arc<Counters>,
    pub(crate) timeout: Duration,
    pub(crate) retry_initial: Duration,
    pub(crate) retry_max: Duration,
    pub(crate) health: Arc<Health>,
}

impl<E: SpanExporter + 'static> ReliableExporter<E> {
    /// Builds the inner exporter inside the runtime (tonic needs one to exist). On error
    /// the runtime is let go in the background: dropping it here would panic when
    /// `init()` is called from async code (`#[tokio::main]`).
    pub(crate) fn new(
        runtime: Runtime,
        build: impl FnOnce() -> Result<E, super::BoxError>,
        settings: Settings,
    ) -> Result<Self, super::BoxError> {
        let built = {
            let _entered = runtime.enter();
            build()
        };
        let inner = match built {
            Ok(inner) => inner,
            Err(error) => {
                runtime.shutdown_background();
                return Err(error);
            }
        };
        let pending = settings.spool.pending_spans();
        Counters::add(&settings.counters.pending_on_disk, pending as usize);
        Ok(Self {
            shared: Arc::new(Shared {
                inner,
                spool: settings.spool,
                counters: settings.counters,
                resource: Mutex::new(Resource::default()),
                timeout: settings.timeout,
                retry_initial: settings.retry_initial,
                retry_max: settings.retry_max,
                down_until: Mutex::new(None),
                wake: Notify::new(),
                stop: watch::Sender::new(false),
                in_flight: Arc::new(InFlight::new(MAX_IN_FLIGHT)),
                health: settings.health,
            }),
            runtime: Some(runtime),
            retry_started: OnceLock::new(),
            retry_task: Mutex::new(None),
            pending_at_start: pending,
        })
    }

    fn start_retry(&self) {
        let Some(runtime) = &self.runtime else { return };
        self.retry_started.get_or_init(|| {
            let task = runtime.spawn(retry_loop(self.shared.clone()));
            if let Ok(mut slot) = self.retry_task.lock() {
                *slot = Some(task);
            }
        });
    }

    /// The tracker of sends in flight, for `Guard::flush` to wait on.
    pub(crate) fn in_flight(&self) -> Arc<InFlight> {
        self.shared.in_flight.clone()
    }
}

impl<E: SpanExporter> Shared<E> {
    /// Writes a batch the collector did not take to the spool, and wakes the retry task.
    fn spool(&self, batch: &[SpanData]) -> OTelSdkResult {
        let resource = Resource::default(); // the exporter that resends has its own
        let records: Vec<SpanRecord> = batch
            .iter()
            .map(|s| SpanRecord::from_span(s, &resource))
            .collect();
        let counters = &self.counters;
        match self.spool.write(&records) {
            Ok(()) => {
                Counters::add(&counters.spooled, records.len());
                let dropped = self.spool.enforce_limit();
                if dropped > 0 {
                    counters.spool_dropped.fetch_add(dropped, Ordering::Relaxed);
                    log::warn!(
                        "traced: the spool is over its size; dropped the oldest {dropped} spans"
                    );
                }
                counters
                    .pending_on_disk
                    .store(self.spool.pending_spans(), Ordering::Relaxed);
                self.wake.notify_one();
                Ok(())
            }
            Err(error) => {
                Counters::add(&counters.lost, records.len());
                log::warn!("traced: could not spool {} spans: {error}", records.len());
                Err(OTelSdkError::InternalFailure(format!(
                    "spooling failed: {error}"
                )))
            }
        }
    }
}

/// Sends one batch through the inner exporter, within the timeout, and tells the
/// destination's health how it went.
async fn send<E: SpanExporter>(
    shared: &Shared<E>,
    batch: Vec<SpanData>,
) -> Result<(), (String, FailureKind)> {
    let error = match tokio::time::timeout(shared.timeout, shared.inner.export(batch)).await {
        Ok(Ok(())) => {
            shared.health.succeeded();
            return Ok(());
        }
        Ok(Err(error)) => error.to_string(),
        Err(_) => format!("no answer within {:?}", shared.timeout),
    };
    let kind = shared.health.failed(&error);
    Err((error, kind))
}

/// How long to wait before the next attempt after a failure of this kind: wrong
/// credentials or a wrong path are not fixed by hammering the backend.
fn backoff<E>(shared: &Shared<E>, kind: FailureKind, delay: Duration) -> Duration {
    if kind.is_lasting() {
        shared.retry_max
    } else {
        delay
    }
}

fn mark_down<E>(shared: &Shared<E>, for_how_long: Duration) {
    if let Ok(mut down) = shared.down_until.lock() {
        *down = Some(Instant::now() + for_how_long);
    }
}

fn mark_up<E>(shared: &Shared<E>) {
    if let Ok(mut down) = shared.down_until.lock() {
        *down = None;
    }
}

/// Resends spooled batches, oldest first, backing off while the collector fails.
async fn retry_loop<E: SpanExporter>(shared: Arc<Shared<E>>) {
    let mut stop = shared.stop.subscribe();
    let mut delay = shared.retry_initial;
    loop {
        if *stop.borrow() {
            return;
        }
        let Some(claimed) = shared.spool.claim_oldest() else {
            // Nothing waits: sleep until something is spooled (or we are stopped).
            tokio::select! {
                _ = shared.wake.notified() => {}
                _ = stop.changed() => return,
            }
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = stop.changed() => return,
            }
            continue;
        };
        match resend(&shared, &claimed).await {
            Ok(()) => {
                delay = shared.retry_initial;
                mark_up(&shared);
            }
            Err((error, kind)) => {
                shared.spool.release(&claimed);
                let wait = backoff(&shared, kind, delay);
                log::debug!(
                    "traced: resending spooled spans failed ({error}); next try in {wait:?}"
                );
                mark_down(&shared, wait);
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = stop.changed() => return,
                }
                delay = (delay * 2).min(shared.retry_max);
            }
        }
    }
}

async fn resend<E: SpanExporter>(
    shared: &Shared<E>,
    claimed: &std::path::Path,
) -> Result<(), (String, FailureKind)> {
    let (records, bad) =
        read_batch(claimed).map_err(|e| (format!("the spool: {e}"), FailureKind::Other))?;
    let batch: Vec<SpanData> = records
        .iter()
        .filter_map(SpanRecord::to_span_data)
        .collect();
    let unusable = bad + (records.len() - batch.len()) as u64;
    let n = batch.len();
    if n > 0 {
        send(shared, batch).await?;
    }
    let _ = std::fs::remove_file(claimed);
    Counters::add(&shared.counters.resent, n);
    if unusable > 0 {
        shared
            .counters
            .spool_dropped
            .fetch_add(unusable, Ordering::Relaxed);
    }
    shared
        .counters
        .pending_on_disk
        .store(shared.spool.pending_spans(), Ordering::Relaxed);
    Ok(())
}

impl<E: SpanExporter + 'static> SpanExporter for ReliableExporter<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let Some(runtime) = &self.runtime else {
            return Err(OTelSdkError::AlreadyShutdown);
        };
        self.start_retry();
        let down = self
            .shared
            .down_until
            .lock()
            .map(|d| d.is_some_and(|until| Instant::now() < until))
            .unwrap_or(false);
        // The batch thread never waits on the network: the send runs on our runtime, and
        // when the collector is known down or already has its fill of sends, the batch
        // goes to the spool at once.
        if down || !self.shared.in_flight.try_begin() {
            return self.shared.spool(&batch);
        }
        let shared = self.shared.clone();
        runtime.spawn(async move {
            let n = batch.len();
            match send(&shared, batch.clone()).await {
                Ok(()) => Counters::add(&shared.counters.exported, n),
                Err((error, kind)) => {
                    log::debug!("traced: export failed ({error}); spooling {n} spans");
                    mark_down(&shared, backoff(&shared, kind, shared.retry_initial));
                    let _ = shared.spool(&batch);
                }
            }
            shared.in_flight.end();
        });
        Ok(())
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        // Sends in flight finish (or fail into the spool) before the last pass.
        self.shared
            .in_flight
            .wait_idle(self.shared.timeout + Duration::from_secs(1));
        self.shared.stop.send_replace(true);
        let task = self.retry_task.lock().ok().and_then(|mut slot| slot.take());
        if let (Some(runtime), Some(task)) = (&self.runtime, task) {
            // Let a resend in flight finish, so no batch is left claimed.
            runtime.block_on(async move {
                let _ = tokio::time::timeout(timeout, task).await;
            });
        }
        if let Some(runtime) = &self.runtime {
            // One last pass over the spool, bounded; what remains waits for the next run.
            let shared = self.shared.clone();
            let deadline = Instant::now() + timeout.min(Duration::from_secs(5));
            runtime.block_on(async move {
                while Instant::now() < deadline {
                    let Some(claimed) = shared.spool.claim_oldest() else {
                        break;
                    };
                    if resend(&shared, &claimed).await.is_err() {
                        shared.spool.release(&claimed);
                        break;
                    }
                }
            });
        }
        self.shared
            .counters
            .pending_on_disk
            .store(self.shared.spool.pending_spans(), Ordering::Relaxed);
        self.shared.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.shared.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &opentelemetry_sdk::Resource) {
        if let Ok(mut own) = self.shared.resource.lock() {
            *own = Resource {
                attributes: crate::export::resource_attributes(resource),
            };
        }
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.inner.set_resource(resource);
        }
        if self.pending_at_start > 0 {
            // Batches an earlier run could not send: start sending them now.
            self.start_retry();
        }
    }
}

impl<E: SpanExporter + 'static> Drop for ReliableExporter<E> {
    fn drop(&mut self) {
        self.shared.stop.send_replace(true);
        if let Some(runtime) = self.runtime.take() {
            // Waiting for a runtime's threads is not allowed (it panics) in async code,
            // where a failed init() or a dropped pipeline may drop this.
            if tokio::runtime::Handle::try_current().is_ok() {
                runtime.shutdown_background();
            } else {
                runtime.shutdown_timeout(Duration::from_secs(1));
            }
        }
    }
}
