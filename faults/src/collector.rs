//! An in-process OTLP/HTTP (protobuf) collector on 127.0.0.1 whose behaviour is switched
//! at run time: up (200), down (the listener closed and every connection cut: connection
//! refused), slow (the spans are taken, the answer comes seconds later), error (500). It
//! counts the spans it takes by span id, so duplicates show.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;
use tokio::net::TcpListener;
use tokio::runtime::Runtime;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

/// How the collector behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Takes the spans, answers 200.
    Up,
    /// Not listening: connection refused.
    Down,
    /// Takes the spans, answers 200 after the slow delay.
    Slow,
    /// Takes nothing, answers 500.
    Error,
}

impl Mode {
    fn code(self) -> u8 {
        match self {
            Self::Up => 0,
            Self::Down => 1,
            Self::Slow => 2,
            Self::Error => 3,
        }
    }

    fn from_code(code: u8) -> Self {
        match code {
            1 => Self::Down,
            2 => Self::Slow,
            3 => Self::Error,
            _ => Self::Up,
        }
    }
}

/// One span id as taken by the collector.
#[derive(Clone, Copy, Debug, Default)]
pub struct Receipt {
    /// How many times it arrived.
    pub count: u32,
    /// The request id the application gave it (its captured `req_id`), if found.
    pub req_id: Option<u64>,
    /// How many of its arrivals were in a request answered only after the slow delay,
    /// past the exporter's timeout: the sender counted that send as failed (and sends
    /// the spans again, so a duplicate is expected, or drops them, counted).
    pub late: u32,
}

impl Receipt {
    /// Arrivals the sender saw succeed.
    pub fn on_time(&self) -> u32 {
        self.count - self.late
    }
}

#[derive(Debug, Default)]
struct Shared {
    mode: AtomicU8,
    slow: Duration,
    /// Whether a slow answer comes after the sender's timeout.
    slow_fails: bool,
    requests: AtomicU64,
    accepted_requests: AtomicU64,
    rejected_requests: AtomicU64,
    undecodable_requests: AtomicU64,
    span_arrivals: AtomicU64,
    book: Mutex<HashMap<[u8; 8], Receipt>>,
}

struct Server {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

/// What the collector saw.
#[derive(Clone, Debug, Default)]
pub struct Seen {
    pub requests: u64,
    pub accepted_requests: u64,
    pub rejected_requests: u64,
    pub undecodable_requests: u64,
    pub span_arrivals: u64,
    pub receipts: HashMap<[u8; 8], Receipt>,
}

impl Seen {
    /// Distinct span ids.
    pub fn unique(&self) -> u64 {
        self.receipts.len() as u64
    }

    /// Arrivals beyond the first, over all span ids.
    pub fn duplicates(&self) -> u64 {
        self.receipts
            .values()
            .map(|r| u64::from(r.count.saturating_sub(1)))
            .sum()
    }

    /// Span ids every arrival of which was late: the sender saw each of those sends
    /// fail, so they count as dropped (or still pending) although the collector has them.
    pub fn arrived_only_late(&self) -> u64 {
        self.receipts.values().filter(|r| r.on_time() == 0).count() as u64
    }

    /// Arrivals beyond one that the sender saw succeed: a span delivered twice without
    /// a failed send to explain it.
    pub fn unexplained_duplicates(&self) -> u64 {
        self.receipts
            .values()
            .map(|r| u64::from(r.on_time().saturating_sub(1)))
            .sum()
    }
}

/// The collector; [`Collector::stop`] (or drop) stops the server and its runtime.
pub struct Collector {
    pub addr: SocketAddr,
    runtime: Option<Runtime>,
    shared: Arc<Shared>,
    server: Option<Server>,
}

fn span_request_id(span: &opentelemetry_proto::tonic::trace::v1::Span) -> Option<u64> {
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    let input = span.attributes.iter().find(|kv| kv.key == "input.value")?;
    let Some(Value::StringValue(text)) = input.value.as_ref()?.value.as_ref() else {
        return None;
    };
    let json: serde_json::Value = serde_json::from_str(text).ok()?;
    json.get("req_id")?.as_u64()
}

impl Shared {
    fn record(&self, request: &ExportTraceServiceRequest, late: bool) {
        let mut taken = Vec::new();
        for resource_spans in &request.resource_spans {
            for scope_spans in &resource_spans.scope_spans {
                for span in &scope_spans.spans {
                    let mut id = [0u8; 8];
                    if span.span_id.len() == 8 {
                        id.copy_from_slice(&span.span_id);
                    }
                    taken.push((id, span_request_id(span)));
                }
            }
        }
        self.span_arrivals
            .fetch_add(taken.len() as u64, Ordering::Relaxed);
        if let Ok(mut book) = self.book.lock() {
            for (id, req_id) in taken {
                let receipt = book.entry(id).or_default();
                receipt.count += 1;
                receipt.req_id = receipt.req_id.or(req_id);
                receipt.late += u32::from(late);
            }
        }
    }

    async fn handle(self: Arc<Self>, body: Bytes) -> (http::StatusCode, Vec<u8>) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let mode = Mode::from_code(self.mode.load(Ordering::Relaxed));
        if mode == Mode::Error {
            self.rejected_requests.fetch_add(1, Ordering::Relaxed);
            return (http::StatusCode::INTERNAL_SERVER_ERROR, Vec::new());
        }
        let Ok(request) = ExportTraceServiceRequest::decode(body) else {
            self.undecodable_requests.fetch_add(1, Ordering::Relaxed);
            return (http::StatusCode::BAD_REQUEST, Vec::new());
        };
        // Taken on arrival: a slow collector has the spans even if its answer comes
        // after the sender gave up.
        self.record(&request, mode == Mode::Slow && self.slow_fails);
        self.accepted_requests.fetch_add(1, Ordering::Relaxed);
        if mode == Mode::Slow {
            tokio::time::sleep(self.slow).await;
        }
        let answer = ExportTraceServiceResponse {
            partial_success: None,
        };
        (http::StatusCode::OK, answer.encode_to_vec())
    }
}

/// Accepts connections until told to stop; then closes the listener and cuts every
/// connection (requests in flight included), as a crashed collector would.
async fn serve(listener: TcpListener, router: axum::Router, mut stop: oneshot::Receiver<()>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let service = TowerToHyperService::new(router.clone());
                    connections.spawn(async move {
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    connections.shutdown().await;
}

impl Collector {
    /// A collector for `addr` (`127.0.0.1:0`: any free port), started up; when slow it
    /// answers after `slow`, and the sender gives up after `sender_timeout`.
    pub fn start(
        addr: SocketAddr,
        slow: Duration,
        sender_timeout: Duration,
    ) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("collector")
            .enable_all()
            .build()?;
        let shared = Arc::new(Shared {
            slow,
            slow_fails: slow >= sender_timeout,
            ..Shared::default()
        });
        let mut collector = Self {
            addr,
            runtime: Some(runtime),
            shared,
            server: None,
        };
        collector.listen()?;
        Ok(collector)
    }

    fn listen(&mut self) -> std::io::Result<()> {
        if self.server.is_some() {
            return Ok(());
        }
        let Some(runtime) = &self.runtime else {
            return Err(std::io::Error::other("collector stopped"));
        };
        // The port was ours a moment ago; binding again may need a few tries (bounded).
        let mut attempt = 0;
        let listener = loop {
            match runtime.block_on(TcpListener::bind(self.addr)) {
                Ok(listener) => break listener,
                Err(error) if attempt >= 100 => return Err(error),
                Err(_) => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        };
        self.addr = listener.local_addr()?;
        let shared = self.shared.clone();
        let handler = axum::routing::post(move |body: Bytes| shared.clone().handle(body));
        let router = axum::Router::new().route("/v1/traces", handler);
        let (stop, stopped) = oneshot::channel();
        let task = runtime.spawn(serve(listener, router, stopped));
        self.server = Some(Server { stop, task });
        Ok(())
    }

    fn close(&mut self) {
        let (Some(runtime), Some(server)) = (&self.runtime, self.server.take()) else {
            return;
        };
        let _ = server.stop.send(());
        let task = server.task;
        runtime.block_on(async move {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        });
    }

    /// Switches the behaviour; `Down` closes the listener, any other mode opens it again
    /// on the same port.
    pub fn set(&mut self, mode: Mode) -> std::io::Result<()> {
        self.shared.mode.store(mode.code(), Ordering::Relaxed);
        if mode == Mode::Down {
            self.close();
            Ok(())
        } else {
            self.listen()
        }
    }

    /// The full traces URL.
    pub fn url(&self) -> String {
        format!("http://{}/v1/traces", self.addr)
    }

    /// What the collector has taken so far.
    pub fn seen(&self) -> Seen {
        let s = &self.shared;
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Seen {
            requests: get(&s.requests),
            accepted_requests: get(&s.accepted_requests),
            rejected_requests: get(&s.rejected_requests),
            undecodable_requests: get(&s.undecodable_requests),
            span_arrivals: get(&s.span_arrivals),
            receipts: s.book.lock().map(|b| b.clone()).unwrap_or_default(),
        }
    }

    /// Distinct span ids taken so far (cheaper than [`Collector::seen`]).
    pub fn unique(&self) -> u64 {
        self.shared.book.lock().map(|b| b.len() as u64).unwrap_or(0)
    }

    /// Stops the server and the collector's runtime.
    pub fn stop(&mut self) {
        self.close();
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(2));
        }
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A loopback address nothing listens on (a port bound and released).
pub fn unused_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 1)))
}
