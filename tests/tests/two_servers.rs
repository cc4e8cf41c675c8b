//! Two real axum servers on 127.0.0.1: server A's `node A` calls server B, and B's work
//! must be `node A-1`, a child of `node A` in the same trace, across the wire.

use std::net::SocketAddr;

use axum::routing::post;
use axum::Router;
use http::HeaderMap;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use traced::reqwest::RequestBuilderExt;
use traced::{traced, TraceAttributes};
use traced_tests::{attr, attr_str, in_trace_async, spans_named, Span};

// ---- server B ----------------------------------------------------------------------

#[traced(name = "node A-1", extract)]
async fn process(headers: HeaderMap, body: String) -> String {
    let _ = &headers;
    sub_task(&body).await
}

#[traced(name = "node A-1 sub-task")]
async fn sub_task(text: &str) -> String {
    tokio::task::yield_now().await;
    text.to_uppercase()
}

#[traced(name = "layered work")]
async fn layered(body: String) -> String {
    body.chars().rev().collect()
}

/// A running server; dropping the handle shuts it down.
struct Server {
    addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

async fn serve(router: Router) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await;
    });
    Server { addr, _stop: stop }
}

async fn server_b() -> Server {
    let layered_routes = Router::new()
        .route("/layered", post(layered))
        .route_layer(traced::axum::TraceLayer::new());
    let public_routes = Router::new()
        .route("/public", post(layered))
        .route_layer(traced::axum::TraceLayer::new().untrusted());
    serve(
        Router::new()
            .route("/process", post(process))
            .merge(layered_routes)
            .merge(public_routes),
    )
    .await
}

// ---- server A's flow ----------------------------------------------------------------

#[traced(name = "node A")]
async fn node_a(client: &reqwest::Client, b: SocketAddr, input: &str) -> String {
    let response = client
        .post(format!("http://{b}/process"))
        .inject_context()
        .body(input.to_owned())
        .send()
        .await
        .expect("server B answers");
    assert!(response.status().is_success());
    response.text().await.expect("body")
}

#[traced(name = "node B")]
async fn node_b(previous: String) -> usize {
    previous.len()
}

#[traced(name = "flow")]
async fn flow(client: &reqwest::Client, b: SocketAddr, input: &str) -> usize {
    let a = node_a(client, b, input).await;
    node_b(a).await
}

fn hex_trace(span: &Span) -> String {
    format!("{:032x}", span.span_context.trace_id())
}

fn b_spans_of(name: &str, trace_id: &str) -> Vec<Span> {
    spans_named(name)
        .into_iter()
        .filter(|s| hex_trace(s) == trace_id)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_b_work_is_a_child_of_node_a_across_the_wire() {
    let b = server_b().await;
    let client = reqwest::Client::new();
    let (len, trace) = in_trace_async(async { flow(&client, b.addr, "hello").await }).await;
    assert_eq!(len, 5);
    let trace_id = hex_trace(trace.span("harness"));
    let node_a = trace.span("node A");
    let a1 = trace.span("node A-1");
    assert_eq!(
        a1.parent_span_id,
        node_a.span_context.span_id(),
        "node A-1 under node A"
    );
    assert!(a1.parent_span_is_remote);
    assert_eq!(
        trace.parent_name("node A-1 sub-task").as_deref(),
        Some("node A-1")
    );
    assert_eq!(trace.parent_name("node B").as_deref(), Some("flow"));
    assert_eq!(b_spans_of("node A-1", &trace_id).len(), 1);
    assert_eq!(
        attr_str(a1, "input.value").as_deref(),
        Some(r#"{"body":"hello"}"#)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simple_header_pair_works_alone() {
    traced_tests::exporter();
    let b = server_b().await;
    let response = reqwest::Client::new()
        .post(format!("http://{}/process", b.addr))
        // A UUID in upper case, as some callers send it: normalised to 32 lowercase hex.
        .header("X-Trace-ID", "5B8EFFF7-9803-8103-D269-B633813FC60C")
        .header("X-Parent-Span-ID", "EEE19B7EC3C1B174")
        .body("simple")
        .send()
        .await
        .expect("server B answers");
    assert_eq!(response.status(), 200);
    let span = b_spans_of("node A-1", "5b8efff798038103d269b633813fc60c");
    assert_eq!(span.len(), 1, "continued the trace named by X-Trace-ID");
    assert_eq!(
        format!("{:016x}", span[0].parent_span_id),
        "eee19b7ec3c1b174"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_and_garbage_headers_start_a_new_trace_and_still_answer_200() {
    traced_tests::exporter();
    let b = server_b().await;
    let client = reqwest::Client::new();
    for (marker, garbage) in [
        ("missing-1", None),
        ("garbage-1", Some("00-not-a-trace-01")),
    ] {
        let mut request = client
            .post(format!("http://{}/process", b.addr))
            .body(marker);
        if let Some(garbage) = garbage {
            request = request
                .header("traceparent", garbage)
                .header("x-trace-id", "zzz");
        }
        let response = request.send().await.expect("server B answers");
        assert_eq!(response.status(), 200, "{marker}");
        assert_eq!(
            response.text().await.ok().as_deref(),
            Some(marker.to_uppercase().as_str())
        );
        let span = spans_named("node A-1")
            .into_iter()
            .find(|s| attr_str(s, "input.value").is_some_and(|v| v.contains(marker)))
            .expect("span recorded");
        assert_eq!(
            span.parent_span_id,
            opentelemetry::trace::SpanId::INVALID,
            "{marker}: new trace"
        );
        assert_eq!(
            attr(&span, "traced.propagation.problem").is_some(),
            garbage.is_some(),
            "{marker}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_and_session_travel_in_baggage_to_server_b() {
    let b = server_b().await;
    let client = reqwest::Client::new();
    let (_, trace) = in_trace_async(async {
        TraceAttributes::new()
            .user_id("ada")
            .session_id("chat-42")
            .scope(flow(&client, b.addr, "baggage"))
            .await
    })
    .await;
    for name in ["node A", "node A-1", "node A-1 sub-task"] {
        let span = trace.span(name);
        assert_eq!(attr_str(span, "user.id").as_deref(), Some("ada"), "{name}");
        assert_eq!(
            attr_str(span, "session.id").as_deref(),
            Some("chat-42"),
            "{name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_never_cross_traces() {
    let b = server_b().await;
    let client = reqwest::Client::new();
    let flows: Vec<_> = (0..16)
        .map(|i| {
            let client = client.clone();
            let addr = b.addr;
            tokio::spawn(async move {
                in_trace_async(async move { flow(&client, addr, &format!("req-{i}")).await }).await
            })
        })
        .collect();
    for task in flows {
        let (_, trace) = task.await.expect("flow ran");
        let node_a = trace.span("node A");
        let a1 = trace.span("node A-1");
        assert_eq!(a1.parent_span_id, node_a.span_context.span_id());
        assert_eq!(trace.all("node A-1 sub-task").len(), 1);
    }
}

#[traced(name = "node A (layered)")]
async fn call_layered(client: &reqwest::Client, b: SocketAddr) -> String {
    client
        .post(format!("http://{b}/layered"))
        .inject_context()
        .body("abc")
        .send()
        .await
        .expect("server B answers")
        .text()
        .await
        .expect("body")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_axum_layer_continues_the_trace_for_a_whole_route() {
    let b = server_b().await;
    let client = reqwest::Client::new();
    let (body, trace) = in_trace_async(async { call_layered(&client, b.addr).await }).await;
    assert_eq!(body, "cba");
    let server = trace.span("POST /layered");
    assert_eq!(
        trace.parent_name("POST /layered").as_deref(),
        Some("node A (layered)")
    );
    assert_eq!(attr_str(server, "http.route").as_deref(), Some("/layered"));
    assert_eq!(
        attr(server, "http.response.status_code"),
        Some(&opentelemetry::Value::I64(200))
    );
    assert_eq!(server.span_kind, opentelemetry::trace::SpanKind::Server);
    assert_eq!(
        trace.parent_name("layered work").as_deref(),
        Some("POST /layered")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_layer_starts_a_new_trace_linked_to_the_caller() {
    let b = server_b().await;
    let client = reqwest::Client::new();
    let (body, trace) = in_trace_async(async {
        client
            .post(format!("http://{}/public", b.addr))
            .inject_context()
            .header("baggage", "user.id=mallory")
            .body("xyz")
            .send()
            .await
            .expect("server B answers")
    })
    .await;
    assert_eq!(body.status(), 200);
    assert_eq!(body.text().await.ok().as_deref(), Some("zyx"));
    assert!(
        trace.all("POST /public").is_empty(),
        "not in the caller's trace"
    );
    let harness = trace.span("harness").span_context.clone();
    let server = spans_named("POST /public")
        .into_iter()
        .find(|s| {
            s.links
                .iter()
                .any(|l| l.span_context.trace_id() == harness.trace_id())
        })
        .expect("the server span links to the caller");
    assert_eq!(server.parent_span_id, opentelemetry::trace::SpanId::INVALID);
    assert_eq!(attr_str(&server, "user.id"), None);
}
