//! `traced::extract` on a request's headers: the input is lines of `name: value`
//! (repeated names make repeated header lines; a line that is not a valid header is
//! left out, as an HTTP server would refuse it).
//!
//! Checks: no panic (nor in the problems' messages); a parent is valid and remote, and
//! comes with its source; at most 64 baggage members; and what was extracted, injected
//! again, extracts the same.
#![no_main]

use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;
use traced::propagation::baggage::{format_baggage, MAX_BYTES};

fn headers(data: &[u8]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for line in data.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        let value = value.strip_prefix(b" ").unwrap_or(value);
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
        {
            headers.append(name, value);
        }
    }
    headers
}

type Parent = Option<(
    traced::opentelemetry::trace::TraceId,
    traced::opentelemetry::trace::SpanId,
    u8,
    String,
)>;

fn parent(extracted: &traced::Extracted) -> Parent {
    extracted.remote_parent().map(|p| {
        (
            p.trace_id(),
            p.span_id(),
            p.trace_flags().to_u8(),
            p.trace_state().header(),
        )
    })
}

fuzz_target!(|data: &[u8]| {
    let headers = headers(data);
    let extracted = traced::extract(&headers);
    for problem in extracted.problems() {
        let _ = problem.to_string();
    }
    assert!(extracted.baggage().len() <= traced::propagation::baggage::MAX_MEMBERS);
    match extracted.remote_parent() {
        Some(p) => {
            assert!(p.is_valid() && p.is_remote());
            assert!(extracted.source().is_some());
            assert!(extracted.trace_context().is_some());
        }
        None => assert!(extracted.source().is_none()),
    }

    let mut out = HeaderMap::new();
    traced::inject_context(&extracted.to_context(), &mut out);
    let again = traced::extract(&out);
    assert!(
        again.problems().is_empty(),
        "{:?} from {out:?}",
        again.problems()
    );
    assert_eq!(parent(&again), parent(&extracted));
    // Duplicate keys collapse into one in opentelemetry's Baggage (the last one wins).
    let mut expected: Vec<(String, String)> = Vec::new();
    for (k, v) in extracted.baggage() {
        expected.retain(|(key, _)| key != k);
        expected.push((k.clone(), v.clone()));
    }
    for member in again.baggage() {
        assert!(expected.contains(member), "{member:?} not in {expected:?}");
    }
    // Re-encoding can make members longer than they came (`"` arrives bare and leaves as
    // `%22`), so all of them must come back only when all of them fit.
    let encoded: usize = expected
        .iter()
        .map(|(k, v)| format_baggage([(k.as_str(), v.as_str())]).len() + 1)
        .sum();
    if encoded <= MAX_BYTES
        && expected
            .iter()
            .all(|(k, v)| !format_baggage([(k.as_str(), v.as_str())]).is_empty())
    {
        assert_eq!(
            again.baggage().len(),
            expected.len(),
            "{expected:?} -> {out:?}"
        );
    }
});
