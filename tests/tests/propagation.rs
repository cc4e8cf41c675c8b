//! Reading and writing trace context through the public API: `extract`, `inject`,
//! `#[traced(extract)]`, `#[traced(parent = ...)]` and trace-wide attributes in baggage.

use http::{HeaderMap, HeaderValue};
use opentelemetry::trace::SpanId;
use traced::propagation::{ContextSource, Problem};
use traced::{extract, inject, traced, TraceAttributes, TraceContext};
use traced_tests::{attr_str, headers, in_trace, spans_named};

const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

#[test]
fn w3c_headers_in_any_casing_with_spaces_around() {
    let extracted = extract(&headers(&[
        ("TraceParent", &format!(" \t{PARENT} ")),
        ("TRACESTATE", "rojo=1 , congo=2"),
        ("Baggage", "user.id=ada"),
    ]));
    let parent = extracted.remote_parent().expect("valid parent");
    assert_eq!(
        format!("{:032x}", parent.trace_id()),
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );
    assert!(parent.is_remote() && parent.is_sampled());
    assert_eq!(parent.trace_state().header(), "rojo=1,congo=2");
    assert_eq!(extracted.source(), Some(ContextSource::TraceContext));
    assert_eq!(
        extracted.baggage(),
        [("user.id".to_owned(), "ada".to_owned())]
    );
    assert!(extracted.problems().is_empty());
}

#[test]
fn repeated_traceparent_lines_are_invalid_and_fall_back_to_the_simple_pair() {
    let extracted = extract(&headers(&[
        ("traceparent", PARENT),
        ("traceparent", PARENT),
        ("X-Trace-ID", "A3CE929D-0E0E-4736-4BF9-2F3577B34DA6"),
        ("X-Parent-Span-ID", "00F067AA0BA902B7"),
    ]));
    assert_eq!(extracted.problems(), [Problem::RepeatedTraceparent(2)]);
    assert_eq!(extracted.source(), Some(ContextSource::SimpleHeaders));
    let ctx = extracted.trace_context().expect("simple pair used");
    assert_eq!(ctx.trace_id, "a3ce929d0e0e47364bf92f3577b34da6");
    assert_eq!(ctx.parent_span_id, "00f067aa0ba902b7");
}

#[test]
fn a_bad_tracestate_is_dropped_but_the_parent_kept() {
    let extracted = extract(&headers(&[
        ("traceparent", PARENT),
        ("tracestate", "ok=1,BAD=2"),
    ]));
    assert!(extracted.remote_parent().is_some());
    assert_eq!(
        extracted.remote_parent().map(|p| p.trace_state().header()),
        Some(String::new())
    );
    assert!(matches!(extracted.problems(), [Problem::Tracestate(_)]));
}

#[test]
fn garbage_and_half_headers_give_no_parent_and_say_why() {
    for (pairs, expected) in [
        (vec![("traceparent", "garbage")], "traceparent"),
        (
            vec![("x-trace-id", "4bf92f3577b34da6a3ce929d0e0e4736")],
            "together",
        ),
        (
            vec![
                ("x-trace-id", "xyz"),
                ("x-parent-span-id", "00f067aa0ba902b7"),
            ],
            "trace id",
        ),
    ] {
        let extracted = extract(&headers(&pairs));
        assert!(extracted.remote_parent().is_none(), "{pairs:?}");
        let problems: Vec<String> = extracted
            .problems()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "{problems:?}"
        );
    }
    assert!(
        extract(&HeaderMap::new()).problems().is_empty(),
        "no headers is no problem"
    );
}

#[test]
fn non_ascii_header_values_are_reported() {
    let mut map = HeaderMap::new();
    map.insert(
        "traceparent",
        HeaderValue::from_bytes("00-é".as_bytes()).expect("opaque bytes"),
    );
    assert_eq!(extract(&map).problems(), [Problem::NotText("traceparent")]);
}

#[traced]
fn outbound() -> (HeaderMap, Option<String>, Option<String>) {
    let mut map = HeaderMap::new();
    inject(&mut map);
    (map, traced::current_trace_id(), traced::current_span_id())
}

#[test]
fn inject_writes_every_header_and_extract_reads_them_back() {
    let ((map, trace_id, span_id), _) = in_trace(|| {
        let _scope = TraceAttributes::new()
            .user_id("ada lovelace")
            .session_id("chat-7")
            .attach();
        outbound()
    });
    let (trace_id, span_id) = (trace_id.expect("in a span"), span_id.expect("in a span"));
    assert_eq!(map["x-trace-id"], trace_id.as_str());
    assert_eq!(map["x-parent-span-id"], span_id.as_str());
    assert_eq!(
        map["traceparent"],
        format!("00-{trace_id}-{span_id}-01").as_str()
    );
    let back = extract(&map);
    assert_eq!(
        back.trace_context(),
        Some(TraceContext::new(trace_id, span_id))
    );
    let mut baggage = back.baggage().to_vec();
    baggage.sort();
    assert_eq!(
        baggage,
        [
            ("session.id".to_owned(), "chat-7".to_owned()),
            ("user.id".to_owned(), "ada lovelace".to_owned())
        ]
    );
}

#[traced(extract)]
fn handler(headers: &HeaderMap, body: &str) -> usize {
    child_work(body)
}

#[traced]
fn child_work(body: &str) -> usize {
    body.len()
}

#[test]
fn extract_makes_the_handler_a_child_of_the_remote_span() {
    traced_tests::exporter();
    handler(
        &headers(&[("traceparent", PARENT), ("baggage", "user.id=grace")]),
        "hello",
    );
    let span = spans_named("handler")
        .into_iter()
        .find(|s| {
            format!("{:032x}", s.span_context.trace_id()) == "4bf92f3577b34da6a3ce929d0e0e4736"
        })
        .expect("handler span in the remote trace");
    assert_eq!(format!("{:016x}", span.parent_span_id), "00f067aa0ba902b7");
    assert!(span.parent_span_is_remote);
    assert_eq!(attr_str(&span, "user.id").as_deref(), Some("grace"));
    // The headers are never captured; the other arguments are.
    assert_eq!(
        attr_str(&span, "input.value").as_deref(),
        Some(r#"{"body":"hello"}"#)
    );
    let child = spans_named("child_work")
        .into_iter()
        .find(|s| s.parent_span_id == span.span_context.span_id())
        .expect("child under the handler");
    assert_eq!(
        attr_str(&child, "user.id").as_deref(),
        Some("grace"),
        "trace-wide attribute copied"
    );
}

#[test]
fn invalid_headers_start_a_new_trace_and_record_why() {
    let (len, trace) = in_trace(|| handler(&headers(&[("traceparent", "00-zz")]), "abc"));
    assert_eq!(len, 3);
    assert!(
        trace.all("handler").is_empty(),
        "not in the caller's trace either: a new one"
    );
    let span = spans_named("handler")
        .into_iter()
        .find(|s| attr_str(s, "input.value").as_deref() == Some(r#"{"body":"abc"}"#))
        .expect("handler span");
    assert_eq!(span.parent_span_id, SpanId::INVALID);
    assert!(
        attr_str(&span, "traced.propagation.problem").is_some_and(|p| p.contains("traceparent"))
    );
}

#[traced(parent = job.clone())]
fn from_queue(job: Option<TraceContext>, n: u8) -> u8 {
    n
}

#[test]
fn parent_continues_a_trace_by_ids_and_none_keeps_the_current_span() {
    traced_tests::exporter();
    let job = TraceContext::new("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331");
    from_queue(Some(job), 1);
    let span = spans_named("from_queue")
        .into_iter()
        .find(|s| attr_str(s, "input.value").is_some_and(|i| i.contains(r#""n":1"#)))
        .expect("span");
    assert_eq!(
        format!("{:032x}", span.span_context.trace_id()),
        "0af7651916cd43dd8448eb211c80319c"
    );
    assert_eq!(format!("{:016x}", span.parent_span_id), "b7ad6b7169203331");

    let (_, trace) = in_trace(|| from_queue(None, 2));
    assert_eq!(trace.parent_name("from_queue").as_deref(), Some("harness"));
}

#[traced(name = "public edge", extract, untrusted)]
fn public_edge(headers: &HeaderMap) -> Option<String> {
    traced::current_trace_id()
}

#[test]
fn untrusted_context_becomes_a_link_in_a_new_trace_without_baggage() {
    traced_tests::exporter();
    let trace_id = public_edge(&headers(&[
        ("traceparent", PARENT),
        ("baggage", "user.id=mallory"),
    ]))
    .expect("in a span");
    assert_ne!(trace_id, "4bf92f3577b34da6a3ce929d0e0e4736", "a new trace");
    let span = spans_named("public edge")
        .into_iter()
        .find(|s| format!("{:032x}", s.span_context.trace_id()) == trace_id)
        .expect("span");
    assert_eq!(span.parent_span_id, SpanId::INVALID);
    let link = span.links.iter().next().expect("the remote span as a link");
    assert_eq!(
        format!("{:032x}", link.span_context.trace_id()),
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );
    assert_eq!(
        format!("{:016x}", link.span_context.span_id()),
        "00f067aa0ba902b7"
    );
    assert_eq!(attr_str(&span, "user.id"), None, "inbound baggage ignored");
}

#[traced(extract)]
fn passes_on(headers: &HeaderMap) -> HeaderMap {
    nested_call()
}

#[traced]
fn nested_call() -> HeaderMap {
    let mut out = HeaderMap::new();
    inject(&mut out);
    out
}

/// The W3C Trace Context Level 2 suite's tracestate cases, as a service built with
/// `#[traced(extract)]` and `inject` answers them: what was received is passed on from a
/// span below the one that extracted it, including what opentelemetry's `TraceState`
/// cannot hold.
#[test]
fn a_received_tracestate_is_passed_on_as_the_level_2_suite_expects() {
    traced_tests::exporter();
    let unsampled = "00-12345678901234567890123456789012-1234567890123456-00";
    let tenant = format!("{}@{}=1", "t".repeat(241), "v".repeat(14));
    let long_key = format!("{}=1", "z".repeat(257));
    let cases: Vec<(Vec<&str>, Option<String>)> = vec![
        (vec!["foo=1,bar=2"], Some("foo=1,bar=2".into())),
        (vec!["foo=1,foo=1"], Some("foo=1,foo=1".into())),
        (vec!["foo=1", "foo=2"], Some("foo=1,foo=2".into())),
        (vec!["foo@=1,bar=2"], Some("foo@=1,bar=2".into())),
        (vec!["foo=1", &tenant], Some(format!("foo=1,{tenant}"))),
        (vec!["foo=1 \t , \t bar=2"], Some("foo=1,bar=2".into())),
        (vec!["foo=1", ""], Some("foo=1".into())),
        (vec!["foo=1", &long_key], None),
        (vec!["@foo=1,bar=2"], None),
        (vec!["FOO=1"], None),
    ];
    for (lines, expected) in cases {
        let mut pairs = vec![("traceparent", unsampled)];
        pairs.extend(lines.iter().map(|line| ("tracestate", *line)));
        let out = passes_on(&headers(&pairs));
        let traceparent = out["traceparent"].to_str().unwrap();
        assert!(
            traceparent.starts_with("00-12345678901234567890123456789012-"),
            "{lines:?}: trace continued, got {traceparent}"
        );
        assert_eq!(
            out.get("tracestate")
                .map(|v| v.to_str().unwrap().to_owned()),
            expected,
            "{lines:?}"
        );
    }
}
