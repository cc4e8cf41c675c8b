//! What hosted backends want besides OTLP, taken from their own SDKs and docs.

/// The headers Langfuse's own SDKs send with each OTLP request
/// (langfuse-python `_client/span_processor.py`: `x-langfuse-sdk-name`,
/// `x-langfuse-sdk-version`, `x-langfuse-public-key`), naming this crate, plus
/// `x-langfuse-ingestion-version: 4`, which Langfuse's API reference asks of direct
/// OpenTelemetry exporters: without it a trace may take minutes to show.
pub(crate) fn langfuse_headers(public_key: &str) -> [(String, String); 4] {
    [
        ("x-langfuse-sdk-name".into(), "traced-rust".into()),
        (
            "x-langfuse-sdk-version".into(),
            env!("CARGO_PKG_VERSION").into(),
        ),
        ("x-langfuse-public-key".into(), public_key.into()),
        ("x-langfuse-ingestion-version".into(), "4".into()),
    ]
}

/// LangSmith's API URL when `LANGSMITH_ENDPOINT` is not set.
pub(crate) const LANGSMITH_DEFAULT_ENDPOINT: &str = "https://api.smith.langchain.com";
