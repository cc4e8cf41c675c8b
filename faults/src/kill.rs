//! `faults --kill-child`: a child process makes traced requests with the collector down
//! (so every batch is spooled), and is killed with SIGKILL after a fixed time. Then a new
//! instance starts on the same spool directory with the collector up, and we count how
//! many of the spans the child produced arrived.
//!
//! The child records how many requests each of its producers has completed in a small
//! file, after every request (an 8-byte `pwrite` per producer: it lands in the page
//! cache at once, so a SIGKILL does not lose it).

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use crate::app::{self, SPANS_PER_REQUEST};
use crate::collector::{self, Collector};
use crate::sys::SpoolContents;
use crate::{config, Checks, Options};

/// The child's producers (threads).
const CHILD_PRODUCERS: usize = 4;
/// The child's pace, per producer.
const CHILD_INTERVAL: Duration = Duration::from_millis(2);
/// The child stops by itself after this long if nobody kills it.
const CHILD_LIMIT: Duration = Duration::from_secs(60);
/// The phase number in the child's request ids.
const CHILD_PHASE: usize = 9;

/// What the child is told.
#[derive(Debug)]
pub struct ChildArgs {
    spool: PathBuf,
    counts: PathBuf,
    url: String,
}

impl ChildArgs {
    pub fn parse(args: &[String]) -> Result<Self, String> {
        match args {
            [spool, counts, url] => Ok(Self {
                spool: spool.into(),
                counts: counts.into(),
                url: url.clone(),
            }),
            _ => Err("usage: faults --child SPOOL_DIR COUNTS_FILE URL".into()),
        }
    }
}

/// The child: produce until killed (or until `CHILD_LIMIT`).
pub fn child_main(args: &ChildArgs) -> ExitCode {
    let options = crate::default_options(false);
    let guard = match config(&args.url, &args.spool, "faults-child", &options).init() {
        Ok(guard) => guard,
        Err(error) => {
            eprintln!("faults child: init: {error}");
            return ExitCode::from(2);
        }
    };
    let counts = match OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&args.counts)
    {
        Ok(file) => file,
        Err(error) => {
            eprintln!("faults child: {}: {error}", args.counts.display());
            return ExitCode::from(2);
        }
    };
    let start = Instant::now();
    let requests = (CHILD_LIMIT.as_micros() / CHILD_INTERVAL.as_micros()) as u64;
    std::thread::scope(|scope| {
        for producer in 0..CHILD_PRODUCERS {
            let counts = &counts;
            scope.spawn(move || {
                for seq in 0..requests {
                    let due = start + CHILD_INTERVAL * seq as u32;
                    let now = Instant::now();
                    if due > now {
                        std::thread::sleep(due - now);
                    }
                    let req_id = app::request_id(CHILD_PHASE, producer, seq);
                    let _ = app::handle(req_id, "what survives a SIGKILL?");
                    let _ = counts.write_at(&(seq + 1).to_le_bytes(), 8 * producer as u64);
                }
            });
        }
    });
    guard.shutdown();
    ExitCode::SUCCESS
}

fn read_counts(path: &Path) -> Vec<u64> {
    let bytes = std::fs::read(path).unwrap_or_default();
    (0..CHILD_PRODUCERS)
        .map(|p| {
            bytes
                .get(8 * p..8 * p + 8)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_le_bytes)
                .unwrap_or(0)
        })
        .collect()
}

/// What one kill trial measured.
struct Trial {
    kill_after: Duration,
    produced: u64,
    on_disk: SpoolContents,
    arrived: u64,
    in_progress: u64,
    unique: u64,
    duplicates: u64,
    lost: u64,
    stats: traced::ExportStats,
    drain_seconds: f64,
    left: SpoolContents,
}

/// One trial: run the child, kill it after `kill_after`, restart on its spool, count.
fn trial(options: &Options, number: usize, kill_after: Duration) -> Result<Trial, String> {
    let dir = crate::scratch_dir(&format!("kill{number}"));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let spool = dir.join("spool");
    let counts = dir.join("produced");
    let addr = collector::unused_addr();
    let url = format!("http://{addr}/v1/traces");
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let mut child = Command::new(exe)
        .arg("--child")
        .arg(&spool)
        .arg(&counts)
        .arg(&url)
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| format!("spawning the child: {e}"))?;
    std::thread::sleep(kill_after);
    // std's Child::kill sends SIGKILL on Unix; waiting reaps it, so its pid is gone
    // when the next instance looks at the batches it had claimed.
    child.kill().map_err(|e| format!("kill: {e}"))?;
    let status = child.wait().map_err(|e| format!("wait: {e}"))?;
    let produced_requests = read_counts(&counts);
    let produced = produced_requests.iter().sum::<u64>() * SPANS_PER_REQUEST;
    let on_disk = SpoolContents::of(&spool);
    eprintln!(
        "faults: trial {number}: child killed after {:.2} s ({status}); {produced} spans produced; spool: {on_disk:?}",
        kill_after.as_secs_f64()
    );

    // A new instance, the collector up, the same spool directory.
    let mut collector = Collector::start(addr, options.slow, options.export_timeout)
        .map_err(|e| format!("collector on {addr}: {e}"))?;
    let restarted = Instant::now();
    let guard = config(&url, &spool, "faults-restart", options)
        .init()
        .map_err(|e| format!("init: {e}"))?;
    let expected = on_disk.ready_spans + on_disk.claimed_spans;
    let deadline = Instant::now() + Duration::from_secs(if options.quick { 20 } else { 40 });
    while Instant::now() < deadline
        && !(crate::sys::spool_drained(&spool) && collector.unique() >= expected)
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    let drain_seconds = restarted.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_millis(500));
    let stats = guard.shutdown();
    let seen = collector.seen();
    collector.stop();
    let left = SpoolContents::of(&spool);

    // Spans of requests the child had completed, and of the requests in progress at the
    // kill (a child span may have ended before its parent).
    let mut arrived = 0u64;
    let mut in_progress = 0u64;
    for receipt in seen.receipts.values() {
        let Some((producer, seq)) = receipt.req_id.map(app::producer_and_seq) else {
            continue;
        };
        if produced_requests.get(producer).is_some_and(|&n| seq < n) {
            arrived += 1;
        } else {
            in_progress += 1;
        }
    }
    if left.drained() && left.partial_files == 0 {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(Trial {
        kill_after,
        produced,
        on_disk,
        arrived,
        in_progress,
        unique: seen.unique(),
        duplicates: seen.duplicates(),
        lost: produced.saturating_sub(arrived),
        stats,
        drain_seconds,
        left,
    })
}

/// The parent: kill trials (three, at different moments; one with `--quick`).
pub fn kill_main(options: &Options) -> Result<usize, String> {
    let began = Instant::now();
    let moments: &[u64] = if options.quick {
        &[3000]
    } else {
        &[4000, 4370, 4730]
    };
    let mut trials = Vec::new();
    for (number, &ms) in moments.iter().enumerate() {
        trials.push(trial(options, number + 1, Duration::from_millis(ms))?);
    }
    println!(
        "# faults --kill-child{}\n\nA child process: {CHILD_PRODUCERS} threads, one traced request per {} µs each ({:.0} spans/s), the collector down (every batch spooled); SIGKILL after a fixed time; then a new instance on the same spool directory with the collector up.\n",
        if options.quick { " --quick" } else { "" },
        CHILD_INTERVAL.as_micros(),
        CHILD_PRODUCERS as f64 * SPANS_PER_REQUEST as f64 / CHILD_INTERVAL.as_secs_f64(),
    );
    println!("| trial | SIGKILL after s | produced | on disk at restart | in a half-written batch | arrived | lost | duplicates | spans of requests in progress at the kill (arrived) | resent by the new instance | drained in s |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (number, t) in trials.iter().enumerate() {
        println!(
            "| {} | {:.2} | {} | {} ({} files, {} claimed) | {} ({} files) | {} | {} ({:.2} %) | {} | {} | {} | {:.1} |",
            number + 1,
            t.kill_after.as_secs_f64(),
            t.produced,
            t.on_disk.ready_spans + t.on_disk.claimed_spans,
            t.on_disk.ready_files,
            t.on_disk.claimed_files,
            t.on_disk.partial_lines,
            t.on_disk.partial_files,
            t.arrived,
            t.lost,
            if t.produced > 0 {
                100.0 * t.lost as f64 / t.produced as f64
            } else {
                0.0
            },
            t.duplicates,
            t.in_progress,
            t.stats.resent,
            t.drain_seconds,
        );
    }
    println!(
        "\nWhat was lost had not reached the spool: spans still in the in-memory buffers of the threads that ended them (the export thread takes a thread's spans when it has 512, or every 500 ms; at {:.0} spans/s over the producing threads one thread fills 512 in ~{:.0} ms, and a thread holds up to 2048), or the batch being serialised and written (a batch becomes visible only when renamed into place; the complete lines of a `.partial` left by the kill are salvaged by the next start). Whole run {:.1} s.",
        CHILD_PRODUCERS as f64 * SPANS_PER_REQUEST as f64 / CHILD_INTERVAL.as_secs_f64(),
        512.0 / (SPANS_PER_REQUEST as f64 / CHILD_INTERVAL.as_secs_f64()) * 1000.0,
        began.elapsed().as_secs_f64()
    );

    let mut checks = Checks::default();
    // A thread's spans are taken when it has 512 (then every thread's are): at most 512
    // wait in each producing thread's buffer, plus the export batch being written.
    const LOSS_BOUND: u64 = CHILD_PRODUCERS as u64 * 512 + 512;
    for (number, t) in trials.iter().enumerate() {
        let n = number + 1;
        let spooled = t.on_disk.ready_spans + t.on_disk.claimed_spans;
        checks.check(
            t.unique >= spooled,
            format!(
                "trial {n}: every span the child had spooled arrived ({} received ≥ {spooled} on disk)",
                t.unique
            ),
        );
        checks.check(
            t.duplicates == 0,
            format!("trial {n}: no duplicates (none expected): {}", t.duplicates),
        );
        checks.check(
            t.lost <= LOSS_BOUND,
            format!(
                "trial {n}: lost {} ≤ {LOSS_BOUND} (512 spans in each of the {CHILD_PRODUCERS} producing threads' buffers, plus the batch being written, 512)",
                t.lost
            ),
        );
        checks.check(
            t.left.drained() && t.stats.pending_on_disk == 0 && t.stats.dropped == 0,
            format!(
                "trial {n}: the new instance drained the spool (pending_on_disk {}, dropped {})",
                t.stats.pending_on_disk, t.stats.dropped
            ),
        );
    }
    Ok(checks.finish())
}
