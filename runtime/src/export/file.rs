//! The embedded default: spans appended as newline-delimited JSON under a directory,
//! one file per process (`{service}-{pid}.jsonl`), so several processes can write at
//! once without interleaving, and each batch goes out in one append.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

use super::record::{self, Resource, SpanRecord};

/// The environment variable naming the directory of the embedded store.
pub const TRACED_DIR: &str = "TRACED_DIR";

/// The directory of the embedded store: `$TRACED_DIR`, or `./traces`.
///
/// ```
/// let dir = traced::export::default_dir();
/// assert!(!dir.as_os_str().is_empty());
/// ```
pub fn default_dir() -> PathBuf {
    std::env::var_os(TRACED_DIR)
        .filter(|dir| !dir.is_empty())
        .map_or_else(|| PathBuf::from("traces"), PathBuf::from)
}

/// A span exporter that appends spans to the embedded store.
///
/// ```
/// use opentelemetry_sdk::trace::SdkTracerProvider;
///
/// let dir = std::env::temp_dir().join(format!("traced-doc-{}", std::process::id()));
/// let provider = SdkTracerProvider::builder()
///     .with_simple_exporter(traced::export::FileExporter::new(&dir))
///     .build();
/// # drop(provider);
/// ```
#[derive(Debug)]
pub struct FileExporter {
    dir: PathBuf,
    resource: Resource,
    file: Mutex<Option<File>>,
}

impl FileExporter {
    /// An exporter writing under `dir` (created when the first batch comes).
    pub fn new(dir: impl AsRef<Path>) -> Self {
        Self {
            dir: dir.as_ref().to_path_buf(),
            resource: Resource::default(),
            file: Mutex::new(None),
        }
    }

    /// The file this process writes.
    pub fn path(&self) -> PathBuf {
        let service = self
            .resource
            .attributes
            .iter()
            .find(|a| a.key == "service.name")
            .map_or_else(|| "unknown_service".to_owned(), |a| a.value.to_text());
        let service = super::file_safe(&service);
        self.dir
            .join(format!("{service}-{}.jsonl", std::process::id()))
    }

    fn write_lines(&self, lines: &[u8]) -> std::io::Result<()> {
        let mut file = self
            .file
            .lock()
            .map_err(|_| std::io::Error::other("the file lock was poisoned"))?;
        if file.is_none() {
            fs::create_dir_all(&self.dir)?;
            *file = Some(
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(self.path())?,
            );
        }
        match file.as_mut() {
            Some(file) => file.write_all(lines),
            None => Err(std::io::Error::other("no file")),
        }
    }
}

impl SpanExporter for FileExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let mut lines = Vec::with_capacity(batch.len() * 512);
        for span in &batch {
            let record = SpanRecord::from_span(span, &self.resource);
            serde_json::to_writer(&mut lines, &record)
                .map_err(|e| OTelSdkError::InternalFailure(format!("encoding a span: {e}")))?;
            lines.push(b'\n');
        }
        self.write_lines(&lines).map_err(|e| {
            OTelSdkError::InternalFailure(format!(
                "writing spans to {}: {e}",
                self.path().display()
            ))
        })
    }

    fn force_flush(&self) -> OTelSdkResult {
        let file = self
            .file
            .lock()
            .map_err(|_| OTelSdkError::InternalFailure("the file lock was poisoned".into()))?;
        if let Some(file) = file.as_ref() {
            file.sync_data()
                .map_err(|e| OTelSdkError::InternalFailure(e.to_string()))?;
        }
        Ok(())
    }

    fn set_resource(&mut self, resource: &opentelemetry_sdk::Resource) {
        self.resource = Resource {
            attributes: record::resource_attributes(resource),
        };
    }
}
