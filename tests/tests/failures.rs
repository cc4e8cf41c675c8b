//! Errors with their source chains, panics, and futures dropped before they finish: the
//! span always ends, exactly once, and says what happened.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::task::Context;

use opentelemetry::trace::Status;
use opentelemetry::Value;
use traced::traced;
use traced_tests::{attr, attr_str, in_trace, in_trace_async, spans_named, Span};

#[derive(Debug)]
struct Timeout;
impl fmt::Display for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("socket timed out")
    }
}
impl Error for Timeout {}

#[derive(Debug)]
struct ModelCallFailed {
    source: Timeout,
}
impl fmt::Display for ModelCallFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("model call failed")
    }
}
impl Error for ModelCallFailed {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

fn exception(span: &Span) -> (String, String) {
    let event = span
        .events
        .iter()
        .find(|e| e.name == "exception")
        .unwrap_or_else(|| panic!("no exception event on {}", span.name));
    let get = |key: &str| {
        event
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.as_str().into_owned())
            .unwrap_or_default()
    };
    (get("exception.type"), get("exception.message"))
}

fn error_description(span: &Span) -> String {
    match &span.status {
        Status::Error { description } => description.to_string(),
        other => panic!("{} has status {other:?}, not Error", span.name),
    }
}

#[traced]
fn call_model(fail: bool) -> Result<String, ModelCallFailed> {
    if fail {
        Err(ModelCallFailed { source: Timeout })
    } else {
        Ok("fine".into())
    }
}

#[test]
fn an_err_sets_error_status_with_the_whole_source_chain() {
    let (_, trace) = in_trace(|| call_model(true));
    let span = trace.span("call_model");
    assert_eq!(error_description(span), "model call failed");
    let (kind, message) = exception(span);
    assert_eq!(kind, "failures::ModelCallFailed");
    assert_eq!(message, "model call failed: socket timed out");
    assert_eq!(attr(span, "output.value"), None, "an Err is no output");
}

#[test]
fn an_ok_is_the_output_and_the_status_stays_unset() {
    let (_, trace) = in_trace(|| call_model(false));
    let span = trace.span("call_model");
    assert_eq!(attr_str(span, "output.value").as_deref(), Some("fine"));
    assert_eq!(span.status, Status::Unset);
    assert!(span.events.is_empty());
}

#[traced]
fn boxed_error() -> Result<(), Box<dyn Error + Send + Sync>> {
    Err(Box::new(ModelCallFailed { source: Timeout }))
}

#[traced]
fn plain_boxed_error() -> Result<(), Box<dyn Error>> {
    Err(Box::new(ModelCallFailed { source: Timeout }))
}

#[traced]
fn io_result() -> std::io::Result<u8> {
    Err(std::io::Error::other(ModelCallFailed { source: Timeout }))
}

#[traced]
fn display_only_error() -> Result<u8, String> {
    Err("bad input".to_owned())
}

#[derive(Debug)]
struct DebugOnlyError(#[allow(dead_code)] u8);

#[traced]
fn debug_only_error() -> Result<u8, DebugOnlyError> {
    Err(DebugOnlyError(4))
}

#[test]
fn every_kind_of_error_is_described() {
    let (_, trace) = in_trace(|| {
        let _ = boxed_error();
        let _ = plain_boxed_error();
        let _ = io_result();
        let _ = display_only_error();
        let _ = debug_only_error();
    });
    for name in ["boxed_error", "plain_boxed_error"] {
        let (_, message) = exception(trace.span(name));
        assert_eq!(message, "model call failed: socket timed out", "{name}");
    }
    // io::Error::other displays its inner error and reports it as the source.
    let (kind, message) = exception(trace.span("io_result"));
    assert_eq!(kind, "std::io::error::Error");
    assert!(message.starts_with("model call failed"), "{message}");
    assert!(message.ends_with("socket timed out"), "{message}");
    assert_eq!(
        error_description(trace.span("display_only_error")),
        "bad input"
    );
    assert_eq!(
        error_description(trace.span("debug_only_error")),
        "DebugOnlyError(4)"
    );
}

#[traced]
async fn async_failure() -> Result<(), ModelCallFailed> {
    tokio::task::yield_now().await;
    Err(ModelCallFailed { source: Timeout })
}

#[tokio::test(flavor = "current_thread")]
async fn async_errors_are_recorded_too() {
    let (result, trace) = in_trace_async(async_failure()).await;
    assert!(result.is_err());
    let (_, message) = exception(trace.span("async_failure"));
    assert_eq!(message, "model call failed: socket timed out");
}

#[traced]
fn explode(code: u32) -> u32 {
    if code > 0 {
        panic!("engine {code} exploded");
    }
    code
}

#[test]
fn a_panic_is_recorded_and_goes_on_unchanged() {
    let (caught, trace) = in_trace(|| std::panic::catch_unwind(|| explode(7)));
    let payload = caught.expect_err("the panic reaches the caller");
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("engine 7 exploded")
    );
    let span = trace.span("explode");
    assert_eq!(error_description(span), "panicked: engine 7 exploded");
    assert_eq!(attr(span, "traced.panicked"), Some(&Value::Bool(true)));
    let (kind, message) = exception(span);
    assert_eq!(
        (kind.as_str(), message.as_str()),
        ("panic", "panicked: engine 7 exploded")
    );
}

#[traced]
async fn explode_later() -> u8 {
    tokio::task::yield_now().await;
    panic!("static message");
}

#[tokio::test(flavor = "current_thread")]
async fn a_panic_in_a_future_is_recorded_and_goes_on() {
    use futures::FutureExt as _;
    let (caught, trace) =
        in_trace_async(std::panic::AssertUnwindSafe(explode_later()).catch_unwind()).await;
    let payload = caught.expect_err("the panic reaches the caller");
    assert_eq!(
        payload.downcast_ref::<&str>().copied(),
        Some("static message")
    );
    let span = trace.span("explode_later");
    assert_eq!(error_description(span), "panicked: static message");
}

#[traced]
async fn never_finishes(label: &'static str) -> u8 {
    std::future::pending::<()>().await;
    let _ = label;
    0
}

/// Polls `future` once, then drops it.
fn poll_once_and_drop<F: Future>(future: F) {
    let mut future = pin!(future);
    let waker = futures::task::noop_waker();
    assert!(future
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
}

#[test]
fn a_future_dropped_before_it_completes_is_cancelled() {
    let (_, trace) = in_trace(|| poll_once_and_drop(never_finishes("dropped")));
    let span = trace.span("never_finishes");
    assert_eq!(attr(span, "traced.cancelled"), Some(&Value::Bool(true)));
    assert_eq!(span.status, Status::Unset);
}

#[traced]
fn make_pending() -> impl Future<Output = ()> {
    std::future::pending()
}

#[test]
fn an_impl_future_dropped_unpolled_is_cancelled() {
    let (_, trace) = in_trace(|| drop(make_pending()));
    assert_eq!(
        attr(trace.span("make_pending"), "traced.cancelled"),
        Some(&Value::Bool(true))
    );
}

#[test]
fn an_async_fn_never_polled_makes_no_span() {
    // Like any async fn, nothing of the body (the span included) runs before the first poll.
    drop(never_finishes("never polled"));
    assert!(spans_named("never_finishes")
        .iter()
        .all(|s| traced_tests::input_json(s)["label"] != "never polled"));
}

#[tokio::test(flavor = "current_thread")]
async fn a_completed_future_is_not_cancelled() {
    let (_, trace) = in_trace_async(async_failure()).await;
    assert_eq!(attr(trace.span("async_failure"), "traced.cancelled"), None);
}
