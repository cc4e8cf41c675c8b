//! # traced
//!
//! Observability for LLM applications, on OpenTelemetry: put `#[traced]` on a function
//! and every call becomes a span with its inputs, its output or error, panics and
//! cancellations, nested under the span that called it.
//!
//! ```
//! use traced::traced;
//!
//! #[traced(as_type = "tool", fields(unit = "celsius"))]
//! fn weather(city: &str) -> Result<f64, std::num::ParseFloatError> {
//!     "21.5".parse()
//! }
//!
//! #[traced(name = "answer")]
//! async fn answer(question: String) -> String {
//!     let temperature = weather("Lisbon").unwrap_or_default();
//!     format!("{question} {temperature}")
//! }
//!
//! let reply = futures::executor::block_on(answer("How warm is it?".into()));
//! assert_eq!(reply, "How warm is it? 21.5");
//! ```
//!
//! Spans go through the tracer provider installed in `opentelemetry::global`, so any
//! OpenTelemetry SDK setup (sampler, processors, exporters) applies.
//!
//! The options of the attribute are documented on [`traced`](macro@traced).

#![warn(missing_docs)]

#[cfg(feature = "object-store")]
mod blob_store;
mod bounded;
mod call;
mod capture;
mod contain;
mod current;
mod deferred;
mod error_chain;
pub mod export;
pub mod genai;
mod instrument;
mod integrations;
mod llm;
#[cfg(any(feature = "tracing", feature = "log"))]
mod log_event;
mod observation;
#[cfg(feature = "async-openai")]
mod openai_wire;
mod pipeline;
pub mod propagation;
mod redact;
mod site;
mod small_text;
mod spawn;
mod stream;
mod time;
mod trace_wide;

pub mod attributes;

#[cfg(feature = "object-store")]
pub use blob_store::{blob_stats, BlobStats};
pub use capture::{AttributeValue, NEVER_CAPTURED_HEADERS};
pub use current::{current_span, current_span_id, current_trace_id, CurrentSpan, ObservationLevel};
pub use llm::Usage;
pub use observation::{ObservationType, UnknownObservationType};
pub use pipeline::{
    init, BoxError, Compression, Config, ConfigError, DestinationStats, ExportFailure, ExportStats,
    FailureKind, Guard, InitError, Protocol, SamplerConfig, Target, TlsFiles,
    DEFAULT_MAX_BUFFERED_BYTES, LANGFUSE_OTLP_PATH, LANGSMITH_OTLP_PATH,
};
pub use propagation::{
    extract, inject, inject_context, Extracted, HeaderCarrier, IntoParent, TraceContext,
};
pub use redact::{DEFAULT_MAX_ATTRIBUTE_BYTES, DEFAULT_SECRET_NAMES, REDACTED};
#[cfg(feature = "tokio")]
pub use spawn::spawn;
pub use spawn::FutureExt;
pub use trace_wide::TraceAttributes;

#[cfg(feature = "axum")]
pub use integrations::axum;
#[cfg(feature = "log")]
pub use integrations::log;
#[cfg(feature = "async-openai")]
pub use integrations::openai;
#[cfg(feature = "reqwest")]
pub use integrations::reqwest;
#[cfg(feature = "tracing")]
pub use integrations::tracing;
pub use stream::{
    set_stream_output_limit, stream_output_limit, Accumulate, StreamOutput,
    DEFAULT_STREAM_OUTPUT_LIMIT,
};

/// The OpenTelemetry API this crate is built on, re-exported so versions always match.
pub use opentelemetry;

#[doc = include_str!("traced_attribute.md")]
pub use traced_macros::traced;

/// What the macro's generated code uses. Not a public API: it changes without notice.
#[doc(hidden)]
pub mod __private {
    pub use crate::call::{Call, Outcome, Parent};
    pub use crate::capture::*;
    pub use crate::error_chain::ErrorReport;
    pub use crate::instrument::Instrumented;
    pub use crate::observation::ObservationType;
    pub use crate::propagation::{extract, Extracted, IntoParent};
    pub use crate::site::{ArgVerdicts, CallSite};
    pub use crate::stream::{
        ChunkAccumulate, ChunkDebug, ChunkProbe, ChunkSerialize, ChunkText, ChunkTypeName,
        StreamOutput, TracedStream,
    };
    pub use ::std::boxed::Box;
    pub use ::std::pin::Pin;
    pub use ::std::time::Instant;
}
