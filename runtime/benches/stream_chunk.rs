//! The per-chunk cost of a traced stream against the same stream unwrapped.
//!
//! `cargo bench -p traced --bench stream_chunk`. Each iteration drains a stream of
//! `CHUNKS` text chunks; divan's items/s counter gives the rate per chunk, and the
//! difference of the medians divided by `CHUNKS` is the wrapper's cost per chunk.
//! Spans go through the SDK's batch processor into an exporter that discards them (and
//! counts them, to check that none is dropped).

use divan::counter::ItemsCount;
use divan::Bencher;
use futures::stream::{self, Stream, StreamExt};
use opentelemetry::global;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use traced::export::NullExporter;
use traced::traced;

const CHUNKS: usize = 1_000;

/// Realistic LLM deltas: a few bytes each.
static WORDS: [&str; 8] = [
    "The ", "quick ", "brown ", "fox ", "jumps ", "over ", "lazy ", "dogs. ",
];

fn words() -> impl Iterator<Item = &'static str> {
    divan::black_box(&WORDS)
        .iter()
        .copied()
        .cycle()
        .take(CHUNKS)
}

fn unwrapped() -> impl Stream<Item = &'static str> {
    stream::iter(words())
}

#[traced]
fn wrapped() -> impl Stream<Item = &'static str> {
    stream::iter(words())
}

fn install(sampler: Sampler) -> (SdkTracerProvider, NullExporter) {
    let sink = NullExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_sampler(sampler)
        .with_batch_exporter(sink.clone())
        .build();
    global::set_tracer_provider(provider.clone());
    (provider, sink)
}

/// Polls every item and hands it to `black_box`, so the optimiser cannot skip the stream.
fn drain(stream: impl Stream<Item = &'static str>) {
    futures::executor::block_on(stream.for_each(|item| {
        divan::black_box(item);
        std::future::ready(())
    }))
}

#[divan::bench]
fn stream_unwrapped(bencher: Bencher) {
    bencher
        .counter(ItemsCount::new(CHUNKS))
        .bench(|| drain(unwrapped()));
}

#[divan::bench]
fn stream_traced_sampled(bencher: Bencher) {
    let (provider, sink) = install(Sampler::AlwaysOn);
    let mut streams = 0usize;
    bencher.counter(ItemsCount::new(CHUNKS)).bench_local(|| {
        streams += 1;
        drain(wrapped())
    });
    let _ = provider.force_flush();
    let exported = sink.exported();
    eprintln!("stream_traced_sampled: {streams} spans made, {exported} exported");
    let _ = provider.shutdown();
}

#[divan::bench]
fn stream_traced_unsampled(bencher: Bencher) {
    let (provider, _sink) = install(Sampler::AlwaysOff);
    bencher
        .counter(ItemsCount::new(CHUNKS))
        .bench(|| drain(wrapped()));
    let _ = provider.shutdown();
}

fn main() {
    divan::main();
}
