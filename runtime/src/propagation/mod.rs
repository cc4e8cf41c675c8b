//! Carrying a trace across services: reading the context a request brings (`extract`)
//! and writing the current one into a request that goes out (`inject`).
//!
//! Inbound, in this order: W3C `traceparent` + `tracestate` (Trace Context Level 2,
//! parsed strictly by our own code), W3C `baggage`, then the simple pair `X-Trace-ID` +
//! `X-Parent-Span-ID`. Anything invalid is dropped with a warning (logged at most once a
//! minute per cause, and recorded on the span as `traced.propagation.problem`): the span
//! then starts a new trace, and the request is served as usual.

// The parsers are public for the fuzz targets only: not part of the documented API.
#[doc(hidden)]
pub mod baggage;
mod carrier;
pub mod langsmith;
mod sdk_baggage;
#[doc(hidden)]
pub mod simple;
#[doc(hidden)]
pub mod traceparent;
#[doc(hidden)]
pub mod tracestate;
mod warn;

use std::fmt;

use http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::baggage::BaggageExt;
use opentelemetry::trace::{SpanContext, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::{Context, KeyValue};
use serde::{Deserialize, Serialize};

pub use carrier::HeaderCarrier;
pub use warn::inbound_problem_count;

use self::baggage::BaggageError;
use self::langsmith::{DottedOrderError, LangsmithRun, LANGSMITH_PROJECT, LANGSMITH_TRACE};
use self::simple::IdError;
use self::traceparent::TraceparentError;
use self::tracestate::TracestateError;
use self::warn::{warn, Cause};

/// `traceparent`.
pub const TRACEPARENT: &str = "traceparent";
/// `tracestate`.
pub const TRACESTATE: &str = "tracestate";
/// `baggage`.
pub const BAGGAGE: &str = "baggage";
/// `x-trace-id`: the trace id of the simple pair.
pub const X_TRACE_ID: &str = "x-trace-id";
/// `x-parent-span-id`: the caller's span id of the simple pair.
pub const X_PARENT_SPAN_ID: &str = "x-parent-span-id";

/// Which headers the remote parent came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContextSource {
    /// W3C `traceparent` (and `tracestate`).
    TraceContext,
    /// `langsmith-trace`, with no valid `traceparent` beside it (see
    /// [`langsmith`] for the id mapping).
    Langsmith,
    /// `X-Trace-ID` + `X-Parent-Span-ID`.
    SimpleHeaders,
    /// A [`TraceContext`] given by hand.
    Explicit,
}

/// Something wrong with the inbound context; what was fine is still used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// `traceparent` refused.
    Traceparent(TraceparentError),
    /// More than one `traceparent` header line, which the spec makes invalid.
    RepeatedTraceparent(usize),
    /// A header whose value is not visible ASCII.
    NotText(&'static str),
    /// `tracestate` dropped.
    Tracestate(TracestateError),
    /// Part of `baggage` dropped.
    Baggage(BaggageError),
    /// `X-Trace-ID` / `X-Parent-Span-ID`, or a [`TraceContext`], refused.
    Ids(IdError),
    /// Only one of `X-Trace-ID` and `X-Parent-Span-ID`.
    IncompleteSimpleHeaders,
    /// `langsmith-trace` refused.
    LangsmithTrace(DottedOrderError),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Traceparent(error) => error.fmt(f),
            Self::RepeatedTraceparent(n) => {
                write!(f, "{n} traceparent header lines; one is allowed")
            }
            Self::NotText(name) => write!(f, "{name} header is not visible ASCII"),
            Self::Tracestate(error) => error.fmt(f),
            Self::Baggage(error) => error.fmt(f),
            Self::Ids(error) => error.fmt(f),
            Self::IncompleteSimpleHeaders => {
                f.write_str("X-Trace-ID and X-Parent-Span-ID must come together")
            }
            Self::LangsmithTrace(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for Problem {}

impl Problem {
    fn cause(&self) -> Cause {
        match self {
            Self::Traceparent(_) | Self::RepeatedTraceparent(_) | Self::NotText(_) => {
                Cause::Traceparent
            }
            Self::Tracestate(_) => Cause::Tracestate,
            Self::Baggage(_) => Cause::Baggage,
            Self::Ids(_) | Self::IncompleteSimpleHeaders => Cause::SimpleHeaders,
            Self::LangsmithTrace(_) => Cause::Langsmith,
        }
    }
}

/// The context a request (or a message) brought: the remote parent, the baggage, and
/// what was wrong with it.
#[derive(Clone, Debug, Default)]
pub struct Extracted {
    parent: Option<SpanContext>,
    /// A remote context that is not trusted as parent: recorded as a span link.
    link: Option<SpanContext>,
    source: Option<ContextSource>,
    /// The inbound tracestate as received, when the parent's `TraceState` cannot hold
    /// all of it (see [`tracestate`]).
    tracestate: Option<String>,
    /// The LangSmith run to nest under (`langsmith-trace`).
    langsmith: Option<Box<LangsmithRun>>,
    baggage: Vec<(String, String)>,
    problems: Vec<Problem>,
}

impl Extracted {
    /// The remote parent span, if the headers carried a valid one.
    pub fn remote_parent(&self) -> Option<&SpanContext> {
        self.parent.as_ref()
    }

    /// The same context, not trusted: the span it starts begins a new trace and records
    /// the remote span as a link, and of the inbound baggage only the keys of the
    /// allow-list (`Config::untrusted_baggage_keys`, none by default) are kept.
    ///
    /// ```
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse().unwrap());
    /// headers.insert("baggage", "user.id=mallory".parse().unwrap());
    /// let untrusted = traced::extract(&headers).untrusted();
    /// assert!(untrusted.remote_parent().is_none());
    /// assert!(untrusted.link().is_some());
    /// assert!(untrusted.baggage().is_empty());
    /// ```
    pub fn untrusted(mut self) -> Self {
        let allowed = crate::redact::policy();
        self.link = self.parent.take().or(self.link);
        self.tracestate = None;
        self.langsmith = None;
        self.baggage
            .retain(|(key, _)| allowed.untrusted_baggage_keys.iter().any(|k| k == key));
        self
    }

    /// The remote span recorded as a link (an untrusted context), if any.
    pub fn link(&self) -> Option<&SpanContext> {
        self.link.as_ref()
    }

    /// The remote parent as ids, if any.
    ///
    /// ```
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("x-trace-id", "4BF92F35-77B3-4DA6-A3CE-929D0E0E4736".parse().unwrap());
    /// headers.insert("x-parent-span-id", "00f067aa0ba902b7".parse().unwrap());
    /// let parent = traced::extract(&headers).trace_context().unwrap();
    /// assert_eq!(parent.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    /// ```
    pub fn trace_context(&self) -> Option<TraceContext> {
        self.parent.as_ref().map(|parent| TraceContext {
            trace_id: format!("{:032x}", parent.trace_id()),
            parent_span_id: format!("{:016x}", parent.span_id()),
        })
    }

    /// The inbound `tracestate` that will be passed on, as received (optional whitespace
    /// trimmed), when the remote parent's `TraceState` cannot hold all of it: a key twice,
    /// or a key opentelemetry's `TraceState` refuses. `None` when the parent's
    /// `TraceState` is the whole of it.
    ///
    /// ```
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse().unwrap());
    /// headers.insert("tracestate", "foo=1,foo=2".parse().unwrap());
    /// let extracted = traced::extract(&headers);
    /// assert_eq!(extracted.tracestate(), Some("foo=1,foo=2"));
    /// assert_eq!(extracted.remote_parent().unwrap().trace_state().header(), "foo=1");
    /// ```
    pub fn tracestate(&self) -> Option<&str> {
        self.tracestate.as_deref()
    }

    /// The LangSmith run the request came from (`langsmith-trace`), which the spans
    /// started under this context nest under in LangSmith.
    ///
    /// ```
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert(
    ///     "langsmith-trace",
    ///     "20261201T044935348490Z01a22fef-d074-7e52-8541-5ca0c86a28a1".parse().unwrap(),
    /// );
    /// headers.insert("baggage", "langsmith-project=checkout".parse().unwrap());
    /// let extracted = traced::extract(&headers);
    /// let run = extracted.langsmith_run().unwrap();
    /// assert_eq!(run.project.as_deref(), Some("checkout"));
    /// assert_eq!(extracted.source(), Some(traced::propagation::ContextSource::Langsmith));
    /// ```
    pub fn langsmith_run(&self) -> Option<&LangsmithRun> {
        self.langsmith.as_deref()
    }

    /// Which headers the parent came from.
    pub fn source(&self) -> Option<ContextSource> {
        self.source
    }

    /// The baggage members, decoded.
    pub fn baggage(&self) -> &[(String, String)] {
        &self.baggage
    }

    /// What was wrong with the inbound context (empty when all was fine or absent).
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// An OpenTelemetry context holding the remote parent and the baggage, to start
    /// spans under.
    pub fn to_context(&self) -> Context {
        let mut cx = Context::new();
        if let Some(parent) = &self.parent {
            cx = cx.with_remote_span_context(parent.clone());
            if let Some(header) = &self.tracestate {
                cx = cx.with_value(ReceivedTracestate {
                    trace_id: parent.trace_id(),
                    state: parent.trace_state().clone(),
                    header: header.clone(),
                });
            }
        }
        if let Some(run) = &self.langsmith {
            cx = cx.with_value(LangsmithRun::clone(run));
        }
        if !self.baggage.is_empty() {
            cx = cx.with_baggage(
                self.baggage
                    .iter()
                    .map(|(k, v)| KeyValue::new(k.clone(), v.clone())),
            );
        }
        cx
    }

    fn problem(&mut self, problem: Problem) {
        warn(problem.cause(), &problem);
        self.problems.push(problem);
    }
}

/// A tracestate received whole that the remote parent's `TraceState` holds only part of,
/// carried in the context to be passed on by `inject` while the trace and its state are
/// the ones received.
#[derive(Debug)]
struct ReceivedTracestate {
    trace_id: TraceId,
    state: TraceState,
    header: String,
}

/// The text values of every line of header `name`, trimmed of spaces and tabs.
fn header_lines<'h>(
    headers: &'h HeaderMap,
    name: &'static str,
    extracted: &mut Extracted,
) -> Vec<&'h str> {
    let mut lines = Vec::new();
    for value in headers.get_all(name) {
        match value.to_str() {
            Ok(text) => lines.push(text.trim_matches([' ', '\t'])),
            Err(_) => extracted.problem(Problem::NotText(name)),
        }
    }
    lines
}

/// Reads the trace context a request carries. Never fails: what is invalid is reported
/// in [`Extracted::problems`] (and logged, rate-limited) and left out.
///
/// ```
/// let mut headers = http::HeaderMap::new();
/// headers.insert(
///     "traceparent",
///     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse().unwrap(),
/// );
/// headers.append("tracestate", "rojo=00f067aa0ba902b7".parse().unwrap());
/// headers.append("tracestate", "congo=t61rcWkgMzE".parse().unwrap());
/// let extracted = traced::extract(&headers);
/// let parent = extracted.remote_parent().unwrap();
/// assert!(parent.is_remote() && parent.is_sampled());
/// assert_eq!(parent.trace_state().header(), "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
///
/// headers.append("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse().unwrap());
/// assert!(traced::extract(&headers).remote_parent().is_none(), "two traceparent lines are invalid");
/// ```
pub fn extract(carrier: &(impl HeaderCarrier + ?Sized)) -> Extracted {
    let headers = carrier.headers();
    let mut extracted = Extracted::default();

    let traceparent = header_lines(headers, TRACEPARENT, &mut extracted);
    let parsed = match traceparent.as_slice() {
        [] => None,
        [one] => match traceparent::parse_traceparent(one) {
            Ok(parsed) => Some(parsed),
            Err(error) => {
                extracted.problem(Problem::Traceparent(error));
                None
            }
        },
        many => {
            extracted.problem(Problem::RepeatedTraceparent(many.len()));
            None
        }
    };
    if let Some(parsed) = parsed {
        let lines = header_lines(headers, TRACESTATE, &mut extracted);
        let state = if lines.is_empty() {
            TraceState::default()
        } else {
            match tracestate::parse_tracestate(lines) {
                Ok(inbound) => {
                    if !inbound.state_is_whole() {
                        extracted.tracestate = Some(inbound.header);
                    }
                    inbound.state
                }
                Err(error) => {
                    extracted.problem(Problem::Tracestate(error));
                    TraceState::default()
                }
            }
        };
        extracted.parent = Some(SpanContext::new(
            parsed.trace_id,
            parsed.parent_id,
            parsed.flags,
            true,
            state,
        ));
        extracted.source = Some(ContextSource::TraceContext);
    }

    let lines = header_lines(headers, BAGGAGE, &mut extracted);
    if !lines.is_empty() {
        let (mut members, errors) = baggage::parse_baggage(lines);
        sdk_baggage::normalise_inbound(&mut members);
        extracted.baggage = members;
        for error in errors {
            extracted.problem(Problem::Baggage(error));
        }
    }

    let lines = header_lines(headers, LANGSMITH_TRACE, &mut extracted);
    if let Some(line) = lines.first() {
        match langsmith::parse_dotted_order(line) {
            Ok(mut run) => {
                run.project = extracted
                    .baggage
                    .iter()
                    .find(|(key, _)| key == LANGSMITH_PROJECT)
                    .map(|(_, project)| project.clone());
                if extracted.parent.is_none() {
                    extracted.parent = Some(run.otel_parent());
                    extracted.source = Some(ContextSource::Langsmith);
                }
                extracted.langsmith = Some(Box::new(run));
            }
            Err(error) => extracted.problem(Problem::LangsmithTrace(error)),
        }
    }

    if extracted.parent.is_none() {
        let trace_id = header_lines(headers, X_TRACE_ID, &mut extracted);
        let parent_id = header_lines(headers, X_PARENT_SPAN_ID, &mut extracted);
        match (trace_id.first(), parent_id.first()) {
            (Some(trace_id), Some(parent_id)) => {
                match TraceContext::new(*trace_id, *parent_id).to_span_context() {
                    Ok(parent) => {
                        extracted.parent = Some(parent);
                        extracted.source = Some(ContextSource::SimpleHeaders);
                    }
                    Err(error) => extracted.problem(Problem::Ids(error)),
                }
            }
            (None, None) => {}
            _ => extracted.problem(Problem::IncompleteSimpleHeaders),
        }
    }
    extracted
}

/// Writes the current span's context into outgoing request headers: `traceparent`,
/// `tracestate`, `baggage` (with the trace-wide attributes also in the members Langfuse's
/// and LangSmith's SDKs read), `X-Trace-ID` and `X-Parent-Span-ID`, and, in a LangSmith
/// trace, `langsmith-trace`. Outside a span it writes only the baggage, if any.
///
/// ```
/// use traced::traced;
///
/// #[traced]
/// fn call_server_b() -> http::HeaderMap {
///     let mut headers = http::HeaderMap::new();
///     traced::inject(&mut headers);
///     headers
/// }
///
/// // With no tracer provider installed there is no span to propagate.
/// assert!(call_server_b().get("traceparent").is_none());
/// ```
pub fn inject(headers: &mut HeaderMap) {
    Context::map_current(|cx| inject_context(cx, headers));
}

/// [`inject`] for a given context rather than the current one.
///
/// ```
/// let mut headers = http::HeaderMap::new();
/// traced::inject_context(&opentelemetry::Context::new(), &mut headers);
/// assert!(headers.is_empty());
/// ```
pub fn inject_context(cx: &Context, headers: &mut HeaderMap) {
    let span = cx.span();
    let ids = span.span_context();
    let mut put = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    };
    if ids.is_valid() {
        put(
            TRACEPARENT,
            traceparent::format_traceparent(ids.trace_id(), ids.span_id(), ids.trace_flags()),
        );
        let state = match cx.get::<ReceivedTracestate>() {
            // Unchanged since it was received: passed on whole, as received.
            Some(received)
                if received.trace_id == ids.trace_id() && &received.state == ids.trace_state() =>
            {
                received.header.clone()
            }
            _ => ids.trace_state().header(),
        };
        if !state.is_empty() {
            put(TRACESTATE, state);
        }
        put(X_TRACE_ID, format!("{:032x}", ids.trace_id()));
        put(X_PARENT_SPAN_ID, format!("{:016x}", ids.span_id()));
    }
    let run = cx.get::<LangsmithRun>();
    if let Some(run) = run {
        put(LANGSMITH_TRACE, run.dotted_order.clone());
    }
    let mut members: Vec<(String, String)> = cx
        .baggage()
        .iter()
        .map(|(k, (v, _))| (k.to_string(), v.to_string()))
        .collect();
    // The trace-wide attributes again in the keys Langfuse's and LangSmith's SDKs read, and
    // the LangSmith project of the run, as their `RunTree.to_headers` writes it.
    let project = run
        .and_then(|run| run.project.clone())
        .map(|project| (LANGSMITH_PROJECT.to_owned(), project));
    for (key, value) in sdk_baggage::outbound(&members).into_iter().chain(project) {
        if !members.iter().any(|(k, _)| *k == key) {
            members.push((key, value));
        }
    }
    if !members.is_empty() {
        put(
            BAGGAGE,
            baggage::format_baggage(members.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
        );
    }
}

/// A trace to continue, by ids: the trace id and the id of the span that is to be the
/// parent. For queues, RPC bodies, or ids passed by hand; `#[traced(parent = ctx)]`
/// continues it. Ids are normalised when used (UUID dashes removed, lower-cased) and
/// checked; invalid ones start a new trace with a warning.
///
/// ```
/// use traced::{traced, TraceContext};
///
/// #[traced(parent = job.trace.clone())]
/// fn handle(job: &Job) -> usize {
///     job.payload.len()
/// }
///
/// struct Job {
///     trace: Option<TraceContext>,
///     payload: String,
/// }
///
/// let job = Job {
///     trace: Some(TraceContext::new("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")),
///     payload: "work".into(),
/// };
/// assert_eq!(handle(&job), 4);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TraceContext {
    /// 32 hex digits (or a UUID with dashes).
    pub trace_id: String,
    /// 16 hex digits: the span the continued work is a child of.
    pub parent_span_id: String,
}

impl TraceContext {
    /// A trace context from ids.
    ///
    /// ```
    /// let ctx = traced::TraceContext::new("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7");
    /// assert!(ctx.to_span_context().is_ok());
    /// ```
    pub fn new(trace_id: impl Into<String>, parent_span_id: impl Into<String>) -> Self {
        Self {
            trace_id: trace_id.into(),
            parent_span_id: parent_span_id.into(),
        }
    }

    /// The context of the current span, to hand to work that continues elsewhere.
    ///
    /// ```
    /// assert_eq!(traced::TraceContext::current(), None);
    /// ```
    pub fn current() -> Option<Self> {
        Context::map_current(|cx| {
            let span = cx.span();
            let ids = span.span_context();
            ids.is_valid().then(|| Self {
                trace_id: format!("{:032x}", ids.trace_id()),
                parent_span_id: format!("{:016x}", ids.span_id()),
            })
        })
    }

    /// The remote span context these ids name (sampled), or why they are invalid.
    ///
    /// ```
    /// assert!(traced::TraceContext::new("nope", "00f067aa0ba902b7").to_span_context().is_err());
    /// ```
    pub fn to_span_context(&self) -> Result<SpanContext, IdError> {
        let trace_id = simple::parse_trace_id(&self.trace_id)?;
        let span_id = simple::parse_span_id(&self.parent_span_id)?;
        Ok(SpanContext::new(
            trace_id,
            span_id,
            TraceFlags::SAMPLED,
            true,
            TraceState::default(),
        ))
    }
}

/// What `#[traced(parent = ...)]` accepts: a [`TraceContext`], an `Option` of one (`None`
/// keeps the current span as parent), an [`Extracted`], or request headers.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a parent",
    note = "`parent = ...` takes a `traced::TraceContext`, an `Option<TraceContext>`, a `traced::Extracted`, or a reference to request headers (`&HeaderMap`, `&Request<B>`, `&Parts`)"
)]
pub trait IntoParent {
    /// The parent to start the span under; `None` for the current span.
    fn into_parent(self) -> Option<Extracted>;
}

impl IntoParent for TraceContext {
    fn into_parent(self) -> Option<Extracted> {
        (&self).into_parent()
    }
}

impl IntoParent for &TraceContext {
    fn into_parent(self) -> Option<Extracted> {
        let mut extracted = Extracted::default();
        match self.to_span_context() {
            Ok(parent) => {
                extracted.parent = Some(parent);
                extracted.source = Some(ContextSource::Explicit);
            }
            Err(error) => {
                warn(Cause::ExplicitParent, &error);
                extracted.problems.push(Problem::Ids(error));
            }
        }
        Some(extracted)
    }
}

impl<T: IntoParent> IntoParent for Option<T> {
    fn into_parent(self) -> Option<Extracted> {
        self.and_then(IntoParent::into_parent)
    }
}

impl IntoParent for Extracted {
    fn into_parent(self) -> Option<Extracted> {
        Some(self)
    }
}

impl IntoParent for &Extracted {
    fn into_parent(self) -> Option<Extracted> {
        Some(self.clone())
    }
}

impl IntoParent for &HeaderMap {
    fn into_parent(self) -> Option<Extracted> {
        Some(extract(self))
    }
}

impl<B> IntoParent for &http::Request<B> {
    fn into_parent(self) -> Option<Extracted> {
        Some(extract(self))
    }
}

impl IntoParent for &http::request::Parts {
    fn into_parent(self) -> Option<Extracted> {
        Some(extract(self))
    }
}
