//! What a span costs: `#[traced]` side by side with hand-written OpenTelemetry SDK code,
//! `tracing` (`#[instrument]` + tracing-opentelemetry) and fastrace (`#[trace]` +
//! fastrace-opentelemetry), in one process.
//!
//! `cargo bench -p traced-benches --bench overhead` prints a Markdown table for
//! `BENCHMARKS.md` (about 30 s). Environment variables:
//! - `BENCH_SPANS`: spans per sample, default 20000;
//! - `BENCH_SAMPLES`: samples per row, default 31 (`BENCH_SPANS=2000 BENCH_SAMPLES=3`
//!   runs in a few seconds);
//! - `BENCH_PASSES`: default 3, runs the whole set that many times and keeps, for each
//!   figure, the lowest of the passes' medians (noise from other processes only adds);
//! - `BENCH_FILTER=text`: only the rows whose case and variant labels contain `text`
//!   (e.g. `BENCH_FILTER="(b) two captured args"`), for a profiler.
//!
//! Run the binary itself with `--bench`, as `cargo bench` does: without it (as under
//! `cargo test --all-targets`) it makes a quick smoke run of every row.
//!
//! Every variant ends in an exporter that discards spans and counts them: hand-written
//! and tracing through the SDK's `BatchSpanProcessor` (its queue sized to hold a whole
//! sample, so nothing is dropped even if the export thread never runs during it), traced
//! through `init()`'s own recording path (per-thread buffers of the same size, one export
//! thread), fastrace through its own collector thread and
//! `fastrace_opentelemetry::OpenTelemetryReporter`. The table shows the spans made and
//! the spans exported of each row.
//!
//! Two figures per row, medians over the samples:
//! - caller: wall time on the calling thread per span (`Instant` around the calls);
//! - CPU: the process's CPU time over all threads (`CLOCK_PROCESS_CPUTIME_ID`) per span,
//!   from before the calls to after the pipeline is flushed (`force_flush`, or
//!   `fastrace::flush`), so work deferred to a background thread is counted.
//!
//! A sample makes the same number of spans in every case (split over 3 levels in the
//! nesting case, over 4 threads in the threaded one) and ends with a flush: fastrace's
//! cost per span grows with the spans it holds between two flushes (it converts them all
//! in one batch), so the cases are kept comparable.
//!
//! fastrace records only under a root span, so every variant runs its calls in batches
//! of `BATCH` under a root span of its own kind (made current); the roots are counted
//! among the spans made and their cost is included, spread over the batch.
//!
//! traced gets its own pipeline per case, built as users build it
//! (`traced::Config::new().exporter(counting sink).sampler(..).init()`: traced's tracer
//! provider and export thread); the hand-written code gets a fresh SDK provider
//! per case (installed with `opentelemetry::global::set_tracer_provider`, its tracer
//! obtained once). Both are shut down after. tracing's global
//! subscriber can be set only once per process, so its pipeline (registry +
//! tracing-opentelemetry layer with its default settings, over an SDK provider of its
//! own) is built at its first case and kept, its sampler switched between the SDK's
//! `AlwaysOn` and `AlwaysOff`. fastrace gets a fresh reporter per case.

use std::borrow::Cow;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Barrier, Mutex, OnceLock};
use std::task::{Context as TaskContext, Poll, Waker};
use std::time::{Duration, Instant};

use fastrace::collector::SpanContext as FastraceSpanContext;
use opentelemetry::global::{self, BoxedTracer};
use opentelemetry::trace::noop::NoopTracerProvider;
use opentelemetry::trace::{
    FutureExt as _, Link, Span as _, SpanKind, TraceContextExt as _, TraceId, Tracer as _,
    TracerProvider as _,
};
use opentelemetry::{Context, InstrumentationScope, KeyValue};
use opentelemetry_sdk::trace::{Sampler, SamplingResult, SdkTracerProvider, ShouldSample};
use opentelemetry_sdk::Resource;
use traced::traced;

mod common;
use common::{batch_provider, CountingSink};
use tracing_subscriber::layer::SubscriberExt as _;

/// Calls run under one root span.
const BATCH: usize = 1_000;
/// Threads of the multi-threaded case.
const THREADS: usize = 4;

// ---------------------------------------------------------------------------------------
// The exporter and the pipelines
// ---------------------------------------------------------------------------------------

fn sampler(sampled: bool) -> Sampler {
    if sampled {
        Sampler::AlwaysOn
    } else {
        Sampler::AlwaysOff
    }
}

/// Whether the `tracing` pipeline samples.
static TRACING_SAMPLED: AtomicBool = AtomicBool::new(true);

/// The `tracing` pipeline's sampler: the SDK's `AlwaysOn` or `AlwaysOff`, switched by
/// [`TRACING_SAMPLED`]. tracing's global subscriber can be set only once per process (and
/// a scoped one would cost an `Arc` clone per span that the global one does not), so this
/// pipeline lives for the whole run, and the cases switch its sampler.
#[derive(Debug, Clone)]
struct SwitchedSampler;

impl ShouldSample for SwitchedSampler {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        name: &str,
        span_kind: &SpanKind,
        attributes: &[KeyValue],
        links: &[Link],
    ) -> SamplingResult {
        sampler(TRACING_SAMPLED.load(Ordering::Relaxed)).should_sample(
            parent_context,
            trace_id,
            name,
            span_kind,
            attributes,
            links,
        )
    }
}

static TRACING_PIPELINE: OnceLock<(SdkTracerProvider, CountingSink)> = OnceLock::new();

/// Registry + tracing-opentelemetry layer (default settings) as the global subscriber.
fn tracing_pipeline(queue: usize) -> &'static (SdkTracerProvider, CountingSink) {
    TRACING_PIPELINE.get_or_init(|| {
        let (provider, sink) = batch_provider(SwitchedSampler, queue);
        let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("tracing"));
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other global tracing subscriber");
        (provider, sink)
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Variant {
    Bare,
    Traced,
    Hand,
    Tracing,
    Fastrace,
}

impl Variant {
    fn label(self) -> &'static str {
        match self {
            Variant::Bare => "bare function",
            Variant::Traced => "`#[traced]`",
            Variant::Hand => "hand-written SDK",
            Variant::Tracing => "`tracing` `#[instrument]`",
            Variant::Fastrace => "fastrace `#[trace]`",
        }
    }
}

/// One variant's pipeline, set up for one case and torn down after it.
struct Pipeline {
    variant: Variant,
    /// hand-written: a fresh provider, installed globally.
    own: Option<SdkTracerProvider>,
    /// traced: its own pipeline, as `traced::Config::init` builds it (the same batch
    /// processor and counting exporter as the others).
    guard: Option<traced::Guard>,
    sink: CountingSink,
    exported_before: u64,
    /// The hand-written variant's tracer, obtained once from `opentelemetry::global`.
    tracer: Option<BoxedTracer>,
}

impl Pipeline {
    fn set_up(variant: Variant, sampled: bool, queue: usize) -> Self {
        let mut own = None;
        let mut guard = None;
        let mut tracer = None;
        let sink = match variant {
            Variant::Bare => CountingSink::default(),
            Variant::Traced => {
                let sink = CountingSink::default();
                let sampler = if sampled {
                    traced::SamplerConfig::AlwaysOn
                } else {
                    traced::SamplerConfig::AlwaysOff
                };
                guard = Some(
                    traced::Config::new()
                        .service_name("bench")
                        .exporter(sink.clone())
                        .queue_size(queue)
                        .sampler(sampler)
                        .init()
                        .expect("traced's pipeline starts"),
                );
                sink
            }
            Variant::Hand => {
                let (provider, sink) = batch_provider(sampler(sampled), queue);
                global::set_tracer_provider(provider.clone());
                tracer = Some(global::tracer("hand-written"));
                own = Some(provider);
                sink
            }
            Variant::Tracing => {
                TRACING_SAMPLED.store(sampled, Ordering::Relaxed);
                tracing_pipeline(queue).1.clone()
            }
            Variant::Fastrace => {
                assert!(sampled, "fastrace has no sampler to switch off here");
                let sink = CountingSink::default();
                let reporter = fastrace_opentelemetry::OpenTelemetryReporter::new(
                    sink.clone(),
                    Cow::Owned(Resource::builder().build()),
                    InstrumentationScope::builder("fastrace").build(),
                );
                fastrace::set_reporter(reporter, fastrace::collector::Config::default());
                sink
            }
        };
        let exported_before = sink.count();
        Self {
            variant,
            own,
            guard,
            sink,
            exported_before,
            tracer,
        }
    }

    /// Hands everything recorded so far to the exporter and waits until it is exported.
    /// Returns the spans the flush itself made (counted among the spans made).
    fn flush(&self) -> u64 {
        match self.variant {
            Variant::Bare => 0,
            Variant::Traced => {
                if let Some(guard) = &self.guard {
                    guard.flush();
                }
                0
            }
            Variant::Hand => {
                let _ = self.own.as_ref().map(SdkTracerProvider::force_flush);
                0
            }
            Variant::Tracing => {
                let _ = TRACING_PIPELINE
                    .get()
                    .map(|(provider, _)| provider.force_flush());
                0
            }
            Variant::Fastrace => {
                // A thread's commands that did not fit in its channel to the collector
                // (10240 of them; an async span sends one each) wait in a queue of that
                // thread, moved to the channel only at its next command, so
                // `fastrace::flush` alone can miss the last ones. A root span made and
                // dropped here sends commands first.
                drop(fastrace::Span::root("flush", FastraceSpanContext::random()));
                fastrace::flush();
                1
            }
        }
    }

    /// The last flush of a case, untimed: for fastrace, a second round in case its
    /// collector had not yet made room for everything this thread held back.
    fn flush_all(&self) -> u64 {
        let mut made = self.flush();
        if self.variant == Variant::Fastrace {
            fastrace::flush();
            made += self.flush();
        }
        made
    }

    fn exported(&self) -> u64 {
        self.sink.count() - self.exported_before
    }

    /// After [`Pipeline::flush_all`].
    fn tear_down(self) {
        if let Some(guard) = self.guard {
            let stats = guard.shutdown();
            assert_eq!(
                stats.dropped, 0,
                "traced's pipeline dropped spans: {stats:?}"
            );
        }
        if let Some(provider) = self.own {
            global::set_tracer_provider(NoopTracerProvider::new());
            provider.shutdown().expect("provider shuts down");
        }
        if self.variant == Variant::Tracing {
            TRACING_SAMPLED.store(true, Ordering::Relaxed);
        }
    }
}

// ---------------------------------------------------------------------------------------
// The functions measured
// ---------------------------------------------------------------------------------------

// (a), (c), (f): an empty function.

#[inline(never)]
fn bare_empty() {
    black_box(());
}

#[traced(skip_all, capture_output = false)]
#[inline(never)]
fn traced_empty() {
    black_box(());
}

#[inline(never)]
fn hand_empty(tracer: &BoxedTracer) {
    let span = tracer.start_with_context("hand_empty", &Context::current());
    let cx = Context::current_with_span(span);
    {
        let _attached = cx.clone().attach();
        black_box(());
    }
    cx.span().end();
}

#[tracing::instrument]
#[inline(never)]
fn tracing_empty() {
    black_box(());
}

#[fastrace::trace]
#[inline(never)]
fn fastrace_empty() {
    black_box(());
}

// (b), (c): two captured arguments.

#[inline(never)]
fn bare_args(n: i64, s: &str) {
    black_box((n, s));
}

#[traced(capture_output = false)]
#[inline(never)]
fn traced_args(n: i64, s: &str) {
    black_box((n, s));
}

#[inline(never)]
fn hand_args(tracer: &BoxedTracer, n: i64, s: &str) {
    let mut span = tracer.start_with_context("hand_args", &Context::current());
    if span.is_recording() {
        span.set_attribute(KeyValue::new("n", n));
        span.set_attribute(KeyValue::new("s", s.to_owned()));
    }
    let cx = Context::current_with_span(span);
    {
        let _attached = cx.clone().attach();
        black_box((n, s));
    }
    cx.span().end();
}

#[tracing::instrument]
#[inline(never)]
fn tracing_args(n: i64, s: &str) {
    black_box((n, s));
}

#[fastrace::trace(properties = { "n": "{n}", "s": "{s}" })]
#[inline(never)]
fn fastrace_args(n: i64, s: &str) {
    black_box((n, s));
}

// (g), (h), (i): issue 17's cases. The hand-written code records what `#[traced]`
// records: the arguments (two integer attributes for (g), as the issue states the
// reference; the same values as JSON text for (h) and (i)).

const LONG_STR: &str = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut.";

#[derive(serde::Serialize)]
struct Small {
    id: u64,
    name: &'static str,
    score: f64,
    tags: [&'static str; 2],
}

const SMALL: Small = Small {
    id: 42,
    name: "ada",
    score: 0.5,
    tags: ["a", "b"],
};

#[traced]
#[inline(never)]
fn traced_u64(a: u64, b: u64) -> u64 {
    black_box(a + b)
}

#[traced(capture_output = false)]
#[inline(never)]
fn traced_u64_input_only(a: u64, b: u64) -> u64 {
    black_box(a + b)
}

#[inline(never)]
fn hand_u64(tracer: &BoxedTracer, a: u64, b: u64) -> u64 {
    let mut span = tracer.start_with_context("hand_u64", &Context::current());
    if span.is_recording() {
        span.set_attribute(KeyValue::new("a", a as i64));
        span.set_attribute(KeyValue::new("b", b as i64));
    }
    let cx = Context::current_with_span(span);
    let out = {
        let _attached = cx.clone().attach();
        black_box(a + b)
    };
    cx.span().end();
    out
}

#[traced]
#[inline(never)]
fn traced_long_str(a: u64, s: &str) -> u64 {
    black_box(a + s.len() as u64)
}

#[inline(never)]
fn hand_long_str(tracer: &BoxedTracer, a: u64, s: &str) -> u64 {
    let mut span = tracer.start_with_context("hand_long_str", &Context::current());
    if span.is_recording() {
        let input = serde_json::json!({"a": a, "s": s}).to_string();
        span.set_attribute(KeyValue::new("input.value", input));
    }
    let cx = Context::current_with_span(span);
    let out = {
        let _attached = cx.clone().attach();
        black_box(a + s.len() as u64)
    };
    if cx.span().is_recording() {
        cx.span()
            .set_attribute(KeyValue::new("output.value", out.to_string()));
    }
    cx.span().end();
    out
}

#[traced]
#[inline(never)]
fn traced_struct(small: &Small) -> u64 {
    black_box(small.id)
}

#[inline(never)]
fn hand_struct(tracer: &BoxedTracer, small: &Small) -> u64 {
    let mut span = tracer.start_with_context("hand_struct", &Context::current());
    if span.is_recording() {
        let input = serde_json::json!({ "small": small }).to_string();
        span.set_attribute(KeyValue::new("input.value", input));
    }
    let cx = Context::current_with_span(span);
    let out = {
        let _attached = cx.clone().attach();
        black_box(small.id)
    };
    if cx.span().is_recording() {
        cx.span()
            .set_attribute(KeyValue::new("output.value", out.to_string()));
    }
    cx.span().end();
    out
}

// (d): an `async fn`, polled to completion.

async fn bare_async() {
    std::future::ready(()).await;
    black_box(());
}

#[traced(skip_all, capture_output = false)]
async fn traced_async() {
    std::future::ready(()).await;
    black_box(());
}

async fn hand_async(tracer: &BoxedTracer) {
    let span = tracer.start_with_context("hand_async", &Context::current());
    let cx = Context::current_with_span(span);
    async {
        std::future::ready(()).await;
        black_box(());
    }
    .with_context(cx.clone())
    .await;
    cx.span().end();
}

#[tracing::instrument]
async fn tracing_async() {
    std::future::ready(()).await;
    black_box(());
}

#[fastrace::trace]
async fn fastrace_async() {
    std::future::ready(()).await;
    black_box(());
}

/// Polls a future to completion with a no-op waker (the same loop for every variant).
fn poll_to_end<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut task = TaskContext::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut task) {
            return output;
        }
    }
}

// (e): nesting depth 3.

#[traced(skip_all, capture_output = false)]
#[inline(never)]
fn traced_a() {
    traced_b();
}

#[traced(skip_all, capture_output = false)]
#[inline(never)]
fn traced_b() {
    traced_c();
}

#[traced(skip_all, capture_output = false)]
#[inline(never)]
fn traced_c() {
    black_box(());
}

#[inline(never)]
fn hand_nested(tracer: &BoxedTracer, name: &'static str, inner: impl FnOnce()) {
    let span = tracer.start_with_context(name, &Context::current());
    let cx = Context::current_with_span(span);
    {
        let _attached = cx.clone().attach();
        inner();
    }
    cx.span().end();
}

#[inline(never)]
fn hand_a(tracer: &BoxedTracer) {
    hand_nested(tracer, "hand_a", || hand_b(tracer));
}

#[inline(never)]
fn hand_b(tracer: &BoxedTracer) {
    hand_nested(tracer, "hand_b", || hand_c(tracer));
}

#[inline(never)]
fn hand_c(tracer: &BoxedTracer) {
    hand_nested(tracer, "hand_c", || {
        black_box(());
    });
}

#[tracing::instrument]
#[inline(never)]
fn tracing_a() {
    tracing_b();
}

#[tracing::instrument]
#[inline(never)]
fn tracing_b() {
    tracing_c();
}

#[tracing::instrument]
#[inline(never)]
fn tracing_c() {
    black_box(());
}

#[fastrace::trace]
#[inline(never)]
fn fastrace_a() {
    fastrace_b();
}

#[fastrace::trace]
#[inline(never)]
fn fastrace_b() {
    fastrace_c();
}

#[fastrace::trace]
#[inline(never)]
fn fastrace_c() {
    black_box(());
}

// The roots the calls run under.

#[traced(root, name = "root", skip_all, capture_output = false)]
fn traced_root(calls: usize, body: &dyn Fn(usize)) {
    body(calls);
}

#[tracing::instrument(name = "root", parent = None, skip_all)]
fn tracing_root(calls: usize, body: &dyn Fn(usize)) {
    body(calls);
}

/// Runs `calls` calls (through `body(k)`, k calls at a time) in batches of `BATCH`,
/// each under a root span of the variant's kind. Returns the roots made.
fn under_roots(
    variant: Variant,
    tracer: Option<&BoxedTracer>,
    calls: usize,
    body: &dyn Fn(usize),
) -> u64 {
    let mut left = calls;
    let mut roots = 0;
    while left > 0 {
        let k = left.min(BATCH);
        match variant {
            Variant::Bare => body(k),
            Variant::Traced => traced_root(k, body),
            Variant::Hand => {
                let tracer = tracer.expect("the hand-written variant has a tracer");
                let span = tracer.start_with_context("root", &Context::new());
                let cx = Context::new().with_span(span);
                {
                    let _attached = cx.clone().attach();
                    body(k);
                }
                cx.span().end();
            }
            Variant::Tracing => tracing_root(k, body),
            Variant::Fastrace => {
                let root = fastrace::Span::root("root", FastraceSpanContext::random());
                let _parent = root.set_local_parent();
                body(k);
            }
        }
        if variant != Variant::Bare {
            roots += 1;
        }
        left -= k;
    }
    roots
}

// ---------------------------------------------------------------------------------------
// The cases
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Case {
    Empty,
    Args,
    DefaultU64,
    InputOnlyU64,
    LongStr,
    SmallStruct,
    UnsampledEmpty,
    UnsampledArgs,
    Async,
    Depth3,
    Threads,
}

impl Case {
    const ALL: [Case; 11] = [
        Case::Empty,
        Case::Args,
        Case::DefaultU64,
        Case::InputOnlyU64,
        Case::LongStr,
        Case::SmallStruct,
        Case::UnsampledEmpty,
        Case::UnsampledArgs,
        Case::Async,
        Case::Depth3,
        Case::Threads,
    ];

    fn label(self) -> &'static str {
        match self {
            Case::Empty => "(a) empty fn, sampled, no capture",
            Case::Args => "(b) two captured args (i64, short str)",
            Case::DefaultU64 => "(g) default `#[traced]` on fn(u64, u64) -> u64",
            Case::InputOnlyU64 => "(g) the same with capture_output = false",
            Case::LongStr => "(h) fn(u64, 200-byte &str) -> u64",
            Case::SmallStruct => "(i) fn(small Serialize struct) -> u64",
            Case::UnsampledEmpty => "(c) not sampled, empty fn",
            Case::UnsampledArgs => "(c) not sampled, two args",
            Case::Async => "(d) `async fn`, polled to completion",
            Case::Depth3 => "(e) nesting depth 3 (a → b → c)",
            Case::Threads => "(f) 4 threads at once, empty fn",
        }
    }

    fn sampled(self) -> bool {
        !matches!(self, Case::UnsampledEmpty | Case::UnsampledArgs)
    }

    fn spans_per_call(self) -> usize {
        if self == Case::Depth3 {
            3
        } else {
            1
        }
    }

    fn threads(self) -> usize {
        if self == Case::Threads {
            THREADS
        } else {
            1
        }
    }

    fn variants(self) -> &'static [Variant] {
        use Variant::*;
        match self {
            Case::UnsampledEmpty | Case::UnsampledArgs => &[Bare, Traced, Hand, Tracing],
            Case::Async => &[Bare, Traced, Hand, Tracing, Fastrace],
            // Issue 17's cases: traced against the SDK code recording the same values.
            Case::DefaultU64 | Case::InputOnlyU64 | Case::LongStr | Case::SmallStruct => {
                &[Traced, Hand]
            }
            _ => &[Traced, Hand, Tracing, Fastrace],
        }
    }
}

/// `k` calls of the case's function in the variant's form.
fn calls(case: Case, variant: Variant, tracer: Option<&BoxedTracer>, k: usize) {
    let t = || tracer.expect("the hand-written variant has a tracer");
    let n = || black_box(42_i64);
    let s = || black_box("hello");
    use Variant::*;
    for _ in 0..k {
        match (case, variant) {
            (Case::Empty | Case::UnsampledEmpty | Case::Threads, Bare) => bare_empty(),
            (Case::Empty | Case::UnsampledEmpty | Case::Threads, Traced) => traced_empty(),
            (Case::Empty | Case::UnsampledEmpty | Case::Threads, Hand) => hand_empty(t()),
            (Case::Empty | Case::UnsampledEmpty | Case::Threads, Tracing) => tracing_empty(),
            (Case::Empty | Case::UnsampledEmpty | Case::Threads, Fastrace) => fastrace_empty(),
            (Case::Args | Case::UnsampledArgs, Bare) => bare_args(n(), s()),
            (Case::Args | Case::UnsampledArgs, Traced) => traced_args(n(), s()),
            (Case::Args | Case::UnsampledArgs, Hand) => hand_args(t(), n(), s()),
            (Case::Args | Case::UnsampledArgs, Tracing) => tracing_args(n(), s()),
            (Case::Args | Case::UnsampledArgs, Fastrace) => fastrace_args(n(), s()),
            (Case::DefaultU64, Traced) => {
                black_box(traced_u64(black_box(7), black_box(35)));
            }
            (Case::DefaultU64, Hand) => {
                black_box(hand_u64(t(), black_box(7), black_box(35)));
            }
            (Case::InputOnlyU64, Traced) => {
                black_box(traced_u64_input_only(black_box(7), black_box(35)));
            }
            (Case::InputOnlyU64, Hand) => {
                black_box(hand_u64(t(), black_box(7), black_box(35)));
            }
            (Case::LongStr, Traced) => {
                black_box(traced_long_str(black_box(7), black_box(LONG_STR)));
            }
            (Case::LongStr, Hand) => {
                black_box(hand_long_str(t(), black_box(7), black_box(LONG_STR)));
            }
            (Case::SmallStruct, Traced) => {
                black_box(traced_struct(black_box(&SMALL)));
            }
            (Case::SmallStruct, Hand) => {
                black_box(hand_struct(t(), black_box(&SMALL)));
            }
            (Case::DefaultU64 | Case::InputOnlyU64 | Case::LongStr | Case::SmallStruct, _) => {}
            (Case::Async, Bare) => poll_to_end(bare_async()),
            (Case::Async, Traced) => poll_to_end(traced_async()),
            (Case::Async, Hand) => poll_to_end(hand_async(t())),
            (Case::Async, Tracing) => poll_to_end(tracing_async()),
            (Case::Async, Fastrace) => poll_to_end(fastrace_async()),
            (Case::Depth3, Bare) => bare_empty(),
            (Case::Depth3, Traced) => traced_a(),
            (Case::Depth3, Hand) => hand_a(t()),
            (Case::Depth3, Tracing) => tracing_a(),
            (Case::Depth3, Fastrace) => fastrace_a(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------------------

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

struct Settings {
    /// Spans per sample (over all threads), roots not counted.
    spans: usize,
    samples: usize,
    queue: usize,
}

struct Row {
    case: Case,
    variant: Variant,
    caller_ns: f64,
    /// Multi-threaded case: the calling threads' own CPU time per span.
    thread_cpu_ns: Option<f64>,
    cpu_ns: f64,
    /// Sampled spans made (roots included), and spans exported.
    made: u64,
    exported: u64,
}

fn clock(id: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    let rc = unsafe { libc::clock_gettime(id, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime({id})");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// CPU time of the whole process, all threads.
fn process_cpu() -> Duration {
    clock(libc::CLOCK_PROCESS_CPUTIME_ID)
}

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    clock(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// Runs one case for one variant: a warm-up sample, then `samples` samples. Every sample
/// makes about `settings.spans` spans (spread over the case's threads) and ends with a
/// flush, so the pipeline holds the same amount of work in every case.
fn run(case: Case, variant: Variant, settings: &Settings) -> Row {
    let pipeline = Pipeline::set_up(variant, case.sampled(), settings.queue);
    let tracer = pipeline.tracer.as_ref();
    let threads = case.threads();
    let calls_per_thread = (settings.spans / (case.spans_per_call() * threads)).max(1);
    // Spans per thread and sample (roots not counted).
    let spans = (calls_per_thread * case.spans_per_call()) as f64;
    let work = || {
        under_roots(variant, tracer, calls_per_thread, &|k| {
            calls(case, variant, tracer, k)
        })
    };

    let mut caller = Vec::with_capacity(settings.samples);
    let mut own_cpu = Vec::with_capacity(settings.samples);
    let mut cpu = Vec::with_capacity(settings.samples);
    let mut made = 0u64;
    if threads == 1 {
        for sample in 0..=settings.samples {
            let cpu_start = process_cpu();
            let start = Instant::now();
            let roots = work();
            let elapsed = start.elapsed();
            made += pipeline.flush();
            let cpu_used = process_cpu() - cpu_start;
            made += roots + spans as u64;
            if sample > 0 {
                caller.push(elapsed.as_nanos() as f64 / spans);
                cpu.push(cpu_used.as_nanos() as f64 / spans);
            }
        }
    } else {
        struct Done {
            elapsed: Duration,
            thread_cpu: Duration,
            roots: u64,
        }
        let start = Barrier::new(threads + 1);
        let end = Barrier::new(threads + 1);
        let stop = AtomicBool::new(false);
        let done: Mutex<Vec<Done>> = Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| loop {
                    start.wait();
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let cpu_begun = thread_cpu();
                    let begun = Instant::now();
                    let roots = work();
                    let elapsed = begun.elapsed();
                    let thread_cpu = thread_cpu() - cpu_begun;
                    done.lock().unwrap().push(Done {
                        elapsed,
                        thread_cpu,
                        roots,
                    });
                    end.wait();
                });
            }
            for sample in 0..=settings.samples {
                let cpu_start = process_cpu();
                start.wait();
                end.wait();
                made += pipeline.flush();
                let cpu_used = process_cpu() - cpu_start;
                let done = std::mem::take(&mut *done.lock().unwrap());
                made += done.iter().map(|d| d.roots + spans as u64).sum::<u64>();
                if sample > 0 {
                    let mean = |f: fn(&Done) -> Duration| {
                        done.iter().map(|d| f(d).as_nanos() as f64).sum::<f64>() / done.len() as f64
                    };
                    caller.push(mean(|d| d.elapsed) / spans);
                    own_cpu.push(mean(|d| d.thread_cpu) / spans);
                    cpu.push(cpu_used.as_nanos() as f64 / (spans * threads as f64));
                }
            }
            stop.store(true, Ordering::Relaxed);
            start.wait();
        });
    }

    made += pipeline.flush_all();
    let exported = pipeline.exported();
    pipeline.tear_down();
    let sampled = case.sampled() && variant != Variant::Bare;
    Row {
        case,
        variant,
        caller_ns: median(caller),
        thread_cpu_ns: (!own_cpu.is_empty()).then(|| median(own_cpu)),
        cpu_ns: median(cpu),
        made: if sampled { made } else { 0 },
        exported,
    }
}

// ---------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------

fn ns(value: f64) -> String {
    if value >= 1000.0 {
        format!("{:.2} µs", value / 1000.0)
    } else if value >= 100.0 {
        format!("{value:.0} ns")
    } else {
        format!("{value:.1} ns")
    }
}

fn ratio(value: f64, reference: Option<f64>) -> String {
    match reference {
        Some(reference) if reference > 0.0 => format!("{:.2}×", value / reference),
        _ => "—".to_owned(),
    }
}

fn table(rows: &[Row]) -> String {
    let mut out = String::new();
    out.push_str(
        "| case | variant | caller / span | CPU / span, all threads, incl. flush \
         | caller ÷ SDK | CPU ÷ SDK | caller ÷ fastrace | CPU ÷ fastrace \
         | spans made → exported |\n",
    );
    out.push_str("|---|---|---:|---:|---:|---:|---:|---:|---|\n");
    for case in Case::ALL {
        let of = |variant| {
            rows.iter()
                .find(|row| row.case == case && row.variant == variant)
        };
        let hand = of(Variant::Hand);
        let fast = of(Variant::Fastrace);
        let bare = of(Variant::Bare);
        for row in rows.iter().filter(|row| row.case == case) {
            let (vs_hand, vs_fast) = (
                row.variant != Variant::Hand,
                row.variant != Variant::Fastrace,
            );
            let caller = match (bare, row.thread_cpu_ns) {
                (Some(bare), _) if row.variant != Variant::Bare => format!(
                    "{} (+{} over bare)",
                    ns(row.caller_ns),
                    ns(row.caller_ns - bare.caller_ns)
                ),
                (_, Some(own)) => format!("{} (own CPU {})", ns(row.caller_ns), ns(own)),
                _ => ns(row.caller_ns),
            };
            let counts = if !case.sampled() {
                format!("not sampled: {} exported", row.exported)
            } else if row.variant == Variant::Bare {
                "—".to_owned()
            } else {
                let verdict = if row.made == row.exported {
                    "none dropped".to_owned()
                } else if row.made > row.exported {
                    format!("**{} DROPPED**", row.made - row.exported)
                } else {
                    format!("**{} more exported than made**", row.exported - row.made)
                };
                format!("{} → {} ({verdict})", row.made, row.exported)
            };
            let pick = |keep: bool, reference: Option<&Row>, f: fn(&Row) -> f64| {
                if keep && row.variant != Variant::Bare {
                    ratio(f(row), reference.map(f))
                } else {
                    "—".to_owned()
                }
            };
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                case.label(),
                row.variant.label(),
                caller,
                ns(row.cpu_ns),
                pick(vs_hand, hand, |r| r.caller_ns),
                pick(vs_hand, hand, |r| r.cpu_ns),
                pick(vs_fast, fast, |r| r.caller_ns),
                pick(vs_fast, fast, |r| r.cpu_ns),
                counts,
            ));
        }
    }
    out
}

fn env_usize(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(text) => text
            .parse()
            .unwrap_or_else(|_| panic!("{name}={text}: expected a whole number")),
        Err(_) => default,
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// CPU time the whole machine spent busy so far (`/proc/stat`), for a warning when other
/// processes ran during the benchmark.
fn machine_busy() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .map(|field| field.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal (guest time is already in user)
    let busy: u64 = fields.iter().take(8).sum::<u64>() - fields.get(3)? - fields.get(4)?;
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (ticks > 0).then(|| Duration::from_secs_f64(busy as f64 / ticks as f64))
}

fn rustc_version() -> String {
    std::process::Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned()))
        .arg("--version")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map_or_else(|| "rustc ?".to_owned(), |text| text.trim().to_owned())
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown CPU".to_owned());
    format!("{model}, {} cores available", cores())
}

fn main() {
    // `cargo bench` passes `--bench`. Without it (`cargo test --all-targets`, which runs
    // this binary too) a smoke run checks every row once, quickly, as criterion does.
    let smoke = !std::env::args().any(|arg| arg == "--bench");
    let spans = env_usize("BENCH_SPANS", if smoke { 400 } else { 20_000 }).max(1);
    let samples = env_usize("BENCH_SAMPLES", if smoke { 1 } else { 31 }).max(1);
    // Only the rows whose "case variant" text contains this (for profiling one row).
    let filter = std::env::var("BENCH_FILTER").unwrap_or_default();
    // Room for a whole sample and its roots, so no span is dropped even if the export
    // thread never ran during a sample (each sample ends with a flush, which empties it).
    let queue = spans + THREADS * spans.div_ceil(BATCH) + 64;
    let settings = Settings {
        spans,
        samples,
        queue,
    };
    let passes = env_usize("BENCH_PASSES", if smoke { 1 } else { 3 }).max(1);
    let began = Instant::now();
    let machine_began = machine_busy();
    let cpu_began = process_cpu();
    let mut rows: Vec<Row> = Vec::new();
    for pass in 1..=passes {
        for case in Case::ALL {
            for &variant in case.variants() {
                if !format!("{} {}", case.label(), variant.label()).contains(&filter) {
                    continue;
                }
                let row = run(case, variant, &settings);
                eprintln!(
                    "pass {pass}  {:<45} {:<28} caller {:>10}  cpu {:>10}  made {} exported {}",
                    case.label(),
                    variant.label(),
                    ns(row.caller_ns),
                    ns(row.cpu_ns),
                    row.made,
                    row.exported
                );
                // Several passes: the least disturbed median of each figure.
                match rows
                    .iter_mut()
                    .find(|kept| kept.case == case && kept.variant == variant)
                {
                    Some(kept) => {
                        kept.caller_ns = kept.caller_ns.min(row.caller_ns);
                        kept.cpu_ns = kept.cpu_ns.min(row.cpu_ns);
                        kept.thread_cpu_ns = kept
                            .thread_cpu_ns
                            .zip(row.thread_cpu_ns)
                            .map(|(kept, new)| kept.min(new));
                        kept.made += row.made;
                        kept.exported += row.exported;
                    }
                    None => rows.push(row),
                }
            }
        }
    }
    if let Some((provider, _)) = TRACING_PIPELINE.get() {
        provider.shutdown().expect("tracing's provider shuts down");
    }
    let others = machine_busy()
        .zip(machine_began)
        .map(|(end, start)| (end - start).saturating_sub(process_cpu() - cpu_began));
    let took = began.elapsed();

    println!();
    println!(
        "`cargo bench -p traced-benches --bench overhead` on {} ({}), {}: {spans} spans \
         per sample (calls in batches of {BATCH} under a root span), median of {samples} \
         samples after one warm-up, the lower median of {passes} passes; batch queue \
         {queue} spans; the run took {:.0} s{}.",
        machine(),
        std::env::consts::ARCH,
        rustc_version(),
        took.as_secs_f64(),
        others.map_or(String::new(), |others| format!(
            ", while other processes used {:.0}% of the machine",
            100.0 * others.as_secs_f64() / (took.as_secs_f64() * cores() as f64)
        )),
    );
    println!();
    print!("{}", table(&rows));
    println!();
    println!(
        "caller: wall time on the calling thread per span (`Instant`); in (f), with 4 \
         threads on {} cores, it includes time spent waiting for a core, and the calling \
         threads' own CPU time is given beside it. CPU: CPU time of the whole process \
         (`CLOCK_PROCESS_CPUTIME_ID`, all threads) per span, from the first call to the end \
         of the flush (`force_flush` / `fastrace::flush`). Ratios divide a row by the \
         hand-written SDK row and the fastrace row of the same case.",
        cores()
    );
    println!();
    let dropped = rows.iter().any(|row| row.made != row.exported);
    println!(
        "{}",
        if dropped {
            "SPANS WERE DROPPED: see the last column."
        } else {
            "Every span made was exported: no variant dropped any."
        }
    );
    if smoke {
        println!("(a smoke run: `cargo bench` passes `--bench` for the real one)");
    }
    if dropped {
        std::process::exit(1);
    }
}
