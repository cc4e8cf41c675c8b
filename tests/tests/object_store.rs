//! Large values kept whole in an S3-compatible object store: moto's S3 server from PyPI on
//! 127.0.0.1, started by `scripts/object_store.sh` (which runs these `#[ignore]`d tests
//! with `TRACED_TEST_S3_ENDPOINT` set). The span keeps the cut value, the whole size and
//! the object's URL; the object holds the whole value; with the store down, the spans
//! still arrive, values cut, and the failure is counted.

use std::time::{Duration, Instant};

use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};
use traced::{traced, Config};

#[traced]
fn summarise(document: &str) -> usize {
    document.len()
}

fn attr(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

/// Sets the store's standard variables (as a deployment would) for `endpoint`.
fn s3_environment(endpoint: &str) {
    // SAFETY: set before any thread of this test reads the environment (the tests run one
    // at a time, `--test-threads=1`, as the script runs them).
    unsafe {
        std::env::set_var("AWS_ENDPOINT", endpoint);
        std::env::set_var("AWS_ALLOW_HTTP", "true");
        std::env::set_var("AWS_ACCESS_KEY_ID", "test");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "test");
        std::env::set_var("AWS_REGION", "us-east-1");
    }
}

/// Runs `summarise` on a 20 KB document under a pipeline storing large values in
/// `s3://traced-test/runs`; the span, once `done` says the uploads are over.
fn traced_call(done: impl Fn(traced::BlobStats) -> bool) -> SpanData {
    let exporter = InMemorySpanExporter::default();
    let guard = Config::new()
        .exporter(exporter.clone())
        .max_attribute_bytes(1024)
        .blob_store("s3://traced-test/runs")
        .init()
        .expect("pipeline");
    let document = "lorem ipsum ".repeat(20_000 / 12);
    assert_eq!(summarise(&document), document.len());
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done(traced::blob_stats()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    guard.flush();
    let spans = exporter.get_finished_spans().expect("spans");
    guard.shutdown();
    spans
        .into_iter()
        .find(|s| s.name == "summarise")
        .expect("the span arrives whatever the store does")
}

#[test]
#[ignore = "needs moto's S3 server: bash scripts/object_store.sh"]
fn a_large_value_is_stored_whole_and_the_span_links_to_it() {
    let endpoint =
        std::env::var("TRACED_TEST_S3_ENDPOINT").expect("run by scripts/object_store.sh");
    s3_environment(&endpoint);
    let before = traced::blob_stats();
    let span = traced_call(|now| now.uploaded > before.uploaded || now.failed > before.failed);
    let after = traced::blob_stats();
    assert_eq!(after.uploaded, before.uploaded + 1, "{after:?}");
    assert_eq!(after.failed, before.failed);
    let kept = attr(&span, "input.value").expect("input");
    assert!(kept.len() <= 1024, "cut at the limit: {} bytes", kept.len());
    let whole: usize = attr(&span, "traced.truncated.input.value")
        .expect("whole size")
        .parse()
        .expect("a number");
    assert!(whole > 20_000, "{whole}");
    let url = attr(&span, "traced.blob.input.value").expect("the object's URL");
    let key = url
        .strip_prefix("s3://traced-test/")
        .unwrap_or_else(|| panic!("{url}"));
    assert!(
        key.starts_with("runs/") && key.ends_with("-input_value.txt"),
        "{url}"
    );
    // The object holds the whole value, read back through boto3.
    let verify = std::env::var("TRACED_TEST_S3_VERIFY").expect("run by scripts/object_store.sh");
    let mut command = verify.split_whitespace();
    let output = std::process::Command::new(command.next().expect("python"))
        .args(command)
        .args([endpoint.as_str(), "traced-test", key])
        .output()
        .expect("get_object.py runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stored: serde_json::Value = serde_json::from_slice(&output.stdout).expect("the whole JSON");
    assert_eq!(
        stored["document"].as_str().map(str::len),
        Some(whole - r#"{"document":""}"#.len())
    );
}

#[test]
#[ignore = "needs moto's S3 server: bash scripts/object_store.sh"]
fn with_the_store_down_spans_arrive_values_cut_and_the_failure_is_counted() {
    let unused = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a port");
    s3_environment(&format!("http://{unused}"));
    let before = traced::blob_stats();
    let span = traced_call(|now| now.failed > before.failed);
    let after = traced::blob_stats();
    assert_eq!(after.failed, before.failed + 1, "{after:?}");
    assert_eq!(after.uploaded, before.uploaded);
    assert!(attr(&span, "input.value").is_some_and(|v| v.len() <= 1024));
    assert!(attr(&span, "traced.truncated.input.value").is_some());
}
