//! The recording path of `traced::init()` (a tracer provider of our own with per-thread
//! buffers and one export thread), through the public API: what `opentelemetry::global`
//! records lands in the same trees, every thread's spans are flushed, spans leave on the
//! schedule, a full buffer drops and counts, limits apply, a panicking exporter loses
//! only its batch, and nothing goes wrong after shutdown.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use opentelemetry::trace::{Span as _, TraceContextExt as _, Tracer as _};
use opentelemetry::{global, KeyValue};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData, SpanExporter};
use traced::{traced, Config};

/// `init()` is process-wide: the tests of this file take turns.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Takes this file's turn and starts a pipeline into `exporter`, tuned by `tune`.
fn pipeline<E: SpanExporter + 'static>(
    exporter: E,
    tune: impl FnOnce(Config) -> Config,
) -> (MutexGuard<'static, ()>, traced::Guard) {
    let turn = one_at_a_time();
    let guard = tune(Config::new().exporter(exporter)).init().expect("init");
    (turn, guard)
}

#[traced(name = "work")]
fn work(n: u64) -> u64 {
    n + 1
}

#[traced(name = "calls_a_library")]
fn calls_a_library() {
    // A library instrumented with the OpenTelemetry API, unaware of traced.
    global::tracer("some-lib").in_span("lib.call", |cx| {
        cx.span().set_attribute(KeyValue::new("lib.attr", 7));
    });
}

fn named<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    spans
        .iter()
        .find(|span| span.name == name)
        .unwrap_or_else(|| panic!("no span {name} among {}", spans.len()))
}

#[test]
fn opentelemetry_api_spans_and_traced_spans_make_one_tree() {
    let exporter = InMemorySpanExporter::default();
    let (_turn, guard) = pipeline(exporter.clone(), |config| config);
    global::tracer("app").in_span("otel.root", |_| calls_a_library());
    guard.flush();
    let spans = exporter.get_finished_spans().expect("spans");
    let stats = guard.shutdown();
    assert_eq!((stats.ended, stats.exported, stats.dropped), (3, 3, 0));

    let root = named(&spans, "otel.root");
    let traced_span = named(&spans, "calls_a_library");
    let lib = named(&spans, "lib.call");
    assert_eq!(traced_span.parent_span_id, root.span_context.span_id());
    assert_eq!(lib.parent_span_id, traced_span.span_context.span_id());
    assert_eq!(lib.span_context.trace_id(), root.span_context.trace_id());
    assert_eq!(lib.instrumentation_scope.name(), "some-lib");
    assert_eq!(traced_span.instrumentation_scope.name(), "traced");
    assert!(lib
        .attributes
        .iter()
        .any(|kv| kv.key.as_str() == "lib.attr" && kv.value == 7.into()));
    assert!(lib.end_time >= lib.start_time);
    assert!(root.end_time >= traced_span.end_time);
}

#[test]
fn a_flush_takes_the_spans_of_every_thread_alive_or_ended() {
    let exporter = InMemorySpanExporter::default();
    // Far away: only the flush can move these spans.
    let (_turn, guard) = pipeline(exporter.clone(), |config| {
        config.scheduled_delay(Duration::from_secs(3600))
    });
    let made = Arc::new(Barrier::new(9));
    let flushed = Arc::new(Barrier::new(5));
    let mut threads = Vec::new();
    for t in 0..8u64 {
        let (made, flushed) = (made.clone(), flushed.clone());
        threads.push(std::thread::spawn(move || {
            for i in 0..100 {
                work(t * 1000 + i);
            }
            made.wait();
            // Half the threads stay alive, idle, across the flush; half have ended.
            if t % 2 == 0 {
                flushed.wait();
            }
        }));
    }
    made.wait();
    // Let the odd threads finish, so their buffers belong to no thread any more.
    for (t, thread) in threads.iter().enumerate() {
        while t % 2 == 1 && !thread.is_finished() {
            std::thread::yield_now();
        }
    }
    guard.flush();
    assert_eq!(exporter.get_finished_spans().expect("spans").len(), 800);
    flushed.wait();
    for thread in threads {
        thread.join().expect("thread");
    }
    let stats = guard.shutdown();
    assert_eq!((stats.ended, stats.exported, stats.dropped), (800, 800, 0));
}

#[test]
fn spans_leave_on_the_schedule_without_a_flush() {
    let exporter = InMemorySpanExporter::default();
    let (_turn, guard) = pipeline(exporter.clone(), |config| {
        config.scheduled_delay(Duration::from_millis(20))
    });
    for i in 0..3 {
        work(i);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while exporter.get_finished_spans().map_or(0, |s| s.len()) < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(exporter.get_finished_spans().map(|s| s.len()).ok(), Some(3));
    assert_eq!(guard.shutdown().exported, 3);
}

/// An exporter that holds every export until opened, counting what it was given.
#[derive(Clone, Debug, Default)]
struct Gate {
    open: Arc<(Mutex<bool>, Condvar)>,
    exported: Arc<AtomicUsize>,
}

impl Gate {
    fn open(&self) {
        let (open, changed) = &*self.open;
        *open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = true;
        changed.notify_all();
    }
}

impl SpanExporter for Gate {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let (open, changed) = &*self.open;
        let mut open = open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while !*open {
            open = changed
                .wait(open)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        self.exported.fetch_add(batch.len(), Ordering::SeqCst);
        Ok(())
    }
}

#[test]
fn a_full_buffer_drops_spans_and_counts_them() {
    let gate = Gate::default();
    let (_turn, guard) = pipeline(gate.clone(), |config| {
        config
            .queue_size(10)
            .scheduled_delay(Duration::from_secs(3600))
    });
    // The export thread takes the first 10 and is held by the exporter; this thread's
    // buffer then holds 10 more at most.
    for i in 0..100 {
        work(i);
    }
    gate.open();
    let stats = guard.shutdown();
    let exported = gate.exported.load(Ordering::SeqCst) as u64;
    assert_eq!(stats.ended, 100);
    assert_eq!(stats.exported, exported);
    assert_eq!(stats.exported + stats.dropped, 100, "{stats:?}");
    assert!(stats.dropped >= 80, "{stats:?}");
}

#[traced(name = "many_attributes")]
fn many_attributes() {
    let span = traced::current_span();
    for i in 0..200 {
        span.set_attribute(format!("extra.{i}"), i);
    }
}

#[test]
fn span_limits_apply_and_count_what_they_drop() {
    let exporter = InMemorySpanExporter::default();
    let (_turn, guard) = pipeline(exporter.clone(), |config| config);
    many_attributes();
    guard.flush();
    let spans = exporter.get_finished_spans().expect("spans");
    guard.shutdown();
    let span = named(&spans, "many_attributes");
    // The SDK's default limit: 128 attributes per span.
    assert_eq!(span.attributes.len(), 128);
    assert!(span.dropped_attributes_count >= 200 + 4 - 128);
    assert!(span
        .attributes
        .iter()
        .any(|kv| kv.key.as_str() == "code.function.name"));
}

/// Panics on its first export, then works.
#[derive(Clone, Debug, Default)]
struct PanicsOnce {
    calls: Arc<AtomicUsize>,
    exported: Arc<AtomicUsize>,
}

impl SpanExporter for PanicsOnce {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
            panic!("exporter bug");
        }
        self.exported.fetch_add(batch.len(), Ordering::SeqCst);
        Ok(())
    }
}

#[test]
fn a_panicking_exporter_loses_its_batch_not_the_pipeline() {
    let exporter = PanicsOnce::default();
    let (_turn, guard) = pipeline(exporter.clone(), |config| config);
    for i in 0..5 {
        work(i);
    }
    guard.flush();
    for i in 0..7 {
        work(i);
    }
    guard.flush();
    assert_eq!(exporter.exported.load(Ordering::SeqCst), 7);
    let stats = guard.shutdown();
    assert_eq!((stats.ended, stats.exported, stats.dropped), (12, 7, 5));
}

#[test]
fn a_span_ending_after_shutdown_is_dropped_quietly() {
    let exporter = InMemorySpanExporter::default();
    let (_turn, guard) = pipeline(exporter.clone(), |config| config);
    let mut open = global::tracer("app").start("open.across.shutdown");
    work(1);
    let stats = guard.shutdown();
    assert_eq!((stats.ended, stats.exported), (1, 1));
    open.set_attribute(KeyValue::new("late", true));
    open.end();
    // A span started now is not recorded at all.
    let late = global::tracer("app").start("after.shutdown");
    assert!(!late.is_recording());
    assert_eq!(work(2), 3);
}

struct EndsASpanWhenDropped;

impl Drop for EndsASpanWhenDropped {
    fn drop(&mut self) {
        work(42);
    }
}

thread_local! {
    static ON_EXIT: EndsASpanWhenDropped = const { EndsASpanWhenDropped };
    static HELD: std::cell::RefCell<Option<global::BoxedSpan>> = const { std::cell::RefCell::new(None) };
}

#[test]
fn spans_ended_while_a_thread_exits_are_kept_or_skipped_without_a_panic() {
    let exporter = InMemorySpanExporter::default();
    let (_turn, guard) = pipeline(exporter.clone(), |config| config);
    std::thread::spawn(|| {
        // The thread's span buffer is made first, so it is torn down after ON_EXIT,
        // whose destructor makes a traced call: recorded.
        work(0);
        ON_EXIT.with(|_| ());
    })
    .join()
    .expect("thread");
    std::thread::spawn(|| {
        // Made before this thread's span buffer: its span ends after the buffer is gone
        // and goes to the pipeline's shared buffer.
        HELD.with(|held| *held.borrow_mut() = Some(global::tracer("app").start("held")));
        // Made before traced's own thread-locals: its traced call comes after they are
        // torn down, and is not traced (but runs).
        ON_EXIT.with(|_| ());
        work(0);
    })
    .join()
    .expect("thread");
    guard.flush();
    let spans = exporter.get_finished_spans().expect("spans");
    let stats = guard.shutdown();
    let names: Vec<&str> = spans.iter().map(|span| span.name.as_ref()).collect();
    assert_eq!(
        names.iter().filter(|name| **name == "work").count(),
        3,
        "{names:?}"
    );
    assert_eq!(
        names.iter().filter(|name| **name == "held").count(),
        1,
        "{names:?}"
    );
    assert_eq!((stats.ended, stats.exported, stats.dropped), (4, 4, 0));
}

#[test]
fn an_exporter_that_hangs_does_not_hang_shutdown() {
    let gate = Gate::default();
    let (_turn, guard) = pipeline(gate.clone(), |config| {
        config.export_timeout(Duration::from_millis(50))
    });
    for i in 0..10 {
        work(i);
    }
    // The export thread takes the 10 spans and blocks in the exporter; shutdown waits
    // for it a bounded time, then reports them as not exported.
    let stats = guard.shutdown();
    assert_eq!(stats.ended, 10, "{stats:?}");
    assert_eq!(stats.exported, 0, "{stats:?}");
    assert_eq!(stats.dropped, 10, "{stats:?}");
    // Let the abandoned export finish, so the thread ends with the test.
    gate.open();
}

/// Exports, then panics when shut down.
#[derive(Clone, Debug, Default)]
struct PanicsOnShutdown {
    exported: Arc<AtomicUsize>,
}

impl SpanExporter for PanicsOnShutdown {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.exported.fetch_add(batch.len(), Ordering::SeqCst);
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        panic!("exporter bug in shutdown");
    }
}

#[test]
fn an_exporter_panicking_in_shutdown_does_not_take_the_program_down() {
    let exporter = PanicsOnShutdown::default();
    let (_turn, guard) = pipeline(exporter.clone(), |config| config);
    for i in 0..3 {
        work(i);
    }
    let stats = guard.shutdown();
    assert_eq!((stats.ended, stats.exported, stats.dropped), (3, 3, 0));
    assert_eq!(exporter.exported.load(Ordering::SeqCst), 3);
}

#[test]
fn the_opentelemetry_span_api_is_recorded_in_full() {
    use opentelemetry::trace::{
        Link, SpanContext, SpanId, Status, TraceFlags, TraceId, TraceState,
    };
    let exporter = InMemorySpanExporter::default();
    let (_turn, guard) = pipeline(exporter.clone(), |config| config);
    let tracer = global::tracer("api-user");
    let linked = SpanContext::new(
        TraceId::from(42),
        SpanId::from(7),
        TraceFlags::SAMPLED,
        true,
        TraceState::NONE,
    );
    let start = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let mut span = tracer
        .span_builder("first name")
        .with_kind(opentelemetry::trace::SpanKind::Client)
        .with_start_time(start)
        .with_attributes([KeyValue::new("at.start", 1)])
        .with_links(vec![Link::with_context(linked.clone())])
        .start(&tracer);
    span.update_name("second name");
    span.add_event("happened", vec![KeyValue::new("detail", "x")]);
    span.set_status(Status::error("failed once"));
    span.set_status(Status::Ok);
    // Unset never overrides what was set.
    span.set_status(Status::Unset);
    let end = start + Duration::from_millis(250);
    span.end_with_timestamp(end);
    // Ended: what comes now is ignored.
    span.set_attribute(KeyValue::new("after.end", true));
    guard.flush();
    let spans = exporter.get_finished_spans().expect("spans");
    guard.shutdown();

    let span = named(&spans, "second name");
    assert_eq!(span.span_kind, opentelemetry::trace::SpanKind::Client);
    assert_eq!((span.start_time, span.end_time), (start, end));
    assert_eq!(span.status, Status::Ok);
    assert_eq!(span.events.len(), 1);
    assert_eq!(span.events[0].name, "happened");
    assert_eq!(span.links.len(), 1);
    assert_eq!(span.links[0].span_context, linked);
    assert!(span
        .attributes
        .iter()
        .any(|kv| kv.key.as_str() == "at.start"));
    assert!(!span
        .attributes
        .iter()
        .any(|kv| kv.key.as_str() == "after.end"));
    assert_eq!(span.instrumentation_scope.name(), "api-user");
    assert!(!span.parent_span_is_remote);
    assert_eq!(span.parent_span_id, SpanId::INVALID);
}

/// Records the size of every export call.
#[derive(Clone, Debug, Default)]
struct BatchSizes(Arc<Mutex<Vec<usize>>>);

impl SpanExporter for BatchSizes {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(batch.len());
        Ok(())
    }
}

#[test]
fn the_spans_of_many_threads_leave_in_full_export_calls() {
    let sizes = BatchSizes::default();
    let (_turn, guard) = pipeline(sizes.clone(), |config| {
        config.scheduled_delay(Duration::from_secs(3600))
    });
    // 8 threads of 100 spans each: 800 spans, a partial batch on every thread.
    let threads: Vec<_> = (0..8u64)
        .map(|t| {
            std::thread::spawn(move || {
                for i in 0..100 {
                    work(t * 1000 + i);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("thread");
    }
    guard.flush();
    let sizes = sizes.0.lock().map(|s| s.clone()).unwrap_or_default();
    // Not 8 calls of 100: one of 512 (the export batch size) and one of the rest.
    assert_eq!(sizes, vec![512, 288]);
    assert_eq!(guard.shutdown().exported, 800);
}
