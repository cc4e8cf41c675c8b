//! The OTLP/HTTP client: hyper (with our TLS), telling the destination's [`Health`]
//! what exactly went wrong. opentelemetry-otlp's own error for a failed request says only
//! "network error" or "status code: 401": the TLS alert, the refused connection and the
//! backend's message ("invalid API key") are lost before they reach us, and those are
//! what a user needs to fix the configuration.
//!
//! Not reqwest: its rustls build without a provider makes every `reqwest::Client::new()`
//! of the application panic unless a process-wide provider is installed, and its default
//! brings aws-lc. hyper-util's client with hyper-rustls takes our ring-based rustls
//! configuration and leaves the application's own clients alone.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::TokioExecutor;
use opentelemetry_http::{HttpClient, HttpError, Request, Response};

use super::health::{ExportFailure, FailureKind, Health};

/// The most bytes of a response kept (the OTLP exporter's own limit).
const MAX_RESPONSE_BYTES: usize = 4 << 20;

/// A TCP connector with TLS on top (for `https://` destinations).
#[cfg(feature = "tls")]
type Tls<C> = hyper_rustls::HttpsConnector<C>;
#[cfg(not(feature = "tls"))]
type Tls<C> = C;

/// Straight to the destination, or through an HTTP proxy's `CONNECT` tunnel
/// (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`, as curl reads them).
enum Transport {
    Direct(Client<Tls<HttpConnector>, Full<Bytes>>),
    Tunneled(Client<Tls<Tunnel<HttpConnector>>, Full<Bytes>>),
}

pub(crate) struct ObservedClient {
    transport: Transport,
    /// The proxy the requests go through, if any (for messages).
    proxy: Option<http::Uri>,
    timeout: Duration,
    health: Arc<Health>,
}

impl std::fmt::Debug for ObservedClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObservedClient")
            .field("proxy", &self.proxy)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// `inner` with TLS for `https://` (the destination's rustls configuration).
#[cfg(feature = "tls")]
fn with_tls<C>(inner: C, tls: Option<rustls::ClientConfig>) -> Result<Tls<C>, super::BoxError> {
    let builder = hyper_rustls::HttpsConnectorBuilder::new();
    let builder = match tls {
        Some(config) => builder.with_tls_config(config).https_or_http(),
        // A plain http:// destination: any https:// URL is refused (no roots).
        None => builder
            .with_tls_config(
                rustls::ClientConfig::builder_with_provider(Arc::new(
                    rustls::crypto::ring::default_provider(),
                ))
                .with_safe_default_protocol_versions()?
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth(),
            )
            .https_or_http(),
    };
    Ok(builder.enable_http1().wrap_connector(inner))
}

impl ObservedClient {
    /// A client for the destination `endpoint`; `tls` is its rustls configuration for
    /// `https://`. The proxy variables are read now: a proxy is used for this destination
    /// when they say so.
    pub(crate) fn new(
        endpoint: &str,
        timeout: Duration,
        #[cfg(feature = "tls")] tls: Option<rustls::ClientConfig>,
        health: Arc<Health>,
    ) -> Result<Self, super::BoxError> {
        let mut http = HttpConnector::new();
        http.set_connect_timeout(Some(timeout.min(Duration::from_secs(10))));
        http.enforce_http(false);
        let destination: http::Uri = endpoint.parse()?;
        let intercept = Matcher::from_env().intercept(&destination);
        let builder = Client::builder(TokioExecutor::new());
        let (transport, proxy) = match intercept {
            None => {
                #[cfg(feature = "tls")]
                let connector = with_tls(http, tls)?;
                #[cfg(not(feature = "tls"))]
                let connector = http;
                (Transport::Direct(builder.build(connector)), None)
            }
            Some(intercept) => {
                let proxy = intercept.uri().clone();
                if proxy.scheme_str() != Some("http") {
                    return Err(format!(
                        "the proxy {proxy} (HTTPS_PROXY, HTTP_PROXY or ALL_PROXY) is not an \
                         http:// proxy: traced tunnels through HTTP proxies only; give its \
                         http:// address, or list {} in NO_PROXY",
                        destination.host().unwrap_or_default()
                    )
                    .into());
                }
                let mut tunnel = Tunnel::new(proxy.clone(), http);
                if let Some(auth) = intercept.basic_auth() {
                    tunnel = tunnel.with_auth(auth.clone());
                }
                #[cfg(feature = "tls")]
                let connector = with_tls(tunnel, tls)?;
                #[cfg(not(feature = "tls"))]
                let connector = tunnel;
                (Transport::Tunneled(builder.build(connector)), Some(proxy))
            }
        };
        Ok(Self {
            transport,
            proxy,
            timeout,
            health,
        })
    }
}

/// What a failed request (no response) was.
fn classify(error: &(dyn std::error::Error + 'static)) -> ExportFailure {
    // Repeated causes (hyper's errors quote their source) are left out by the failure's
    // own tidying.
    let text = crate::error_chain::render_chain(error);
    let mut kind = None;
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        #[cfg(feature = "tls")]
        if cause.downcast_ref::<rustls::Error>().is_some() {
            kind = Some(FailureKind::Tls);
            break;
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            #[cfg(feature = "tls")]
            if io
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some())
            {
                kind = Some(FailureKind::Tls);
                break;
            }
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::ConnectionReset => {
                    kind = Some(FailureKind::Refused);
                    break;
                }
                std::io::ErrorKind::TimedOut => {
                    kind = Some(FailureKind::Timeout);
                    break;
                }
                _ => {}
            }
        }
        source = cause.source();
    }
    let kind = kind.unwrap_or_else(|| ExportFailure::from_text(&text).kind);
    ExportFailure::new(kind, None, &text)
}

impl ObservedClient {
    async fn send(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let (parts, body) = request.into_parts();
        let request = Request::from_parts(parts, Full::new(body));
        let sent = match &self.transport {
            Transport::Direct(client) => client.request(request).await,
            Transport::Tunneled(client) => client.request(request).await,
        };
        let response = match sent {
            Ok(response) => response,
            Err(error) => {
                let mut failure = classify(&error);
                if let Some(proxy) = &self.proxy {
                    failure.reason = format!("{} (through the proxy {proxy})", failure.reason);
                }
                self.health.detail(failure);
                return Err(Box::new(error));
            }
        };
        let (parts, body) = response.into_parts();
        let body = match Limited::new(body, MAX_RESPONSE_BYTES).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(error) => {
                let failure = match error.downcast_ref::<hyper::Error>() {
                    Some(hyper) => classify(hyper),
                    None => ExportFailure::new(FailureKind::Other, None, &error.to_string()),
                };
                self.health.detail(failure);
                return Err(error);
            }
        };
        if !parts.status.is_success() {
            self.health
                .detail(ExportFailure::from_status(parts.status.as_u16(), &body));
        }
        Ok(Response::from_parts(parts, body))
    }
}

#[async_trait::async_trait]
impl HttpClient for ObservedClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        match tokio::time::timeout(self.timeout, self.send(request)).await {
            Ok(result) => result,
            Err(_) => {
                let text = format!("no answer within {:?}", self.timeout);
                self.health
                    .detail(ExportFailure::new(FailureKind::Timeout, None, &text));
                Err(text.into())
            }
        }
    }
}
