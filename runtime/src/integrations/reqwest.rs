//! Sending the current trace with a reqwest request.
//!
//! ```
//! use traced::reqwest::RequestBuilderExt;
//!
//! let client = reqwest::Client::new();
//! let request = client.get("http://127.0.0.1:9/").inject_context().build().unwrap();
//! // Outside a span there is nothing to send.
//! assert!(request.headers().get("traceparent").is_none());
//! ```

use http::HeaderMap;

use crate::propagation::inject;

/// Adds the current span's context (`traceparent`, `tracestate`, `baggage`, `X-Trace-ID`,
/// `X-Parent-Span-ID`) to a request.
pub trait RequestBuilderExt {
    /// The request with the headers of the current span added.
    fn inject_context(self) -> Self;
}

impl RequestBuilderExt for reqwest::RequestBuilder {
    fn inject_context(self) -> Self {
        let mut headers = HeaderMap::new();
        inject(&mut headers);
        self.headers(headers)
    }
}

#[cfg(feature = "reqwest-blocking")]
impl RequestBuilderExt for reqwest::blocking::RequestBuilder {
    fn inject_context(self) -> Self {
        let mut headers = HeaderMap::new();
        inject(&mut headers);
        self.headers(headers)
    }
}
