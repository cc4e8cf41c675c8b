//! `burst`: many threads end spans as fast as they can, with traced's default
//! configuration, and the program prints what became of every span.
//!
//! ```sh
//! cargo run --release -p traced-faults --bin burst                 # 8 threads x 20,000 spans
//! cargo run --release -p traced-faults --bin burst -- --threads 8 --spans 20000 --rounds 3
//! ```
//!
//! Each round runs three cases: the defaults (a burst absorbed by the 128 MiB budget of
//! the buffers), blocking mode with a budget far too small for the burst (producers wait,
//! nothing is dropped), and dropping with that same small budget (drops counted and told:
//! the check that counting works). The exporter does nothing, so what is measured is
//! traced's own path: the rate the producers reach, how long the export thread takes to
//! catch up, the peak RSS. Prints a Markdown table and `burst: N passed, M failed`; exits 1
//! when a check fails.

#[allow(dead_code)] // of the fault program's helpers, only the RSS reading is used here
mod sys;

use std::process::ExitCode;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use traced::export::NullExporter;
use traced::{traced, Config, ExportStats};

#[traced]
fn add(a: u64, b: u64) -> u64 {
    a.wrapping_add(b)
}

struct Case {
    name: &'static str,
    config: fn() -> Config,
    /// Must nothing be dropped?
    lossless: bool,
}

/// A budget far below the burst's size (8 x 20,000 spans of a few hundred bytes).
const SMALL_BUDGET: usize = 256 << 10;

struct Outcome {
    stats: ExportStats,
    /// From the first span to the last span ended by the producers.
    produce: Duration,
    /// From the first span to the pipeline's shutdown (every span exported).
    total: Duration,
    peak_rss_mib: f64,
}

fn run(config: Config, threads: usize, spans: u64) -> Result<Outcome, String> {
    let guard = config
        .exporter(NullExporter::default())
        .notices(true)
        .init()
        .map_err(|e| e.to_string())?;
    let rss_before = sys::rss_kib();
    let barrier = Barrier::new(threads + 1);
    let mut peak = rss_before;
    let (produce, started) = std::thread::scope(|scope| {
        for t in 0..threads {
            let barrier = &barrier;
            scope.spawn(move || {
                barrier.wait();
                for i in 0..spans {
                    std::hint::black_box(add(t as u64, i));
                }
            });
        }
        barrier.wait();
        let started = Instant::now();
        (started, started)
    });
    let produce = produce.elapsed();
    peak = peak.max(sys::rss_kib());
    let stats = guard.shutdown();
    let total = started.elapsed();
    peak = peak.max(sys::rss_kib());
    Ok(Outcome {
        stats,
        produce,
        total,
        peak_rss_mib: peak.saturating_sub(rss_before) as f64 / 1024.0,
    })
}

fn arg(args: &[String], name: &str, default: u64) -> Result<u64, String> {
    match args.iter().position(|a| a == name) {
        None => Ok(default),
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("{name} takes a number")),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = (|| -> Result<(u64, u64, u64), String> {
        Ok((
            arg(&args, "--threads", 8)?,
            arg(&args, "--spans", 20_000)?,
            arg(&args, "--rounds", 1)?,
        ))
    })();
    let (threads, spans, rounds) = match parsed {
        Ok(values) => values,
        Err(error) => {
            eprintln!("burst: {error}\nusage: burst [--threads N] [--spans N] [--rounds N]");
            return ExitCode::from(2);
        }
    };
    let cases = [
        Case {
            name: "defaults",
            config: || Config::new().service_name("burst"),
            lossless: true,
        },
        Case {
            name: "blocking, 256 KiB budget",
            config: || {
                Config::new()
                    .service_name("burst")
                    .max_buffered_bytes(SMALL_BUDGET)
                    .blocking(true)
            },
            lossless: true,
        },
        Case {
            name: "dropping, 256 KiB budget",
            config: || {
                Config::new()
                    .service_name("burst")
                    .max_buffered_bytes(SMALL_BUDGET)
            },
            lossless: false,
        },
    ];
    let expected = threads * spans;
    println!(
        "{threads} threads x {spans} spans, an exporter that does nothing, {} cores\n",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("| case | round | ended | exported | dropped | producers, spans/s | until all exported, spans/s | peak RSS growth |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let (mut passed, mut failed) = (0, 0);
    for round in 1..=rounds {
        for case in &cases {
            let outcome = match run((case.config)(), threads as usize, spans) {
                Ok(outcome) => outcome,
                Err(error) => {
                    eprintln!("burst: {}: init failed: {error}", case.name);
                    failed += 1;
                    continue;
                }
            };
            let s = outcome.stats;
            let rate = |d: Duration| expected as f64 / d.as_secs_f64();
            println!(
                "| {} | {round} | {} | {} | {} | {:.0} | {:.0} | {:.1} MiB |",
                case.name,
                s.ended,
                s.exported,
                s.dropped,
                rate(outcome.produce),
                rate(outcome.total),
                outcome.peak_rss_mib
            );
            let counted = s.ended == expected && s.exported + s.dropped == expected;
            let ok = counted && (!case.lossless || s.dropped == 0);
            if ok {
                passed += 1;
            } else {
                failed += 1;
                eprintln!(
                    "burst: FAILED {}: {s:?} ({})",
                    case.name,
                    if counted {
                        "spans were dropped"
                    } else {
                        "spans unaccounted for"
                    }
                );
            }
        }
    }
    println!("\nburst: {passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
