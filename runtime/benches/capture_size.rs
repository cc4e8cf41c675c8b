//! What capturing a large argument costs: the serialiser stops at the attribute limit
//! (32 KiB by default), so a 20 MB argument should cost about what a 32 KiB one does
//! (`cargo bench -p traced --bench capture_size`). The spans go to a pipeline of ours with
//! an exporter that does nothing.

use divan::Bencher;
use serde::Serialize;
use traced::export::NullExporter;
use traced::traced;

#[derive(Serialize)]
struct Document {
    title: &'static str,
    body: String,
}

#[traced]
#[inline(never)]
fn summarise(document: &Document) -> usize {
    divan::black_box(document.body.len())
}

fn main() {
    let guard = traced::Config::new()
        .exporter(NullExporter::default())
        .init()
        .expect("a pipeline with an exporter that does nothing");
    divan::main();
    drop(guard);
}

fn document(bytes: usize) -> Document {
    Document {
        title: "a report",
        body: "x".repeat(bytes),
    }
}

/// A value that fits the limit whole.
#[divan::bench(sample_size = 20)]
fn argument_16_kib(bencher: Bencher) {
    let document = document(16 << 10);
    bencher.bench_local(|| summarise(&document));
}

/// A value of exactly the limit's size.
#[divan::bench(sample_size = 20)]
fn argument_32_kib(bencher: Bencher) {
    let document = document(32 << 10);
    bencher.bench_local(|| summarise(&document));
}

/// 640 times the limit: cut at 32 KiB while it is written.
#[divan::bench(sample_size = 20)]
fn argument_20_mib(bencher: Bencher) {
    let document = document(20 << 20);
    bencher.bench_local(|| summarise(&document));
}

/// The cost of writing 20 MiB as JSON at all, for comparison: what capture cost before
/// it stopped at the limit.
#[divan::bench(sample_size = 5)]
fn serialise_20_mib_whole(bencher: Bencher) {
    let document = document(20 << 20);
    bencher.bench_local(|| serde_json::to_vec(&document).map(|v| v.len()).unwrap_or(0));
}
