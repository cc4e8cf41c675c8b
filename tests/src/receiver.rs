//! In-process OTLP receivers (gRPC and HTTP/protobuf) on 127.0.0.1, recording the spans
//! they are sent, to test exports over the real wire.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// One span as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: String,
    pub name: String,
    pub service: String,
    /// Attribute values as text, by key.
    pub attributes: Vec<(String, String)>,
}

/// What a receiver saw.
#[derive(Clone, Debug, Default)]
pub struct Inbox {
    inner: Arc<Mutex<InboxInner>>,
}

#[derive(Debug, Default)]
struct InboxInner {
    spans: Vec<Received>,
    requests: usize,
    headers: Vec<Vec<(String, String)>>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn text(value: &Option<opentelemetry_proto::tonic::common::v1::AnyValue>) -> String {
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    match value.as_ref().and_then(|v| v.value.as_ref()) {
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::DoubleValue(d)) => d.to_string(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

impl Inbox {
    fn record(&self, request: &ExportTraceServiceRequest, headers: Vec<(String, String)>) {
        let mut spans = Vec::new();
        for resource_spans in &request.resource_spans {
            let service = resource_spans
                .resource
                .as_ref()
                .and_then(|r| r.attributes.iter().find(|kv| kv.key == "service.name"))
                .map(|kv| text(&kv.value))
                .unwrap_or_default();
            for scope_spans in &resource_spans.scope_spans {
                for span in &scope_spans.spans {
                    spans.push(Received {
                        trace_id: hex(&span.trace_id),
                        span_id: hex(&span.span_id),
                        parent_span_id: hex(&span.parent_span_id),
                        name: span.name.clone(),
                        service: service.clone(),
                        attributes: span
                            .attributes
                            .iter()
                            .map(|kv| (kv.key.clone(), text(&kv.value)))
                            .collect(),
                    });
                }
            }
        }
        if let Ok(mut inner) = self.inner.lock() {
            inner.spans.extend(spans);
            inner.requests += 1;
            inner.headers.push(headers);
        }
    }

    /// A request answered without reading its spans (a refusing receiver).
    fn note_request(&self, headers: Vec<(String, String)>) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.requests += 1;
            inner.headers.push(headers);
        }
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<Received> {
        self.inner
            .lock()
            .map(|i| i.spans.clone())
            .unwrap_or_default()
    }

    /// How many export requests arrived.
    pub fn requests(&self) -> usize {
        self.inner.lock().map(|i| i.requests).unwrap_or(0)
    }

    /// The headers (or gRPC metadata) of every request.
    pub fn headers(&self) -> Vec<Vec<(String, String)>> {
        self.inner
            .lock()
            .map(|i| i.headers.clone())
            .unwrap_or_default()
    }
}

#[derive(Clone)]
struct GrpcService(Inbox);

#[tonic::async_trait]
impl TraceService for GrpcService {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let headers = request
            .metadata()
            .iter()
            .filter_map(|kv| match kv {
                tonic::metadata::KeyAndValueRef::Ascii(k, v) => {
                    Some((k.to_string(), v.to_str().unwrap_or_default().to_owned()))
                }
                _ => None,
            })
            .collect();
        self.0.record(request.get_ref(), headers);
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

/// A running receiver; dropping it stops the server.
pub struct Receiver {
    pub addr: SocketAddr,
    pub inbox: Inbox,
    _stop: oneshot::Sender<()>,
}

impl Receiver {
    /// A receiver serving on `addr` until dropped (`stop` is sent then).
    pub fn new(addr: SocketAddr, inbox: Inbox, stop: oneshot::Sender<()>) -> Self {
        Self {
            addr,
            inbox,
            _stop: stop,
        }
    }

    /// Waits until at least `n` spans arrived, or `limit` passed (bounded polling).
    pub async fn wait_for(&self, n: usize, limit: std::time::Duration) {
        let deadline = std::time::Instant::now() + limit;
        while self.inbox.spans().len() < n && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

/// Starts an OTLP/gRPC receiver on `addr` (`127.0.0.1:0` for any free port).
pub async fn grpc(addr: SocketAddr) -> std::io::Result<Receiver> {
    grpc_with(addr, None).await
}

/// Starts an OTLP/gRPC receiver on `addr`, behind TLS when `tls` is given.
pub async fn grpc_with(
    addr: SocketAddr,
    tls: Option<tonic::transport::ServerTlsConfig>,
) -> std::io::Result<Receiver> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let inbox = Inbox::default();
    let (stop, stopped) = oneshot::channel::<()>();
    let service = TraceServiceServer::new(GrpcService(inbox.clone()));
    let mut builder = tonic::transport::Server::builder();
    if let Some(tls) = tls {
        builder = builder
            .tls_config(tls)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
    }
    tokio::spawn(async move {
        let _ = builder
            .add_service(service)
            .serve_with_incoming_shutdown(tokio_stream_from(listener), async move {
                let _ = stopped.await;
            })
            .await;
    });
    Ok(Receiver {
        addr,
        inbox,
        _stop: stop,
    })
}

fn tokio_stream_from(
    listener: TcpListener,
) -> impl futures_core_stream::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    futures_core_stream::unfold(listener, |listener| async move {
        let accepted = listener.accept().await.map(|(stream, _)| stream);
        Some((accepted, listener))
    })
}

mod futures_core_stream {
    pub use futures::stream::{unfold, Stream};
}

/// Starts an OTLP/HTTP (protobuf) receiver on `addr`, on `/v1/traces` and on Langfuse's
/// `/api/public/otel/v1/traces`.
pub async fn http(addr: SocketAddr) -> std::io::Result<Receiver> {
    let inbox = Inbox::default();
    serve(addr, otlp_router(inbox.clone()), inbox).await
}

/// Serves `router` on `addr` until the receiver is dropped.
async fn serve(addr: SocketAddr, router: axum::Router, inbox: Inbox) -> std::io::Result<Receiver> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await;
    });
    Ok(Receiver {
        addr,
        inbox,
        _stop: stop,
    })
}

/// Starts a plain HTTP receiver that answers every request with `status` and `body`
/// (a backend refusing a key, say), counting the requests.
pub async fn http_answering(
    addr: SocketAddr,
    status: http::StatusCode,
    body: &'static str,
) -> std::io::Result<Receiver> {
    let inbox = Inbox::default();
    let recorder = inbox.clone();
    let router = axum::Router::new().fallback(move |headers: http::HeaderMap| {
        let recorder = recorder.clone();
        async move {
            recorder.note_request(
                headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_owned()))
                    .collect(),
            );
            (status, body)
        }
    });
    serve(addr, router, inbox).await
}

/// The OTLP/HTTP routes: the standard path, Langfuse's and LangSmith's.
pub fn otlp_router(inbox: Inbox) -> axum::Router {
    let recorder = inbox;
    let handler = axum::routing::post(move |headers: http::HeaderMap, body: axum::body::Bytes| {
        let recorder = recorder.clone();
        async move {
            let gzip = headers
                .get(http::header::CONTENT_ENCODING)
                .is_some_and(|v| v.as_bytes() == b"gzip");
            let body = if gzip {
                let mut plain = Vec::new();
                let mut decoder = flate2::read::GzDecoder::new(&body[..]);
                if std::io::Read::read_to_end(&mut decoder, &mut plain).is_err() {
                    return (http::StatusCode::BAD_REQUEST, Vec::new());
                }
                axum::body::Bytes::from(plain)
            } else {
                body
            };
            match ExportTraceServiceRequest::decode(body) {
                Ok(request) => {
                    let headers = headers
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_owned()))
                        .collect();
                    recorder.record(&request, headers);
                    (
                        http::StatusCode::OK,
                        ExportTraceServiceResponse {
                            partial_success: None,
                        }
                        .encode_to_vec(),
                    )
                }
                Err(_) => (http::StatusCode::BAD_REQUEST, Vec::new()),
            }
        }
    });
    axum::Router::new()
        .route("/v1/traces", handler.clone())
        .route("/api/public/otel/v1/traces", handler.clone())
        .route("/otel/v1/traces", handler)
}

/// A loopback address nothing listens on (a port bound and released).
pub fn unused_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 1)))
}

/// A listener that accepts connections and never answers (a collector that hangs), until
/// dropped.
pub async fn silent(addr: SocketAddr) -> std::io::Result<Receiver> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (stop, mut stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    if let Ok((stream, _)) = accepted {
                        held.push(stream);
                    }
                }
                _ = &mut stopped => return,
            }
        }
    });
    Ok(Receiver {
        addr,
        inbox: Inbox::default(),
        _stop: stop,
    })
}
