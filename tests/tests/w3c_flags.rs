//! W3C Trace Context Level 2's `random` flag through `init()`'s pipeline: a trace we start
//! says its id is random (`-03` when sampled), and a child of a remote parent keeps the
//! parent's `random` flag, sampled or not. (One test: `init()` installs the process's
//! pipeline.)

use opentelemetry_sdk::trace::InMemorySpanExporter;
use traced::{traced, Config, SamplerConfig};

#[traced(name = "w3c root")]
fn root() -> String {
    let mut headers = http::HeaderMap::new();
    traced::inject(&mut headers);
    headers["traceparent"]
        .to_str()
        .unwrap_or_default()
        .to_owned()
}

#[traced(name = "w3c child", extract)]
fn child(headers: http::HeaderMap) -> String {
    let _ = headers;
    let mut out = http::HeaderMap::new();
    traced::inject(&mut out);
    out.get("traceparent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn inbound(flags: &str) -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    headers.insert(
        "traceparent",
        format!("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-{flags}")
            .parse()
            .expect("a header value"),
    );
    headers
}

#[test]
fn roots_say_random_and_children_keep_it() {
    let exporter = InMemorySpanExporter::default();
    let guard = Config::new()
        .exporter(exporter.clone())
        .sampler(SamplerConfig::ParentBased(Box::new(
            SamplerConfig::AlwaysOn,
        )))
        .init()
        .expect("valid config");

    let written = root();
    assert!(written.ends_with("-03"), "{written}");

    // Random and sampled: the child is sampled and keeps random.
    let written = child(inbound("03"));
    assert!(written.ends_with("-03"), "{written}");
    // Random, not sampled (`02`): the parent-based sampler drops the child, which still
    // says random.
    let written = child(inbound("02"));
    assert!(
        written.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
        "{written}"
    );
    assert!(written.ends_with("-02"), "{written}");
    // Neither: nothing is added.
    let written = child(inbound("00"));
    assert!(written.ends_with("-00"), "{written}");

    guard.flush();
    let spans = exporter.get_finished_spans().expect("spans");
    let root = spans
        .iter()
        .find(|s| s.name == "w3c root")
        .expect("root span");
    assert_eq!(root.span_context.trace_flags().to_u8(), 0x03);
    guard.shutdown();
}
