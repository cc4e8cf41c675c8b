//! The simple pair `X-Trace-ID` / `X-Parent-Span-ID`: the input's first line is the trace
//! id, the rest the parent span id. Parsed by `simple::parse_trace_id` /
//! `parse_span_id`, by `TraceContext::to_span_context`, and as request headers by
//! `traced::extract`.
//!
//! Checks: no panic; an accepted id is non-zero and is the input's hex digits (spaces and
//! tabs around and dashes inside removed, lower-cased); the three paths agree.
#![no_main]

use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use traced::opentelemetry::trace::{SpanId, TraceId};
use traced::propagation::simple::{parse_span_id, parse_trace_id};
use traced::propagation::ContextSource;
use traced::TraceContext;

fn digits(text: &str) -> String {
    text.trim_matches([' ', '\t'])
        .chars()
        .filter(|&c| c != '-')
        .collect::<String>()
        .to_ascii_lowercase()
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (trace_text, span_text) = text.split_once('\n').unwrap_or((&text, ""));

    let trace = parse_trace_id(trace_text);
    if let Ok(id) = &trace {
        assert_ne!(*id, TraceId::INVALID);
        assert_eq!(format!("{id:032x}"), digits(trace_text));
    }
    let span = parse_span_id(span_text);
    if let Ok(id) = &span {
        assert_ne!(*id, SpanId::INVALID);
        assert_eq!(format!("{id:016x}"), digits(span_text));
    }
    for error in [trace.as_ref().err(), span.as_ref().err()]
        .into_iter()
        .flatten()
    {
        let _ = error.to_string();
    }

    let by_hand = TraceContext::new(trace_text, span_text).to_span_context();
    let both = trace.as_ref().ok().zip(span.as_ref().ok());
    assert_eq!(
        by_hand
            .as_ref()
            .ok()
            .map(|cx| (cx.trace_id(), cx.span_id())),
        both.map(|(t, s)| (*t, *s))
    );

    // The same as request headers, where the header grammar allows the values.
    let (Ok(trace_value), Ok(span_value)) = (
        HeaderValue::from_str(trace_text),
        HeaderValue::from_str(span_text),
    ) else {
        return;
    };
    let mut headers = HeaderMap::new();
    headers.insert("x-trace-id", trace_value);
    headers.insert("x-parent-span-id", span_value);
    let extracted = traced::extract(&headers);
    for problem in extracted.problems() {
        let _ = problem.to_string();
    }
    // HeaderValue keeps spaces and tabs around; extract trims them, as the parsers do.
    if let Some(parent) = extracted.remote_parent() {
        assert_eq!(extracted.source(), Some(ContextSource::SimpleHeaders));
        assert_eq!(
            Some((parent.trace_id(), parent.span_id())),
            both.map(|(t, s)| (*t, *s))
        );
    } else {
        assert!(
            both.is_none(),
            "{trace_text:?} / {span_text:?} refused as headers"
        );
    }
});
