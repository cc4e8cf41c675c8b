//! The runtime helpers: ids of the current span, and a handle to record on it.

use opentelemetry::{KeyValue, Value};
use traced::traced;
use traced_tests::{attr, attr_count, attr_str, in_trace};

#[traced]
fn report_ids() -> (Option<String>, Option<String>) {
    (traced::current_trace_id(), traced::current_span_id())
}

#[test]
fn ids_are_lowercase_hex_of_the_current_span_and_none_outside() {
    assert_eq!(traced::current_trace_id(), None);
    assert_eq!(traced::current_span_id(), None);
    let ((trace_id, span_id), trace) = in_trace(report_ids);
    let span = trace.span("report_ids");
    let trace_id = trace_id.expect("inside a span");
    let span_id = span_id.expect("inside a span");
    assert_eq!(trace_id.len(), 32);
    assert_eq!(span_id.len(), 16);
    assert!(trace_id
        .chars()
        .chain(span_id.chars())
        .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));
    assert_eq!(trace_id, format!("{:032x}", span.span_context.trace_id()));
    assert_eq!(span_id, format!("{:016x}", span.span_context.span_id()));
}

#[derive(serde::Serialize)]
struct Reply {
    text: String,
    tokens: u32,
}

#[traced]
fn chooses_its_own_output() -> Reply {
    let span = traced::current_span();
    span.set_output("only the text");
    span.set_attribute("retries", 2);
    span.add_event("cache miss", [KeyValue::new("key", "user:7")]);
    Reply {
        text: "only the text".into(),
        tokens: 3,
    }
}

#[traced]
fn outer_with_inner_output() -> u8 {
    inner_sets_output();
    1
}

#[traced]
fn inner_sets_output() {
    traced::current_span().set_output(&["inner"]);
}

#[test]
fn current_span_records_output_attributes_and_events() {
    let (reply, trace) = in_trace(chooses_its_own_output);
    assert_eq!(reply.tokens, 3);
    let span = trace.span("chooses_its_own_output");
    assert_eq!(
        attr_str(span, "output.value").as_deref(),
        Some("only the text")
    );
    assert_eq!(
        attr_count(span, "output.value"),
        1,
        "the returned value does not overwrite it"
    );
    assert_eq!(attr(span, "retries"), Some(&Value::I64(2)));
    let event = span
        .events
        .iter()
        .find(|e| e.name == "cache miss")
        .expect("event recorded");
    assert_eq!(event.attributes, vec![KeyValue::new("key", "user:7")]);
}

#[test]
fn set_output_belongs_to_the_innermost_span_only() {
    let (_, trace) = in_trace(outer_with_inner_output);
    assert_eq!(
        attr_str(trace.span("inner_sets_output"), "output.value").as_deref(),
        Some(r#"["inner"]"#)
    );
    assert_eq!(
        attr_str(trace.span("outer_with_inner_output"), "output.value").as_deref(),
        Some("1")
    );
}

#[traced]
async fn async_sets_output() -> u8 {
    traced::current_span().set_output("set before the await");
    tokio::task::yield_now().await;
    9
}

#[tokio::test(flavor = "current_thread")]
async fn set_output_survives_an_await() {
    let (_, trace) = traced_tests::in_trace_async(async_sets_output()).await;
    let span = trace.span("async_sets_output");
    assert_eq!(
        attr_str(span, "output.value").as_deref(),
        Some("set before the await")
    );
    assert_eq!(attr_count(span, "output.value"), 1);
}

#[traced::traced(name = "graded generation", as_type = "generation")]
fn graded() -> u8 {
    let span = traced::current_span();
    span.set_level(traced::ObservationLevel::Warning);
    span.set_status_message("retried twice: the model was overloaded");
    span.set_prompt("customer-support", 3);
    7
}

#[test]
fn langfuse_level_status_message_and_prompt() {
    let (value, trace) = traced_tests::in_trace(graded);
    assert_eq!(value, 7);
    let span = trace.span("graded generation");
    let get = |key: &str| traced_tests::attr_str(span, key);
    assert_eq!(
        get("langfuse.observation.level").as_deref(),
        Some("WARNING")
    );
    assert_eq!(
        get("langfuse.observation.status_message").as_deref(),
        Some("retried twice: the model was overloaded")
    );
    assert_eq!(
        get("langfuse.observation.prompt.name").as_deref(),
        Some("customer-support")
    );
    assert_eq!(
        traced_tests::attr(span, "langfuse.observation.prompt.version"),
        Some(&opentelemetry::Value::I64(3))
    );
    assert_eq!(
        span.status,
        opentelemetry::trace::Status::Unset,
        "a warning is no failure"
    );
}
