//! The `traced` viewer binary over a small store written by the `FileExporter`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use opentelemetry::trace::{Span as _, Status, TraceContextExt, Tracer, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use traced::export::FileExporter;

/// A fresh store with two traces: `ask question` > `look up <facts>` (an error) under
/// service `svc-viewer`, and a lone `other trace root`. Returns the directory and the
/// id of the first trace.
fn store(name: &str) -> (PathBuf, String) {
    let dir = std::env::temp_dir().join(format!("traced-viewer-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let provider = SdkTracerProvider::builder()
        .with_resource(Resource::builder().with_service_name("svc-viewer").build())
        .with_simple_exporter(FileExporter::new(&dir))
        .build();
    let tracer = provider.tracer("viewer-test");
    let mut root = tracer.start("ask question");
    let trace_id = format!("{:032x}", root.span_context().trace_id());
    root.set_attribute(KeyValue::new("input.value", r#"{"question":"why?"}"#));
    let cx = Context::new().with_span(root);
    let mut child = tracer.start_with_context("look up <facts>", &cx);
    child.add_event(
        "exception",
        vec![KeyValue::new("exception.message", "index offline")],
    );
    child.set_status(Status::error("index offline"));
    child.end();
    cx.span().end();
    tracer.start("other trace root").end();
    if let Err(error) = provider.shutdown() {
        panic!("flushing the store: {error}");
    }
    (dir, trace_id)
}

fn traced(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_traced"))
        .arg("view")
        .arg(dir)
        .args(args)
        .env_remove("TRACED_DIR")
        .output()
        .expect("the viewer runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn draws_every_trace_as_a_tree() {
    let (dir, trace_id) = store("tree");
    let out = traced(&[], &dir);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    for name in [
        "ask question",
        "look up <facts>",
        "other trace root",
        "svc-viewer",
    ] {
        assert!(stdout.contains(name), "{name} missing from\n{stdout}");
    }
    assert!(stdout.contains(&format!("trace {trace_id}")));
    assert!(stdout.contains("ERROR index offline"));
    assert!(text(&out.stderr).is_empty());
}

#[test]
fn draws_one_trace_by_id() {
    let (dir, trace_id) = store("one");
    let out = traced(&["--trace", &trace_id], &dir);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("ask question"));
    assert!(stdout.contains("look up <facts>"));
    assert!(!stdout.contains("other trace root"));
}

#[test]
fn a_missing_trace_id_fails_with_exit_code_1() {
    let (dir, _) = store("missing");
    let out = traced(&["--trace", "0123456789abcdef0123456789abcdef"], &dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).contains("no trace 0123456789abcdef0123456789abcdef"));
}

#[test]
fn writes_a_waterfall_page() {
    let (dir, trace_id) = store("html");
    let page = dir.join("page.html");
    let out = traced(&["--html", &page.to_string_lossy()], &dir);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), page.to_string_lossy());
    let html = std::fs::read_to_string(&page).expect("the page was written");
    assert!(html.starts_with("<!DOCTYPE html>"));
    for name in [
        "ask question",
        "look up &lt;facts&gt;",
        "other trace root",
        "svc-viewer",
    ] {
        assert!(html.contains(name), "{name} missing from the page");
    }
    assert!(html.contains("index offline"));

    // Only the asked-for trace, with --trace.
    let one = dir.join("one.html");
    let out = traced(
        &["--trace", &trace_id, "--html", &one.to_string_lossy()],
        &dir,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let html = std::fs::read_to_string(&one).expect("the page was written");
    assert!(html.contains("ask question"));
    assert!(!html.contains("other trace root"));
}

#[test]
fn reports_lines_that_are_not_spans() {
    let (dir, _) = store("torn");
    let file = std::fs::read_dir(&dir)
        .expect("the store exists")
        .filter_map(Result::ok)
        .find(|e| e.path().extension().is_some_and(|x| x == "jsonl"))
        .expect("a store file");
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(file.path())
        .expect("open");
    file.write_all(br#"{"traceId":"tor"#).expect("write");
    let out = traced(&[], &dir);
    assert!(out.status.success());
    assert!(text(&out.stderr).contains("skipped 1 line"));
    assert!(text(&out.stdout).contains("ask question"));
}

#[test]
fn help_and_bad_arguments() {
    let bin = env!("CARGO_BIN_EXE_traced");
    for help in [&["--help"][..], &["help"], &["view", "--help"]] {
        let out = Command::new(bin).args(help).output().expect("runs");
        assert!(out.status.success(), "{help:?}");
        assert!(text(&out.stdout).contains("traced view [DIR]"));
    }
    for bad in [
        &[][..],
        &["show"],
        &["view", "--bogus"],
        &["view", "--trace"],
    ] {
        let out = Command::new(bin).args(bad).output().expect("runs");
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(text(&out.stderr).contains("Usage:"), "{bad:?}");
    }
}

#[test]
fn an_empty_store_is_not_an_error() {
    let dir = std::env::temp_dir().join(format!("traced-viewer-empty-{}", std::process::id()));
    let out = traced(&[], &dir);
    assert!(out.status.success());
    assert!(text(&out.stderr).contains("no traces"));
}
