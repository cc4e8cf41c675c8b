//! The page: its structure, escaping, and the data it carries.

use super::*;
use traced::export::{AnyValue, EventRecord, Resource, Scope, StatusRecord};

fn span(trace: &str, id: &str, parent: &str, name: &str, service: &str) -> SpanRecord {
    SpanRecord {
        resource: Resource {
            attributes: vec![Attribute {
                key: "service.name".into(),
                value: AnyValue::StringValue(service.into()),
            }],
        },
        scope: Scope::default(),
        trace_id: trace.into(),
        span_id: id.into(),
        parent_span_id: parent.into(),
        name: name.into(),
        kind: 1,
        start_time_unix_nano: 1_700_000_000_000_000_000,
        end_time_unix_nano: 1_700_000_000_010_000_000,
        attributes: Vec::new(),
        events: Vec::new(),
        links: Vec::new(),
        status: StatusRecord::default(),
    }
}

fn sample() -> Vec<SpanRecord> {
    let t = "4bf92f3577b34da6a3ce929d0e0e4736";
    let mut root = span(t, "a000000000000001", "", "POST /run", "server-a");
    root.attributes.push(Attribute {
        key: "input.value".into(),
        value: AnyValue::StringValue(r#"{"question":"why?"}"#.into()),
    });
    let mut child = span(
        t,
        "a000000000000002",
        "a000000000000001",
        "node A",
        "server-a",
    );
    child.start_time_unix_nano += 1_000_000;
    let mut remote = span(
        t,
        "b000000000000001",
        "a000000000000002",
        "node A-1",
        "server-b",
    );
    remote.start_time_unix_nano += 2_000_000;
    remote.status = StatusRecord {
        code: 2,
        message: "boom".into(),
    };
    remote.events.push(EventRecord {
        time_unix_nano: remote.start_time_unix_nano + 500,
        name: "exception".into(),
        attributes: vec![Attribute {
            key: "exception.message".into(),
            value: AnyValue::StringValue("boom: disk full".into()),
        }],
    });
    let mut orphan = span(
        t,
        "c000000000000001",
        "ffffffffffffffff",
        "late arrival",
        "worker",
    );
    orphan.start_time_unix_nano += 3_000_000;
    vec![remote, orphan, child, root]
}

/// The static part of the page: everything before the embedded data.
fn markup(page: &str) -> &str {
    page.split("<script type=\"application/json\"")
        .next()
        .unwrap_or(page)
}

#[test]
fn names_and_services_of_every_span_are_in_the_static_rows() {
    let page = render_html(&sample());
    let rows = markup(&page);
    for text in [
        "POST /run",
        "node A",
        "node A-1",
        "late arrival",
        "server-a",
        "server-b",
        "worker",
    ] {
        assert!(rows.contains(text), "{text} missing");
    }
    assert_eq!(rows.matches("class=\"row").count(), 4);
    assert!(rows.contains("1 error"));
    assert!(rows.contains("parent not in store"));
    assert!(page.contains("boom: disk full"));
}

#[test]
fn rows_are_in_tree_order_with_orphans_as_roots() {
    let spans = sample();
    let refs: Vec<&SpanRecord> = spans.iter().collect();
    let rows = tree_order(&refs);
    let order: Vec<(&str, usize)> = rows
        .iter()
        .map(|r| (r.span.name.as_str(), r.depth))
        .collect();
    assert_eq!(
        order,
        [
            ("POST /run", 0),
            ("node A", 1),
            ("node A-1", 2),
            ("late arrival", 0)
        ]
    );
    assert!(rows[3].orphan);
    assert!(!rows[0].orphan && !rows[2].orphan);
}

#[test]
fn a_parent_cycle_still_shows_every_span_once() {
    let t = "t";
    let a = span(t, "1", "2", "a", "s");
    let b = span(t, "2", "1", "b", "s");
    let c = span(t, "3", "3", "c", "s");
    let spans = [a, b, c];
    let refs: Vec<&SpanRecord> = spans.iter().collect();
    let mut names: Vec<&str> = tree_order(&refs)
        .iter()
        .map(|r| r.span.name.as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["a", "b", "c"]);
}

#[test]
fn hostile_names_do_not_become_markup() {
    let hostile = "</script><script>alert(1)</script>";
    let mut evil = span("t1", "1", "", hostile, "<img src=x onerror=alert(2)>");
    evil.attributes.push(Attribute {
        key: "<b>key</b>".into(),
        value: AnyValue::StringValue("</script><!-- & -->".into()),
    });
    evil.status = StatusRecord {
        code: 2,
        message: "\"><script>alert(3)</script>".into(),
    };
    let page = render_html(&[evil]);
    assert_eq!(
        page.matches("<script").count(),
        2,
        "only the page's own scripts"
    );
    assert_eq!(page.matches("</script>").count(), 2);
    assert!(!page.contains("<img"));
    assert!(!page.contains("<b>key"));
    assert!(!page.contains("<!--"));
    assert!(page.contains("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
    // The data survives the escaping: JSON reads `\u003c` back as `<`.
    let data = page
        .split("id=\"traced-data\">")
        .nth(1)
        .and_then(|rest| rest.split("</script>").next())
        .unwrap_or_default();
    let views: serde_json::Value = serde_json::from_str(data).expect("valid JSON");
    assert_eq!(views[0]["name"], hostile);
    assert_eq!(views[0]["attributes"][0][1], "</script><!-- & -->");
}

#[test]
fn an_empty_store_says_there_are_no_traces() {
    let page = render_html(&[]);
    assert!(page.contains("No traces"));
    assert!(page.contains("</html>"));
    assert!(!page.contains("class=\"row"));
}

#[test]
fn the_page_loads_nothing_from_elsewhere() {
    let page = render_html(&sample());
    assert!(!page.contains("http://"));
    assert!(!page.contains("https://"));
    assert!(!page.contains("src="));
    assert!(!page.contains("href="));
    assert!(!page.contains("@import"));
    assert!(!page.contains("url("));
}

#[test]
fn traces_come_newest_first() {
    let old = span("old", "1", "", "old root", "s");
    let mut new = span("new", "2", "", "new root", "s");
    new.start_time_unix_nano += 5_000_000_000;
    new.end_time_unix_nano += 5_000_000_000;
    let page = render_html(&[old, new]);
    let new_at = page.find("new root").unwrap_or(usize::MAX);
    let old_at = page.find("old root").unwrap_or(0);
    assert!(new_at < old_at);
}

#[test]
fn helpers_format_for_people() {
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000000Z");
    assert_eq!(
        rfc3339(1_700_000_000_123_456_789),
        "2023-11-14T22:13:20.123456Z"
    );
    assert_eq!(
        rfc3339(951_782_400 * 1_000_000_000),
        "2000-02-29T00:00:00.000000Z"
    );
    assert_eq!(duration(850), "850 ns");
    assert_eq!(duration(12_400), "12.4 µs");
    assert_eq!(duration(10_600_000), "10.6 ms");
    assert_eq!(duration(2_350_000_000), "2.35 s");
    assert_eq!(
        pretty_json(r#"{"b":1,"a":[],"c":{"d":"x,y:{"},"e":[1, 2]}"#),
        "{\n  \"b\": 1,\n  \"a\": [],\n  \"c\": {\n    \"d\": \"x,y:{\"\n  },\n  \"e\": [\n    1,\n    2\n  ]\n}"
    );
    assert_eq!(pretty_json("plain {text"), "plain {text");
    assert_eq!(pretty_json("{broken"), "{broken");
}

fn log_event(at: u64, level: &str, text: &str) -> EventRecord {
    EventRecord {
        time_unix_nano: at,
        name: text.into(),
        attributes: vec![Attribute {
            key: "level".into(),
            value: AnyValue::StringValue(level.into()),
        }],
    }
}

#[test]
fn log_events_show_in_time_order_with_their_level() {
    let t = "5bf92f3577b34da6a3ce929d0e0e4736";
    let mut step = span(t, "c000000000000001", "", "step", "svc");
    let start = step.start_time_unix_nano;
    // Recorded out of order (two threads, say): shown in time order.
    step.events
        .push(log_event(start + 3_000_000, "WARN", "careful"));
    step.events
        .push(log_event(start + 1_000_000, "INFO", "starting"));
    let tree = crate::tree::render_trace(&[step.clone()], t);
    let starting = tree.find("· +1.0 ms INFO starting").expect("info line");
    let careful = tree.find("· +3.0 ms WARN careful").expect("warn line");
    assert!(starting < careful, "{tree}");

    let page = render_html(&[step]);
    let at_info = page
        .find(r#""level":"INFO""#)
        .expect("level in the page data");
    let at_warn = page
        .find(r#""level":"WARN""#)
        .expect("level in the page data");
    assert!(at_info < at_warn);
}
