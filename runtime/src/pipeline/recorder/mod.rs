//! The recording path of `traced::init()`: a tracer provider of our own that implements
//! the OpenTelemetry API and hands batches of standard [`SpanData`] to the SDK's
//! exporters.
//!
//! Why not the SDK's `SdkTracerProvider` + `BatchSpanProcessor`: measured per span (see
//! BENCHMARKS.md), the SDK sends every ended span through a channel to the batch thread
//! (a synchronised send per span, and a wake-up of that thread), clones the provider's
//! `Arc` into every span, and builds its span data twice (once inside the span, once for
//! export). Here an ended span is pushed, already in its export form, onto a buffer of
//! the thread that ended it; the export thread takes whole buffers at once, woken once
//! per batch, on its schedule, or by a flush. Sampling, ids and limits are the SDK's own
//! ([`Sampler`](opentelemetry_sdk::trace::Sampler),
//! [`RandomIdGenerator`](opentelemetry_sdk::trace::RandomIdGenerator),
//! [`SpanLimits`](opentelemetry_sdk::trace::SpanLimits) from the `OTEL_SPAN_*`
//! variables), and so are the exporters.
//!
//! [`SpanData`]: opentelemetry_sdk::trace::SpanData

mod buffers;
mod export_thread;
mod finished;
mod provider;
mod sampling;
mod signal;
mod span;

pub(crate) use provider::{Provider, RecordingTracer, Settings};
