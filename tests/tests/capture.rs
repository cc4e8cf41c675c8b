//! What a span records: inputs by the capture rules, outputs, fields, kinds, code
//! location, names.

use std::collections::BTreeMap;

use opentelemetry::Value;
use serde::Serialize;
use serde_json::json;
use traced::traced;
use traced_tests::{attr, attr_count, attr_str, in_trace, input_json};

#[derive(Serialize, Debug, Clone)]
struct Message {
    role: &'static str,
    content: String,
}

/// Debug but not Serialize.
#[derive(Debug)]
struct DebugOnly {
    flavour: u8,
}

/// Neither Serialize nor Debug.
struct Opaque;

#[traced]
fn every_rule(message: Message, debug: DebugOnly, opaque: Opaque, count: u32) -> usize {
    let _ = (debug.flavour, opaque);
    message.content.len() + count as usize
}

#[test]
fn inputs_are_json_else_debug_else_type_name() {
    let message = Message {
        role: "user",
        content: "hi".into(),
    };
    let (_, trace) = in_trace(|| every_rule(message, DebugOnly { flavour: 7 }, Opaque, 3));
    let span = trace.span("every_rule");
    assert_eq!(
        input_json(span),
        json!({
            "message": {"role": "user", "content": "hi"},
            "debug": "DebugOnly { flavour: 7 }",
            "opaque": "<capture::Opaque>",
            "count": 3,
        })
    );
    assert_eq!(
        attr_str(span, "input.mime_type").as_deref(),
        Some("application/json")
    );
    assert_eq!(attr_str(span, "output.value").as_deref(), Some("5"));
    assert_eq!(
        attr_str(span, "output.mime_type").as_deref(),
        Some("application/json")
    );
}

#[traced]
fn greet(name: &str) -> String {
    format!("hello {name}")
}

#[traced]
fn structured(n: u8) -> BTreeMap<&'static str, u8> {
    BTreeMap::from([("n", n)])
}

#[traced]
fn nothing_back(_n: u8) {}

#[traced]
fn debug_back() -> DebugOnly {
    DebugOnly { flavour: 1 }
}

#[traced]
fn opaque_back() -> Opaque {
    Opaque
}

#[test]
fn outputs_text_as_text_and_the_rest_as_json() {
    let (_, trace) = in_trace(|| {
        greet("ada");
        structured(4);
        nothing_back(1);
        debug_back();
        opaque_back();
    });
    let greet = trace.span("greet");
    assert_eq!(
        attr_str(greet, "output.value").as_deref(),
        Some("hello ada")
    );
    assert_eq!(
        attr_str(greet, "output.mime_type").as_deref(),
        Some("text/plain")
    );
    let structured = trace.span("structured");
    assert_eq!(
        attr_str(structured, "output.value").as_deref(),
        Some(r#"{"n":4}"#)
    );
    assert_eq!(
        attr_str(structured, "output.mime_type").as_deref(),
        Some("application/json")
    );
    assert_eq!(attr(trace.span("nothing_back"), "output.value"), None);
    assert_eq!(
        attr_str(trace.span("debug_back"), "output.value").as_deref(),
        Some("DebugOnly { flavour: 1 }")
    );
    assert_eq!(
        attr_str(trace.span("opaque_back"), "output.value").as_deref(),
        Some("<capture::Opaque>")
    );
}

#[traced(skip(api_key, history))]
fn with_skip(api_key: &str, history: Vec<Message>, question: &str) -> usize {
    api_key.len() + history.len() + question.len()
}

#[traced(skip_all)]
fn with_skip_all(api_key: &str) -> usize {
    api_key.len()
}

#[traced(capture_input = false, capture_output = false)]
fn with_no_capture(api_key: &str) -> String {
    api_key.to_uppercase()
}

#[test]
fn skip_and_capture_switches() {
    let (_, trace) = in_trace(|| {
        with_skip("sk-1", vec![], "why?");
        with_skip_all("sk-2");
        with_no_capture("sk-3");
    });
    assert_eq!(
        input_json(trace.span("with_skip")),
        json!({"question": "why?"})
    );
    assert_eq!(attr(trace.span("with_skip_all"), "input.value"), None);
    let none = trace.span("with_no_capture");
    assert_eq!(attr(none, "input.value"), None);
    assert_eq!(attr(none, "output.value"), None);
}

struct Point {
    x: i32,
    y: i32,
}

#[traced]
fn destructured(
    (a, b): (u8, u8),
    Point { x, y: renamed }: Point,
    [first, ..]: [u8; 3],
    _: u8,
) -> i32 {
    i32::from(a) + i32::from(b) + x + renamed + i32::from(first)
}

#[test]
fn destructured_parameters_are_captured_by_their_bindings() {
    let (sum, trace) = in_trace(|| destructured((1, 2), Point { x: 3, y: 4 }, [5, 6, 7], 9));
    assert_eq!(sum, 15);
    assert_eq!(
        input_json(trace.span("destructured")),
        json!({"a": 1, "b": 2, "x": 3, "renamed": 4, "first": 5})
    );
}

#[traced(
    name = "call the model",
    as_type = "generation",
    fields(gen_ai.request.model = model, "prompt.length" = prompt.len(), temperature = 0.5, streaming = false, tags = ["a", "b"], point = DebugOnly { flavour: 2 })
)]
fn fields_and_kind(model: &str, prompt: &str) -> usize {
    prompt.len()
}

#[test]
fn fields_are_typed_attributes_and_as_type_sets_the_kind() {
    let (_, trace) = in_trace(|| fields_and_kind("tiny-1", "hello"));
    let span = trace.span("call the model");
    assert_eq!(
        attr(span, "gen_ai.request.model"),
        Some(&Value::from("tiny-1"))
    );
    assert_eq!(attr(span, "prompt.length"), Some(&Value::I64(5)));
    assert_eq!(attr(span, "temperature"), Some(&Value::F64(0.5)));
    assert_eq!(attr(span, "streaming"), Some(&Value::Bool(false)));
    assert_eq!(attr_str(span, "tags").as_deref(), Some(r#"["a","b"]"#));
    assert_eq!(
        attr_str(span, "point").as_deref(),
        Some("DebugOnly { flavour: 2 }")
    );
    assert_eq!(
        attr_str(span, "openinference.span.kind").as_deref(),
        Some("LLM")
    );
    assert_eq!(
        attr_str(span, "langfuse.observation.type").as_deref(),
        Some("generation")
    );
}

#[test]
fn every_kind_maps_to_both_schemas() {
    #[traced(as_type = "tool")]
    fn tool() {}
    #[traced(as_type = "retriever")]
    fn retriever() {}
    #[traced]
    fn plain() {}
    let (_, trace) = in_trace(|| {
        tool();
        retriever();
        plain();
    });
    let kinds = |name: &str| {
        let span = trace.span(name);
        (
            attr_str(span, "openinference.span.kind").unwrap_or_default(),
            attr_str(span, "langfuse.observation.type").unwrap_or_default(),
        )
    };
    assert_eq!(kinds("tool"), ("TOOL".into(), "tool".into()));
    assert_eq!(kinds("retriever"), ("RETRIEVER".into(), "retriever".into()));
    // `span` is Langfuse's default type, so it is not written.
    assert_eq!(kinds("plain"), ("CHAIN".into(), String::new()));
}

#[test]
fn code_location_is_on_every_span() {
    let (_, trace) = in_trace(|| greet("x"));
    let span = trace.span("greet");
    assert_eq!(
        attr_str(span, "code.function.name").as_deref(),
        Some("capture::greet")
    );
    assert!(attr_str(span, "code.file.path").is_some_and(|p| p.ends_with("capture.rs")));
    let line = include_str!("capture.rs")
        .lines()
        .position(|l| l.starts_with("fn greet("))
        .expect("greet is in this file") as i64
        + 1;
    assert_eq!(attr(span, "code.line.number"), Some(&Value::I64(line)));
}

#[test]
fn no_attribute_is_written_twice() {
    let (_, trace) = in_trace(|| fields_and_kind("m", "p"));
    let span = trace.span("call the model");
    for kv in &span.attributes {
        assert_eq!(attr_count(span, kv.key.as_str()), 1, "{} repeated", kv.key);
    }
}

mod reexported {
    /// A crate that re-exports `traced` under its own path.
    pub mod my_sdk {
        pub use traced as tracing_layer;
    }
}

#[traced(crate = reexported::my_sdk::tracing_layer)]
fn through_a_reexport(n: u8) -> u8 {
    n + 1
}

#[test]
fn crate_option_finds_the_runtime_through_a_reexport() {
    let (n, trace) = in_trace(|| through_a_reexport(1));
    assert_eq!(n, 2);
    assert_eq!(
        input_json(trace.span("through_a_reexport")),
        json!({"n": 1})
    );
}

#[traced]
fn long_reply(n: usize) -> String {
    "é".repeat(n)
}

#[traced]
fn short_reply(n: u64) -> (u64, String) {
    (n, "ok".to_owned())
}

/// A returned string past the size limit is cut while it is written (never copied whole
/// first), and a short one is kept as text; integers and strings are written as JSON as
/// serde_json writes them.
#[test]
fn returned_strings_and_numbers_are_kept_as_before() {
    let (_, trace) = traced_tests::in_trace(|| long_reply(100_000));
    let span = trace.span("long_reply");
    let output = traced_tests::attr_str(span, "output.value").expect("output");
    assert!(
        output.len() <= traced::DEFAULT_MAX_ATTRIBUTE_BYTES,
        "{}",
        output.len()
    );
    let others: std::collections::BTreeSet<char> = output.chars().filter(|c| *c != 'é').collect();
    assert!(others.is_empty(), "cut at a character boundary: {others:?}");
    assert_eq!(
        traced_tests::attr_str(span, "traced.truncated.output.value").as_deref(),
        Some(format!("more than {}", traced::DEFAULT_MAX_ATTRIBUTE_BYTES).as_str())
    );
    assert_eq!(
        traced_tests::attr_str(span, "output.mime_type").as_deref(),
        Some("text/plain")
    );
    let (_, trace) = traced_tests::in_trace(|| short_reply(7));
    let span = trace.span("short_reply");
    assert_eq!(
        traced_tests::attr_str(span, "input.value").as_deref(),
        Some(r#"{"n":7}"#)
    );
    assert_eq!(
        traced_tests::attr_str(span, "output.value").as_deref(),
        Some(r#"[7,"ok"]"#)
    );
}
