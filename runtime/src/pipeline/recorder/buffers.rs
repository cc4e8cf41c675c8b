//! Ended spans wait on a buffer of the thread that ended them until the export thread
//! takes the whole buffer at once.
//!
//! Each thread has one buffer per pipeline, behind a mutex that only its thread and the
//! export thread ever take: the span path locks it without contention. Spans fill a batch
//! of `batch_size`; a full batch is set aside whole (no span is copied again) and the
//! export thread woken, once per batch; otherwise the export thread comes on its schedule
//! or for a flush, and takes the batches and the partial one.
//!
//! What all the buffers hold together is bounded in bytes (`max_bytes`, an estimate of
//! each span's memory): a burst is absorbed whole unless it outgrows that budget. Past it,
//! a span is dropped and counted — or, in blocking mode, its thread waits until the
//! export thread has taken enough. A buffer may also be bounded in spans (`queue_limit`,
//! `Config::queue_size`).

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Duration;

use super::finished::{Batch, Finished};
use super::signal::Signal;
use crate::deferred::Deferred;

/// The spans of one pipeline waiting for export, over all threads.
#[derive(Debug)]
pub(super) struct Buffers {
    generation: u64,
    buffers: Mutex<Vec<Arc<ThreadBuffer>>>,
    /// For spans ended where this thread's own buffer is gone (thread-local teardown).
    shared: Arc<ThreadBuffer>,
    /// Emptied batch vectors the export thread hands back, so a thread starting a batch
    /// reuses one instead of allocating (and faulting in) a new one.
    spare: Mutex<Vec<Batch>>,
    pub(super) signal: Signal,
    batch_size: usize,
    queue_limit: usize,
    /// The estimated bytes of every span waiting, over all threads.
    bytes: AtomicUsize,
    max_bytes: usize,
    /// Wait for room rather than drop a span.
    blocking: bool,
    /// Threads waiting for room (blocking mode) wait here.
    room: Condvar,
    room_lock: Mutex<()>,
    waiting: AtomicUsize,
    closed: AtomicBool,
}

/// How a pipeline's buffers are bounded.
#[derive(Clone, Copy, Debug)]
pub(super) struct Bounds {
    pub(super) batch_size: usize,
    /// Spans one thread's buffer may hold.
    pub(super) queue_limit: usize,
    /// Estimated bytes all buffers may hold together.
    pub(super) max_bytes: usize,
    /// Wait for room rather than drop.
    pub(super) blocking: bool,
}

/// One thread's waiting spans.
#[derive(Debug, Default)]
struct ThreadBuffer {
    pending: Mutex<Pending>,
}

#[derive(Debug, Default)]
struct Pending {
    /// The batch being filled.
    filling: Batch,
    /// Full batches, waiting for the export thread.
    full: Vec<Batch>,
    /// Spans in `filling` and `full`.
    count: usize,
    /// Their estimated bytes.
    bytes: usize,
    /// Dropped because the buffer was full, since the export thread last looked.
    rejected: u64,
}

/// What the export thread took from the buffers.
#[derive(Debug, Default)]
pub(super) struct Taken {
    pub(super) batches: Vec<Batch>,
    pub(super) spans: u64,
    pub(super) rejected: u64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding these locks leaves plain data behind: keep going.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

static NEXT_GENERATION: AtomicU64 = AtomicU64::new(1);
/// Emptied batch vectors kept for reuse.
const SPARE_BATCHES: usize = 8;
/// The pipelines not shut down yet (usually one).
static LIVE: RwLock<Vec<Arc<Buffers>>> = RwLock::new(Vec::new());

thread_local! {
    /// This thread's buffer in each pipeline it has ended spans of.
    static LOCAL: RefCell<Vec<(Arc<Buffers>, Arc<ThreadBuffer>)>> =
        const { RefCell::new(Vec::new()) };
}

impl Buffers {
    /// A new pipeline, registered so its spans find it.
    pub(super) fn register(bounds: Bounds) -> Arc<Self> {
        let shared = Arc::new(ThreadBuffer::default());
        let pipeline = Arc::new(Self {
            generation: NEXT_GENERATION.fetch_add(1, Ordering::Relaxed),
            buffers: Mutex::new(vec![shared.clone()]),
            shared,
            spare: Mutex::new(Vec::new()),
            signal: Signal::default(),
            batch_size: bounds.batch_size.max(1),
            queue_limit: bounds.queue_limit.max(1),
            bytes: AtomicUsize::new(0),
            max_bytes: bounds.max_bytes.max(1),
            blocking: bounds.blocking,
            room: Condvar::new(),
            room_lock: Mutex::new(()),
            waiting: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
        });
        LIVE.write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(pipeline.clone());
        pipeline
    }

    /// The number its spans carry to find it.
    pub(super) fn generation(&self) -> u64 {
        self.generation
    }

    /// Takes no more spans; the ones already buffered can still be taken.
    pub(super) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        // Threads waiting for room give up: their spans are counted as dropped.
        let _held = lock(&self.room_lock);
        self.room.notify_all();
        // Threads may hold the pipeline a while longer: its spare vectors go now.
        lock(&self.spare).clear();
        LIVE.write()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|live| live.generation != self.generation);
    }

    pub(super) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Reserves room for `weight` bytes; false if there is none (and, in blocking mode,
    /// none came: the pipeline closed).
    fn reserve(&self, weight: usize) -> bool {
        loop {
            let before = self.bytes.fetch_add(weight, Ordering::AcqRel);
            // One span larger than the whole budget still goes when the buffers are empty.
            if before == 0 || before + weight <= self.max_bytes {
                return true;
            }
            self.bytes.fetch_sub(weight, Ordering::AcqRel);
            if !self.blocking || self.is_closed() {
                return false;
            }
            // Wait for the export thread to take what is waiting (woken now: it may be
            // asleep until its schedule). Checked again every few milliseconds, so a
            // missed notification costs a little time, never a hang.
            self.waiting.fetch_add(1, Ordering::AcqRel);
            self.signal.wake();
            let held = lock(&self.room_lock);
            if self.bytes.load(Ordering::Acquire) + weight > self.max_bytes && !self.is_closed() {
                let _ = self
                    .room
                    .wait_timeout(held, Duration::from_millis(5))
                    .unwrap_or_else(PoisonError::into_inner);
            }
            self.waiting.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// Gives back the room of spans the export thread took.
    fn release(&self, weight: usize) {
        if weight == 0 {
            return;
        }
        self.bytes.fetch_sub(weight, Ordering::AcqRel);
        if self.waiting.load(Ordering::Acquire) > 0 {
            let _held = lock(&self.room_lock);
            self.room.notify_all();
        }
    }

    fn push(&self, buffer: &ThreadBuffer, span: Box<Finished>, deferred: Option<&Deferred>) {
        if self.is_closed() {
            return;
        }
        let weight = span.weight() + deferred.map_or(0, |_| std::mem::size_of::<Deferred>());
        if !self.reserve(weight) {
            lock(&buffer.pending).rejected += 1;
            return;
        }
        let mut pending = lock(&buffer.pending);
        if pending.count >= self.queue_limit {
            pending.rejected += 1;
            drop(pending);
            self.release(weight);
            drop(span);
            return;
        }
        pending.count += 1;
        pending.bytes += weight;
        if pending.filling.spans.capacity() == 0 {
            pending.filling = lock(&self.spare)
                .pop()
                .unwrap_or_else(|| Batch::with_capacity(self.batch_size));
        }
        pending.filling.push(*span, deferred);
        if pending.filling.len() < self.batch_size {
            return;
        }
        let batch = std::mem::take(&mut pending.filling);
        pending.full.push(batch);
        drop(pending);
        self.signal.wake();
    }

    /// Gives back an emptied batch vector for reuse (a few are kept).
    pub(super) fn recycle(&self, batch: Batch) {
        if batch.spans.capacity() == self.batch_size && batch.is_empty() {
            let mut spare = lock(&self.spare);
            if spare.len() < SPARE_BATCHES {
                spare.push(batch);
            }
        }
    }

    /// Takes every buffer's spans; forgets the buffers of threads that have ended.
    pub(super) fn take(&self) -> Taken {
        let mut taken = Taken::default();
        let mut bytes = 0;
        let mut buffers = lock(&self.buffers);
        buffers.retain(|buffer| {
            let mut pending = lock(&buffer.pending);
            taken.rejected += std::mem::take(&mut pending.rejected);
            taken.spans += std::mem::take(&mut pending.count) as u64;
            bytes += std::mem::take(&mut pending.bytes);
            taken.batches.append(&mut pending.full);
            if !pending.filling.is_empty() {
                taken.batches.push(std::mem::take(&mut pending.filling));
            }
            drop(pending);
            // Held by its thread (or by the pipeline: the shared buffer) or let go.
            Arc::strong_count(buffer) > 1
        });
        drop(buffers);
        self.release(bytes);
        taken
    }
}

/// Hands an ended span to the pipeline with that generation, through this thread's buffer.
pub(super) fn push(generation: u64, span: Box<Finished>, deferred: Option<&Deferred>) {
    let mut span = Some(span);
    let _ = LOCAL.try_with(|local| {
        let Ok(mut local) = local.try_borrow_mut() else {
            return;
        };
        if let Some(span) = span.take() {
            push_through(&mut local, generation, span, deferred);
        }
    });
    if let Some(span) = span {
        // This thread's locals are being torn down (a span ended in a destructor).
        if let Some(pipeline) = live(generation) {
            pipeline.push(&pipeline.shared, span, deferred);
        }
    }
}

/// Through this thread's buffer of the pipeline, registering one on first use.
fn push_through(
    local: &mut Vec<(Arc<Buffers>, Arc<ThreadBuffer>)>,
    generation: u64,
    span: Box<Finished>,
    deferred: Option<&Deferred>,
) {
    if let Some((pipeline, buffer)) = local
        .iter()
        .find(|(pipeline, _)| pipeline.generation == generation)
    {
        pipeline.push(buffer, span, deferred);
        return;
    }
    local.retain(|(pipeline, _)| !pipeline.is_closed());
    // Not live: a pipeline already shut down, and the span goes nowhere, as with the SDK.
    let Some(pipeline) = live(generation) else {
        return;
    };
    let buffer = Arc::new(ThreadBuffer::default());
    lock(&pipeline.buffers).push(buffer.clone());
    pipeline.push(&buffer, span, deferred);
    local.push((pipeline, buffer));
}

fn live(generation: u64) -> Option<Arc<Buffers>> {
    LIVE.read()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .find(|pipeline| pipeline.generation == generation)
        .cloned()
}
