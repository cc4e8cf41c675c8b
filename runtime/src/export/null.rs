//! An exporter that keeps nothing and counts what it was given: for benchmarks, and for
//! measuring what a pipeline delivers without a backend.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

/// Discards spans, counting them. Clones share the count.
///
/// ```
/// let exporter = traced::export::NullExporter::default();
/// let guard = traced::Config::new().exporter(exporter.clone()).init().unwrap();
/// guard.shutdown();
/// assert_eq!(exporter.exported(), 0);
/// ```
#[derive(Clone, Debug, Default)]
pub struct NullExporter {
    exported: Arc<AtomicU64>,
}

impl NullExporter {
    /// How many spans it was given.
    pub fn exported(&self) -> u64 {
        self.exported.load(Ordering::Relaxed)
    }
}

impl SpanExporter for NullExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.exported
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}

/// `name` with every character but ASCII letters, digits, `-` and `_` replaced by `_`:
/// safe as a file or directory name.
pub(crate) fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
