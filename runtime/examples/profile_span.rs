//! A fixed workload for profiling the span path under callgrind:
//! `valgrind --tool=callgrind target/release/examples/profile_span 20000 [hand|sdk|args]`:
//! `#[traced]` through `init()`'s pipeline; the same work written by hand against
//! `init()`'s provider (`hand`) or against the SDK's provider and batch processor (`sdk`).

use traced::export::NullExporter;
use traced::traced;

#[traced(skip_all, capture_output = false)]
#[inline(never)]
fn empty() -> u64 {
    std::hint::black_box(1)
}

#[traced(capture_output = false)]
#[inline(never)]
fn two_args(n: i64, s: &str) -> u64 {
    std::hint::black_box(n as u64 + s.len() as u64)
}

/// The same work written by hand against the OpenTelemetry API, for comparison.
#[inline(never)]
fn hand(tracer: &opentelemetry::global::BoxedTracer) -> u64 {
    use opentelemetry::trace::{TraceContextExt, Tracer};
    use opentelemetry::Context;
    let span = tracer.start_with_context("hand", &Context::current());
    let cx = Context::current_with_span(span);
    let guard = cx.clone().attach();
    let out = std::hint::black_box(1);
    drop(guard);
    cx.span().end();
    out
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    match std::env::args().nth(2).as_deref() {
        // The hand-written code on the SDK's own provider and batch processor.
        Some("sdk") => sdk(n),
        // The hand-written code on init()'s provider (through opentelemetry::global).
        Some("hand") => traced_pipeline(n, Workload::Hand),
        // `#[traced]` capturing two arguments (an integer and a short string).
        Some("args") => traced_pipeline(n, Workload::TwoArgs),
        _ => traced_pipeline(n, Workload::Empty),
    }
}

enum Workload {
    Empty,
    TwoArgs,
    Hand,
}

fn traced_pipeline(n: u64, workload: Workload) {
    let sink = NullExporter::default();
    let guard = traced::Config::new()
        .exporter(sink.clone())
        .queue_size(1 << 17)
        .init()
        .expect("valid config");
    let tracer = {
        use opentelemetry::trace::TracerProvider as _;
        opentelemetry::global::tracer_provider().tracer("hand")
    };
    let mut total = 0;
    for _ in 0..n {
        total += match workload {
            Workload::Empty => empty(),
            Workload::TwoArgs => two_args(7, "short"),
            Workload::Hand => hand(&tracer),
        };
    }
    let stats = guard.shutdown();
    println!(
        "{total} calls, {} spans exported, {} dropped",
        stats.exported, stats.dropped
    );
}

fn sdk(n: u64) {
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider};
    let sink = NullExporter::default();
    let processor = BatchSpanProcessor::builder(sink.clone())
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_max_queue_size(1 << 17)
                .build(),
        )
        .build();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(processor)
        .build();
    opentelemetry::global::set_tracer_provider(provider.clone());
    let tracer = opentelemetry::global::tracer_provider().tracer("hand");
    let mut total = 0;
    for _ in 0..n {
        total += hand(&tracer);
    }
    let _ = provider.force_flush();
    let _ = provider.shutdown();
    println!("{total} calls, {} spans exported", sink.exported());
}
