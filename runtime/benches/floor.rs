//! What any span that is both current for OpenTelemetry and exported as standard
//! `SpanData` must pay, piece by piece (`cargo bench -p traced --bench floor`): the floor
//! under `#[traced]`'s own cost, to hold against the targets of issue 6.
//!
//! - two readings of the system clock (start and end time; OTLP wants wall-clock time,
//!   and a cycle counter calibrated once drifts from it);
//! - making a span current through the OpenTelemetry API (`Context::with_span`, attach,
//!   detach, drop), so that OpenTelemetry-instrumented code called inside sees its parent;
//! - building and dropping the `SpanData` an exporter takes, bare and with the four
//!   attributes every `#[traced]` span carries.

use std::hint::black_box;
use std::time::SystemTime;

use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceContextExt, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{Context, InstrumentationScope, KeyValue};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};

fn main() {
    divan::main();
}

fn span_context() -> SpanContext {
    SpanContext::new(
        TraceId::from(0x1234_5678_9abc_def0_u128),
        SpanId::from(0x1234_5678_u64),
        TraceFlags::SAMPLED,
        false,
        TraceState::NONE,
    )
}

/// The smallest span the OpenTelemetry API accepts: ids, nothing recorded.
#[derive(Debug)]
struct IdsOnly(SpanContext);

impl opentelemetry::trace::Span for IdsOnly {
    fn add_event_with_timestamp<T>(&mut self, _: T, _: SystemTime, _: Vec<KeyValue>)
    where
        T: Into<std::borrow::Cow<'static, str>>,
    {
    }
    fn span_context(&self) -> &SpanContext {
        &self.0
    }
    fn is_recording(&self) -> bool {
        true
    }
    fn set_attribute(&mut self, _: KeyValue) {}
    fn set_status(&mut self, _: Status) {}
    fn update_name<T>(&mut self, _: T)
    where
        T: Into<std::borrow::Cow<'static, str>>,
    {
    }
    fn add_link(&mut self, _: SpanContext, _: Vec<KeyValue>) {}
    fn end_with_timestamp(&mut self, _: SystemTime) {}
}

#[divan::bench]
fn clock_two_readings() -> (SystemTime, SystemTime) {
    (black_box(SystemTime::now()), black_box(SystemTime::now()))
}

#[divan::bench(sample_size = 1000)]
fn span_made_current_through_the_api(bencher: divan::Bencher) {
    bencher.bench_local(|| {
        let cx = Context::map_current(|cx| cx.with_span(IdsOnly(span_context())));
        let guard = cx.clone().attach();
        black_box(&guard);
        drop(guard);
        drop(cx);
    });
}

fn span_data(attributes: Vec<KeyValue>, scope: &InstrumentationScope) -> SpanData {
    let now = SystemTime::UNIX_EPOCH;
    SpanData {
        span_context: span_context(),
        parent_span_id: SpanId::from(7),
        parent_span_is_remote: false,
        span_kind: SpanKind::Internal,
        name: "empty".into(),
        start_time: now,
        end_time: now,
        attributes,
        dropped_attributes_count: 0,
        events: SpanEvents::default(),
        links: SpanLinks::default(),
        status: Status::Unset,
        instrumentation_scope: scope.clone(),
    }
}

#[divan::bench]
fn span_data_built_and_dropped(bencher: divan::Bencher) {
    let scope = InstrumentationScope::builder("traced").build();
    bencher.bench_local(|| drop(black_box(span_data(Vec::new(), &scope))));
}

#[divan::bench]
fn span_data_with_code_attributes_built_and_dropped(bencher: divan::Bencher) {
    let scope = InstrumentationScope::builder("traced").build();
    bencher.bench_local(|| {
        let attributes = vec![
            KeyValue::new("code.function.name", "floor::empty"),
            KeyValue::new("code.file.path", "benches/floor.rs"),
            KeyValue::new("code.line.number", 42_i64),
            KeyValue::new("openinference.span.kind", "CHAIN"),
        ];
        drop(black_box(span_data(attributes, &scope)));
    });
}
