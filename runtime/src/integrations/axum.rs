//! A tower layer that traces every request of an axum router: the span is named
//! `METHOD /route`, continues the trace the request's headers carry (W3C Trace Context
//! or the `X-Trace-ID` pair), and is current while the handler runs, so the handler's
//! own traced calls nest under it.
//!
//! ```
//! use axum::{routing::get, Router};
//!
//! async fn hello() -> &'static str {
//!     "hello"
//! }
//!
//! // `route_layer` runs after routing, so the span is named by the route template
//! // (`GET /users/{id}`); with `layer` it is named by the request's path.
//! let app: Router = Router::new()
//!     .route("/hello", get(hello))
//!     .route_layer(traced::axum::TraceLayer::new());
//! ```

use std::borrow::Cow;
use std::task::{Context as TaskContext, Poll};

use axum::extract::MatchedPath;
use http::{Request, Response};
use opentelemetry::trace::SpanKind;
use opentelemetry::KeyValue;
use tower_layer::Layer;
use tower_service::Service;

use crate::call::{Call, Outcome, Parent};
use crate::instrument::Instrumented;
use crate::observation::ObservationType;
use crate::propagation::extract;

/// The layer: `Router::route_layer(TraceLayer::new())`.
#[derive(Clone, Copy, Debug, Default)]
pub struct TraceLayer {
    untrusted: bool,
}

impl TraceLayer {
    /// A layer that traces every request.
    ///
    /// ```
    /// let _layer = traced::axum::TraceLayer::new();
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Treats the callers' trace context as untrusted (a public edge): each request
    /// starts a new trace that links to the caller's span, and inbound baggage is kept
    /// only for `Config::untrusted_baggage_keys`.
    ///
    /// ```
    /// let _layer = traced::axum::TraceLayer::new().untrusted();
    /// ```
    pub fn untrusted(mut self) -> Self {
        self.untrusted = true;
        self
    }
}

impl<S> Layer<S> for TraceLayer {
    type Service = TraceService<S>;

    fn layer(&self, inner: S) -> TraceService<S> {
        TraceService {
            inner,
            untrusted: self.untrusted,
        }
    }
}

/// The service [`TraceLayer`] wraps around a router or a route.
#[derive(Clone, Debug)]
pub struct TraceService<S> {
    inner: S,
    untrusted: bool,
}

type RecordResponse<R, E> = fn(&mut Outcome, &Result<Response<R>, E>);

/// The status code, and status Error for a 5xx or a service error.
fn record_response<R, E: std::fmt::Display>(
    recorder: &mut Outcome,
    result: &Result<Response<R>, E>,
) {
    match result {
        Ok(response) => {
            let status = response.status();
            recorder.attribute(KeyValue::new(
                "http.response.status_code",
                i64::from(status.as_u16()),
            ));
            if status.is_server_error() {
                recorder.fail(status.to_string());
            }
        }
        Err(error) => recorder.fail(error.to_string()),
    }
}

impl<S, B, R> Service<Request<B>> for TraceService<S>
where
    S: Service<Request<B>, Response = Response<R>>,
    S::Error: std::fmt::Display,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = Instrumented<S::Future, RecordResponse<R, S::Error>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let method = request.method().as_str().to_owned();
        let path = request.uri().path().to_owned();
        let route = request
            .extensions()
            .get::<MatchedPath>()
            .map(|matched| matched.as_str().to_owned());
        let name = format!("{method} {}", route.as_deref().unwrap_or(&path));
        let kind = ObservationType::Span;
        let mut attributes = vec![
            KeyValue::new("http.request.method", method),
            KeyValue::new("url.path", path),
            KeyValue::new(
                crate::attributes::OPENINFERENCE_SPAN_KIND,
                kind.openinference_kind(),
            ),
        ];
        if let Some(route) = route {
            attributes.push(KeyValue::new("http.route", route));
        }
        let extracted = extract(&request);
        let extracted = if self.untrusted {
            extracted.untrusted()
        } else {
            extracted
        };
        let parent = Parent::Remote(Some(extracted));
        let mut call = Call::begin(Cow::Owned(name), SpanKind::Server, attributes, parent);
        let inner = &mut self.inner;
        let future = call.run(|| inner.call(request));
        Instrumented::new(
            call,
            future,
            record_response::<R, S::Error> as RecordResponse<R, S::Error>,
        )
    }
}
