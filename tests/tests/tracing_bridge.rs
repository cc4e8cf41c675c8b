//! One tree with the `tracing` ecosystem, with the crates a service really has: an axum
//! router with tower-http's `TraceLayer` and traced's, tracing-subscriber's `fmt` layer
//! beside `traced::tracing::layer()`, a `#[traced(extract)]` handler calling an
//! `#[instrument]` function that logs and calls a traced function, under `join!` and in
//! spawned tasks.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};

use axum::routing::post;
use axum::Router;
use http::HeaderMap;
use opentelemetry::trace::{SpanKind, TraceId};
use opentelemetry_sdk::trace::SpanData;
use traced::traced;
use traced_tests::{attr_str, event_levels, Trace};
use tracing::{instrument, Instrument as _};
use tracing_subscriber::layer::SubscriberExt as _;

/// What the fmt layer wrote.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut logs) = self.0.lock() {
            logs.extend_from_slice(bytes);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn text(&self) -> String {
        self.0
            .lock()
            .map(|l| String::from_utf8_lossy(&l).into_owned())
            .unwrap_or_default()
    }
}

/// The subscriber a service has (fmt), with traced's layer added: installed once.
fn logs() -> Logs {
    static LOGS: OnceLock<Logs> = OnceLock::new();
    traced_tests::exporter();
    LOGS.get_or_init(|| {
        let logs = Logs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .with_writer(move || writer.clone()),
            )
            .with(traced::tracing::layer());
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
        logs
    })
    .clone()
}

#[traced(extract)]
async fn handler(headers: HeaderMap, body: String) -> String {
    let (a, b) = tokio::join!(step(&body, 1), step(&body, 2));
    let spawned = traced::spawn(owned_step(body.clone(), 3))
        .await
        .unwrap_or_default();
    // A plain tokio task carrying a tracing span (tracing's `Instrument`).
    let task = tokio::spawn(owned_step(body.clone(), 4).instrument(tracing::info_span!("task")))
        .await
        .unwrap_or_default();
    format!("{a}{b}{spawned}{task}")
}

#[instrument(fields(api_key = "sk-live-123", part))]
async fn step(body: &str, part: u32) -> String {
    tracing::Span::current().record("part", part);
    tracing::info!(count = part, "starting");
    tracing::warn!(password = "hunter2", part, "careful");
    leaf(body, part).await
}

async fn owned_step(body: String, part: u32) -> String {
    step(&body, part).await
}

#[traced]
async fn leaf(body: &str, part: u32) -> String {
    tracing::error!(part, "leaf failed softly");
    tracing::debug!("not recorded: below INFO");
    format!("{body}{part}")
}

async fn serve() -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let app = Router::new()
        .route("/run", post(handler))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .layer(traced::axum::TraceLayer::new());
    traced_tests::serve(app).await
}

fn event_attr(span: &SpanData, event: &str, key: &str) -> Option<String> {
    span.events
        .iter()
        .find(|e| e.name == event)?
        .attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_axum_service_using_tracing_makes_one_trace() {
    let logs = logs();
    let (addr, _stop) = serve().await;
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/run"))
        .header(
            "traceparent",
            "00-7bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .body("x")
        .send()
        .await
        .expect("request");
    assert_eq!(response.text().await.expect("body"), "x1x2x3x4");

    let trace_id = TraceId::from_hex("7bf92f3577b34da6a3ce929d0e0e4736").expect("hex");
    let trace = wait_for(trace_id, 12).await;
    // Our server span, then tower-http's request span, then the handler: one chain.
    let server = trace.span("POST /run");
    assert_eq!(server.span_kind, SpanKind::Server);
    assert_eq!(
        format!("{:016x}", server.parent_span_id),
        "00f067aa0ba902b7"
    );
    assert_eq!(trace.parent_name("request").as_deref(), Some("POST /run"));
    assert_eq!(trace.parent_name("handler").as_deref(), Some("request"));
    // Every instrumented step is the handler's child (under join! and in a task spawned
    // with traced::spawn), or the child of the `task` span tokio::spawn carried; each leaf
    // the child of its step.
    assert_eq!(trace.parent_name("task").as_deref(), Some("handler"));
    let steps = trace.all("step");
    assert_eq!(steps.len(), 4, "{:?}", trace.names());
    for step in &steps {
        let parent = trace.by_id(step.parent_span_id).map(|p| p.name.to_string());
        assert!(
            matches!(parent.as_deref(), Some("handler" | "task")),
            "{parent:?}"
        );
        assert_eq!(
            attr_str(step, "api_key").as_deref(),
            Some("[REDACTED]"),
            "a secret field is masked"
        );
        assert_eq!(
            event_levels(step),
            [
                ("INFO".to_owned(), "starting".to_owned()),
                ("WARN".to_owned(), "careful".to_owned())
            ]
        );
        assert_eq!(
            event_attr(step, "careful", "password").as_deref(),
            Some("[REDACTED]")
        );
        assert_eq!(
            event_attr(step, "careful", "target").as_deref(),
            Some("tracing_bridge")
        );
        assert!(event_attr(step, "starting", "code.line.number").is_some());
        let part = attr_str(step, "part").expect("recorded later with Span::record");
        let leaf = trace
            .all("leaf")
            .into_iter()
            .find(|l| l.parent_span_id == step.span_context.span_id())
            .expect("a leaf under each step");
        assert!(
            attr_str(leaf, "input.value").is_some_and(|v| v.contains(&format!("\"part\":{part}")))
        );
        // An ERROR event sets Langfuse's level, not the status.
        assert_eq!(
            event_levels(leaf),
            [("ERROR".to_owned(), "leaf failed softly".to_owned())]
        );
        assert_eq!(
            attr_str(leaf, "langfuse.observation.level").as_deref(),
            Some("ERROR")
        );
        assert_eq!(leaf.status, opentelemetry::trace::Status::Unset);
    }
    // The service's own fmt logs are as before.
    let text = logs.text();
    assert!(
        text.contains("starting") && text.contains("careful"),
        "{text}"
    );
}

#[test]
fn a_traced_call_inside_a_tracing_span_is_its_child() {
    let _logs = logs();
    #[traced]
    fn inside() -> u8 {
        tracing::info!("inside");
        1
    }
    let (value, trace) = traced_tests::in_trace(|| {
        let span = tracing::info_span!("outer", otel.name = "renamed", otel.kind = "client");
        let _entered = span.enter();
        inside()
    });
    assert_eq!(value, 1);
    let outer = trace.span("renamed");
    assert_eq!(outer.span_kind, SpanKind::Client);
    assert_eq!(trace.parent_name("inside").as_deref(), Some("renamed"));
    assert_eq!(
        event_levels(trace.span("inside")),
        [("INFO".to_owned(), "inside".to_owned())]
    );
}

#[test]
fn events_outside_any_traced_span_are_left_to_the_other_layers() {
    let logs = logs();
    tracing::warn!("nobody's child");
    assert!(logs.text().contains("nobody's child"));
}

/// The spans of `trace_id`, once at least `n` have ended (bounded wait).
async fn wait_for(trace_id: TraceId, n: usize) -> Trace {
    for _ in 0..100 {
        let trace = traced_tests::trace(trace_id);
        if trace.names().len() >= n {
            return trace;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    traced_tests::trace(trace_id)
}
