//! An exporter that loses nothing: it sends each batch through the OTLP exporter on a
//! runtime of its own (tonic and async HTTP clients need a tokio reactor, which the
//! SDK's batch thread does not have), and when the collector is unreachable, slow or
//! answering errors, it spools the batch to disk and sends it again with backoff — in
//! this run or the next.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use tokio::runtime::Runtime;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use super::spool::{read_batch, Spool};
use super::stats::Counters;
use crate::export::{Resource, SpanRecord};

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
}

impl<E: SpanExporter + 'static> ReliableExporter<E> {
    /// Builds the inner exporter inside the runtime (tonic needs one to exist).
    pub(crate) fn new(
        runtime: Runtime,
        build: impl FnOnce() -> Result<E, String>,
        settings: Settings,
    ) -> Result<Self, String> {
        let inner = {
            let _entered = runtime.enter();
            build()?
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

    fn spool(&self, batch: &[SpanData]) -> OTelSdkResult {
        let resource = self
            .shared
            .resource
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default();
        let records: Vec<SpanRecord> = batch
            .iter()
            .map(|s| SpanRecord::from_span(s, &resource))
            .collect();
        let counters = &self.shared.counters;
        match self.shared.spool.write(&records) {
            Ok(()) => {
                Counters::add(&counters.spooled, records.len());
                let dropped = self.shared.spool.enforce_limit();
                if dropped > 0 {
                    counters.spool_dropped.fetch_add(dropped, Ordering::Relaxed);
                    log::warn!(
                        "traced: the spool is over its size; dropped the oldest {dropped} spans"
                    );
                }
                counters
                    .pending_on_disk
                    .store(self.shared.spool.pending_spans(), Ordering::Relaxed);
                self.start_retry();
                self.shared.wake.notify_one();
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

/// Sends one batch through the inner exporter, within the timeout.
async fn send<E: SpanExporter>(shared: &Shared<E>, batch: Vec<SpanData>) -> Result<(), String> {
    match tokio::time::timeout(shared.timeout, shared.inner.export(batch)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err(format!("no answer within {:?}", shared.timeout)),
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
            Err(error) => {
                shared.spool.release(&claimed);
                log::debug!(
                    "traced: resending spooled spans failed ({error}); next try in {delay:?}"
                );
                mark_down(&shared, delay);
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
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
) -> Result<(), String> {
    let (records, bad) = read_batch(claimed).map_err(|e| e.to_string())?;
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
        let down = self
            .shared
            .down_until
            .lock()
            .map(|d| d.is_some_and(|until| Instant::now() < until))
            .unwrap_or(false);
        if down {
            return self.spool(&batch);
        }
        let n = batch.len();
        let shared = self.shared.clone();
        let copy = batch.clone();
        let outcome = runtime
            .spawn(async move { send(&shared, copy).await })
            .await;
        match outcome {
            Ok(Ok(())) => {
                Counters::add(&self.shared.counters.exported, n);
                Ok(())
            }
            Ok(Err(error)) => {
                log::debug!("traced: export failed ({error}); spooling {n} spans");
                mark_down(&self.shared, self.shared.retry_initial);
                self.spool(&batch)
            }
            Err(join_error) => {
                log::debug!("traced: export task failed ({join_error}); spooling {n} spans");
                self.spool(&batch)
            }
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
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
            runtime.shutdown_timeout(Duration::from_secs(1));
        }
    }
}
