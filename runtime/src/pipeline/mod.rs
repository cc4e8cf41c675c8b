//! `traced::init()`: the export pipeline in one line, configured by the standard
//! environment or by [`Config`]. Spans are recorded by a tracer provider of our own
//! (per-thread buffers, one export thread: see `recorder`) and exported to an OTLP
//! endpoint (gRPC or HTTP) or to the embedded store; batches the collector does not take
//! are spooled to disk and sent again; every span is counted, and what was dropped is
//! reported at shutdown.

mod config;
mod config_error;
mod custom;
mod env;
mod fanout;
pub(crate) mod health;
mod hosted;
mod http_client;
mod recorder;
mod reliable;
pub(crate) mod route;
mod spool;
mod stats;
mod target;
#[cfg(feature = "tls")]
mod tls;

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

pub use config::{Config, SamplerConfig, DEFAULT_MAX_BUFFERED_BYTES};
pub use config_error::ConfigError;
pub use health::{ExportFailure, FailureKind};
pub use stats::{DestinationStats, ExportStats};
pub use target::{
    Compression, Protocol, Target, TlsFiles, LANGFUSE_OTLP_PATH, LANGSMITH_OTLP_PATH,
};

pub(crate) use recorder::RecordingTracer;

use custom::BoxedExporter;
use fanout::{FanOut, Member};
use health::Health;
use recorder::Provider;
use reliable::{ReliableExporter, Settings};
use route::Route;
use spool::Spool;
use stats::Counters;

/// An error of any library, kept with its type (downcast it to look closer).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why `init()` could not set up the pipeline.
#[derive(Debug)]
pub enum InitError {
    /// The configuration cannot work.
    Config(ConfigError),
    /// A destination's exporter could not be built.
    Exporter {
        /// The destination, in words.
        destination: String,
        /// Why: the library's own error (opentelemetry-otlp's, rustls', tonic's...).
        source: BoxError,
    },
    /// The export runtime could not start.
    Runtime(std::io::Error),
    /// Setting up panicked (a bug of traced's, or of a library under it): caught, so the
    /// program goes on without export.
    Panicked(String),
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config(error) => write!(f, "traced configuration: {error}"),
            Self::Exporter {
                destination,
                source,
            } => write!(f, "traced exporter for {destination}: {source}"),
            Self::Runtime(error) => write!(f, "traced export runtime: {error}"),
            Self::Panicked(message) => write!(f, "traced init panicked: {message}"),
        }
    }
}

impl std::error::Error for InitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Config(error) => Some(error),
            Self::Runtime(error) => Some(error),
            Self::Exporter { source, .. } => Some(&**source),
            Self::Panicked(_) => None,
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

/// An OTLP destination, checked and ready to build its exporter.
struct OtlpPlan {
    endpoint: String,
    protocol: Protocol,
    headers: Vec<(String, String)>,
    compression: Compression,
    timeout: Duration,
    #[cfg(feature = "tls")]
    tls: Option<tls::Material>,
}

impl OtlpPlan {
    /// Reads and checks the TLS files now, so a bad one is an error from `init()`.
    fn new(target: &Target, timeout: Duration) -> Result<Option<Self>, ConfigError> {
        let Target::Otlp {
            endpoint,
            protocol,
            headers,
            tls,
            compression,
        } = target
        else {
            return Ok(None);
        };
        #[cfg(not(feature = "tls"))]
        let _ = tls;
        Ok(Some(Self {
            endpoint: endpoint.clone(),
            protocol: *protocol,
            headers: headers.clone(),
            compression: *compression,
            timeout,
            #[cfg(feature = "tls")]
            tls: if endpoint.starts_with("https://") || !tls.is_empty() {
                Some(tls::Material::load(tls)?)
            } else {
                None
            },
        }))
    }

    fn compression(&self) -> Option<opentelemetry_otlp::Compression> {
        match self.compression {
            Compression::None => None,
            Compression::Gzip => Some(opentelemetry_otlp::Compression::Gzip),
        }
    }

    /// The exporter (inside the export runtime: tonic needs one to exist).
    fn build(&self, health: &Arc<Health>) -> Result<opentelemetry_otlp::SpanExporter, BoxError> {
        let built = match self.protocol {
            Protocol::Grpc => {
                let mut metadata = tonic::metadata::MetadataMap::new();
                for (key, value) in &self.headers {
                    let key = tonic::metadata::MetadataKey::from_bytes(
                        key.to_ascii_lowercase().as_bytes(),
                    )
                    .map_err(|e| format!("header name {key:?}: {e}"))?;
                    let value = value.parse().map_err(
                        |e: tonic::metadata::errors::InvalidMetadataValue| {
                            format!("header value of {key}: {e}")
                        },
                    )?;
                    metadata.insert(key, value);
                }
                let builder = opentelemetry_otlp::SpanExporter::builder()
                    .with_tonic()
                    .with_endpoint(&self.endpoint)
                    .with_timeout(self.timeout)
                    .with_metadata(metadata)
                    .with_retry_policy(opentelemetry_otlp::RetryPolicy::disabled());
                #[cfg(feature = "tls")]
                let builder = match &self.tls {
                    Some(material) => builder.with_tls_config(material.tonic()),
                    None => builder,
                };
                match self.compression() {
                    Some(compression) => builder.with_compression(compression).build(),
                    None => builder.build(),
                }
            }
            Protocol::HttpProtobuf | Protocol::HttpJson => {
                let wire = if self.protocol == Protocol::HttpJson {
                    opentelemetry_otlp::Protocol::HttpJson
                } else {
                    opentelemetry_otlp::Protocol::HttpBinary
                };
                #[cfg(feature = "tls")]
                let client = http_client::ObservedClient::new(
                    &self.endpoint,
                    self.timeout,
                    self.tls.as_ref().map(tls::Material::rustls).transpose()?,
                    health.clone(),
                )?;
                #[cfg(not(feature = "tls"))]
                let client =
                    http_client::ObservedClient::new(&self.endpoint, self.timeout, health.clone())?;
                let builder = opentelemetry_otlp::SpanExporter::builder()
                    .with_http()
                    .with_http_client(client)
                    .with_endpoint(&self.endpoint)
                    .with_protocol(wire)
                    .with_timeout(self.timeout)
                    .with_headers(self.headers.iter().cloned().collect::<HashMap<_, _>>())
                    .with_retry_policy(opentelemetry_otlp::RetryPolicy::disabled());
                match self.compression() {
                    Some(compression) => builder.with_compression(compression).build(),
                    None => builder.build(),
                }
            }
        };
        Ok(built?)
    }
}

/// One destination of a running pipeline, for its figures and health.
#[derive(Debug)]
struct Destination {
    describe: String,
    counters: Arc<Counters>,
    health: Option<Arc<Health>>,
    /// OTLP sends handed over and not finished yet.
    in_flight: Option<Arc<reliable::InFlight>>,
}

impl Destination {
    fn stats(&self) -> DestinationStats {
        let mut stats = self.counters.destination(&self.describe);
        if let Some(health) = &self.health {
            (stats.last_error, stats.failing) = health.last();
        }
        stats
    }
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
        // Nothing in setting up export may take the program down: a panic below (ours,
        // or a library's) becomes an error the caller can report and go on without.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.init_inner())).unwrap_or_else(
            |panic| {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".to_owned());
                Err(InitError::Panicked(message))
            },
        )
    }

    /// The destinations' exporters, each with its own counts (and health, spool and
    /// runtime for OTLP).
    fn destinations(&self, service: &str) -> Result<(Vec<Member>, Vec<Destination>), InitError> {
        // Every file is read and every destination checked before anything starts.
        let plans = self
            .targets()
            .map(|target| OtlpPlan::new(target, self.export_timeout))
            .collect::<Result<Vec<_>, _>>()?;
        let base_spool = self.spool_dir.clone().unwrap_or_else(|| {
            crate::export::default_dir()
                .join("spool")
                .join(crate::export::file_safe(service))
        });
        let mut members = Vec::new();
        let mut destinations = Vec::new();
        let mut otlp_seen = 0;
        for (target, plan) in self.targets().zip(plans) {
            let counters = Arc::new(Counters::default());
            let describe = target.to_string();
            let mut health = None;
            let mut in_flight = None;
            let exporter = match (target, plan) {
                (Target::Disabled, _) => continue,
                (Target::Embedded { dir }, _) => BoxedExporter::new(CountingExporter {
                    inner: crate::export::FileExporter::new(dir),
                    counters: counters.clone(),
                }),
                (Target::Custom, _) => {
                    let exporter = self
                        .custom
                        .as_ref()
                        .and_then(custom::SharedExporter::take)
                        .ok_or_else(|| InitError::Exporter {
                            destination: describe.clone(),
                            source: Box::new(custom::already_taken()),
                        })?;
                    BoxedExporter::new(CountingExporter {
                        inner: exporter,
                        counters: counters.clone(),
                    })
                }
                (Target::Otlp { endpoint, .. }, Some(plan)) => {
                    // The first OTLP destination keeps the spool where it always was; any
                    // other has one of its own beside it.
                    let spool_dir = if otlp_seen == 0 {
                        base_spool.clone()
                    } else {
                        base_spool.join(format!("also-{}", crate::export::file_safe(endpoint)))
                    };
                    otlp_seen += 1;
                    let runtime = tokio::runtime::Builder::new_multi_thread()
                        .worker_threads(1)
                        .thread_name("traced-send")
                        .enable_all()
                        .build()
                        .map_err(InitError::Runtime)?;
                    let state = Arc::new(Health::new(
                        describe.clone(),
                        endpoint.starts_with("https://"),
                        self.notices,
                    ));
                    let for_build = state.clone();
                    let exporter = ReliableExporter::new(
                        runtime,
                        move || plan.build(&for_build),
                        Settings {
                            spool: Spool::new(spool_dir, self.spool_max_bytes),
                            counters: counters.clone(),
                            timeout: self.export_timeout,
                            retry_initial: self.retry_initial,
                            retry_max: self.retry_max,
                            health: state.clone(),
                        },
                    )
                    .map_err(|source| InitError::Exporter {
                        destination: describe.clone(),
                        source,
                    })?;
                    in_flight = Some(exporter.in_flight());
                    health = Some(state);
                    BoxedExporter::new(exporter)
                }
                (Target::Otlp { .. }, None) => continue,
            };
            members.push(Member {
                exporter,
                counters: counters.clone(),
            });
            destinations.push(Destination {
                describe,
                counters,
                health,
                in_flight,
            });
        }
        Ok((members, destinations))
    }

    fn init_inner(#[allow(unused_mut)] mut self) -> Result<Guard, InitError> {
        self.validate()?;
        if let Some(url) = &self.blob_store {
            #[cfg(feature = "object-store")]
            {
                let uploader = crate::blob_store::Uploader::start(url).map_err(|reason| {
                    InitError::Exporter {
                        destination: format!("the object store {url}"),
                        source: reason.into(),
                    }
                })?;
                self.blob_uploader = Some(Arc::new(uploader));
            }
            #[cfg(not(feature = "object-store"))]
            return Err(InitError::Exporter {
                destination: format!("the object store {url}"),
                source: "object stores need traced's `object-store` feature".into(),
            });
        }
        if let Some(bytes) = self.stream_output_limit {
            crate::stream::set_stream_output_limit(bytes);
        }
        let counters = Arc::new(Counters::default());
        let service = self.service_name_or_default();
        let describe = self
            .targets()
            .map(Target::to_string)
            .collect::<Vec<_>>()
            .join(" and ");
        if self.targets().all(|t| *t == Target::Disabled) {
            crate::redact::install(Some(self.policy()));
            crate::propagation::langsmith::set_roots(
                self.langsmith_runs_enabled(),
                self.langsmith_project(),
            );
            let generation = route::install(Some(Route::Off));
            return Ok(Guard {
                provider: None,
                counters,
                destinations: Vec::new(),
                describe,
                generation,
                export_timeout: self.export_timeout,
            });
        }
        let (members, destinations) = self.destinations(&service)?;
        let mut resource = Resource::builder().with_service_name(service.clone());
        for (key, value) in &self.resource_attributes {
            resource = resource.with_attribute(KeyValue::new(key.clone(), value.clone()));
        }
        let settings = recorder::Settings {
            sampler: self.sampler.clone(),
            resource: resource.build(),
            max_batch: MAX_EXPORT_BATCH.min(self.queue_size),
            queue_size: self.queue_size,
            max_buffered_bytes: self.max_buffered_bytes,
            blocking: self.blocking,
            notices: self.notices,
            scheduled_delay: self.scheduled_delay,
            counters: counters.clone(),
        };
        let provider =
            Provider::start(FanOut::new(members), settings).map_err(InitError::Runtime)?;
        crate::redact::install(Some(self.policy()));
        crate::propagation::langsmith::set_roots(
            self.langsmith_runs_enabled(),
            self.langsmith_project(),
        );
        global::set_tracer_provider(provider.clone());
        // The span path uses this tracer directly (see `route`); with a sampler that
        // records nothing it makes no span at all.
        let generation = route::install(Some(if self.sampler == SamplerConfig::AlwaysOff {
            Route::Off
        } else {
            Route::Ours(Arc::new(
                provider.tracer_with_scope(crate::site::SCOPE.clone()),
            ))
        }));
        Ok(Guard {
            provider: Some(provider),
            counters,
            destinations,
            describe,
            generation,
            export_timeout: self.export_timeout,
        })
    }
}

/// The running pipeline. Dropping it flushes and shuts down; [`Guard::shutdown`] does the
/// same and returns what became of the spans.
#[derive(Debug)]
pub struct Guard {
    provider: Option<Provider>,
    /// The recorder's counts (spans ended, handed to the destinations).
    counters: Arc<Counters>,
    destinations: Vec<Destination>,
    describe: String,
    /// The route this guard installed; a later `init()` installs another, which this
    /// guard's shutdown must leave alone. Zero once shut down.
    generation: u64,
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
        for in_flight in self
            .destinations
            .iter()
            .filter_map(|d| d.in_flight.as_ref())
        {
            if !in_flight.wait_idle(self.export_timeout + FLUSH_SLACK) {
                log::warn!("traced: flush: sends still in flight after the export timeout");
            }
        }
    }

    /// The counts so far, summed over the destinations (queue drops are known exactly
    /// only after a flush).
    pub fn stats(&self) -> ExportStats {
        self.counters.snapshot(&self.destination_stats(), false)
    }

    /// Each destination's counts, its last export failure and whether it is failing now.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("traced-doc-dest-{}", std::process::id()));
    /// let guard = traced::Config::new().embedded(&dir).init().unwrap();
    /// for destination in guard.destinations() {
    ///     assert!(destination.last_error.is_none());
    ///     println!("{}: {} exported", destination.destination, destination.exported);
    /// }
    /// ```
    pub fn destinations(&self) -> Vec<DestinationStats> {
        self.destination_stats()
    }

    /// The most recent failure of a destination that is failing now, if any: what a
    /// program should tell its user when spans are not arriving.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("traced-doc-last-{}", std::process::id()));
    /// let guard = traced::Config::new().embedded(&dir).init().unwrap();
    /// assert!(guard.last_error().is_none());
    /// ```
    pub fn last_error(&self) -> Option<ExportFailure> {
        self.destination_stats()
            .into_iter()
            .filter(|d| d.failing)
            .find_map(|d| d.last_error)
    }

    fn destination_stats(&self) -> Vec<DestinationStats> {
        self.destinations.iter().map(Destination::stats).collect()
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
        let generation = std::mem::take(&mut self.generation);
        if generation != 0 && route::uninstall(generation) {
            crate::redact::install(None);
            crate::propagation::langsmith::set_roots(false, None);
        }
        let Some(provider) = self.provider.take() else {
            return self.counters.snapshot(&self.destination_stats(), true);
        };
        // Each export is bounded by the export timeout; the last ones and the exporter's
        // own shutdown get twice that, and no more.
        provider.shutdown(self.export_timeout * 2 + FLUSH_SLACK);
        let stats = self.counters.snapshot(&self.destination_stats(), true);
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

/// A rustls configuration with the platform's roots (Mozilla's when it has none), for
/// clients other than the OTLP ones (the object store's).
#[cfg(all(feature = "tls", feature = "object-store"))]
pub(crate) fn default_rustls() -> Result<rustls::ClientConfig, BoxError> {
    Ok(tls::Material::load(&TlsFiles::default())?.rustls()?)
}
