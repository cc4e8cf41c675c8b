//! The OTLP/HTTP client: reqwest (with our TLS), which tells the destination's
//! [`Health`] what exactly went wrong. opentelemetry-otlp's own error for a failed request
//! says only "network error" or "status code: 401": the TLS alert, the refused
//! connection and the backend's message ("invalid API key") are lost before they reach
//! us, and those are what a user needs to fix the configuration.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use opentelemetry_http::{HttpClient, HttpError, Request, Response};

use super::health::{ExportFailure, FailureKind, Health};

/// The most bytes of a response kept (the OTLP exporter's own limit).
const MAX_RESPONSE_BYTES: usize = 4 << 20;

#[derive(Debug)]
pub(crate) struct ObservedClient {
    client: reqwest::Client,
    health: Arc<Health>,
}

impl ObservedClient {
    /// A client for one destination; `tls` is the rustls configuration for `https://`.
    pub(crate) fn new(
        timeout: Duration,
        #[cfg(feature = "tls")] tls: Option<rustls::ClientConfig>,
        health: Arc<Health>,
    ) -> Result<Self, String> {
        let builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)));
        #[cfg(feature = "tls")]
        let builder = match tls {
            Some(config) => builder.tls_backend_preconfigured(config),
            None => builder,
        };
        let client = builder
            .build()
            .map_err(|e| format!("the HTTP client: {}", chain(&e)))?;
        Ok(Self { client, health })
    }
}

/// An error with its sources, as one line.
pub(crate) fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

/// What a failed request (no response) was.
fn classify(error: &reqwest::Error) -> ExportFailure {
    let text = chain(error);
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
    let kind = kind.unwrap_or_else(|| {
        if error.is_timeout() {
            FailureKind::Timeout
        } else {
            ExportFailure::from_text(&text).kind
        }
    });
    ExportFailure::new(kind, None, &text)
}

#[async_trait::async_trait]
impl HttpClient for ObservedClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let request = reqwest::Request::try_from(request)?;
        let mut response = match self.client.execute(request).await {
            Ok(response) => response,
            Err(error) => {
                self.health.detail(classify(&error));
                return Err(Box::new(error));
            }
        };
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    body.extend_from_slice(&chunk);
                    if body.len() >= MAX_RESPONSE_BYTES {
                        body.truncate(MAX_RESPONSE_BYTES);
                        break;
                    }
                }
                Ok(None) => break,
                Err(error) => {
                    self.health.detail(classify(&error));
                    return Err(Box::new(error));
                }
            }
        }
        if !status.is_success() {
            self.health
                .detail(ExportFailure::from_status(status.as_u16(), &body));
        }
        let mut out = Response::new(Bytes::from(body));
        *out.status_mut() = status;
        *out.headers_mut() = headers;
        Ok(out)
    }
}
