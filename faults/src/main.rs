//! `faults`: load and faults on loopback, bounded in time.
//!
//! ```sh
//! cargo run --release -p traced-faults -- [--quick]      # the phases (about 70 s; 15 s quick)
//! cargo run --release -p traced-faults -- --kill-child   # SIGKILL mid-run, then restart (20 s)
//! FAULTS_LOG=debug ...                                   # also traced's debug log, timestamped
//! ```
//!
//! Options: `--slow-ms` (3000), `--export-timeout-ms` (2000), `--interval-us` (8000 per
//! producer), `--requests` (per producer and phase), `--flap-ms` (300), `--spool-mib`
//! (the library's 64).
//!
//! Many threads and tokio tasks make traced requests (a `#[traced]` handler with two
//! `#[traced]` children) against an in-process OTLP/HTTP collector that is up, down
//! (connection refused), slow (answers seconds late), failing (500) and flapping. Each
//! request's latency is measured on the application's own thread; the process's RSS is
//! sampled; after the faults the collector comes back, the spool drains, and what the
//! collector received is compared with what was produced and with `ExportStats`. Prints
//! Markdown tables and `faults: N passed, M failed`; exits 1 when a check fails.

mod app;
mod collector;
mod kill;
mod sys;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use traced::{Config, ExportStats, Protocol};

use app::{Plan, SPANS_PER_REQUEST};
use collector::{Collector, Mode};
use sys::{RssSampler, SpoolContents};

/// Options of a run.
#[derive(Clone, Debug)]
pub struct Options {
    pub quick: bool,
    /// How late the slow collector answers.
    pub slow: Duration,
    /// The exporter's timeout (`Config::export_timeout`).
    pub export_timeout: Duration,
    /// The pace of each producer.
    pub interval: Duration,
    /// Requests per producer and phase (default: 10 s of requests, 2 s with `--quick`).
    pub requests_per_producer: u64,
    /// The flapping collector's half period.
    pub flap: Duration,
    /// The spool's size cap (`Config::spool_max_bytes`; default the library's, 64 MiB).
    pub spool_max_bytes: Option<u64>,
}

const USAGE: &str = "usage: faults [--quick] [--kill-child] [--slow-ms N] [--export-timeout-ms N] \
[--interval-us N] [--requests N] [--flap-ms N] [--spool-mib N]";

fn parse_args() -> Result<(Options, bool, Option<kill::ChildArgs>), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child") {
        return kill::ChildArgs::parse(&args[1..])
            .map(|c| (default_options(false), false, Some(c)));
    }
    let quick = args.iter().any(|a| a == "--quick");
    let kill_child = args.iter().any(|a| a == "--kill-child");
    let mut options = default_options(quick);
    let mut i = 0;
    let mut requests = None;
    while i < args.len() {
        let value = |i: usize| -> Result<u64, String> {
            args.get(i + 1)
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{} needs a number\n{USAGE}", args[i]))
        };
        match args[i].as_str() {
            "--quick" | "--kill-child" => {}
            "--slow-ms" => {
                options.slow = Duration::from_millis(value(i)?);
                i += 1;
            }
            "--export-timeout-ms" => {
                options.export_timeout = Duration::from_millis(value(i)?);
                i += 1;
            }
            "--interval-us" => {
                options.interval = Duration::from_micros(value(i)?.max(1));
                i += 1;
            }
            "--requests" => {
                requests = Some(value(i)?.clamp(1, 1_000_000));
                i += 1;
            }
            "--flap-ms" => {
                options.flap = Duration::from_millis(value(i)?.max(10));
                i += 1;
            }
            "--spool-mib" => {
                options.spool_max_bytes = Some(value(i)?.max(1) << 20);
                i += 1;
            }
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
        i += 1;
    }
    let phase_length = if quick {
        Duration::from_secs(2)
    } else {
        Duration::from_secs(10)
    };
    options.requests_per_producer = requests
        .unwrap_or_else(|| (phase_length.as_micros() / options.interval.as_micros()) as u64)
        .max(1);
    Ok((options, kill_child, None))
}

fn default_options(quick: bool) -> Options {
    Options {
        quick,
        slow: Duration::from_secs(3),
        export_timeout: Duration::from_secs(2),
        interval: Duration::from_millis(8),
        requests_per_producer: 0,
        flap: Duration::from_millis(300),
        spool_max_bytes: None,
    }
}

/// The pipeline configuration every run uses (the spool directory differs).
pub fn config(url: &str, spool: &Path, service: &str, options: &Options) -> Config {
    let config = Config::new()
        .service_name(service)
        .otlp(url, Protocol::HttpProtobuf)
        .spool_dir(spool)
        .export_timeout(options.export_timeout)
        .retry_backoff(Duration::from_millis(250), Duration::from_secs(2));
    match options.spool_max_bytes {
        Some(bytes) => config.spool_max_bytes(bytes),
        None => config,
    }
}

fn main() -> ExitCode {
    let (options, kill_child, child) = match parse_args() {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    sys::install_logger();
    let failed = if let Some(child) = child {
        return kill::child_main(&child);
    } else if kill_child {
        kill::kill_main(&options)
    } else {
        phases_main(&options)
    };
    match failed {
        Ok(0) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("faults: {error}");
            ExitCode::from(2)
        }
    }
}

/// A phase of the run.
struct Phase {
    name: &'static str,
    what: &'static str,
    mode: Mode,
    traced: bool,
    flapping: bool,
}

const PHASES: [Phase; 6] = [
    Phase {
        name: "bare",
        what: "untraced, collector up",
        mode: Mode::Up,
        traced: false,
        flapping: false,
    },
    Phase {
        name: "baseline",
        what: "collector up (200)",
        mode: Mode::Up,
        traced: true,
        flapping: false,
    },
    Phase {
        name: "down",
        what: "connection refused",
        mode: Mode::Down,
        traced: true,
        flapping: false,
    },
    Phase {
        name: "slow",
        what: "answers 200 late",
        mode: Mode::Slow,
        traced: true,
        flapping: false,
    },
    Phase {
        name: "error",
        what: "answers 500",
        mode: Mode::Error,
        traced: true,
        flapping: false,
    },
    Phase {
        name: "flapping",
        what: "up / 500 / up / down",
        mode: Mode::Up,
        traced: true,
        flapping: true,
    },
];
const BASELINE: usize = 1;
const RECOVERY: usize = PHASES.len();

/// What a phase measured.
struct Row {
    requests: u64,
    p50: f64,
    p99: f64,
    max: f64,
    seconds: f64,
    produced: u64,
    exported: u64,
    spooled: u64,
    resent: u64,
    cpu: sys::Cpu,
}

/// Cycles the collector through up, 500, up, down until stopped (bounded).
fn flap(collector: Arc<Mutex<Collector>>, half_period: Duration, stop: Arc<AtomicBool>) {
    const CYCLE: [Mode; 4] = [Mode::Up, Mode::Error, Mode::Up, Mode::Down];
    for step in 0..100_000 {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        if let Ok(mut collector) = collector.lock() {
            if let Err(error) = collector.set(CYCLE[step % CYCLE.len()]) {
                eprintln!("faults: the flapping collector could not listen: {error}");
            }
        }
        std::thread::sleep(half_period);
    }
}

fn set_mode(collector: &Mutex<Collector>, mode: Mode) -> std::io::Result<()> {
    match collector.lock() {
        Ok(mut collector) => collector.set(mode),
        Err(_) => Err(std::io::Error::other("collector lock poisoned")),
    }
}

fn scratch_dir(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("traced-faults-{what}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Counts the checks and prints each.
#[derive(Default)]
pub struct Checks {
    passed: usize,
    failed: usize,
    lines: Vec<String>,
}

impl Checks {
    pub fn check(&mut self, ok: bool, what: String) {
        if ok {
            self.passed += 1;
        } else {
            self.failed += 1;
        }
        self.lines
            .push(format!("- [{}] {what}", if ok { "pass" } else { "FAIL" }));
    }

    /// Prints the checks and the closing line; returns how many failed.
    pub fn finish(self) -> usize {
        println!("\n### Checks\n");
        for line in &self.lines {
            println!("{line}");
        }
        println!("\nfaults: {} passed, {} failed", self.passed, self.failed);
        self.failed
    }
}

/// Waits (bounded) until no batch waits in the spool, then pauses so that late
/// duplicates can show; returns whether it drained and how long that took.
fn wait_for_drain(spool: &Path, limit: Duration) -> (bool, Duration) {
    let began = Instant::now();
    let mut drained = false;
    while began.elapsed() < limit {
        if sys::spool_drained(spool) {
            drained = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let waited = began.elapsed();
    std::thread::sleep(Duration::from_millis(500));
    (drained, waited)
}

fn phases_main(options: &Options) -> Result<usize, String> {
    let began = Instant::now();
    let plan = Plan {
        threads: 4,
        tasks: 4,
        requests_per_producer: options.requests_per_producer,
        interval: options.interval,
    };
    let dir = scratch_dir("run");
    let spool = dir.join("spool");
    let collector = Collector::start(
        ([127, 0, 0, 1], 0).into(),
        options.slow,
        options.export_timeout,
    )
    .map_err(|e| format!("collector: {e}"))?;
    let url = collector.url();
    let collector = Arc::new(Mutex::new(collector));
    let guard = config(&url, &spool, "faults", options)
        .init()
        .map_err(|e| format!("init: {e}"))?;
    let app_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("app")
        .enable_all()
        .build()
        .map_err(|e| format!("app runtime: {e}"))?;
    let mut rss = RssSampler::start(PHASES.len() + 1);
    println!(
        "# faults{}\n\n{} threads + {} tokio tasks, each {} requests per phase, one per {} µs \
         ({:.0} requests/s, {:.0} spans/s); OTLP/HTTP to {url}; export timeout {} ms, slow \
         collector answers after {} ms, flapping every {} ms; spool {} (cap {} MiB)",
        if options.quick { " --quick" } else { "" },
        plan.threads,
        plan.tasks,
        plan.requests_per_producer,
        plan.interval.as_micros(),
        plan.producers() as f64 / plan.interval.as_secs_f64(),
        plan.producers() as f64 * SPANS_PER_REQUEST as f64 / plan.interval.as_secs_f64(),
        options.export_timeout.as_millis(),
        options.slow.as_millis(),
        options.flap.as_millis(),
        spool.display(),
        options.spool_max_bytes.unwrap_or(64 << 20) >> 20,
    );

    let mut rows = Vec::new();
    for (index, phase) in PHASES.iter().enumerate() {
        rss.enter(index);
        let stop_flapping = Arc::new(AtomicBool::new(false));
        let flapper = if phase.flapping {
            let (collector, stop) = (collector.clone(), stop_flapping.clone());
            let half = options.flap;
            Some(std::thread::spawn(move || flap(collector, half, stop)))
        } else {
            set_mode(&collector, phase.mode).map_err(|e| format!("collector: {e}"))?;
            None
        };
        let before = guard.stats();
        let cpu_before = sys::Cpu::now();
        let started = Instant::now();
        let mut latencies = app::run_phase(&app_runtime, plan, index, phase.traced);
        let seconds = started.elapsed().as_secs_f64();
        stop_flapping.store(true, Ordering::Relaxed);
        if let Some(flapper) = flapper {
            let _ = flapper.join();
        }
        let after = guard.stats();
        let cpu = sys::Cpu::now().since(&cpu_before);
        let requests = latencies.len() as u64;
        let (p50, p99, max) = app::percentiles(&mut latencies);
        rows.push(Row {
            requests,
            p50,
            p99,
            max,
            seconds,
            produced: if phase.traced {
                requests * SPANS_PER_REQUEST
            } else {
                0
            },
            exported: after.exported - before.exported,
            spooled: after.spooled - before.spooled,
            resent: after.resent - before.resent,
            cpu,
        });
        eprintln!(
            "[{:8.3}] faults: phase {} done in {seconds:.1} s (p99 {p99:.1} µs)",
            sys::elapsed(),
            phase.name
        );
    }

    // The collector comes back: flush what is queued, wait for the spool to drain.
    rss.enter(RECOVERY);
    let recovery_cpu = sys::Cpu::now();
    set_mode(&collector, Mode::Up).map_err(|e| format!("collector: {e}"))?;
    let recovery_started = Instant::now();
    guard.flush();
    let drain_limit = if options.quick {
        Duration::from_secs(20)
    } else {
        Duration::from_secs(60)
    };
    let (drained, drain_time) = wait_for_drain(&spool, drain_limit);
    let left = SpoolContents::of(&spool);
    let stats = guard.shutdown();
    let recovery_seconds = recovery_started.elapsed().as_secs_f64();
    let recovery_cpu = sys::Cpu::now().since(&recovery_cpu);
    let seen = match collector.lock() {
        Ok(mut collector) => {
            let seen = collector.seen();
            collector.stop();
            seen
        }
        Err(_) => return Err("collector lock poisoned".into()),
    };
    app_runtime.shutdown_timeout(Duration::from_secs(2));
    rss.stop();

    // Per phase: what arrived, by the request id each span carries.
    let mut unique_by_phase = vec![0u64; PHASES.len()];
    let mut duplicates_by_phase = vec![0u64; PHASES.len()];
    let mut unattributed = 0u64;
    for receipt in seen.receipts.values() {
        match receipt.req_id.map(app::phase_of) {
            Some(p) if p < PHASES.len() => {
                unique_by_phase[p] += 1;
                duplicates_by_phase[p] += u64::from(receipt.count.saturating_sub(1));
            }
            _ => unattributed += 1,
        }
    }

    println!("\n### Phases\n");
    println!(
        "| phase | collector | requests | p50 µs | p99 µs | max µs | peak RSS MiB | CPU s: process / pipeline / collector | spans produced | exported in phase | spooled in phase | resent in phase | received (unique) | missing | duplicates |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (index, (phase, row)) in PHASES.iter().zip(&rows).enumerate() {
        let missing = row.produced.saturating_sub(unique_by_phase[index]);
        println!(
            "| {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {} | {} | {} | {} | {} | {} | {} | {} |",
            phase.name,
            phase.what,
            row.requests,
            row.p50,
            row.p99,
            row.max,
            rss.peak_mib(index),
            row.cpu,
            row.produced,
            row.exported,
            row.spooled,
            row.resent,
            unique_by_phase[index],
            missing,
            duplicates_by_phase[index],
        );
    }
    println!(
        "| recovery | up, spool drains | – | – | – | – | {:.1} | {recovery_cpu} | – | – | – | – | – | – | – |",
        rss.peak_mib(RECOVERY)
    );

    let produced: u64 = rows.iter().map(|r| r.produced).sum();
    let unique = seen.unique();
    let missing = produced.saturating_sub(unique);
    print_totals(&stats, produced, &seen, missing, unattributed);
    // Where the dropped spans went: the in-memory buffers (full while the export thread
    // was behind) or the spool (over its cap); and how many of the
    // "dropped" had in fact reached the collector in a send that timed out.
    let queue_dropped = stats.ended.saturating_sub(stats.exported + stats.spooled);
    let spool_dropped = stats.dropped.saturating_sub(queue_dropped);
    let arrived_anyway = seen.arrived_only_late();
    println!(
        "\ndropped {}: {queue_dropped} in the in-memory queue (full), {spool_dropped} from the spool (over its size cap, or unreadable); {arrived_anyway} of the dropped had reached the collector, but only in sends that timed out. Accounting: produced {produced} = received {} + dropped {} − dropped-but-arrived {arrived_anyway} → {}.",
        stats.dropped,
        unique,
        stats.dropped,
        if unique + stats.dropped == produced + arrived_anyway {
            "exact".to_owned()
        } else {
            format!(
                "off by {}",
                (unique + stats.dropped) as i64 - (produced + arrived_anyway) as i64
            )
        }
    );
    println!(
        "\nrecovery: spool {} in {:.1} s (flush + drain; {:.1} s with shutdown); left in the spool: {} ready files ({} spans), {} claimed, {} partial; {} warnings logged; whole run {:.1} s",
        if drained { "drained" } else { "NOT drained" },
        drain_time.as_secs_f64(),
        recovery_seconds,
        left.ready_files,
        left.ready_spans,
        left.claimed_files,
        left.partial_files,
        sys::warnings_logged(),
        began.elapsed().as_secs_f64(),
    );
    let phase_seconds: Vec<String> = PHASES
        .iter()
        .zip(&rows)
        .map(|(p, r)| format!("{} {:.1} s", p.name, r.seconds))
        .collect();
    println!("phase durations: {}", phase_seconds.join(", "));

    // The checks.
    let mut checks = Checks::default();
    checks.check(
        stats.ended == produced,
        format!(
            "every span produced entered the pipeline: ended {} = produced {produced}",
            stats.ended
        ),
    );
    checks.check(
        missing <= stats.dropped,
        format!(
            "no span lost without being counted: missing {missing} ≤ dropped {}",
            stats.dropped
        ),
    );
    checks.check(
        drained && stats.pending_on_disk == 0,
        format!(
            "the spool drained once the collector was back (pending_on_disk {}, within {} s)",
            stats.pending_on_disk,
            drain_limit.as_secs()
        ),
    );
    checks.check(
        seen.unexplained_duplicates() == 0,
        format!(
            "duplicates only where a send timed out after the collector took it: {} duplicates, {} of them unexplained",
            seen.duplicates(),
            seen.unexplained_duplicates()
        ),
    );
    let baseline_p99 = rows[BASELINE].p99;
    let bound = (10.0 * baseline_p99).max(5000.0);
    for (phase, row) in PHASES.iter().zip(&rows).skip(2) {
        checks.check(
            row.p99 <= bound,
            format!(
                "p99 latency under `{}` {:.1} µs ≤ {:.0} µs (max of 10 × baseline p99 {:.1} µs, 5 ms)",
                phase.name, row.p99, bound, baseline_p99
            ),
        );
    }
    let peak = (0..=RECOVERY).map(|p| rss.peak_mib(p)).fold(0.0, f64::max);
    checks.check(
        peak <= RSS_BOUND_MIB,
        format!("peak RSS {peak:.1} MiB ≤ {RSS_BOUND_MIB:.0} MiB"),
    );
    let failed = checks.finish();
    if failed == 0 {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        println!("(spool directory kept: {})", spool.display());
    }
    Ok(failed)
}

/// The RSS bound. The pipeline keeps at most 2048 spans per thread and the batches being
/// sent in memory; what waits longer is on disk. The rest is the program itself
/// (runtimes, the collector's book of span ids, the latency samples). A pipeline that
/// kept every span of the full run in memory (150 000 spans of about 1 KiB) would not
/// pass this bound.
pub const RSS_BOUND_MIB: f64 = 128.0;

fn print_totals(
    stats: &ExportStats,
    produced: u64,
    seen: &collector::Seen,
    missing: u64,
    unattributed: u64,
) {
    println!("\n### Totals\n");
    println!("| produced | ended | exported | spooled | resent | dropped | pending on disk | received (unique) | duplicates | missing |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {produced} | {} | {} | {} | {} | {} | {} | {} | {} | {missing} |",
        stats.ended,
        stats.exported,
        stats.spooled,
        stats.resent,
        stats.dropped,
        stats.pending_on_disk,
        seen.unique(),
        seen.duplicates(),
    );
    println!(
        "\ncollector: {} requests, {} taken, {} answered 500, {} undecodable; {} span arrivals; {} spans without a request id",
        seen.requests,
        seen.accepted_requests,
        seen.rejected_requests,
        seen.undecodable_requests,
        seen.span_arrivals,
        unattributed
    );
}
