//! Drawing traces as trees in the terminal: service, span name, duration, status, and a
//! short preview of the input and output.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write;

use traced::export::{EventRecord, SpanRecord};

/// Every trace in `spans`, oldest first, each as a tree.
///
/// ```
/// assert_eq!(traced_viewer::render_traces(&[]), "");
/// ```
pub fn render_traces(spans: &[SpanRecord]) -> String {
    let mut traces: BTreeMap<&str, Vec<&SpanRecord>> = BTreeMap::new();
    for span in spans {
        traces.entry(&span.trace_id).or_default().push(span);
    }
    let mut ordered: Vec<(&str, Vec<&SpanRecord>)> = traces.into_iter().collect();
    ordered.sort_by_key(|(_, spans)| spans.iter().map(|s| s.start_time_unix_nano).min());
    let mut out = String::new();
    for (trace_id, spans) in ordered {
        render_one(trace_id, &spans, &mut out);
    }
    out
}

/// One trace as a tree (empty if no span has that trace id).
pub fn render_trace(spans: &[SpanRecord], trace_id: &str) -> String {
    let of_trace: Vec<&SpanRecord> = spans.iter().filter(|s| s.trace_id == trace_id).collect();
    let mut out = String::new();
    if !of_trace.is_empty() {
        render_one(trace_id, &of_trace, &mut out);
    }
    out
}

fn render_one(trace_id: &str, spans: &[&SpanRecord], out: &mut String) {
    let _ = writeln!(out, "trace {trace_id}");
    let ids: HashSet<&str> = spans.iter().map(|s| s.span_id.as_str()).collect();
    let mut roots: Vec<&SpanRecord> = spans
        .iter()
        .copied()
        .filter(|s| s.parent_span_id.is_empty() || !ids.contains(s.parent_span_id.as_str()))
        .collect();
    roots.sort_by_key(|s| s.start_time_unix_nano);
    let service_width = spans
        .iter()
        .map(|s| s.service_name().len())
        .max()
        .unwrap_or(0);
    for root in roots {
        let remote_parent = !root.parent_span_id.is_empty();
        render_span(root, spans, 0, service_width, remote_parent, out);
    }
}

fn render_span(
    span: &SpanRecord,
    all: &[&SpanRecord],
    depth: usize,
    service_width: usize,
    missing_parent: bool,
    out: &mut String,
) {
    let millis = span.duration_nanos() as f64 / 1e6;
    let status = if span.status.code == 2 {
        format!("  ERROR {}", span.status.message)
    } else {
        String::new()
    };
    let orphan = if missing_parent {
        format!("  (parent {} not in the store)", span.parent_span_id)
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "{:service_width$}  {}{}  {millis:.1} ms{status}{orphan}",
        span.service_name(),
        "  ".repeat(depth),
        span.name,
    );
    let pad = " ".repeat(service_width + 2 + 2 * depth + 2);
    for (label, key) in [("in ", "input.value"), ("out", "output.value")] {
        if let Some(value) = span.attribute(key) {
            let _ = writeln!(out, "{pad}{label} {}", preview(&value, 60));
        }
    }
    // The span's log events in time order, with their level (an exception is already
    // said by the span's ERROR status).
    let mut events: Vec<&EventRecord> = span
        .events
        .iter()
        .filter(|e| e.name != "exception")
        .collect();
    events.sort_by_key(|e| e.time_unix_nano);
    for event in events {
        let at = event
            .time_unix_nano
            .saturating_sub(span.start_time_unix_nano) as f64
            / 1e6;
        let (label, text) = event_line(event);
        let _ = writeln!(out, "{pad}· +{at:.1} ms {label} {}", preview(&text, 60));
    }
    let mut children: Vec<&SpanRecord> = all
        .iter()
        .copied()
        .filter(|s| s.parent_span_id == span.span_id)
        .collect();
    children.sort_by_key(|s| s.start_time_unix_nano);
    for child in children {
        render_span(child, all, depth + 1, service_width, false, out);
    }
}

/// How an event reads: its level (`ERROR`, `WARN`... for a log, else `event`) and its
/// text (its name).
pub(crate) fn event_line(event: &EventRecord) -> (String, String) {
    let level = event
        .attributes
        .iter()
        .find(|a| a.key == "level")
        .map_or_else(|| "event".to_owned(), |a| a.value.to_text());
    (level, event.name.clone())
}

/// The first `max` characters of `text` on one line, with `…` when cut.
pub(crate) fn preview(text: &str, max: usize) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    match one_line.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}
