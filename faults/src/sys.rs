//! The process's memory (VmRSS, sampled), the spool directory's contents, and a small
//! logger that shows what traced warns about.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// VmRSS of this process, in KiB.
pub fn rss_kib() -> u64 {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return 0;
    };
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Samples VmRSS every 20 ms into the peak of the current phase.
pub struct RssSampler {
    pub phase: Arc<AtomicUsize>,
    peaks: Arc<Vec<AtomicU64>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RssSampler {
    pub fn start(phases: usize) -> Self {
        let phase = Arc::new(AtomicUsize::new(0));
        let peaks: Arc<Vec<AtomicU64>> = Arc::new((0..phases).map(|_| AtomicU64::new(0)).collect());
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (phase, peaks, stop) = (phase.clone(), peaks.clone(), stop.clone());
            std::thread::Builder::new()
                .name("rss-sampler".into())
                .spawn(move || {
                    // Bounded: it stops when told, and in any case after an hour.
                    for _ in 0..180_000 {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let rss = rss_kib();
                        if let Some(peak) = peaks.get(phase.load(Ordering::Relaxed)) {
                            peak.fetch_max(rss, Ordering::Relaxed);
                        }
                        std::thread::sleep(Duration::from_millis(20));
                    }
                })
                .ok()
        };
        Self {
            phase,
            peaks,
            stop,
            thread,
        }
    }

    /// From now on, samples count for `phase` (one sample is taken at once).
    pub fn enter(&self, phase: usize) {
        self.phase.store(phase, Ordering::Relaxed);
        if let Some(peak) = self.peaks.get(phase) {
            peak.fetch_max(rss_kib(), Ordering::Relaxed);
        }
    }

    /// The peak of a phase, MiB.
    pub fn peak_mib(&self, phase: usize) -> f64 {
        self.peaks
            .get(phase)
            .map(|p| p.load(Ordering::Relaxed) as f64 / 1024.0)
            .unwrap_or(0.0)
    }

    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What the spool directory holds: ready batches (and their spans), batches claimed
/// for sending, and half-written batches.
#[derive(Clone, Copy, Debug, Default)]
pub struct SpoolContents {
    pub ready_files: u64,
    pub ready_spans: u64,
    pub claimed_files: u64,
    pub claimed_spans: u64,
    pub partial_files: u64,
    pub partial_lines: u64,
    pub bytes: u64,
}

impl SpoolContents {
    pub fn of(dir: &Path) -> Self {
        let mut contents = Self::default();
        let Ok(entries) = std::fs::read_dir(dir) else {
            return contents;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let bytes = std::fs::read(entry.path()).unwrap_or_default();
            let lines = bytes.iter().filter(|b| **b == b'\n').count() as u64;
            contents.bytes += bytes.len() as u64;
            if name.ends_with(".jsonl") {
                contents.ready_files += 1;
                contents.ready_spans += lines;
            } else if name.contains(".sending-") {
                contents.claimed_files += 1;
                contents.claimed_spans += lines;
            } else if name.ends_with(".partial") {
                contents.partial_files += 1;
                contents.partial_lines += lines;
            }
        }
        contents
    }

    /// Nothing waits to be sent.
    pub fn drained(&self) -> bool {
        self.ready_files == 0 && self.claimed_files == 0
    }
}

/// Whether no batch waits in the spool (ready or claimed), by file names only (cheap
/// enough to poll).
pub fn spool_drained(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return true;
    };
    !entries.flatten().any(|entry| {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        name.ends_with(".jsonl") || name.contains(".sending-")
    })
}

/// Prints traced's warnings (the first few, then only counts them).
pub struct Logger {
    printed: AtomicUsize,
    /// `FAULTS_LOG=debug`: traced's debug messages too, every one, with a timestamp.
    debug: AtomicBool,
    started: std::sync::OnceLock<std::time::Instant>,
}

static LOGGER: Logger = Logger {
    printed: AtomicUsize::new(0),
    debug: AtomicBool::new(false),
    started: std::sync::OnceLock::new(),
};

const LOG_LINES: usize = 12;

impl log::Log for Logger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Warn
            || (self.debug.load(Ordering::Relaxed) && metadata.target().starts_with("traced"))
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        if self.debug.load(Ordering::Relaxed) {
            let at = self.started.get_or_init(std::time::Instant::now).elapsed();
            eprintln!(
                "[{:8.3} {}] {}",
                at.as_secs_f64(),
                record.level(),
                record.args()
            );
            return;
        }
        let n = self.printed.fetch_add(1, Ordering::Relaxed);
        if n < LOG_LINES {
            eprintln!("[log {}] {}", record.level(), record.args());
        } else if n == LOG_LINES {
            eprintln!("[log] (further warnings counted, not printed)");
        }
    }

    fn flush(&self) {}
}

/// Installs the logger (warnings and errors).
pub fn install_logger() {
    LOGGER.started.get_or_init(std::time::Instant::now);
    let debug = std::env::var("FAULTS_LOG").is_ok_and(|v| v == "debug");
    LOGGER.debug.store(debug, Ordering::Relaxed);
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(if debug {
            log::LevelFilter::Debug
        } else {
            log::LevelFilter::Warn
        });
    }
}

/// Seconds since the logger was installed (for progress lines).
pub fn elapsed() -> f64 {
    LOGGER
        .started
        .get()
        .map(|s| s.elapsed().as_secs_f64())
        .unwrap_or(0.0)
}

/// How many warnings were logged.
pub fn warnings_logged() -> usize {
    LOGGER.printed.load(Ordering::Relaxed)
}

/// CPU time (user + system) of the whole process, of the export pipeline's threads
/// (traced's export thread and its export runtime) and of the collector's threads.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cpu {
    pub process: f64,
    pub pipeline: f64,
    pub collector: f64,
}

/// Clock ticks per second of /proc's CPU times (USER_HZ; 100 on Linux).
const TICKS: f64 = 100.0;

/// utime + stime of a /proc stat line, and the thread's name.
fn stat_cpu(stat: &str) -> Option<(String, f64)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let name = stat.get(open + 1..close)?.to_owned();
    let fields: Vec<&str> = stat.get(close + 2..)?.split_whitespace().collect();
    // After the name: state is field 3, utime 14 and stime 15 (1-based, whole line).
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((name, (utime + stime) / TICKS))
}

impl Cpu {
    pub fn now() -> Self {
        let mut cpu = Self {
            process: std::fs::read_to_string("/proc/self/stat")
                .ok()
                .and_then(|s| stat_cpu(&s))
                .map(|(_, t)| t)
                .unwrap_or(0.0),
            ..Self::default()
        };
        let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
            return cpu;
        };
        for task in tasks.flatten() {
            let Some((name, time)) = std::fs::read_to_string(task.path().join("stat"))
                .ok()
                .and_then(|s| stat_cpu(&s))
            else {
                continue;
            };
            // Thread names are cut at 15 bytes.
            if name.starts_with("traced-export") || name.starts_with("traced-send") {
                cpu.pipeline += time;
            } else if name.starts_with("collector") {
                cpu.collector += time;
            }
        }
        cpu
    }

    /// The CPU time used since `earlier` (threads that ended in between are counted in
    /// `process` only).
    pub fn since(&self, earlier: &Self) -> Self {
        Self {
            process: self.process - earlier.process,
            pipeline: (self.pipeline - earlier.pipeline).max(0.0),
            collector: (self.collector - earlier.collector).max(0.0),
        }
    }
}

impl std::fmt::Display for Cpu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:.2} / {:.2} / {:.2}",
            self.process, self.pipeline, self.collector
        )
    }
}
