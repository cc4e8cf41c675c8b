//! A LangSmith destination (`Config::langsmith`) against an in-process OTLP receiver on
//! 127.0.0.1: the spans of a trace begun here are LangSmith runs (the `langsmith.*` ids
//! nest them), and `inject` writes exactly the run LangSmith receives for the span, with
//! the destination's project.

use std::time::Duration;

use http::HeaderMap;
use traced::propagation::langsmith::{format_uuid, parse_dotted_order};
use traced::{inject, traced, Config};
use traced_tests::receiver;

#[traced]
fn outer() -> HeaderMap {
    inner()
}

#[traced]
fn inner() -> HeaderMap {
    let mut headers = HeaderMap::new();
    inject(&mut headers);
    headers
}

fn attribute<'a>(span: &'a receiver::Received, key: &str) -> &'a str {
    span.attributes
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("{} has no {key}", span.name))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_begun_here_are_what_langsmith_receives_and_what_inject_sends() {
    let receiver = receiver::http("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("receiver");
    let spool = std::env::temp_dir().join(format!("traced-ls-spool-{}", std::process::id()));
    let guard = Config::new()
        .langsmith(
            &format!("http://{}", receiver.addr),
            "lsv2_test",
            Some("rust-project"),
        )
        .spool_dir(&spool)
        .init()
        .expect("valid config");
    let headers = outer();
    guard.flush();
    receiver.wait_for(2, Duration::from_secs(20)).await;
    tokio::task::spawn_blocking(move || guard.shutdown())
        .await
        .expect("shutdown");

    let spans = receiver.inbox.spans();
    let span = |name| spans.iter().find(|s| s.name == name).expect("span");
    let (outer, inner) = (span("outer"), span("inner"));
    // The root run is the LangSmith trace; the inner run nests under it.
    assert_eq!(
        attribute(outer, "langsmith.trace.id"),
        attribute(outer, "langsmith.span.id")
    );
    assert_eq!(
        attribute(inner, "langsmith.trace.id"),
        attribute(outer, "langsmith.trace.id")
    );
    assert_eq!(
        attribute(inner, "langsmith.span.parent_id"),
        attribute(outer, "langsmith.span.id")
    );
    assert_eq!(
        attribute(outer, "langsmith.trace.session_name"),
        "rust-project"
    );
    // What inject wrote names the run LangSmith received for `inner`.
    let sent = headers["langsmith-trace"].to_str().expect("text");
    assert_eq!(sent, attribute(inner, "langsmith.span.dotted_order"));
    let run = parse_dotted_order(sent).expect("valid dotted order");
    assert_eq!(
        format_uuid(run.run_id),
        attribute(inner, "langsmith.span.id")
    );
    assert_eq!(
        format_uuid(run.trace_id),
        attribute(outer, "langsmith.span.id")
    );
    assert!(headers["baggage"]
        .to_str()
        .expect("text")
        .contains("langsmith-project=rust-project"));
    // LangSmith's headers on the export itself.
    let export = &receiver.inbox.headers()[0];
    assert!(export
        .iter()
        .any(|(k, v)| k == "x-api-key" && v == "lsv2_test"));
    assert!(export
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("langsmith-project") && v == "rust-project"));
}
