//! A span processor that panics when a span ends (the SDK's simple processor does inside
//! `futures::executor::block_on`) must not fail the traced call.

use opentelemetry::global;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanProcessor};
use traced::traced;

#[derive(Debug)]
struct PanicsOnEnd;

impl SpanProcessor for PanicsOnEnd {
    fn on_start(&self, _: &mut opentelemetry_sdk::trace::Span, _: &opentelemetry::Context) {}
    fn on_end(&self, _: SpanData) {
        panic!("processor failure");
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _: std::time::Duration) -> OTelSdkResult {
        Ok(())
    }
}

#[traced]
fn still_works(n: u8) -> u8 {
    n + 1
}

#[test]
fn a_panicking_processor_does_not_fail_the_call() {
    global::set_tracer_provider(
        SdkTracerProvider::builder()
            .with_span_processor(PanicsOnEnd)
            .build(),
    );
    assert!(traced::current_span_id().is_none());
    assert_eq!(still_works(1), 2);
}
