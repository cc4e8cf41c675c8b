//! What Langfuse's and LangSmith's SDKs send and read, through the public API:
//! `langsmith-trace` and its baggage, the `langfuse_*` baggage members, and
//! `TraceAttributes` written in each backend's keys. (The same against the real Python
//! SDKs: `python_sdks.rs`, run by `scripts/python_sdks.sh`.)

use http::HeaderMap;
use opentelemetry::Value;
use traced::propagation::langsmith::{format_uuid, parse_dotted_order};
use traced::propagation::{ContextSource, Problem};
use traced::{extract, inject, traced, TraceAttributes};
use traced_tests::{attr, attr_str, headers, spans_named};

const LANGSMITH_PARENT: &str = "20261201T044935348490Z01a22fef-d074-7e52-8541-5ca0c86a28a1.20261201T044935349000Z01a22fef-d075-7000-8000-000000000001";

#[traced(extract)]
fn handler(headers: &HeaderMap, id: u32) -> HeaderMap {
    call_next(id)
}

#[traced]
fn call_next(id: u32) -> HeaderMap {
    let mut out = HeaderMap::new();
    inject(&mut out);
    out
}

/// The spans named `name` whose input has this `id`.
fn span_of(name: &str, id: u32) -> opentelemetry_sdk::trace::SpanData {
    spans_named(name)
        .into_iter()
        .find(|s| attr_str(s, "input.value").is_some_and(|v| v.contains(&format!(":{id}"))))
        .unwrap_or_else(|| panic!("no {name} span with id {id}"))
}

#[test]
fn a_langsmith_caller_is_continued_and_nested_under_its_run() {
    traced_tests::exporter();
    let out = handler(
        &headers(&[
            ("langsmith-trace", LANGSMITH_PARENT),
            (
                "baggage",
                "langsmith-metadata=%7B%22tenant%22%3A%22acme%22%7D,langsmith-tags=a%2Cb,langsmith-project=checkout",
            ),
        ]),
        1,
    );
    let handler_span = span_of("handler", 1);
    let child = span_of("call_next", 1);
    // The OpenTelemetry trace is the LangSmith trace's UUID, as LangSmith's SDK maps it.
    assert_eq!(
        format!("{:032x}", handler_span.span_context.trace_id()),
        "01a22fefd0747e5285415ca0c86a28a1"
    );
    assert_eq!(
        format!("{:016x}", handler_span.parent_span_id),
        "01a22fefd0757000"
    );
    let lang = |span, key| attr_str(span, key).unwrap_or_else(|| panic!("no {key}"));
    assert_eq!(
        lang(&handler_span, "langsmith.trace.id"),
        "01a22fef-d074-7e52-8541-5ca0c86a28a1"
    );
    assert_eq!(
        lang(&handler_span, "langsmith.span.parent_id"),
        "01a22fef-d075-7000-8000-000000000001"
    );
    assert_eq!(
        lang(&handler_span, "langsmith.trace.session_name"),
        "checkout"
    );
    let handler_order = lang(&handler_span, "langsmith.span.dotted_order");
    assert!(handler_order.starts_with(&format!("{LANGSMITH_PARENT}.")));
    let handler_run = lang(&handler_span, "langsmith.span.id");
    assert_eq!(
        format_uuid(parse_dotted_order(&handler_order).unwrap().run_id),
        handler_run
    );
    // The child nests under the handler's run, one segment deeper.
    assert_eq!(lang(&child, "langsmith.span.parent_id"), handler_run);
    let child_order = lang(&child, "langsmith.span.dotted_order");
    assert!(child_order.starts_with(&format!("{handler_order}.")));
    // The baggage became trace-wide attributes, in each backend's keys.
    assert_eq!(lang(&child, "langsmith.metadata.tenant"), "acme");
    assert_eq!(lang(&child, "langfuse.trace.metadata.tenant"), "acme");
    assert_eq!(lang(&child, "langsmith.span.tags"), "a,b");
    // What the child sends on: its own run, and the project and tags again.
    assert_eq!(out["langsmith-trace"].to_str().unwrap(), child_order);
    let baggage = out["baggage"].to_str().unwrap();
    for member in [
        "langsmith-project=checkout",
        "langsmith-tags=a%2Cb",
        "langsmith-metadata={%22tenant%22:%22acme%22}",
    ] {
        assert!(baggage.contains(member), "{member} not in {baggage}");
    }
}

#[test]
fn traceparent_decides_the_otel_parent_and_langsmith_trace_the_run() {
    let extracted = extract(&headers(&[
        (
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ),
        ("langsmith-trace", LANGSMITH_PARENT),
    ]));
    assert_eq!(extracted.source(), Some(ContextSource::TraceContext));
    assert_eq!(
        format!("{:016x}", extracted.remote_parent().unwrap().span_id()),
        "00f067aa0ba902b7"
    );
    let run = extracted.langsmith_run().expect("LangSmith parent kept");
    assert_eq!(
        format_uuid(run.run_id),
        "01a22fef-d075-7000-8000-000000000001"
    );
}

#[test]
fn a_malformed_langsmith_trace_starts_a_new_trace_and_says_why() {
    traced_tests::exporter();
    let out = handler(&headers(&[("langsmith-trace", "not-a-dotted-order")]), 2);
    let span = span_of("handler", 2);
    assert!(!span.parent_span_id.to_string().is_empty());
    assert_eq!(span.parent_span_id, opentelemetry::trace::SpanId::INVALID);
    let problem = attr_str(&span, "traced.propagation.problem").expect("problem recorded");
    assert!(problem.contains("langsmith-trace"), "{problem}");
    assert!(attr(&span, "langsmith.span.id").is_none());
    assert!(
        out.get("langsmith-trace").is_none(),
        "not a LangSmith trace"
    );
    let extracted = extract(&headers(&[("langsmith-trace", "x")]));
    assert!(matches!(extracted.problems(), [Problem::LangsmithTrace(_)]));
}

#[test]
fn langfuse_baggage_becomes_trace_attributes_on_every_span() {
    traced_tests::exporter();
    // As Langfuse's Python SDK 3.15 writes it with `propagate_attributes(as_baggage=True)`.
    let out = handler(
        &headers(&[
            (
                "traceparent",
                "00-5bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ),
            (
                "baggage",
                "langfuse_user_id=user+1,langfuse_session_id=sess-1,langfuse_version=v2,\
                 langfuse_tags=%5B%27t1%27%2C+%27t2%27%5D,langfuse_trace_name=tn,\
                 langfuse_metadata_foo=bar+baz",
            ),
        ]),
        3,
    );
    for span in [span_of("handler", 3), span_of("call_next", 3)] {
        assert_eq!(attr_str(&span, "user.id").as_deref(), Some("user 1"));
        assert_eq!(attr_str(&span, "session.id").as_deref(), Some("sess-1"));
        assert_eq!(attr_str(&span, "langfuse.version").as_deref(), Some("v2"));
        assert_eq!(
            attr_str(&span, "langfuse.trace.name").as_deref(),
            Some("tn")
        );
        assert_eq!(
            attr_str(&span, "langfuse.trace.metadata.foo").as_deref(),
            Some("bar baz")
        );
        let Some(Value::Array(tags)) = attr(&span, "langfuse.trace.tags") else {
            panic!("tags are a string array");
        };
        assert_eq!(tags.to_string(), "[\"t1\",\"t2\"]");
    }
    // Sent on in our keys and in Langfuse's, which its SDK reads back.
    let baggage = out["baggage"].to_str().unwrap();
    for member in [
        "user.id=user%201",
        "langfuse_user_id=user%201",
        "langfuse_session_id=sess-1",
        "langfuse_tags=t1%2Ct2",
        "langfuse_metadata_foo=bar%20baz",
        "langfuse_trace_name=tn",
        "langfuse_version=v2",
    ] {
        assert!(baggage.contains(member), "{member} not in {baggage}");
    }
}

#[test]
fn trace_attributes_are_written_in_every_backends_keys_and_sent_on() {
    traced_tests::exporter();
    let out = {
        let _scope = TraceAttributes::new()
            .user_id("ada")
            .session_id("chat-7")
            .trace_name("checkout")
            .tags(["beta", "eu"])
            .metadata("tenant", "acme")
            .release("abc123")
            .version("1.2")
            .environment("staging")
            .attach();
        call_next(4)
    };
    let span = span_of("call_next", 4);
    for (key, value) in [
        ("user.id", "ada"),
        ("session.id", "chat-7"),
        ("langsmith.metadata.session_id", "chat-7"),
        ("langfuse.trace.name", "checkout"),
        ("langsmith.span.tags", "beta,eu"),
        ("langfuse.trace.metadata.tenant", "acme"),
        ("langsmith.metadata.tenant", "acme"),
        ("langfuse.release", "abc123"),
        ("langfuse.version", "1.2"),
        ("langfuse.environment", "staging"),
    ] {
        assert_eq!(attr_str(&span, key).as_deref(), Some(value), "{key}");
    }
    let back = extract(&out);
    let mut baggage = back.baggage().to_vec();
    baggage.sort();
    assert_eq!(
        baggage,
        [
            ("session.id", "chat-7"),
            ("traced.environment", "staging"),
            ("traced.release", "abc123"),
            ("traced.trace.metadata.tenant", "acme"),
            ("traced.trace.name", "checkout"),
            ("traced.trace.tags", "beta,eu"),
            ("traced.version", "1.2"),
            ("user.id", "ada"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
        "the SDKs' members read back into ours, nothing doubled"
    );
}

#[traced(extract, untrusted)]
fn public_edge(headers: &HeaderMap, id: u32) -> u32 {
    id
}

#[test]
fn untrusted_requests_keep_neither_langsmith_runs_nor_sdk_attributes() {
    traced_tests::exporter();
    public_edge(
        &headers(&[
            ("langsmith-trace", LANGSMITH_PARENT),
            ("baggage", "langfuse_user_id=mallory,langsmith-tags=x"),
        ]),
        5,
    );
    let span = span_of("public_edge", 5);
    assert!(attr(&span, "langsmith.trace.id").is_none());
    assert!(attr(&span, "user.id").is_none());
    assert!(attr(&span, "langsmith.span.tags").is_none());
    assert_ne!(
        format!("{:032x}", span.span_context.trace_id()),
        "01a22fefd0747e5285415ca0c86a28a1"
    );
}
