//! The waterfall page: every trace of the store as one self-contained HTML file (inline
//! CSS and JS, nothing loaded from anywhere). The rows are rendered here, so the page
//! reads without script; the script only opens a span's details when its row is
//! clicked, from the span data embedded as JSON.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write;

use serde::Serialize;

use traced::export::{Attribute, EventRecord, SpanRecord};

/// How many traces are shown unfolded; older ones start folded (one click opens them).
const OPEN_TRACES: usize = 10;

/// Service colours, in order of first appearance on the page. Red is kept for errors.
const PALETTE: [&str; 8] = [
    "#4c78e0", "#e8a33d", "#2fa37c", "#9b6bd6", "#d9609c", "#2aa3b8", "#8a9a3b", "#e07b45",
];

/// Every trace in `spans` as one self-contained HTML page, newest trace first: a header
/// per trace (root span, services, duration, span and error counts) and a waterfall with
/// one row per span. Clicking a row shows the span's details (ids, status, input,
/// output, attributes, events); so does opening the page at `#span=<spanId>`.
///
/// The page loads nothing from anywhere, and span data never becomes markup: it is
/// escaped in the rows, and the details are built from JSON with `textContent`.
///
/// ```
/// use traced::export::SpanRecord;
/// use traced_viewer::render_html;
///
/// let line = r#"{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"api"}}]},
///   "scope":{"name":"demo"},"traceId":"4bf92f3577b34da6a3ce929d0e0e4736",
///   "spanId":"00f067aa0ba902b7","name":"answer <question>","kind":1,
///   "startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000012500000"}"#;
/// let span: SpanRecord = serde_json::from_str(line)?;
/// let page = render_html(&[span]);
/// assert!(page.starts_with("<!DOCTYPE html>"));
/// assert!(page.contains("answer &lt;question&gt;"));
/// assert!(page.contains("12.5 ms"));
/// assert!(render_html(&[]).contains("No traces"));
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn render_html(spans: &[SpanRecord]) -> String {
    let traces = traces_newest_first(spans);
    let mut colours: HashMap<String, &'static str> = HashMap::new();
    let mut views: Vec<SpanView<'_>> = Vec::with_capacity(spans.len());
    let mut body = String::new();
    for (position, (trace_id, of_trace)) in traces.iter().enumerate() {
        let rows = tree_order(of_trace);
        for row in &rows {
            let service = row.span.service_name();
            let next = PALETTE[colours.len() % PALETTE.len()];
            colours.entry(service).or_insert(next);
        }
        render_trace_section(
            trace_id,
            &rows,
            position < OPEN_TRACES,
            &colours,
            &mut views,
            &mut body,
        );
    }
    if traces.is_empty() {
        body.push_str(
            "<p class=\"none\">No traces in the store yet. Run a program traced with \
             <code>traced</code> and open this page again.</p>\n",
        );
    }
    let title = match traces.len() {
        0 => "traced — no traces".to_owned(),
        1 => "traced — 1 trace".to_owned(),
        n => format!("traced — {n} traces"),
    };
    let data = script_json(&views);
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <div class=\"layout\">\n<main>\n<h1>{title}</h1>\n{body}</main>\n\
         <aside id=\"details\" aria-live=\"polite\">\n\
         <p class=\"hint\">Click a span to see its details.</p>\n\
         <noscript><p class=\"hint\">Span details need JavaScript; the waterfall does not.</p></noscript>\n\
         </aside>\n</div>\n\
         <script type=\"application/json\" id=\"traced-data\">{data}</script>\n\
         <script>{SCRIPT}</script>\n</body>\n</html>\n",
        title = escape(&title),
    )
}

/// The spans of each trace, the trace that started last first.
fn traces_newest_first(spans: &[SpanRecord]) -> Vec<(&str, Vec<&SpanRecord>)> {
    let mut traces: BTreeMap<&str, Vec<&SpanRecord>> = BTreeMap::new();
    for span in spans {
        traces.entry(&span.trace_id).or_default().push(span);
    }
    let mut ordered: Vec<(&str, Vec<&SpanRecord>)> = traces.into_iter().collect();
    ordered.sort_by_key(|(_, spans)| {
        std::cmp::Reverse(spans.iter().map(|s| s.start_time_unix_nano).min())
    });
    ordered
}

/// A span in the waterfall: its depth in the tree, and whether it names a parent that
/// is not in the store.
struct Row<'a> {
    span: &'a SpanRecord,
    depth: usize,
    orphan: bool,
}

/// The spans of one trace in tree order: each span followed by its children, siblings
/// by start time. Spans with no parent, or a parent not in the store, are roots. Every
/// span appears exactly once, even with duplicate ids or a parent cycle.
fn tree_order<'a>(spans: &[&'a SpanRecord]) -> Vec<Row<'a>> {
    let ids: HashSet<&str> = spans.iter().map(|s| s.span_id.as_str()).collect();
    let is_root =
        |s: &SpanRecord| s.parent_span_id.is_empty() || !ids.contains(s.parent_span_id.as_str());
    let by_start = |a: &usize, b: &usize| {
        (spans[*a].start_time_unix_nano, *a).cmp(&(spans[*b].start_time_unix_nano, *b))
    };
    let mut roots: Vec<usize> = Vec::new();
    let mut children: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, span) in spans.iter().enumerate() {
        if is_root(span) {
            roots.push(i);
        } else {
            children
                .entry(span.parent_span_id.as_str())
                .or_default()
                .push(i);
        }
    }
    roots.sort_by(by_start);
    for list in children.values_mut() {
        list.sort_by(by_start);
    }
    let mut visited = vec![false; spans.len()];
    let mut rows = Vec::with_capacity(spans.len());
    // An explicit stack: a hostile store may hold a very deep chain.
    let mut stack: Vec<(usize, usize)> = roots.iter().rev().map(|&i| (i, 0)).collect();
    loop {
        while let Some((i, depth)) = stack.pop() {
            if visited[i] {
                continue;
            }
            visited[i] = true;
            let span = spans[i];
            rows.push(Row {
                span,
                depth,
                orphan: !span.parent_span_id.is_empty() && is_root(span),
            });
            if let Some(kids) = children.get(span.span_id.as_str()) {
                stack.extend(kids.iter().rev().map(|&k| (k, depth + 1)));
            }
        }
        // Spans in a parent cycle hang under no root: show the earliest of them as one.
        match (0..spans.len())
            .filter(|&i| !visited[i])
            .min_by(|a, b| by_start(a, b))
        {
            Some(i) => stack.push((i, 0)),
            None => break,
        }
    }
    rows
}

fn render_trace_section<'a>(
    trace_id: &str,
    rows: &[Row<'a>],
    open: bool,
    colours: &HashMap<String, &'static str>,
    views: &mut Vec<SpanView<'a>>,
    out: &mut String,
) {
    let start = rows
        .iter()
        .map(|r| r.span.start_time_unix_nano)
        .min()
        .unwrap_or(0);
    let end = rows
        .iter()
        .map(|r| r.span.end_time_unix_nano.max(r.span.start_time_unix_nano))
        .max()
        .unwrap_or(start);
    let total = end.saturating_sub(start);
    let mut services: Vec<String> = Vec::new();
    for row in rows {
        let service = row.span.service_name();
        if !services.contains(&service) {
            services.push(service);
        }
    }
    let errors = rows.iter().filter(|r| r.span.status.code == 2).count();
    let root_name = rows.first().map_or("", |r| r.span.name.as_str());

    let _ = write!(
        out,
        "<details class=\"trace\"{open}>\n<summary>\n<h2>{name}</h2>\n<div class=\"meta\">\
         <span>trace <code>{id}</code></span><span>{when}</span>",
        open = if open { " open" } else { "" },
        name = escape(root_name),
        id = escape(trace_id),
        when = escape(&rfc3339(start)),
    );
    for service in &services {
        let colour = colours.get(service).copied().unwrap_or(PALETTE[0]);
        let _ = write!(
            out,
            "<span class=\"chip\" style=\"--c:{colour}\">{}</span>",
            escape(service)
        );
    }
    let _ = write!(
        out,
        "<span><b>{}</b></span><span>{} {}</span>",
        duration(total),
        rows.len(),
        if rows.len() == 1 { "span" } else { "spans" },
    );
    if errors > 0 {
        let _ = write!(
            out,
            "<span class=\"errs\">{errors} {}</span>",
            if errors == 1 { "error" } else { "errors" }
        );
    }
    out.push_str("</div>\n</summary>\n<div class=\"waterfall\">\n");
    out.push_str("<div class=\"axis\"><span>service</span><span>span</span><div class=\"ticks\">");
    for quarter in 0..=4u64 {
        let _ = write!(
            out,
            "<span style=\"left:{}%\">{}</span>",
            quarter * 25,
            match quarter {
                0 => "0".to_owned(),
                _ => duration(total / 4 * quarter + total % 4 * quarter / 4),
            },
        );
    }
    out.push_str("</div><span>duration</span></div>\n");

    for row in rows {
        let span = row.span;
        let index = views.len();
        let service = span.service_name();
        let colour = colours.get(&service).copied().unwrap_or(PALETTE[0]);
        let offset = span.start_time_unix_nano.saturating_sub(start);
        let (left, width) = if total == 0 {
            (0.0, 0.0)
        } else {
            (
                offset as f64 / total as f64 * 100.0,
                span.duration_nanos() as f64 / total as f64 * 100.0,
            )
        };
        let error = span.status.code == 2;
        let kind = span
            .attribute("langfuse.observation.type")
            .filter(|t| !t.is_empty() && t != "span");
        let _ = write!(
            out,
            "<div class=\"row{err}\" data-i=\"{index}\" tabindex=\"0\" role=\"button\" title=\"{title}\">\
             <span class=\"svc\" style=\"--c:{colour}\">{service}</span>\
             <span class=\"name\" style=\"padding-left:{indent}px\">",
            err = if error { " err" } else { "" },
            title = escape(&span.name),
            service = escape(&service),
            indent = row.depth.min(24) * 16,
        );
        if row.depth > 0 {
            out.push_str("<i class=\"elbow\"></i>");
        }
        let _ = write!(out, "<span class=\"label\">{}</span>", escape(&span.name));
        if let Some(kind) = kind {
            let _ = write!(out, "<span class=\"tag\">{}</span>", escape(&kind));
        }
        if row.orphan {
            out.push_str("<span class=\"tag\">parent not in store</span>");
        }
        if error {
            out.push_str("<span class=\"tag bad\">error</span>");
        }
        let _ = writeln!(
            out,
            "</span><span class=\"track\"><span class=\"bar\" style=\"left:{left:.3}%;width:{width:.3}%;--c:{colour}\"></span></span>\
             <span class=\"dur\">{}</span></div>",
            duration(span.duration_nanos()),
        );
        let mut view = SpanView::new(span, service, row.orphan);
        view.offset = format!("+{}", duration(offset));
        views.push(view);
    }
    out.push_str("</div>\n</details>\n");
}

/// What the details panel shows of a span, as the page's script reads it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SpanView<'a> {
    name: &'a str,
    service: String,
    trace_id: &'a str,
    span_id: &'a str,
    parent_span_id: &'a str,
    parent_missing: bool,
    kind: &'static str,
    start: String,
    /// When the span started, relative to the start of its trace.
    offset: String,
    duration: String,
    status: &'static str,
    status_message: &'a str,
    input: Option<String>,
    output: Option<String>,
    attributes: Vec<(&'a str, String)>,
    events: Vec<EventView<'a>>,
    links: Vec<(&'a str, &'a str)>,
    resource: Vec<(&'a str, String)>,
}

#[derive(Serialize)]
struct EventView<'a> {
    name: &'a str,
    /// `ERROR`, `WARN`, `INFO`, `DEBUG`, `TRACE` for a log event; empty otherwise.
    level: String,
    at: String,
    attributes: Vec<(&'a str, String)>,
}

impl<'a> SpanView<'a> {
    fn new(span: &'a SpanRecord, service: String, parent_missing: bool) -> Self {
        let pairs = |attributes: &'a [Attribute]| {
            attributes
                .iter()
                .map(|a| (a.key.as_str(), a.value.to_text()))
                .collect::<Vec<_>>()
        };
        SpanView {
            name: &span.name,
            service,
            trace_id: &span.trace_id,
            span_id: &span.span_id,
            parent_span_id: &span.parent_span_id,
            parent_missing,
            kind: match span.kind {
                1 => "internal",
                2 => "server",
                3 => "client",
                4 => "producer",
                5 => "consumer",
                _ => "unspecified",
            },
            start: rfc3339(span.start_time_unix_nano),
            offset: String::new(),
            duration: duration(span.duration_nanos()),
            status: match span.status.code {
                1 => "ok",
                2 => "error",
                _ => "unset",
            },
            status_message: &span.status.message,
            input: span.attribute("input.value").map(|v| pretty_json(&v)),
            output: span.attribute("output.value").map(|v| pretty_json(&v)),
            attributes: pairs(&span.attributes),
            events: {
                let mut events: Vec<&EventRecord> = span.events.iter().collect();
                events.sort_by_key(|e| e.time_unix_nano);
                events
            }
            .into_iter()
            .map(|event| EventView {
                name: &event.name,
                level: match crate::tree::event_line(event).0.as_str() {
                    "event" => String::new(),
                    level => level.to_owned(),
                },
                at: offset(event.time_unix_nano, span.start_time_unix_nano),
                attributes: pairs(&event.attributes),
            })
            .collect(),
            links: span
                .links
                .iter()
                .map(|l| (l.trace_id.as_str(), l.span_id.as_str()))
                .collect(),
            resource: pairs(&span.resource.attributes),
        }
    }
}

/// JSON that can sit inside a `<script>` element: no `<`, `>` or `&` can end the
/// element or open a comment, since each is written as a `\u` escape (which JSON reads
/// back as the same character).
fn script_json(views: &[SpanView<'_>]) -> String {
    let json = serde_json::to_string(views).unwrap_or_else(|_| "[]".to_owned());
    let mut out = String::with_capacity(json.len() + json.len() / 16);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// Text made safe for HTML content and quoted attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A duration for people: `850 ns`, `12.4 µs`, `10.6 ms`, `2.35 s`.
fn duration(nanos: u64) -> String {
    let n = nanos as f64;
    if nanos < 1_000 {
        format!("{nanos} ns")
    } else if nanos < 1_000_000 {
        format!("{:.1} µs", n / 1e3)
    } else if nanos < 1_000_000_000 {
        format!("{:.1} ms", n / 1e6)
    } else {
        format!("{:.2} s", n / 1e9)
    }
}

/// When an event happened, relative to the start of its span: `+1.2 ms`.
fn offset(at: u64, start: u64) -> String {
    if at >= start {
        format!("+{}", duration(at - start))
    } else {
        format!("−{}", duration(start - at))
    }
}

/// Nanoseconds since the Unix epoch as an RFC 3339 UTC time with microseconds.
fn rfc3339(nanos: u64) -> String {
    traced::export::rfc3339(std::time::UNIX_EPOCH + std::time::Duration::from_nanos(nanos))
}

/// A JSON object or array laid out on several indented lines, keys in their order and
/// numbers exactly as written; anything else (plain text, invalid JSON) as it is.
fn pretty_json(text: &str) -> String {
    let trimmed = text.trim();
    if !(trimmed.starts_with('{') || trimmed.starts_with('['))
        || serde_json::from_str::<serde::de::IgnoredAny>(trimmed).is_err()
    {
        return text.to_owned();
    }
    fn newline(out: &mut String, indent: usize) {
        out.push('\n');
        out.push_str(&"  ".repeat(indent));
    }
    let mut out = String::with_capacity(trimmed.len() * 2);
    let mut indent = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = trimmed.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
                let close = if c == '{' { '}' } else { ']' };
                out.push(c);
                if chars.peek() == Some(&close) {
                    chars.next();
                    out.push(close);
                } else {
                    indent += 1;
                    newline(&mut out, indent);
                }
            }
            '}' | ']' => {
                indent = indent.saturating_sub(1);
                newline(&mut out, indent);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, indent);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

/// The page's style sheet.
const STYLE: &str = include_str!("../assets/page.css");

/// The page's script: draws the waterfall from the JSON data in the page.
const SCRIPT: &str = include_str!("../assets/page.js");

#[cfg(test)]
#[path = "html_tests.rs"]
mod tests;
