//! Values past the attribute limit kept whole in an object store (S3 and S3-compatible
//! stores such as MinIO or Alibaba OSS, Google Cloud Storage, Azure Blob Storage), through
//! the `object_store` crate: the span keeps the value cut at the limit, its whole size
//! (`traced.truncated.{key}`) and the object's URL (`traced.blob.{key}`).
//!
//! - **Off the calling thread.** A value is handed to an upload thread of its own (a
//!   current-thread tokio runtime) and the call goes on; at most [`MAX_CONCURRENT`]
//!   uploads run at once.
//! - **Bounded.** At most [`MAX_QUEUED`] values and [`MAX_BYTES_IN_FLIGHT`] bytes wait or
//!   upload at a time; past either a value is not uploaded (the span keeps the cut value
//!   without a URL) and is counted as dropped.
//! - **Failures seen, spans never lost.** An upload that fails is counted and told on
//!   stderr through the `log` crate (once a minute); the span, already recorded with its
//!   cut value, is exported as usual. [`blob_stats`] gives the counts.
//!
//! The store's URL is `s3://bucket/prefix`, `gs://bucket/prefix` or
//! `az://container/prefix` (`Config::blob_store`, or `TRACED_BLOB_URL`); credentials,
//! region and endpoint come from the store's standard variables (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT`, `AWS_ALLOW_HTTP`;
//! `GOOGLE_SERVICE_ACCOUNT`; `AZURE_STORAGE_ACCOUNT_NAME`, `AZURE_STORAGE_ACCOUNT_KEY`...),
//! as `object_store` reads them. Requests go through traced's own HTTP client (hyper with
//! rustls and ring, the platform's roots), not reqwest: see `pipeline/http_client.rs`.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::connect::HttpConnector as TcpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use object_store::client::{
    ClientOptions, HttpClient, HttpConnector, HttpError, HttpErrorKind, HttpRequest, HttpResponse,
    HttpResponseBody, HttpService,
};
use object_store::path::Path;
use object_store::{ObjectStore, PutOptions, PutPayload};

/// The most values waiting to be uploaded.
pub const MAX_QUEUED: usize = 256;
/// The most bytes waiting or uploading.
pub const MAX_BYTES_IN_FLIGHT: usize = 64 << 20;
/// The most uploads at once.
pub const MAX_CONCURRENT: usize = 4;

/// What happened to the values sent to the object store.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlobStats {
    /// Stored.
    pub uploaded: u64,
    /// Refused or unreachable store.
    pub failed: u64,
    /// Not sent: the queue or its byte budget was full.
    pub dropped: u64,
}

#[derive(Debug, Default)]
struct Counters {
    uploaded: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
    last_warned: AtomicU64,
}

static COUNTERS: Counters = Counters {
    uploaded: AtomicU64::new(0),
    failed: AtomicU64::new(0),
    dropped: AtomicU64::new(0),
    last_warned: AtomicU64::new(0),
};

/// The counts of every object store this process has used.
///
/// ```
/// let stats = traced::blob_stats();
/// assert_eq!(stats.failed, 0);
/// ```
pub fn blob_stats() -> BlobStats {
    BlobStats {
        uploaded: COUNTERS.uploaded.load(Ordering::Relaxed),
        failed: COUNTERS.failed.load(Ordering::Relaxed),
        dropped: COUNTERS.dropped.load(Ordering::Relaxed),
    }
}

struct Job {
    path: Path,
    bytes: Bytes,
}

/// The uploads of one configured store.
pub(crate) struct Uploader {
    /// `s3://bucket/prefix`, without a trailing `/`.
    url: String,
    prefix: Path,
    jobs: SyncSender<Job>,
    in_flight: Arc<AtomicUsize>,
}

impl std::fmt::Debug for Uploader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Uploader").field("url", &self.url).finish()
    }
}

impl Uploader {
    /// The store `url` names, and its upload thread.
    pub(crate) fn start(url: &str) -> Result<Self, String> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| format!("{url:?} is not a URL (s3://bucket/prefix, say)"))?;
        let store: Arc<dyn ObjectStore> = match scheme {
            "s3" => Arc::new(
                object_store::aws::AmazonS3Builder::from_env()
                    .with_url(url)
                    .with_retry(retry())
                    .with_http_connector(Hyper)
                    .build()
                    .map_err(|e| e.to_string())?,
            ),
            "gs" => Arc::new(
                object_store::gcp::GoogleCloudStorageBuilder::from_env()
                    .with_url(url)
                    .with_retry(retry())
                    .with_http_connector(Hyper)
                    .build()
                    .map_err(|e| e.to_string())?,
            ),
            "az" | "azure" | "abfs" | "abfss" => Arc::new(
                object_store::azure::MicrosoftAzureBuilder::from_env()
                    .with_url(url)
                    .with_retry(retry())
                    .with_http_connector(Hyper)
                    .build()
                    .map_err(|e| e.to_string())?,
            ),
            other => {
                return Err(format!(
                    "{url:?}: the object store scheme {other:?} is not one of s3://, gs://, az:// \
                     (for a local directory use Config::blob_dir)"
                ))
            }
        };
        let prefix = Path::from(
            rest.split_once('/')
                .map_or("", |(_, path)| path)
                .trim_matches('/'),
        );
        let (jobs, queue) = sync_channel::<Job>(MAX_QUEUED);
        let in_flight = Arc::new(AtomicUsize::new(0));
        let counted = in_flight.clone();
        std::thread::Builder::new()
            .name("traced-blob-upload".into())
            .spawn(move || upload_loop(store, queue, counted))
            .map_err(|e| format!("could not start the upload thread: {e}"))?;
        Ok(Self {
            url: url.trim_end_matches('/').to_owned(),
            prefix,
            jobs,
            in_flight,
        })
    }

    /// Hands `text` to the upload thread as object `name`; its URL, or `None` when the
    /// queue or its byte budget is full (counted as dropped).
    pub(crate) fn offer(&self, name: &str, text: String) -> Option<String> {
        let size = text.len();
        let before = self.in_flight.fetch_add(size, Ordering::AcqRel);
        if before + size > MAX_BYTES_IN_FLIGHT {
            self.in_flight.fetch_sub(size, Ordering::AcqRel);
            COUNTERS.dropped.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        let path = self.prefix.clone().join(name);
        let url = format!("{}/{name}", self.url);
        match self.jobs.try_send(Job {
            path,
            bytes: Bytes::from(text),
        }) {
            Ok(()) => Some(url),
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.in_flight.fetch_sub(size, Ordering::AcqRel);
                COUNTERS.dropped.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }
}

fn upload_loop(
    store: Arc<dyn ObjectStore>,
    queue: std::sync::mpsc::Receiver<Job>,
    in_flight: Arc<AtomicUsize>,
) {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    let limit = Arc::new(tokio::sync::Semaphore::new(MAX_CONCURRENT));
    runtime.block_on(async move {
        let mut running = tokio::task::JoinSet::new();
        // The queue is a std channel: waiting on it would stall the uploads, so it is
        // read from a blocking task that forwards each job.
        let (forward, mut jobs) = tokio::sync::mpsc::channel::<Job>(MAX_CONCURRENT);
        std::thread::spawn(move || {
            while let Ok(job) = queue.recv() {
                if forward.blocking_send(job).is_err() {
                    break;
                }
            }
        });
        while let Some(job) = jobs.recv().await {
            let Ok(permit) = limit.clone().acquire_owned().await else {
                break;
            };
            let store = store.clone();
            let in_flight = in_flight.clone();
            running.spawn(async move {
                let size = job.bytes.len();
                let put = store.put_opts(
                    &job.path,
                    PutPayload::from(job.bytes),
                    PutOptions::default(),
                );
                match tokio::time::timeout(Duration::from_secs(60), put).await {
                    Ok(Ok(_)) => {
                        COUNTERS.uploaded.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(Err(error)) => failed(&job.path, &error.to_string()),
                    Err(_) => failed(&job.path, "no answer in 60 s"),
                }
                in_flight.fetch_sub(size, Ordering::AcqRel);
                drop(permit);
            });
            while running.try_join_next().is_some() {}
        }
        while running.join_next().await.is_some() {}
    });
}

/// Counts a failed upload and tells it, at most once a minute.
fn failed(path: &Path, error: &str) {
    let total = COUNTERS.failed.fetch_add(1, Ordering::Relaxed) + 1;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let last = COUNTERS.last_warned.load(Ordering::Relaxed);
    if (last == 0 || now >= last + 60)
        && COUNTERS
            .last_warned
            .compare_exchange(last, now.max(1), Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        let error = crate::bounded::for_log(error, 512);
        log::warn!(
            "traced: could not store {path} in the object store ({error}); the span keeps the \
             value cut at the limit [{total} such so far; told at most once a minute]"
        );
    }
}

/// A few quick retries, then the failure is counted: an upload must not outlive its
/// usefulness by minutes (object_store's default retries for three).
fn retry() -> object_store::RetryConfig {
    object_store::RetryConfig {
        backoff: object_store::BackoffConfig::default(),
        max_retries: 3,
        retry_timeout: Duration::from_secs(30),
    }
}

/// `object_store`'s HTTP through hyper with traced's rustls (ring, the platform's roots).
#[derive(Debug, Clone, Copy)]
struct Hyper;

impl HttpConnector for Hyper {
    fn connect(&self, options: &ClientOptions) -> object_store::Result<HttpClient> {
        let _ = options;
        let mut tcp = TcpConnector::new();
        tcp.enforce_http(false);
        tcp.set_connect_timeout(Some(Duration::from_secs(10)));
        #[cfg(feature = "tls")]
        let connector = {
            let config =
                crate::pipeline::default_rustls().map_err(|e| object_store::Error::Generic {
                    store: "traced",
                    source: e,
                })?;
            hyper_rustls::HttpsConnectorBuilder::new()
                .with_tls_config(config)
                .https_or_http()
                .enable_http1()
                .wrap_connector(tcp)
        };
        #[cfg(not(feature = "tls"))]
        let connector = tcp;
        Ok(HttpClient::new(HyperService(
            Client::builder(TokioExecutor::new()).build(connector),
        )))
    }
}

#[cfg(feature = "tls")]
type Connector = hyper_rustls::HttpsConnector<TcpConnector>;
#[cfg(not(feature = "tls"))]
type Connector = TcpConnector;

struct HyperService(Client<Connector, Full<Bytes>>);

impl std::fmt::Debug for HyperService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HyperService")
    }
}

#[async_trait::async_trait]
impl HttpService for HyperService {
    async fn call(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let (parts, body) = request.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| HttpError::new(HttpErrorKind::Request, e))?
            .to_bytes();
        let request = http::Request::from_parts(parts, Full::new(body));
        let response = self
            .0
            .request(request)
            .await
            .map_err(|e| HttpError::new(HttpErrorKind::Connect, e))?;
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| HttpError::new(HttpErrorKind::Decode, e))?
            .to_bytes();
        Ok(http::Response::from_parts(
            parts,
            HttpResponseBody::from(body),
        ))
    }
}
