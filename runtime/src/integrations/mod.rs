//! Integrations with web frameworks and HTTP clients, each behind its cargo feature.

#[cfg(feature = "axum")]
pub mod axum;
#[cfg(feature = "log")]
pub mod log;
#[cfg(feature = "async-openai")]
pub mod openai;
#[cfg(feature = "reqwest")]
pub mod reqwest;
#[cfg(feature = "tracing")]
pub mod tracing;
