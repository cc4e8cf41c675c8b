//! `traced::init()`: the export pipeline in one line, configured by the standard
//! environment or by [`Config`]. Spans are recorded by a tracer provider of our own
//! (per-thread buffers, one export thread: see `recorder`) and exported to an OTLP
//! endpoint (gRPC or HTTP) or to the embedded store; batches the collector does not take
//! are spooled to disk and sent again; every span is counted, and what was dropped is
//! reported at shutdown.

mod config;
mod custom;
mod env;
mod recorder;
mod reliable;
mod spool;
mod stats;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry::{global, KeyValue};
use opentelemetry_otlp::{WithExportConfig as _, WithHttpConfig as _, WithTonicConfig as _};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

pub use config::{Config, ConfigError, Protocol, SamplerConfig, Target, LANGFUSE_OTLP_PATH};
pub use stats::ExportStats;

pub(crate) use recorder::RecordingTracer;

use crate::tracer_slot::{self, Route};
use recorder::Provider;
use reliable::{ReliableExporter, Settings};
use spool::Spool;
use stats::Counters;

/// Why `init()` could not set up the pipeline.
#[derive(Debug)]
pub enum InitError {
    /// The configuration cannot work.
    Config(ConfigError),
    /// The exporter could not be built.
    Exporter(String),
    /// The export runtime could not start.
    Runtime(std::io::Error),
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config(error) => write!(f, "traced configuration: {error}"),
            Self::Exporter(error) => write!(f, "traced exporter: {error}"),
            Self::Runtime(error) => write!(f, "traced export runtime: {error}"),
        }
    }
}

impl std::error::Error for InitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Config(error) => Some(error),
            Self::Runtime(error) => Some(error),
            Self::Exporter(_) => None,
        }
    }
}

impl From<ConfigError> for InitError {
    fn from(error: ConfigError) -> Self {
        Self::Config(error)
    }
}

/// Spans per export call (the SDK batch processor's default).
const MAX_EXPORT_BATCH: usize = 512;
/// What a flush waits beyond the export timeout.
const FLUSH_SLACK: Duration = Duration::from_secs(1);

/// Sets up export from the environment and installs the tracer provider globally.
/// Keep the guard alive: dropping it flushes and shuts the pipeline down.
///
/// ```no_run
/// fn main() -> Result<(), traced::InitError> {
///     let _guard = traced::init()?;
///     // ... traced code ...
///     Ok(())
/// }
/// ```
pub fn init() -> Result<Guard, InitError> {
    Config::from_env()?.init()
}

/// Counts what the embedded store's exporter writes or fails to write.
#[derive(Debug)]
struct CountingExporter<E> {
    inner: E,
    counters: Arc<Counters>,
}

impl<E: SpanExporter> SpanExporter for CountingExporter<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let n = batch.len();
        let result = self.inner.export(batch).await;
        match &result {
            Ok(()) => Counters::add(&self.counters.exported, n),
            Err(_) => Counters::add(&self.counters.lost, n),
        }
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

fn otlp_exporter(
    endpoint: &str,
    protocol: Protocol,
    headers: &[(String, String)],
    timeout: Duration,
) -> Result<opentelemetry_otlp::SpanExporter, String> {
    let built = match protocol {
        Protocol::Grpc => {
            let mut metadata = tonic::metadata::MetadataMap::new();
            for (key, value) in headers {
                let key =
                    tonic::metadata::MetadataKey::from_bytes(key.to_ascii_lowercase().as_bytes())
                        .map_err(|e| format!("header name {key:?}: {e}"))?;
                let value = value
                    .parse()
                    .map_err(|e| format!("header value of {key}: {e}"))?;
                metadata.insert(key, value);
            }
            opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint)
                .with_timeout(timeout)
                .with_metadata(metadata)
                .with_retry_policy(opentelemetry_otlp::RetryPolicy::disabled())
                .build()
        }
        Protocol::HttpProtobuf | Protocol::HttpJson => {
            let wire = if protocol == Protocol::HttpJson {
                opentelemetry_otlp::Protocol::HttpJson
            } else {
                opentelemetry_otlp::Protocol::HttpBinary
            };
            opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_endpoint(endpoint)
                .with_protocol(wire)
                .with_timeout(timeout)
                .with_headers(headers.iter().cloned().collect::<HashMap<_, _>>())
                .with_retry_policy(opentelemetry_otlp::RetryPolicy::disabled())
                .build()
        }
    };
    built.map_err(|e| e.to_string())
}

impl Config {
    /// Builds the pipeline this configuration describes and installs it as the global
    /// tracer provider.
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("traced-doc-init-{}", std::process::id()));
    /// let guard = traced::Config::new().service_name("doc").embedded(&dir).init().unwrap();
    /// let stats = guard.shutdown();
    /// assert_eq!(stats.dropped, 0);
    /// ```
    pub fn init(self) -> Result<Guard, InitError> {
        self.validate()?;
        crate::redact::install(Some(self.policy()));
        let counters = Arc::new(Counters::default());
        let service = self.service_name_or_default();
        let mut resource = Resource::builder().with_service_name(service.clone());
        for (key, value) in &self.resource_attributes {
            resource = resource.with_attribute(KeyValue::new(key.clone(), value.clone()));
        }
        let settings = recorder::Settings {
            sampler: self.sampler.clone(),
            resource: resource.build(),
            max_batch: MAX_EXPORT_BATCH.min(self.queue_size),
            queue_size: self.queue_size,
            scheduled_delay: self.scheduled_delay,
            counters: counters.clone(),
        };
        let mut in_flight = None;
        let started = match &self.target {
            Target::Disabled => {
                tracer_slot::install(Some(Route::Off));
                return Ok(Guard {
                    provider: None,
                    counters,
                    describe: self.target.to_string(),
                    routes: true,
                    in_flight: None,
                    export_timeout: self.export_timeout,
                });
            }
            Target::Embedded { dir } => Provider::start(
                CountingExporter {
                    inner: crate::export::FileExporter::new(dir),
                    counters: counters.clone(),
                },
                settings,
            ),
            Target::Custom => {
                let exporter = self
                    .custom
                    .as_ref()
                    .and_then(custom::SharedExporter::take)
                    .ok_or_else(|| InitError::Exporter(custom::already_taken().to_string()))?;
                Provider::start(
                    CountingExporter {
                        inner: exporter,
                        counters: counters.clone(),
                    },
                    settings,
                )
            }
            Target::Otlp {
                endpoint,
                protocol,
                headers,
            } => {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .thread_name("traced-export")
                    .enable_all()
                    .build()
                    .map_err(InitError::Runtime)?;
                let spool_dir = self.spool_dir.clone().unwrap_or_else(|| {
                    crate::export::default_dir()
                        .join("spool")
                        .join(crate::export::file_safe(&service))
                });
                let (endpoint, protocol, headers, timeout) = (
                    endpoint.clone(),
                    *protocol,
                    headers.clone(),
                    self.export_timeout,
                );
                let exporter = ReliableExporter::new(
                    runtime,
                    move || otlp_exporter(&endpoint, protocol, &headers, timeout),
                    Settings {
                        spool: Spool::new(spool_dir, self.spool_max_bytes),
                        counters: counters.clone(),
                        timeout: self.export_timeout,
                        retry_initial: self.retry_initial,
                        retry_max: self.retry_max,
                    },
                )
                .map_err(InitError::Exporter)?;
                in_flight = Some(exporter.in_flight());
                Provider::start(exporter, settings)
            }
        };
        let provider = started.map_err(InitError::Runtime)?;
        global::set_tracer_provider(provider.clone());
        // The span path uses this tracer directly (see `tracer_slot`); with a sampler that
        // records nothing it makes no span at all.
        tracer_slot::install(Some(if self.sampler == SamplerConfig::AlwaysOff {
            Route::Off
        } else {
            Route::Ours(Arc::new(
                provider.tracer_with_scope(crate::call::SCOPE.clone()),
            ))
        }));
        let describe = self.target.to_string();
        Ok(Guard {
            provider: Some(provider),
            counters,
            describe,
            routes: true,
            in_flight,
            export_timeout: self.export_timeout,
        })
    }
}

/// The running pipeline. Dropping it flushes and shuts down; [`Guard::shutdown`] does the
/// same and returns what became of the spans.
#[derive(Debug)]
pub struct Guard {
    provider: Option<Provider>,
    counters: Arc<Counters>,
    describe: String,
    /// Whether this guard's pipeline is the one spans are routed to.
    routes: bool,
    /// OTLP sends handed over and not finished yet.
    in_flight: Option<Arc<reliable::InFlight>>,
    export_timeout: Duration,
}

impl Guard {
    /// Sends what has ended so far (for short-lived programs); spans the collector did
    /// not take are in the spool.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("traced-doc-flush-{}", std::process::id()));
    /// let guard = traced::Config::new().embedded(&dir).init().unwrap();
    /// guard.flush();
    /// ```
    pub fn flush(&self) {
        if let Some(provider) = &self.provider {
            if !provider.force_flush(self.export_timeout + FLUSH_SLACK) {
                log::warn!("traced: flush: spans still being exported after the export timeout");
            }
        }
        // The export thread hands batches over without waiting for the collector; a
        // flush waits for those sends too (each bounded by the export timeout).
        if let Some(in_flight) = &self.in_flight {
            if !in_flight.wait_idle(self.export_timeout + FLUSH_SLACK) {
                log::warn!("traced: flush: sends still in flight after the export timeout");
            }
        }
    }

    /// The counts so far (queue drops are known exactly only after a flush).
    pub fn stats(&self) -> ExportStats {
        self.counters.snapshot(false)
    }

    /// Where spans go, in words.
    pub fn destination(&self) -> &str {
        &self.describe
    }

    /// Flushes, shuts down, reports, and returns what became of every span.
    pub fn shutdown(mut self) -> ExportStats {
        self.shutdown_once()
    }

    fn shutdown_once(&mut self) -> ExportStats {
        if std::mem::take(&mut self.routes) {
            tracer_slot::install(None);
            crate::redact::install(None);
        }
        let Some(provider) = self.provider.take() else {
            return self.counters.snapshot(true);
        };
        // Each export is bounded by the export timeout; the last ones and the exporter's
        // own shutdown get twice that, and no more.
        provider.shutdown(self.export_timeout * 2 + FLUSH_SLACK);
        let stats = self.counters.snapshot(true);
        if stats.dropped > 0 || stats.pending_on_disk > 0 {
            log::warn!(
                "traced: {} spans ended, {} exported, {} spooled, {} resent, {} dropped, {} still on disk for the next run",
                stats.ended, stats.exported, stats.spooled, stats.resent, stats.dropped, stats.pending_on_disk
            );
        } else {
            log::info!(
                "traced: {} spans ended, {} exported, {} resent from the spool, none dropped",
                stats.ended,
                stats.exported,
                stats.resent
            );
        }
        stats
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.shutdown_once();
    }
}
