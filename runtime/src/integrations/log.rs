//! Records of the `log` crate on the current traced span: a wrapper around your logger
//! that forwards every record to it, unchanged, and also records it as an event on the
//! current traced span (message, level, target, source location; an `ERROR` sets the
//! observation level Langfuse shows). For apps that log with `log` rather than `tracing`.
//!
//! One line where the logger is installed:
//!
//! ```
//! # struct Stderr;
//! # impl log::Log for Stderr {
//! #     fn enabled(&self, _: &log::Metadata) -> bool { true }
//! #     fn log(&self, record: &log::Record) { eprintln!("{}", record.args()) }
//! #     fn flush(&self) {}
//! # }
//! // instead of log::set_boxed_logger(Box::new(logger)) + log::set_max_level(level):
//! traced::log::install(Stderr, log::LevelFilter::Info).expect("the first logger");
//! log::info!("recorded on the current traced span, and logged as before");
//! ```

use log::{Level, LevelFilter, Log, Metadata, Record};

use crate::log_event::{record_on_current_span, LogRecord};

/// Wraps `inner`, installs it as the `log` crate's logger and sets the most verbose level
/// logged to `max_level`; records down to `INFO` (or `max_level`, if less verbose) are also
/// recorded on the current traced span.
///
/// # Errors
///
/// When a logger was already installed (`log` takes one per program).
pub fn install<L: Log + 'static>(
    inner: L,
    max_level: LevelFilter,
) -> Result<(), log::SetLoggerError> {
    let recorded = max_level.min(LevelFilter::Info);
    log::set_boxed_logger(Box::new(Logger::new(inner).record_level(recorded)))?;
    log::set_max_level(max_level);
    Ok(())
}

/// A `log::Log` that forwards to the logger it wraps and records on the current traced
/// span.
///
/// ```
/// # struct Quiet;
/// # impl log::Log for Quiet {
/// #     fn enabled(&self, _: &log::Metadata) -> bool { true }
/// #     fn log(&self, _: &log::Record) {}
/// #     fn flush(&self) {}
/// # }
/// let logger = traced::log::Logger::new(Quiet).record_level(log::LevelFilter::Warn);
/// # drop(logger);
/// ```
#[derive(Debug)]
pub struct Logger<L> {
    inner: L,
    record: LevelFilter,
    error_status: bool,
}

impl<L: Log> Logger<L> {
    /// Wraps `inner`; records down to `INFO` are recorded on spans.
    pub fn new(inner: L) -> Self {
        Self {
            inner,
            record: LevelFilter::Info,
            error_status: false,
        }
    }

    /// The most verbose level recorded on spans.
    pub fn record_level(mut self, level: LevelFilter) -> Self {
        self.record = level;
        self
    }

    /// Whether an `ERROR` record also sets the span's status to error (off by default).
    pub fn error_sets_status(mut self, on: bool) -> Self {
        self.error_status = on;
        self
    }

    /// The wrapped logger.
    pub fn inner(&self) -> &L {
        &self.inner
    }
}

impl<L: Log> Log for Logger<L> {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= self.record || self.inner.enabled(metadata)
    }

    fn log(&self, record: &Record<'_>) {
        if self.inner.enabled(record.metadata()) {
            self.inner.log(record);
        }
        if record.level() > self.record {
            return;
        }
        let level = match record.level() {
            Level::Error => "ERROR",
            Level::Warn => "WARN",
            Level::Info => "INFO",
            Level::Debug => "DEBUG",
            Level::Trace => "TRACE",
        };
        let log_record = LogRecord {
            level,
            target: record.target(),
            file: record.file(),
            line: record.line(),
            error_sets_status: self.error_status,
        };
        record_on_current_span(&log_record, || {
            // The message's `Display` parts are the program's: a panic there is contained.
            let message = crate::contain::contained(|| record.args().to_string())
                .unwrap_or_else(|panic| format!("<message panicked: {panic}>"));
            (Some(message), Vec::new())
        });
    }

    fn flush(&self) {
        self.inner.flush();
    }
}
