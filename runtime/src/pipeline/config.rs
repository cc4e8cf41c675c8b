//! What `traced::init()` sets up, in code; [`Config::from_env`] reads the same from the
//! standard environment (`env.rs`).

use std::path::PathBuf;
use std::time::Duration;

use super::config_error::{validate_endpoint, ConfigError};
use super::target::{Compression, Protocol, Target};

/// Which spans are recorded.
#[derive(Clone, Debug, PartialEq)]
pub enum SamplerConfig {
    /// Every span.
    AlwaysOn,
    /// No span.
    AlwaysOff,
    /// A fraction of traces, by trace id.
    TraceIdRatio(f64),
    /// As the parent span decided; for a root span, as the inner sampler decides.
    ParentBased(Box<SamplerConfig>),
}

/// The configuration of the export pipeline: where spans go, the service, the sampler,
/// and the disk spool that keeps spans while the collector is unreachable.
///
/// ```
/// use traced::{Config, Protocol};
///
/// let config = Config::new()
///     .service_name("checkout")
///     .otlp("http://127.0.0.1:4318/v1/traces", Protocol::HttpProtobuf)
///     .header("x-api-key", "secret");
/// assert_eq!(config.service_name_or_default(), "checkout");
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) service_name: Option<String>,
    pub(crate) resource_attributes: Vec<(String, String)>,
    pub(crate) target: Target,
    /// Destinations besides `target`, each with its own spool and counts.
    pub(crate) also: Vec<Target>,
    /// Whether export failures are told on stderr when no `log` logger shows warnings.
    pub(crate) notices: bool,
    pub(crate) sampler: SamplerConfig,
    pub(crate) spool_dir: Option<PathBuf>,
    pub(crate) spool_max_bytes: u64,
    pub(crate) queue_size: usize,
    pub(crate) max_buffered_bytes: usize,
    pub(crate) blocking: bool,
    pub(crate) stream_output_limit: Option<usize>,
    pub(crate) scheduled_delay: Duration,
    pub(crate) retry_initial: Duration,
    pub(crate) retry_max: Duration,
    pub(crate) export_timeout: Duration,
    pub(crate) custom: Option<super::custom::SharedExporter>,
    pub(crate) secret_names: Vec<String>,
    pub(crate) max_attribute_bytes: usize,
    pub(crate) mask: Option<crate::redact::MaskFn>,
    pub(crate) blob_dir: Option<PathBuf>,
    /// The object store of large values (`s3://bucket/prefix`...), started by `init()`.
    pub(crate) blob_store: Option<String>,
    #[cfg(feature = "object-store")]
    pub(crate) blob_uploader: Option<std::sync::Arc<crate::blob_store::Uploader>>,
    pub(crate) untrusted_baggage_keys: Vec<String>,
    pub(crate) langsmith_runs: Option<bool>,
    pub(crate) prices: Vec<(String, crate::genai::ModelPrice)>,
}

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}

/// The default byte budget of ended spans waiting for export, over all threads.
pub const DEFAULT_MAX_BUFFERED_BYTES: usize = 128 << 20;

impl Config {
    /// The defaults: the embedded store, every span sampled (parent-based), a 64 MiB
    /// spool, 128 MiB of buffers for ended spans. Reads no environment.
    pub fn new() -> Self {
        Self {
            service_name: None,
            resource_attributes: Vec::new(),
            target: Target::Embedded {
                dir: crate::export::default_dir(),
            },
            also: Vec::new(),
            notices: true,
            sampler: SamplerConfig::ParentBased(Box::new(SamplerConfig::AlwaysOn)),
            spool_dir: None,
            spool_max_bytes: 64 << 20,
            queue_size: usize::MAX,
            max_buffered_bytes: DEFAULT_MAX_BUFFERED_BYTES,
            blocking: false,
            stream_output_limit: None,
            scheduled_delay: Duration::from_millis(500),
            retry_initial: Duration::from_millis(500),
            retry_max: Duration::from_secs(30),
            export_timeout: Duration::from_secs(10),
            custom: None,
            secret_names: crate::redact::DEFAULT_SECRET_NAMES
                .iter()
                .map(|name| (*name).to_owned())
                .collect(),
            max_attribute_bytes: crate::redact::DEFAULT_MAX_ATTRIBUTE_BYTES,
            mask: None,
            blob_dir: None,
            blob_store: None,
            #[cfg(feature = "object-store")]
            blob_uploader: None,
            untrusted_baggage_keys: Vec::new(),
            langsmith_runs: None,
            prices: Vec::new(),
        }
    }

    /// The `service.name` resource attribute.
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// Another resource attribute (`deployment.environment`, `service.version`, ...).
    pub fn resource_attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.resource_attributes.push((key.into(), value.into()));
        self
    }

    /// Send spans to an OTLP endpoint (for HTTP, the full URL with `/v1/traces`). Like
    /// every destination setter, this replaces the main destination; [`Config::also`] adds
    /// one.
    pub fn otlp(mut self, endpoint: impl Into<String>, protocol: Protocol) -> Self {
        self.target = Target::otlp(endpoint, protocol);
        self
    }

    /// Send spans to one more destination as well, with its own spool and counts: a slow
    /// or dead destination never delays or loses another's spans. `header`,
    /// `ca_certificate`, `client_certificate` and `compression` apply to the OTLP
    /// destination added last.
    ///
    /// ```
    /// use traced::{Config, Protocol, Target};
    ///
    /// let config = Config::new()
    ///     .langfuse("https://cloud.langfuse.com", "pk-lf-1", "sk-lf-2")
    ///     .also(Target::otlp("https://phoenix.internal:6006/v1/traces", Protocol::HttpProtobuf))
    ///     .ca_certificate("/etc/ssl/internal-ca.pem")
    ///     .also(Target::embedded("traces"));
    /// assert_eq!(config.targets().count(), 3);
    /// ```
    pub fn also(mut self, target: Target) -> Self {
        if target != Target::Disabled {
            self.also.push(target);
        }
        self
    }

    /// Keep a copy of every span in the embedded store under `dir` as well.
    ///
    /// ```
    /// let config = traced::Config::new()
    ///     .otlp("https://collector:4318/v1/traces", traced::Protocol::HttpProtobuf)
    ///     .also_embedded("traces");
    /// assert_eq!(config.targets().count(), 2);
    /// ```
    pub fn also_embedded(self, dir: impl Into<PathBuf>) -> Self {
        self.also(Target::embedded(dir))
    }

    /// The OTLP destination added last, which the transport settings apply to.
    fn last_otlp(&mut self) -> Option<&mut Target> {
        self.also
            .iter_mut()
            .rev()
            .chain(std::iter::once(&mut self.target))
            .find(|t| matches!(t, Target::Otlp { .. }))
    }

    /// A header (gRPC metadata) sent with every export to the OTLP destination added
    /// last.
    pub fn header(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        if let Some(Target::Otlp { headers, .. }) = self.last_otlp() {
            headers.push((key.into(), value.into()));
        }
        self
    }

    /// Trust only the CA certificates (PEM) in `path` for the OTLP destination added last
    /// (`OTEL_EXPORTER_OTLP_CERTIFICATE`), instead of the platform's roots.
    ///
    /// ```
    /// let config = traced::Config::new()
    ///     .otlp("https://collector.internal:4318/v1/traces", traced::Protocol::HttpProtobuf)
    ///     .ca_certificate("/etc/ssl/internal-ca.pem");
    /// # drop(config);
    /// ```
    pub fn ca_certificate(mut self, path: impl Into<PathBuf>) -> Self {
        if let Some(Target::Otlp { tls, .. }) = self.last_otlp() {
            *tls = std::mem::take(tls).ca_certificate(path);
        }
        self
    }

    /// Present a client certificate (PEM chain) and its key (PEM) to the OTLP destination
    /// added last: mutual TLS (`OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE` and `_CLIENT_KEY`).
    ///
    /// ```
    /// let config = traced::Config::new()
    ///     .otlp("https://collector.internal:4317", traced::Protocol::Grpc)
    ///     .client_certificate("/etc/traced/client.pem", "/etc/traced/client-key.pem");
    /// # drop(config);
    /// ```
    pub fn client_certificate(
        mut self,
        certificate: impl Into<PathBuf>,
        key: impl Into<PathBuf>,
    ) -> Self {
        if let Some(Target::Otlp { tls, .. }) = self.last_otlp() {
            *tls = std::mem::take(tls).client_certificate(certificate, key);
        }
        self
    }

    /// Compress request bodies to the OTLP destination added last
    /// (`OTEL_EXPORTER_OTLP_COMPRESSION`).
    ///
    /// ```
    /// let config = traced::Config::new()
    ///     .otlp("https://collector:4318/v1/traces", traced::Protocol::HttpProtobuf)
    ///     .compression(traced::Compression::Gzip);
    /// # drop(config);
    /// ```
    pub fn compression(mut self, compression: Compression) -> Self {
        if let Some(Target::Otlp { compression: c, .. }) = self.last_otlp() {
            *c = compression;
        }
        self
    }

    /// Send spans to Langfuse: OTLP/HTTP to `{host}/api/public/otel/v1/traces` with Basic
    /// authentication by the project's public and secret keys, and the `x-langfuse-*`
    /// headers its own SDK sends.
    ///
    /// ```
    /// use traced::{Config, Target};
    /// let config = Config::new().langfuse("https://cloud.langfuse.com", "pk-lf-1", "sk-lf-2");
    /// let Target::Otlp { endpoint, headers, .. } = config.target() else { unreachable!() };
    /// assert_eq!(endpoint, "https://cloud.langfuse.com/api/public/otel/v1/traces");
    /// assert_eq!(headers[0].1, "Basic cGstbGYtMTpzay1sZi0y");
    /// ```
    pub fn langfuse(mut self, host: &str, public_key: &str, secret_key: &str) -> Self {
        self.target = Target::langfuse(host, public_key, secret_key);
        self
    }

    /// Send spans to LangSmith: OTLP/HTTP to `{endpoint}/otel/v1/traces` (endpoint
    /// `https://api.smith.langchain.com`, or your region's or instance's) with `x-api-key`
    /// and, when given, `Langsmith-Project`.
    ///
    /// ```
    /// let config = traced::Config::new().langsmith("https://api.smith.langchain.com", "lsv2_pt_x", None);
    /// assert_eq!(config.target().to_string(), "OTLP http/protobuf to https://api.smith.langchain.com/otel/v1/traces");
    /// ```
    pub fn langsmith(mut self, endpoint: &str, api_key: &str, project: Option<&str>) -> Self {
        self.target = Target::langsmith(endpoint, api_key, project);
        self
    }

    /// Keep spans in the embedded store under `dir`.
    pub fn embedded(mut self, dir: impl Into<PathBuf>) -> Self {
        self.target = Target::Embedded { dir: dir.into() };
        self
    }

    /// Whether an export failure (and its recovery) is told on stderr, once per kind of
    /// failure and destination, when no `log` logger shows warnings (default: yes;
    /// `TRACED_NOTICES=off`). With a logger the notice is a `log` warning instead.
    ///
    /// ```
    /// let config = traced::Config::new().notices(false);
    /// # drop(config);
    /// ```
    pub fn notices(mut self, on: bool) -> Self {
        self.notices = on;
        self
    }

    /// Send spans to any OpenTelemetry span exporter (stdout, in-memory for tests, a
    /// vendor's), through the same batching and counting as the other targets.
    ///
    /// ```
    /// use opentelemetry_sdk::trace::InMemorySpanExporter;
    ///
    /// let exporter = InMemorySpanExporter::default();
    /// let guard = traced::Config::new().exporter(exporter.clone()).init().unwrap();
    /// guard.shutdown();
    /// assert!(exporter.get_finished_spans().unwrap().is_empty());
    /// ```
    pub fn exporter<E: opentelemetry_sdk::trace::SpanExporter + 'static>(
        mut self,
        exporter: E,
    ) -> Self {
        self.target = Target::Custom;
        self.custom = Some(super::custom::SharedExporter::new(exporter));
        self
    }

    /// Record nothing.
    pub fn disabled(mut self) -> Self {
        self.target = Target::Disabled;
        self
    }

    /// The sampler.
    pub fn sampler(mut self, sampler: SamplerConfig) -> Self {
        self.sampler = sampler;
        self
    }

    /// Where batches wait while the collector is unreachable (default
    /// `{TRACED_DIR or ./traces}/spool/{service}`).
    pub fn spool_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.spool_dir = Some(dir.into());
        self
    }

    /// The most bytes the spool keeps; past it the oldest batches are dropped (counted).
    pub fn spool_max_bytes(mut self, bytes: u64) -> Self {
        self.spool_max_bytes = bytes;
        self
    }

    /// The most ended spans one thread may have waiting in memory for export (each
    /// thread buffers its own); past it that thread's spans are dropped (counted and
    /// reported). No such limit by default: [`Config::max_buffered_bytes`] bounds the
    /// buffers.
    pub fn queue_size(mut self, spans: usize) -> Self {
        self.queue_size = spans.max(1);
        self
    }

    /// The most memory (an estimate of each span's) that ended spans may take, over all
    /// threads, while they wait for the export thread (default
    /// [`DEFAULT_MAX_BUFFERED_BYTES`], 128 MiB). A burst is absorbed whole up to this;
    /// past it spans are dropped, counted and told (or, with [`Config::blocking`], the
    /// producing threads wait). Memory is taken only while spans wait: an idle or
    /// steady service holds a few batches.
    ///
    /// ```
    /// let config = traced::Config::new().max_buffered_bytes(32 << 20);
    /// # drop(config);
    /// ```
    pub fn max_buffered_bytes(mut self, bytes: usize) -> Self {
        self.max_buffered_bytes = bytes.max(1);
        self
    }

    /// When the buffers are full, make the thread that ends a span wait until the export
    /// thread has taken enough, rather than drop the span (`TRACED_BLOCKING=true`): no
    /// span is dropped at any rate, at the price of the program's own pace. For batch
    /// jobs and evaluation runs, where every span matters more than latency. (Export
    /// never waits on the network — failed sends go to the spool — so the wait is as
    /// long as the export thread takes to catch up.)
    ///
    /// ```
    /// let config = traced::Config::new().blocking(true);
    /// # drop(config);
    /// ```
    pub fn blocking(mut self, wait: bool) -> Self {
        self.blocking = wait;
        self
    }

    /// How often the batch of ended spans is sent.
    pub fn scheduled_delay(mut self, delay: Duration) -> Self {
        self.scheduled_delay = delay;
        self
    }

    /// The backoff of resending spooled batches: from `initial`, doubling up to `max`.
    pub fn retry_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.retry_initial = initial;
        self.retry_max = max.max(initial);
        self
    }

    /// How long one export may take before it counts as failed (and is spooled).
    pub fn export_timeout(mut self, timeout: Duration) -> Self {
        self.export_timeout = timeout;
        self
    }

    /// Replaces the names whose values are masked (`[REDACTED]`) in captured inputs,
    /// outputs, fields and attributes (default [`DEFAULT_SECRET_NAMES`](crate::DEFAULT_SECRET_NAMES)).
    /// Names match the words of an argument name or key, case-insensitively.
    ///
    /// ```
    /// let config = traced::Config::new().secret_names(["ssn", "card_number"]);
    /// # drop(config);
    /// ```
    pub fn secret_names<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.secret_names = names.into_iter().map(Into::into).collect();
        self
    }

    /// Adds names to mask to the current list.
    ///
    /// ```
    /// let config = traced::Config::new().also_secret(["ssn"]);
    /// # drop(config);
    /// ```
    pub fn also_secret<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.secret_names.extend(names.into_iter().map(Into::into));
        self
    }

    /// The most bytes a traced stream's accumulated output keeps (default 1 MiB,
    /// [`DEFAULT_STREAM_OUTPUT_LIMIT`](crate::DEFAULT_STREAM_OUTPUT_LIMIT)); past it the
    /// output is kept cut and the totals keep counting. Applies to the whole process from
    /// `init()` on, as [`set_stream_output_limit`](crate::set_stream_output_limit) does.
    ///
    /// ```
    /// let config = traced::Config::new().stream_output_limit(256 << 10);
    /// # drop(config);
    /// ```
    pub fn stream_output_limit(mut self, bytes: usize) -> Self {
        self.stream_output_limit = Some(bytes);
        self
    }

    /// The most bytes one attribute value keeps (default 32 KiB); a larger value is cut at a
    /// UTF-8 boundary and `traced.truncated.{key}` records its original size.
    pub fn max_attribute_bytes(mut self, bytes: usize) -> Self {
        self.max_attribute_bytes = bytes.max(16);
        self
    }

    /// A function that rewrites every captured value before it is recorded:
    /// `(attribute key, value) -> value` (e.g. to scrub e-mail addresses).
    ///
    /// ```
    /// let config = traced::Config::new().mask(|_key, value| value.replace("ada@example.com", "<email>"));
    /// # drop(config);
    /// ```
    pub fn mask(mut self, mask: impl Fn(&str, String) -> String + Send + Sync + 'static) -> Self {
        self.mask = Some(crate::redact::MaskFn(std::sync::Arc::new(mask)));
        self
    }

    /// Keeps the whole of a value cut at the size limit in a file under `dir`; the span
    /// records its path as `traced.blob.{key}`, so a 5 MB prompt neither bloats the export
    /// nor is lost.
    pub fn blob_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.blob_dir = Some(dir.into());
        self
    }

    /// Keeps the whole of a value cut at the size limit in an object store:
    /// `s3://bucket/prefix` (S3, MinIO, Alibaba OSS...), `gs://bucket/prefix` or
    /// `az://container/prefix`, with the store's standard variables for credentials,
    /// region and endpoint (`AWS_*`, `GOOGLE_*`, `AZURE_*`). The span records the object's
    /// URL as `traced.blob.{key}` beside the cut value; uploads run on a thread of their
    /// own, bounded in bytes and in number, and a failing store is counted
    /// ([`blob_stats`](crate::blob_stats)) and told, never losing the span. Needs the
    /// `object-store` feature; `TRACED_BLOB_URL` sets it from the environment.
    ///
    /// ```
    /// let config = traced::Config::new().blob_store("s3://traces-large-values/prod");
    /// # drop(config);
    /// ```
    pub fn blob_store(mut self, url: impl Into<String>) -> Self {
        self.blob_store = Some(url.into());
        self
    }

    /// The baggage keys kept from an untrusted inbound context (`#[traced(extract,
    /// untrusted)]`, `TraceLayer::untrusted`); none by default. Langfuse's and
    /// LangSmith's members are read into ours first, so name ours: `user.id`,
    /// `session.id`, `traced.trace.tags`, `traced.trace.metadata.{key}`...
    ///
    /// ```
    /// let config = traced::Config::new().untrusted_baggage_keys(["session.id"]);
    /// # drop(config);
    /// ```
    pub fn untrusted_baggage_keys<S: Into<String>>(
        mut self,
        keys: impl IntoIterator<Item = S>,
    ) -> Self {
        self.untrusted_baggage_keys = keys.into_iter().map(Into::into).collect();
        self
    }

    /// The price of a model, so that generations record their cost (`gen_ai.usage.cost`,
    /// Langfuse's `cost_details`) from their usage. A generation is priced by its model's
    /// own entry, else by the longest configured name its model starts with (`gpt-4o`
    /// prices `gpt-4o-2024-08-06`). There is no built-in price list: prices change.
    ///
    /// ```
    /// use traced::genai::ModelPrice;
    /// let config = traced::Config::new()
    ///     .model_price("gpt-4o", ModelPrice::per_million(2.50, 10.00).cache_read(1.25))
    ///     .model_price("gpt-4o-mini", ModelPrice::per_million(0.15, 0.60));
    /// # drop(config);
    /// ```
    pub fn model_price(
        mut self,
        model: impl Into<String>,
        price: crate::genai::ModelPrice,
    ) -> Self {
        let model = model.into();
        self.prices.retain(|(name, _)| *name != model);
        self.prices.push((model, price));
        self
    }

    /// Whether a span that begins a trace begins a LangSmith trace too, so its spans carry
    /// the `langsmith.*` run ids and `inject` writes `langsmith-trace` (see
    /// [`propagation::langsmith`](crate::propagation::langsmith)). On by default when a
    /// LangSmith destination is configured; traces continued from `langsmith-trace` are
    /// LangSmith traces either way.
    ///
    /// ```
    /// let config = traced::Config::new().langsmith_runs(true);
    /// assert!(config.langsmith_runs_enabled());
    /// ```
    pub fn langsmith_runs(mut self, on: bool) -> Self {
        self.langsmith_runs = Some(on);
        self
    }

    /// Whether [`Config::langsmith_runs`] is on: as set, else whether a destination is
    /// LangSmith's.
    ///
    /// ```
    /// let config = traced::Config::new().langsmith("https://api.smith.langchain.com", "k", None);
    /// assert!(config.langsmith_runs_enabled());
    /// assert!(!traced::Config::new().embedded("traces").langsmith_runs_enabled());
    /// ```
    pub fn langsmith_runs_enabled(&self) -> bool {
        self.langsmith_runs
            .unwrap_or_else(|| self.targets().any(Target::is_langsmith))
    }

    /// The project of the LangSmith destination, if one is configured with a project.
    pub(crate) fn langsmith_project(&self) -> Option<String> {
        self.targets()
            .find(|t| t.is_langsmith())
            .and_then(|t| match t {
                Target::Otlp { headers, .. } => headers
                    .iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case("langsmith-project"))
                    .map(|(_, project)| project.clone()),
                _ => None,
            })
    }

    pub(crate) fn policy(&self) -> crate::redact::Policy {
        let mut policy = crate::redact::Policy::new(&self.secret_names, self.max_attribute_bytes);
        policy.mask = self.mask.clone();
        policy.blob_dir = self.blob_dir.clone();
        #[cfg(feature = "object-store")]
        {
            policy.blob_store = self.blob_uploader.clone();
        }
        policy.untrusted_baggage_keys = self.untrusted_baggage_keys.clone();
        policy.prices = self.prices.clone();
        policy
    }

    /// Where spans go (the main destination).
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Every destination: the main one, then those added with [`Config::also`].
    ///
    /// ```
    /// let config = traced::Config::new().embedded("a").also_embedded("b");
    /// let dirs: Vec<String> = config.targets().map(|t| t.to_string()).collect();
    /// assert_eq!(dirs, ["the embedded store in a", "the embedded store in b"]);
    /// ```
    pub fn targets(&self) -> impl Iterator<Item = &Target> {
        std::iter::once(&self.target).chain(&self.also)
    }

    /// The service name, or the default the OpenTelemetry spec gives
    /// (`unknown_service:{executable}`).
    pub fn service_name_or_default(&self) -> String {
        self.service_name.clone().unwrap_or_else(|| {
            let exe = std::env::current_exe()
                .ok()
                .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
                .unwrap_or_default();
            format!("unknown_service:{exe}")
        })
    }

    /// Checks what can be checked before anything starts: endpoints, headers, and that
    /// this build has what they need.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        for target in self.targets() {
            let Target::Otlp {
                endpoint,
                headers,
                tls,
                compression,
                ..
            } = target
            else {
                continue;
            };
            validate_endpoint("Config::otlp", endpoint)?;
            for (name, value) in headers {
                let invalid = |reason: String| ConfigError::InvalidHeader {
                    name: name.clone(),
                    reason,
                };
                http::HeaderName::from_bytes(name.as_bytes())
                    .map_err(|e| invalid(e.to_string()))?;
                http::HeaderValue::from_str(value).map_err(|e| invalid(e.to_string()))?;
            }
            let https = endpoint.starts_with("https://");
            if !cfg!(feature = "tls") && (https || !tls.is_empty()) {
                return Err(ConfigError::NotBuilt {
                    source: format!("the endpoint {endpoint}"),
                    what: "TLS".into(),
                    feature: "tls",
                });
            }
            if !cfg!(feature = "gzip") && *compression == Compression::Gzip {
                return Err(ConfigError::NotBuilt {
                    source: "OTEL_EXPORTER_OTLP_COMPRESSION".into(),
                    what: "gzip".into(),
                    feature: "gzip",
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Built without the `tls` feature, an `https://` endpoint is an error that names the
    /// feature, never a plain-text fallback.
    #[cfg(not(feature = "tls"))]
    #[test]
    fn https_without_tls_is_an_error() {
        let error = Config::new()
            .otlp("https://collector:4318/v1/traces", Protocol::HttpProtobuf)
            .validate()
            .expect_err("no TLS in this build");
        assert!(error.to_string().contains("`tls` feature"), "{error}");
    }

    #[cfg(not(feature = "gzip"))]
    #[test]
    fn gzip_without_the_feature_is_an_error() {
        let error = Config::new()
            .otlp("http://collector:4318/v1/traces", Protocol::HttpProtobuf)
            .compression(Compression::Gzip)
            .validate()
            .expect_err("no gzip in this build");
        assert!(error.to_string().contains("`gzip` feature"), "{error}");
    }

    #[test]
    fn transport_settings_apply_to_the_destination_added_last() {
        let config = Config::new()
            .otlp("http://a:4318/v1/traces", Protocol::HttpProtobuf)
            .also(Target::embedded("copy"))
            .also(Target::otlp("https://b:4317", Protocol::Grpc))
            .header("x-b", "1")
            .compression(Compression::Gzip)
            .ca_certificate("ca.pem");
        let targets: Vec<&Target> = config.targets().collect();
        let Target::Otlp { headers, .. } = targets[0] else {
            panic!("otlp")
        };
        assert!(headers.is_empty());
        let Target::Otlp {
            headers,
            compression,
            tls,
            ..
        } = targets[2]
        else {
            panic!("otlp")
        };
        assert_eq!(headers, &[("x-b".to_owned(), "1".to_owned())]);
        assert_eq!(*compression, Compression::Gzip);
        assert_eq!(tls.ca(), Some(std::path::Path::new("ca.pem")));
    }
}
