//! The embedded store: spans written as OTLP-named JSON lines, one file per process,
//! read back and drawn as a tree.

use std::io::Write;

use opentelemetry::trace::{Span as _, Status, TraceContextExt, Tracer, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use traced::export::{AnyValue, FileExporter};
use traced_viewer::{read_store, render_trace};

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("traced-store-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn spans_round_trip_through_the_store_and_draw_as_a_tree() {
    let dir = temp_dir("roundtrip");
    let provider = SdkTracerProvider::builder()
        .with_resource(Resource::builder().with_service_name("svc one").build())
        .with_simple_exporter(FileExporter::new(&dir))
        .build();
    let tracer = provider.tracer("test");
    let mut root = tracer.start("root");
    let trace_id = format!("{:032x}", root.span_context().trace_id());
    root.set_attribute(KeyValue::new("input.value", r#"{"q":"hi"}"#));
    root.set_attribute(KeyValue::new("count", 3));
    root.set_attribute(KeyValue::new("ratio", 0.5));
    root.set_attribute(KeyValue::new("flag", true));
    let cx = Context::new().with_span(root);
    let mut child = tracer.start_with_context("child", &cx);
    child.add_event(
        "exception",
        vec![KeyValue::new("exception.message", "boom")],
    );
    child.set_status(Status::error("boom"));
    child.end();
    cx.span().end();
    provider.shutdown().expect("flushed");

    let files: Vec<_> = std::fs::read_dir(&dir)
        .expect("dir")
        .filter_map(Result::ok)
        .collect();
    assert_eq!(files.len(), 1);
    let name = files[0].file_name().to_string_lossy().into_owned();
    assert_eq!(name, format!("svc_one-{}.jsonl", std::process::id()));

    // A torn last line (a process killed mid-write) is skipped and counted, not fatal.
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(files[0].path())
        .expect("open");
    file.write_all(br#"{"traceId":"tor"#).expect("write");

    let store = read_store(&dir).expect("readable");
    assert_eq!(store.spans.len(), 2);
    assert_eq!(store.skipped_lines, 1);
    let root = store.spans.iter().find(|s| s.name == "root").expect("root");
    let child = store
        .spans
        .iter()
        .find(|s| s.name == "child")
        .expect("child");
    assert_eq!(root.trace_id, trace_id);
    assert_eq!(root.parent_span_id, "");
    assert_eq!(child.parent_span_id, root.span_id);
    assert_eq!(root.service_name(), "svc one");
    assert_eq!(root.attribute("count").as_deref(), Some("3"));
    assert!(root
        .attributes
        .iter()
        .any(|a| a.key == "ratio" && a.value == AnyValue::DoubleValue(0.5)));
    assert_eq!(child.status.code, 2);
    assert_eq!(child.events[0].name, "exception");
    assert!(child.end_time_unix_nano >= child.start_time_unix_nano);

    // The OTLP/JSON names, with 64-bit integers as strings.
    let line = std::fs::read_to_string(files[0].path()).expect("read");
    for field in [
        "\"traceId\"",
        "\"spanId\"",
        "\"parentSpanId\"",
        "\"startTimeUnixNano\":\"",
        "\"intValue\":\"3\"",
    ] {
        assert!(line.contains(field), "{field} missing");
    }

    let tree = render_trace(&store.spans, &trace_id);
    let lines: Vec<&str> = tree.lines().collect();
    assert_eq!(lines[0], format!("trace {trace_id}"));
    assert!(lines[1].starts_with("svc one  root  "), "{tree}");
    assert!(lines[2].contains(r#"in  {"q":"hi"}"#), "{tree}");
    assert!(
        lines[3].starts_with("svc one    child  ") && lines[3].contains("ERROR boom"),
        "{tree}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
