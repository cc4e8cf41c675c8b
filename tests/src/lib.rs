//! Helpers for the integration tests: one in-memory exporter per test binary, installed
//! as the global tracer provider, and a way to get the spans of one test's trace even
//! though tests run in parallel.

use std::future::Future;
use std::sync::OnceLock;

use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{Span as _, SpanId, TraceContextExt, TraceId, Tracer as _};
use opentelemetry::{global, Context, Value};
use opentelemetry_sdk::trace::{InMemorySpanExporter, Sampler, SdkTracerProvider, SpanData};

pub use opentelemetry_sdk::trace::SpanData as Span;

pub mod proxy;
pub mod receiver;
pub mod tls;

static EXPORTER: OnceLock<InMemorySpanExporter> = OnceLock::new();

/// The exporter behind the global provider (sampling everything), installed on first use.
pub fn exporter() -> &'static InMemorySpanExporter {
    install(Sampler::AlwaysOn)
}

/// Installs the global provider with `sampler` (once per test binary).
pub fn install(sampler: Sampler) -> &'static InMemorySpanExporter {
    EXPORTER.get_or_init(|| {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_sampler(sampler)
            .with_simple_exporter(exporter.clone())
            .build();
        global::set_tracer_provider(provider);
        exporter
    })
}

/// Every finished span so far.
pub fn finished_spans() -> Vec<SpanData> {
    exporter().get_finished_spans().unwrap_or_default()
}

/// The finished spans of one trace.
pub fn trace(trace_id: TraceId) -> Trace {
    Trace {
        spans: finished_spans()
            .into_iter()
            .filter(|span| span.span_context.trace_id() == trace_id)
            .collect(),
    }
}

/// The finished spans named `name`, in every trace.
pub fn spans_named(name: &str) -> Vec<SpanData> {
    finished_spans()
        .into_iter()
        .filter(|span| span.name == name)
        .collect()
}

/// Runs `body` under a fresh root span `harness`, then returns what it returned and the
/// spans of that trace.
pub fn in_trace<R>(body: impl FnOnce() -> R) -> (R, Trace) {
    let (cx, trace_id) = harness_root();
    let result = {
        let _attached = cx.clone().attach();
        body()
    };
    cx.span().end();
    (result, trace(trace_id))
}

/// [`in_trace`] for a future: it is polled with the harness span current.
pub async fn in_trace_async<F: Future>(future: F) -> (F::Output, Trace) {
    let (cx, trace_id) = harness_root();
    let result = future.with_context(cx.clone()).await;
    cx.span().end();
    (result, trace(trace_id))
}

fn harness_root() -> (Context, TraceId) {
    exporter();
    let tracer = global::tracer("harness");
    let span = tracer.start_with_context("harness", &Context::new());
    let trace_id = span.span_context().trace_id();
    (Context::new().with_span(span), trace_id)
}

/// The spans of one trace.
#[derive(Debug)]
pub struct Trace {
    pub spans: Vec<SpanData>,
}

impl Trace {
    /// The one span named `name` (panics, with the names present, if not exactly one).
    pub fn span(&self, name: &str) -> &SpanData {
        let found: Vec<&SpanData> = self.spans.iter().filter(|s| s.name == name).collect();
        assert_eq!(
            found.len(),
            1,
            "expected one span `{name}` in {:?}",
            self.names()
        );
        found[0]
    }

    /// Every span named `name`.
    pub fn all(&self, name: &str) -> Vec<&SpanData> {
        self.spans.iter().filter(|s| s.name == name).collect()
    }

    pub fn names(&self) -> Vec<String> {
        self.spans.iter().map(|s| s.name.to_string()).collect()
    }

    /// The span whose id is `id`.
    pub fn by_id(&self, id: SpanId) -> Option<&SpanData> {
        self.spans.iter().find(|s| s.span_context.span_id() == id)
    }

    /// The name of the parent of the span named `name`.
    pub fn parent_name(&self, name: &str) -> Option<String> {
        let child = self.span(name);
        self.by_id(child.parent_span_id).map(|p| p.name.to_string())
    }

    /// The names of the children of `parent`, sorted.
    pub fn children(&self, parent: &SpanData) -> Vec<String> {
        let mut names: Vec<String> = self
            .spans
            .iter()
            .filter(|s| s.parent_span_id == parent.span_context.span_id())
            .map(|s| s.name.to_string())
            .collect();
        names.sort();
        names
    }
}

/// The value of attribute `key` of `span`.
pub fn attr<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

/// The text of attribute `key` (any value, as its string form).
pub fn attr_str(span: &SpanData, key: &str) -> Option<String> {
    attr(span, key).map(|v| v.as_str().into_owned())
}

/// `input.value` of `span`, parsed.
pub fn input_json(span: &SpanData) -> serde_json::Value {
    let text =
        attr_str(span, "input.value").unwrap_or_else(|| panic!("no input.value on {}", span.name));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("input.value is not JSON: {e}: {text}"))
}

/// How many attributes named `key` the span has (each must be there once at most).
pub fn attr_count(span: &SpanData, key: &str) -> usize {
    span.attributes
        .iter()
        .filter(|kv| kv.key.as_str() == key)
        .count()
}

/// The finished spans of the trace that is current now (inside [`in_trace`] or
/// [`in_trace_async`]), to look at spans before the harness ends.
pub fn current_trace() -> Trace {
    let trace_id = Context::map_current(|cx| cx.span().span_context().trace_id());
    trace(trace_id)
}

/// Request headers from `(name, value)` pairs, appended in order (a name twice makes two
/// header lines; names in any casing, as clients send them).
pub fn headers(pairs: &[(&str, &str)]) -> http::HeaderMap {
    let mut map = http::HeaderMap::new();
    for (name, value) in pairs {
        let name = http::HeaderName::from_bytes(name.as_bytes()).expect("valid name");
        map.append(
            name,
            http::HeaderValue::from_str(value).expect("valid value"),
        );
    }
    map
}

/// Serves `app` on a free port of 127.0.0.1 until the sender is dropped.
pub async fn serve(app: axum::Router) -> (std::net::SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await;
    });
    (addr, stop)
}

/// A span's events as (level, name): the log records recorded on it, in order.
pub fn event_levels(span: &SpanData) -> Vec<(String, String)> {
    span.events
        .iter()
        .map(|e| {
            let level = e
                .attributes
                .iter()
                .find(|kv| kv.key.as_str() == "level")
                .map(|kv| kv.value.to_string())
                .unwrap_or_default();
            (level, e.name.to_string())
        })
        .collect()
}
