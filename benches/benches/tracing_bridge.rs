//! What the `tracing` bridge costs: per `tracing` span and per event, with
//! `traced::tracing::layer()` over traced's pipeline, with tracing-opentelemetry 0.34
//! (its default: context activation on) over an SDK provider, and with the registry
//! alone (what `tracing` costs before anything records it).
//!
//! `cargo bench -p traced-benches --bench tracing_bridge` prints a Markdown table for
//! `BENCHMARKS.md` (about 10 s). `BENCH_OPS` (default 20000) and `BENCH_SAMPLES`
//! (default 21) change the size; without `--bench` (as under `cargo test`) it makes a
//! quick smoke run.
//!
//! Each subscriber is set for the measuring thread only (`tracing::subscriber::
//! with_default`), so every row has its own. Two figures per row, medians over the
//! samples: the calling thread's wall time per operation, and the process's CPU time
//! (all threads) per operation from the first call to the end of a flush of the
//! pipeline, so export work on a background thread is counted. Every pipeline ends in an
//! exporter that discards spans and counts them.

use std::hint::black_box;
use std::time::{Duration, Instant};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use tracing::Dispatch;

mod common;
use common::{batch_provider, CountingSink};
use tracing_subscriber::layer::SubscriberExt as _;

#[derive(Clone, Copy, PartialEq)]
enum Subscriber {
    RegistryAlone,
    TracedLayer,
    TracingOpenTelemetry,
}

impl Subscriber {
    fn label(self) -> &'static str {
        match self {
            Self::RegistryAlone => "registry alone (no export)",
            Self::TracedLayer => "registry + traced::tracing::layer()",
            Self::TracingOpenTelemetry => "registry + tracing-opentelemetry",
        }
    }
}

#[derive(Clone, Copy)]
enum Op {
    /// `info_span!("work", n).in_scope(..)`: a span with one field, entered and closed.
    Span,
    /// `info!(n, "message")` inside a span of the pipeline (a traced call, or a tracing
    /// span for tracing-opentelemetry).
    EventInSpan,
    /// `info!(n, "message")` outside any span.
    EventOutside,
}

impl Op {
    fn label(self) -> &'static str {
        match self {
            Self::Span => "per `tracing` span (one field)",
            Self::EventInSpan => "per event in a recorded span",
            Self::EventOutside => "per event outside any span",
        }
    }
}

struct Pipeline {
    dispatch: Dispatch,
    guard: Option<traced::Guard>,
    provider: Option<SdkTracerProvider>,
}

impl Pipeline {
    /// Waits until every span made so far has been exported.
    fn flush(&self) {
        if let Some(guard) = &self.guard {
            guard.flush();
        }
        if let Some(provider) = &self.provider {
            let _ = provider.force_flush();
        }
    }
}

fn pipeline(subscriber: Subscriber, queue: usize) -> Pipeline {
    match subscriber {
        Subscriber::RegistryAlone => Pipeline {
            dispatch: Dispatch::new(tracing_subscriber::registry()),
            guard: None,
            provider: None,
        },
        Subscriber::TracedLayer => {
            let guard = traced::Config::new()
                .service_name("bench")
                .exporter(CountingSink::default())
                .queue_size(queue)
                .init()
                .expect("traced's pipeline starts");
            Pipeline {
                dispatch: Dispatch::new(
                    tracing_subscriber::registry().with(traced::tracing::layer()),
                ),
                guard: Some(guard),
                provider: None,
            }
        }
        Subscriber::TracingOpenTelemetry => {
            // The SDK's default sampler, as tracing-opentelemetry users have it.
            let (provider, _) =
                batch_provider(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)), queue);
            let tracer = provider.tracer("bench");
            Pipeline {
                dispatch: Dispatch::new(
                    tracing_subscriber::registry()
                        .with(tracing_opentelemetry::layer().with_tracer(tracer)),
                ),
                guard: None,
                provider: Some(provider),
            }
        }
    }
}

#[traced::traced(skip_all, capture_output = false)]
fn traced_parent(ops: usize, body: &dyn Fn(usize)) {
    for n in 0..ops {
        body(n);
    }
}

fn one_sample(subscriber: Subscriber, op: Op, ops: usize, pipeline: &Pipeline) -> (f64, f64) {
    let cpu_before = process_cpu();
    let started = Instant::now();
    tracing::dispatcher::with_default(&pipeline.dispatch, || match op {
        Op::Span => {
            for n in 0..ops {
                tracing::info_span!("work", n).in_scope(|| black_box(n));
            }
        }
        Op::EventOutside => {
            for n in 0..ops {
                tracing::info!(n, "message");
            }
        }
        Op::EventInSpan => {
            let body = |n: usize| tracing::info!(n, "message");
            if subscriber == Subscriber::TracedLayer {
                traced_parent(ops, &body);
            } else {
                tracing::info_span!("parent").in_scope(|| {
                    for n in 0..ops {
                        body(n);
                    }
                });
            }
        }
    });
    let caller = started.elapsed();
    pipeline.flush();
    let cpu = process_cpu().saturating_sub(cpu_before);
    (
        caller.as_nanos() as f64 / ops as f64,
        cpu.as_nanos() as f64 / ops as f64,
    )
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values[values.len() / 2]
}

fn process_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let ops = if full { env("BENCH_OPS", 20_000) } else { 200 };
    let samples = if full { env("BENCH_SAMPLES", 21) } else { 1 };
    println!("| operation | subscriber | calling thread ns | process CPU ns |");
    println!("|---|---|---:|---:|");
    for op in [Op::Span, Op::EventInSpan, Op::EventOutside] {
        for subscriber in [
            Subscriber::RegistryAlone,
            Subscriber::TracingOpenTelemetry,
            Subscriber::TracedLayer,
        ] {
            // The registry alone records no span: no row for an event "in a recorded span".
            if matches!(op, Op::EventInSpan) && subscriber == Subscriber::RegistryAlone {
                continue;
            }
            let pipeline = pipeline(subscriber, ops * 2 + 16);
            let _warm_up = one_sample(subscriber, op, ops, &pipeline);
            let (callers, cpus): (Vec<f64>, Vec<f64>) = (0..samples)
                .map(|_| one_sample(subscriber, op, ops, &pipeline))
                .unzip();
            println!(
                "| {} | {} | {:.0} | {:.0} |",
                op.label(),
                subscriber.label(),
                median(callers),
                median(cpus)
            );
        }
    }
}
