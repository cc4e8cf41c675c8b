//! Instrumentation never changes what the program does: a `Serialize`, `Debug` or
//! `Display` that panics, a `reduce` function or an `Accumulate` impl that panics, a mask
//! function that panics — the body runs, its value is returned, and the span says which
//! capture failed. A panic of the body itself goes on, with its own message recorded.
//! And every text that comes from outside stays within the attribute limit.

use std::fmt;

use futures::StreamExt as _;
use opentelemetry::trace::Status;
use opentelemetry_sdk::trace::InMemorySpanExporter;
use serde::{Serialize, Serializer};
use traced::{traced, Accumulate, Config, StreamOutput};
use traced_tests::{attr_str, in_trace, Trace};

/// Serialises by panicking.
struct BadSerialize(u32);
impl Serialize for BadSerialize {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        panic!("serialize exploded for {}", self.0)
    }
}

/// Debug-formats by panicking (and has no `Serialize`).
struct BadDebug;
impl fmt::Debug for BadDebug {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("debug exploded")
    }
}

/// An error whose `Display` panics.
#[derive(Debug)]
struct BadDisplayError;
impl fmt::Display for BadDisplayError {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("display exploded")
    }
}
impl std::error::Error for BadDisplayError {}

#[traced(name = "contained input")]
fn takes_bad_input(value: BadSerialize, other: u32) -> u32 {
    value.0 + other
}

#[traced(name = "contained debug input")]
fn takes_bad_debug(value: BadDebug) -> &'static str {
    let _ = value;
    "ran"
}

#[traced(name = "contained output")]
fn returns_bad_output(n: u32) -> BadSerialize {
    BadSerialize(n * 2)
}

#[traced(name = "contained error")]
fn fails_with_bad_display() -> Result<u8, BadDisplayError> {
    Err(BadDisplayError)
}

#[traced(name = "a body that panics")]
fn body_panics(reason: &str) -> u8 {
    panic!("the body's own panic: {reason}")
}

fn failure(trace: &Trace, span: &str, key: &str) -> String {
    let span = trace.span(span);
    attr_str(span, &format!("traced.capture.failed.{key}"))
        .unwrap_or_else(|| panic!("no capture failure on {key}: {:?}", span.attributes))
}

#[test]
fn a_panicking_serialize_of_an_argument_does_not_stop_the_body() {
    let (value, trace) = in_trace(|| takes_bad_input(BadSerialize(40), 2));
    assert_eq!(value, 42);
    let what = failure(&trace, "contained input", "input.value");
    assert!(what.contains("Serialize of"), "{what}");
    assert!(what.contains("serialize exploded for 40"), "{what}");
    let span = trace.span("contained input");
    let input = attr_str(span, "input.value").expect("input");
    let json: serde_json::Value = serde_json::from_str(&input).expect("still valid JSON");
    assert_eq!(json["other"], 2, "the other argument is still captured");
    assert_eq!(attr_str(span, "output.value").as_deref(), Some("42"));
    assert_eq!(span.status, Status::Unset, "the call did not fail");
}

#[test]
fn a_panicking_debug_of_an_argument_does_not_stop_the_body() {
    let (value, trace) = in_trace(|| takes_bad_debug(BadDebug));
    assert_eq!(value, "ran");
    let what = failure(&trace, "contained debug input", "input.value");
    assert!(
        what.contains("Debug of") && what.contains("debug exploded"),
        "{what}"
    );
}

#[test]
fn a_panicking_serialize_of_the_output_keeps_the_returned_value() {
    let (value, trace) = in_trace(|| returns_bad_output(21));
    assert_eq!(value.0, 42, "the value the body computed is returned");
    let what = failure(&trace, "contained output", "output.value");
    assert!(what.contains("serialize exploded for 42"), "{what}");
}

#[test]
fn a_panicking_display_of_an_error_keeps_the_error() {
    let (value, trace) = in_trace(fails_with_bad_display);
    assert!(matches!(value, Err(BadDisplayError)));
    let span = trace.span("contained error");
    let Status::Error { description } = &span.status else {
        panic!("status: {:?}", span.status)
    };
    assert!(description.contains("Display of"), "{description}");
    assert!(description.contains("display exploded"), "{description}");
}

#[test]
fn a_panicking_body_still_panics_with_its_own_message_recorded() {
    let (caught, trace) = in_trace(|| std::panic::catch_unwind(|| body_panics("on purpose")));
    let payload = caught.expect_err("the panic goes on");
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert_eq!(message, "the body's own panic: on purpose");
    let span = trace.span("a body that panics");
    assert_eq!(attr_str(span, "traced.panicked").as_deref(), Some("true"));
    let Status::Error { description } = &span.status else {
        panic!("status: {:?}", span.status)
    };
    assert!(
        description.contains("the body's own panic: on purpose"),
        "{description}"
    );
    assert!(!description.contains("unwinding"), "{description}");
}

/// A chunk type whose `Accumulate` panics on one chunk.
#[derive(Debug)]
struct Chunk(&'static str);
impl Accumulate for Chunk {
    fn accumulate(&self, output: &mut StreamOutput) {
        if self.0 == "bad" {
            panic!("accumulate exploded");
        }
        output.push_text(self.0);
    }
}

#[traced(name = "contained accumulate")]
fn chunks() -> impl futures::Stream<Item = Chunk> {
    futures::stream::iter([Chunk("a"), Chunk("bad"), Chunk("c")])
}

fn reduce_panics(output: &mut StreamOutput, item: &u32) {
    if *item == 2 {
        panic!("reduce exploded");
    }
    output.push_text(&item.to_string());
}

#[traced(name = "contained reduce", reduce = reduce_panics)]
fn numbers() -> impl futures::Stream<Item = u32> {
    futures::stream::iter([1, 2, 3])
}

#[test]
fn a_panicking_accumulate_or_reduce_loses_no_item() {
    // Not futures' block_on: the SDK's simple span processor runs its own inside.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let (items, trace) =
        in_trace(|| runtime.block_on(chunks().map(|c| c.0).collect::<Vec<&str>>()));
    assert_eq!(items, ["a", "bad", "c"]);
    let span = trace.span("contained accumulate");
    assert_eq!(attr_str(span, "output.value").as_deref(), Some("ac"));
    assert!(failure(&trace, "contained accumulate", "output.value").contains("accumulate exploded"));

    let (items, trace) = in_trace(|| runtime.block_on(numbers().collect::<Vec<u32>>()));
    assert_eq!(items, [1, 2, 3]);
    assert!(failure(&trace, "contained reduce", "output.value").contains("reduce exploded"));
}

#[traced(name = "masked by a panicking mask")]
fn with_mask(note: &str) -> usize {
    note.len()
}

#[test]
fn a_panicking_mask_masks_the_value_whole() {
    // This test binary's other tests record through the global SDK provider; this one
    // needs a pipeline with a mask, so it runs in a process of its own.
    if std::env::var_os("TRACED_CONTAINED_MASK_CHILD").is_none() {
        let exe = std::env::current_exe().expect("test binary");
        let status = std::process::Command::new(exe)
            .args([
                "--exact",
                "a_panicking_mask_masks_the_value_whole",
                "--nocapture",
            ])
            .env("TRACED_CONTAINED_MASK_CHILD", "1")
            .status()
            .expect("child test");
        assert!(status.success());
        return;
    }
    let exporter = InMemorySpanExporter::default();
    let guard = Config::new()
        .exporter(exporter.clone())
        .mask(|_, value| {
            if value.contains("secret") {
                panic!("mask exploded");
            }
            value
        })
        .init()
        .expect("valid config");
    assert_eq!(with_mask("a secret note"), 13);
    guard.flush();
    let spans = exporter.get_finished_spans().expect("spans");
    let span = spans
        .iter()
        .find(|s| s.name == "masked by a panicking mask")
        .expect("span");
    assert_eq!(
        attr_str(span, "input.value").as_deref(),
        Some(traced::REDACTED)
    );
    let what = attr_str(span, "traced.capture.failed.input.value").expect("failure");
    assert!(what.contains("mask exploded"), "{what}");
    assert_eq!(attr_str(span, "output.value").as_deref(), Some("13"));
    guard.shutdown();
}

#[traced(name = "hostile headers", extract)]
fn hostile(headers: http::HeaderMap) -> u8 {
    let _ = headers;
    1
}

#[test]
fn texts_from_the_request_stay_within_the_limit() {
    let limit = traced::DEFAULT_MAX_ATTRIBUTE_BYTES;
    let mut headers = http::HeaderMap::new();
    let members: Vec<String> = (0..5_000).map(|i| format!("bad member {i}")).collect();
    headers.insert(
        "baggage",
        members.join(",").parse().expect("a header value"),
    );
    headers.insert(
        "x-trace-id",
        "z".repeat(64 * 1024).parse().expect("a header value"),
    );
    headers.insert(
        "tracestate",
        format!("k={}", "!".repeat(80 * 1024))
            .parse()
            .expect("a header value"),
    );
    // Bad headers start a trace of their own: the span is found by its name.
    traced_tests::exporter();
    assert_eq!(hostile(headers), 1);
    let spans = traced_tests::spans_named("hostile headers");
    let span = spans.last().expect("span");
    assert!(attr_str(span, "traced.propagation.problem").is_some());
    for kv in &span.attributes {
        let text = kv.value.as_str();
        assert!(text.len() <= limit, "{} is {} bytes", kv.key, text.len());
    }
}

#[derive(Serialize)]
struct Huge {
    text: String,
    api_key: String,
}

#[traced(name = "huge argument")]
fn huge(value: &Huge) -> usize {
    value.text.len()
}

#[test]
fn a_huge_argument_is_cut_at_the_limit_and_still_masked() {
    let value = Huge {
        text: "x".repeat(20 << 20),
        api_key: "sk-live-123".into(),
    };
    let (len, trace) = in_trace(|| huge(&value));
    assert_eq!(len, 20 << 20);
    let span = trace.span("huge argument");
    let input = attr_str(span, "input.value").expect("input");
    assert!(input.len() <= traced::DEFAULT_MAX_ATTRIBUTE_BYTES);
    assert!(
        input.starts_with(r#"{"value":{"text":"xxx"#),
        "{}",
        &input[..40]
    );
    assert!(!input.contains("sk-live"));
    assert_eq!(
        attr_str(span, "traced.truncated.input.value").as_deref(),
        Some("more than 32768")
    );
}

#[traced(name = "query string")]
fn fetch(request: &http::Request<()>) -> u8 {
    let _ = request;
    0
}

#[test]
fn secret_query_parameters_of_a_captured_request_are_masked() {
    let request = http::Request::get("https://api.example.com/v1?api_key=sk-123&page=2")
        .body(())
        .expect("request");
    let (_, trace) = in_trace(|| fetch(&request));
    let input = attr_str(trace.span("query string"), "input.value").expect("input");
    assert!(!input.contains("sk-123"), "{input}");
    assert!(input.contains("api_key=[REDACTED]&page=2"), "{input}");
}
