//! Against the real Python SDKs from PyPI (langsmith 0.15.1, langfuse 3.15.0,
//! opentelemetry-sdk, pinned in `scripts/python_sdks/requirements.txt`), both ways:
//!
//! - a LangSmith `@traceable` caller → a `#[traced(extract)]` handler, continued and
//!   nested under the caller's run with the `langsmith.*` ids LangSmith requires;
//! - `traced::inject` → `RunTree.from_headers` and `tracing_context(parent=headers)`: the
//!   Python run's parent is our span's run id and its trace id ours;
//! - Langfuse's `propagate_attributes(as_baggage=True)` → our spans carry user, session,
//!   tags, metadata, version and trace name;
//! - `TraceAttributes` → a Langfuse-SDK service, whose span processor puts them on its
//!   spans.
//!
//! Each Python side is a script in `scripts/python_sdks/` that reads the headers it is
//! sent as JSON on stdin and prints what its SDK made of them (or the headers its SDK
//! writes) as JSON on stdout. They need the virtualenv `scripts/python_sdks.sh` makes, so
//! they are `#[ignore]`d here and run by that script (and so by `.ci/run`):
//! `bash scripts/python_sdks.sh`.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Mutex;

use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{json, Value};
use traced::export::SpanRecord;
use traced::{inject, traced, Config, TraceAttributes};

/// One pipeline at a time: each test installs its own.
static PIPELINE: Mutex<()> = Mutex::new(());

/// Runs `scripts/python_sdks/{script}` with `input` on stdin; its stdout, parsed.
fn python(script: &str, input: Value) -> Value {
    let interpreter = std::env::var("TRACED_PYTHON")
        .expect("TRACED_PYTHON: run these through scripts/python_sdks.sh");
    let dir = std::env::var("TRACED_PYSDK_SCRIPTS")
        .expect("TRACED_PYSDK_SCRIPTS: run these through scripts/python_sdks.sh");
    let mut child = Command::new(interpreter)
        .arg(PathBuf::from(dir).join(script))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.to_string().as_bytes())
        .expect("input written");
    let output = child.wait_with_output().expect("python ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{script} failed: {stderr}");
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{script} printed no JSON ({e}): {}\n{stderr}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// Headers from the JSON object a script printed.
fn header_map(object: &Value) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in object.as_object().expect("headers object") {
        map.insert(
            HeaderName::from_bytes(name.as_bytes()).expect("header name"),
            HeaderValue::from_str(value.as_str().expect("text value")).expect("header value"),
        );
    }
    map
}

/// Headers as the JSON object a script reads (lower-case names, as a Python web
/// framework hands them over).
fn header_json(map: &HeaderMap) -> Value {
    let object: serde_json::Map<String, Value> = map
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                Value::String(value.to_str().expect("text").to_owned()),
            )
        })
        .collect();
    json!({ "headers": object })
}

/// Runs `body` with a pipeline that writes to a fresh embedded store, LangSmith runs on;
/// the spans it recorded.
fn recorded<R>(name: &str, body: impl FnOnce() -> R) -> (R, Vec<SpanRecord>) {
    let _one = PIPELINE.lock().unwrap_or_else(|e| e.into_inner());
    let dir = std::env::temp_dir().join(format!("traced-pysdk-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let guard = Config::new()
        .embedded(&dir)
        .langsmith_runs(true)
        .init()
        .expect("pipeline");
    let result = body();
    guard.shutdown();
    let store = traced_viewer::read_store(&dir).expect("store");
    let _ = std::fs::remove_dir_all(&dir);
    (result, store.spans)
}

fn span<'a>(spans: &'a [SpanRecord], name: &str) -> &'a SpanRecord {
    spans
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no {name} span"))
}

fn attribute(span: &SpanRecord, key: &str) -> String {
    span.attribute(key)
        .unwrap_or_else(|| panic!("{} has no {key}", span.name))
}

/// `a-b-c` UUID text to 32 hex digits.
fn hex(uuid: &Value) -> String {
    uuid.as_str().expect("uuid text").replace('-', "")
}

#[traced(extract)]
fn rust_handler(headers: &HeaderMap) -> HeaderMap {
    rust_child()
}

#[traced]
fn rust_child() -> HeaderMap {
    let mut out = HeaderMap::new();
    inject(&mut out);
    out
}

#[test]
#[ignore = "needs the Python SDKs: bash scripts/python_sdks.sh"]
fn a_langsmith_traceable_caller_is_continued_under_its_run() {
    let caller = python("langsmith_out.py", json!({}));
    let headers = header_map(&caller["headers"]);
    assert!(headers.contains_key("langsmith-trace"), "{caller}");
    let (_, spans) = recorded("ls-in", || rust_handler(&headers));
    let handler = span(&spans, "rust_handler");
    let child = span(&spans, "rust_child");
    assert_eq!(attribute(handler, "langsmith.trace.id"), caller["trace_id"]);
    assert_eq!(
        attribute(handler, "langsmith.span.parent_id"),
        caller["run_id"]
    );
    let order = attribute(handler, "langsmith.span.dotted_order");
    let caller_order = caller["dotted_order"].as_str().expect("dotted order");
    assert!(order.starts_with(&format!("{caller_order}.")), "{order}");
    assert_eq!(
        attribute(handler, "langsmith.trace.session_name"),
        "interop-project"
    );
    assert_eq!(
        attribute(child, "langsmith.span.parent_id"),
        attribute(handler, "langsmith.span.id")
    );
    // The OpenTelemetry trace is LangSmith's trace UUID, as its SDK maps it.
    assert_eq!(handler.trace_id, hex(&caller["trace_id"]));
    // Its metadata and tags became the trace's, on every span.
    assert_eq!(attribute(child, "langsmith.metadata.tenant"), "acme");
    assert_eq!(attribute(child, "langfuse.trace.metadata.tenant"), "acme");
    assert!(attribute(child, "langsmith.span.tags").contains("py-tag"));
}

#[test]
#[ignore = "needs the Python SDKs: bash scripts/python_sdks.sh"]
fn python_runs_continue_under_a_rust_span() {
    let (callee, spans) = recorded("ls-out", || {
        let _scope = TraceAttributes::new()
            .tags(["rust-tag"])
            .metadata("tenant", "acme")
            .attach();
        let headers = rust_child();
        python("langsmith_in.py", header_json(&headers))
    });
    assert_eq!(callee["error"], Value::Null, "{callee}");
    let ours = span(&spans, "rust_child");
    let run_id = attribute(ours, "langsmith.span.id");
    let trace_id = attribute(ours, "langsmith.trace.id");
    assert_eq!(
        run_id, trace_id,
        "a trace begun here: its root run is the trace"
    );
    for run in [&callee["from_headers"], &callee["child"]] {
        assert_eq!(run["trace_id"], trace_id.as_str(), "{callee}");
        assert_eq!(run["metadata"]["tenant"], "acme", "{callee}");
        assert!(
            run["tags"]
                .as_array()
                .is_some_and(|t| t.contains(&json!("rust-tag"))),
            "{callee}"
        );
    }
    // RunTree.from_headers stands for our span; the traceable child nests under it.
    assert_eq!(callee["from_headers"]["id"], run_id.as_str());
    assert_eq!(callee["child"]["parent_run_id"], run_id.as_str());
    let order = attribute(ours, "langsmith.span.dotted_order");
    let child_order = callee["child"]["dotted_order"].as_str().expect("order");
    assert!(
        child_order.starts_with(&format!("{order}.")),
        "{child_order}"
    );
}

#[test]
#[ignore = "needs the Python SDKs: bash scripts/python_sdks.sh"]
fn langfuse_propagated_attributes_reach_our_spans() {
    let caller = python("langfuse_out.py", json!({}));
    let headers = header_map(&caller["headers"]);
    let (_, spans) = recorded("lf-in", || rust_handler(&headers));
    let handler = span(&spans, "rust_handler");
    assert_eq!(handler.trace_id, caller["trace_id"]);
    assert_eq!(handler.parent_span_id, caller["span_id"]);
    for name in ["rust_handler", "rust_child"] {
        let s = span(&spans, name);
        assert_eq!(attribute(s, "user.id"), "u-1");
        assert_eq!(attribute(s, "session.id"), "s 1");
        assert_eq!(attribute(s, "langfuse.trace.name"), "checkout");
        assert_eq!(attribute(s, "langfuse.version"), "v9");
        assert_eq!(attribute(s, "langfuse.trace.metadata.tenant"), "acme");
        assert_eq!(attribute(s, "langsmith.span.tags"), "t1,t2");
    }
}

#[test]
#[ignore = "needs the Python SDKs: bash scripts/python_sdks.sh"]
fn trace_attributes_reach_a_langfuse_service() {
    let (callee, spans) = recorded("lf-out", || {
        let _scope = TraceAttributes::new()
            .user_id("u-1")
            .session_id("s 1")
            .trace_name("checkout")
            .tags(["t1", "t2"])
            .metadata("tenant", "acme")
            .version("v9")
            .attach();
        let headers = rust_child();
        python("langfuse_in.py", header_json(&headers))
    });
    let ours = span(&spans, "rust_child");
    assert_eq!(callee["trace_id"], ours.trace_id.as_str(), "{callee}");
    assert_eq!(callee["parent_span_id"], ours.span_id.as_str(), "{callee}");
    let attributes = &callee["attributes"];
    assert_eq!(attributes["user.id"], "u-1", "{callee}");
    assert_eq!(attributes["session.id"], "s 1", "{callee}");
    assert_eq!(attributes["langfuse.trace.name"], "checkout", "{callee}");
    assert_eq!(attributes["langfuse.version"], "v9", "{callee}");
    assert_eq!(
        attributes["langfuse.trace.metadata.tenant"], "acme",
        "{callee}"
    );
    // From baggage Langfuse's SDK keeps tags as the text it got; its server splits it
    // at commas.
    assert_eq!(attributes["langfuse.trace.tags"], "t1,t2", "{callee}");
}
