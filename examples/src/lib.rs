//! Shared code of the example programs.

use std::collections::BTreeMap;
use std::io::Write;

use opentelemetry::trace::{SpanId, Status};
use opentelemetry_sdk::trace::SpanData;

/// Prints `spans` as one tree per trace: name, duration, status, and the captured
/// input and output, shortened.
///
/// ```
/// let mut out = Vec::new();
/// traced_examples::print_trace_tree(&[], &mut out);
/// assert!(out.is_empty());
/// ```
pub fn print_trace_tree(spans: &[SpanData], out: &mut impl Write) {
    let mut traces: BTreeMap<String, Vec<&SpanData>> = BTreeMap::new();
    for span in spans {
        traces
            .entry(format!("{:032x}", span.span_context.trace_id()))
            .or_default()
            .push(span);
    }
    for (trace_id, mut spans) in traces {
        spans.sort_by_key(|s| s.start_time);
        let _ = writeln!(out, "trace {trace_id}");
        let ids: Vec<SpanId> = spans.iter().map(|s| s.span_context.span_id()).collect();
        for root in spans.iter().filter(|s| !ids.contains(&s.parent_span_id)) {
            print_span(root, &spans, 1, out);
        }
    }
}

fn print_span(span: &SpanData, all: &[&SpanData], depth: usize, out: &mut impl Write) {
    let micros = span
        .end_time
        .duration_since(span.start_time)
        .map(|d| d.as_micros())
        .unwrap_or(0);
    let status = match &span.status {
        Status::Error { description } => format!("  ERROR: {description}"),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "{}{}  ({:.1} ms){status}",
        "  ".repeat(depth),
        span.name,
        micros as f64 / 1000.0
    );
    for key in ["input.value", "output.value"] {
        if let Some(kv) = span.attributes.iter().find(|kv| kv.key.as_str() == key) {
            let _ = writeln!(
                out,
                "{}  {key}: {}",
                "  ".repeat(depth),
                shorten(&kv.value.as_str(), 70)
            );
        }
    }
    let id = span.span_context.span_id();
    for child in all.iter().filter(|s| s.parent_span_id == id) {
        print_span(child, all, depth + 1, out);
    }
}

/// At most `max` characters of `text`, with `…` when cut.
fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}
