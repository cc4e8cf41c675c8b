//! The cost of one `#[traced]` span against hand-written OpenTelemetry SDK code doing
//! the same work, for profiling the span path (`cargo bench -p traced --bench span`).
//! The full comparison with the peers lives in the `traced-benches` crate.

use divan::Bencher;
use opentelemetry::trace::{TraceContextExt, Tracer};
use opentelemetry::{global, Context};
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracerProvider,
};
use traced::export::NullExporter;
use traced::traced;

fn install(sampler: Sampler) -> SdkTracerProvider {
    let processor = BatchSpanProcessor::builder(NullExporter::default())
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_max_queue_size(1 << 16)
                .build(),
        )
        .build();
    let provider = SdkTracerProvider::builder()
        .with_sampler(sampler)
        .with_span_processor(processor)
        .build();
    global::set_tracer_provider(provider.clone());
    provider
}

#[inline(never)]
fn bare() -> u64 {
    divan::black_box(1)
}

#[traced(skip_all, capture_output = false)]
#[inline(never)]
fn traced_empty() -> u64 {
    divan::black_box(1)
}

#[traced]
#[inline(never)]
fn traced_two_args(n: u64, s: &str) -> u64 {
    divan::black_box(n + s.len() as u64)
}

#[divan::bench]
fn bare_function() -> u64 {
    bare()
}

#[divan::bench(sample_size = 200)]
fn hand_written_sdk(bencher: Bencher) {
    let provider = install(Sampler::AlwaysOn);
    let tracer = global::tracer("bench");
    bencher.bench_local(|| {
        let span = tracer.start_with_context("hand", &Context::current());
        let cx = Context::current_with_span(span);
        let guard = cx.clone().attach();
        let out = bare();
        drop(guard);
        cx.span().end();
        out
    });
    let _ = provider.shutdown();
}

/// `traced::init()`'s pipeline, with the same discarding exporter.
fn init(sampler: traced::SamplerConfig) -> traced::Guard {
    traced::Config::new()
        .exporter(NullExporter::default())
        .queue_size(1 << 16)
        .sampler(sampler)
        .init()
        .expect("valid config")
}

#[divan::bench(sample_size = 200)]
fn traced_empty_sampled_global_provider(bencher: Bencher) {
    let provider = install(Sampler::AlwaysOn);
    bencher.bench_local(traced_empty);
    let _ = provider.shutdown();
}

#[divan::bench(sample_size = 200)]
fn traced_empty_sampled(bencher: Bencher) {
    let guard = init(traced::SamplerConfig::AlwaysOn);
    bencher.bench_local(traced_empty);
    guard.shutdown();
}

#[divan::bench(sample_size = 200)]
fn traced_two_args_sampled(bencher: Bencher) {
    let guard = init(traced::SamplerConfig::AlwaysOn);
    bencher.bench_local(|| traced_two_args(7, "prompt"));
    guard.shutdown();
}

#[divan::bench(sample_size = 200)]
fn traced_empty_unsampled(bencher: Bencher) {
    let guard = init(traced::SamplerConfig::AlwaysOff);
    bencher.bench_local(traced_empty);
    guard.shutdown();
}

fn main() {
    divan::main();
}
