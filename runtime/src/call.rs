//! One call of a traced function: its span from start to end, exactly once.

use std::any::Any;
use std::borrow::Cow;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::{Arc, OnceLock};

use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{global, Context, KeyValue, Value};

use crate::attributes as attr;
use crate::capture::{InputObject, OutputValue};
use crate::current::frames::{self, UserSet};
use crate::deferred::{self, Deferred, INPUT_INLINE, OUTPUT_INLINE};
use crate::error_chain::ErrorReport;
use crate::pipeline::route::{self, Route};
use crate::redact::Policy;
use crate::site::{CallSite, SCOPE};
use crate::small_text::InlineText;
use crate::trace_wide;

/// What a span is started for.
enum SpanOf {
    /// A `#[traced]` function.
    Site(&'static CallSite),
    /// An integration's span (a server request, say).
    Other {
        name: Cow<'static, str>,
        kind: SpanKind,
        attributes: Vec<KeyValue>,
    },
}

/// What a remote parent brings besides its context.
struct Remote {
    problems: Option<Vec<crate::propagation::Problem>>,
    /// The untrusted caller's context, linked rather than parent.
    link: Option<opentelemetry::trace::SpanContext>,
}

/// Where a call's span hangs in the trace.
#[doc(hidden)]
#[derive(Debug)]
// Built on the stack once per call and consumed at once: boxing the remote context would
// cost an allocation per extracted call and save nothing.
#[allow(clippy::large_enum_variant)]
pub enum Parent {
    /// Under the current span (the default).
    Current,
    /// At the root of a new trace (`#[traced(root)]`).
    Root,
    /// Under a remote parent (`#[traced(extract)]`, `#[traced(parent = ...)]`); `None`
    /// keeps the current span. A context that was missing or invalid starts a new trace.
    Remote(Option<crate::propagation::Extracted>),
    /// Under the span of a given context (a `tracing` span's explicit parent).
    #[cfg(feature = "tracing")]
    Context(Context),
}

/// Attributes of our own schema (their keys are ours, their values may carry the user's
/// data) made safe by `policy`: secrets inside JSON values masked, text cut to the limit.
pub(crate) fn safe(policy: &Policy, attributes: Vec<KeyValue>) -> Vec<KeyValue> {
    attributes
        .into_iter()
        .map(|kv| match kv.value {
            Value::String(text) => {
                let text = text.to_string();
                let text = if text.starts_with('{') || text.starts_with('[') {
                    policy.redact_json(text)
                } else {
                    text
                };
                KeyValue::new(kv.key, crate::redact::limit(text, policy.max_bytes).0)
            }
            other => KeyValue::new(kv.key, other),
        })
        .collect()
}

/// Whether the current span is in the trace `extracted` continues (and no problem needs
/// recording): the context was extracted and continued by an outer layer already.
fn continued_here(extracted: &crate::propagation::Extracted) -> bool {
    let Some(remote) = extracted.remote_parent() else {
        return false;
    };
    extracted.problems().is_empty()
        && Context::map_current(|cx| {
            let current = cx.span().span_context().clone();
            current.is_valid() && current.trace_id() == remote.trace_id()
        })
}

/// The span of one call, ended exactly once: by [`Call::finish`], by a panic inside
/// [`Call::run`], or on drop (a future dropped before it completed).
#[doc(hidden)]
#[derive(Debug)]
pub struct Call {
    cx: Context,
    /// No span at all (the pipeline records nothing): nothing to make current.
    inert: bool,
    recording: bool,
    /// The masking policy and size limit, fetched once, when the call first captures
    /// handed to every capture of the call.
    policy: OnceLock<Arc<Policy>>,
    user_set: UserSet,
    ended: bool,
    /// The span is our provider's: small captured values travel in its record.
    ours: bool,
    /// The arguments' JSON when it travels in the span's record: handed to the span as
    /// it ends, with the output.
    /// (Boxed: a call that captures nothing, or not small, keeps the call small.)
    input: Option<Box<InlineText<INPUT_INLINE>>>,
}

/// A call's span made current (see [`Call::run`]); dropping it restores the context.
struct Entered<'a> {
    // Dropped in this order: the frame, then the context.
    _frame: Option<frames::FrameGuard<'a>>,
    _attached: opentelemetry::ContextGuard,
}

/// What the macro's generated code records when a call returns.
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct Outcome {
    output: OutputValue,
    error: Option<ErrorReport>,
    attributes: Vec<KeyValue>,
    failure: Option<String>,
}

impl Outcome {
    /// An attribute to set when the call ends.
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    pub(crate) fn attribute(&mut self, attribute: KeyValue) {
        self.attributes.push(attribute);
    }

    /// Marks the call failed (status Error) without an exception event.
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    pub(crate) fn fail(&mut self, description: String) {
        self.failure = Some(description);
    }

    pub fn output(&mut self) -> &mut OutputValue {
        &mut self.output
    }

    pub fn error(&mut self, report: ErrorReport) {
        self.error = Some(report);
    }
}

impl Call {
    /// Starts the span of a traced function under the current span.
    #[inline(always)]
    pub fn start(site: &'static CallSite) -> Self {
        if route::is_off() {
            // Decided in the caller's own code before anything is built: an unsampled
            // call costs one load and a call that is never made.
            return Self::inert();
        }
        Self::start_recording(site, Parent::Current)
    }

    /// Starts the span of a traced function under `parent` (a root, a remote parent).
    #[inline(always)]
    pub fn start_under(site: &'static CallSite, parent: Parent) -> Self {
        if route::is_off() {
            return Self::inert();
        }
        Self::start_recording(site, parent)
    }

    #[inline(never)]
    fn start_recording(site: &'static CallSite, parent: Parent) -> Self {
        route::with_route(|route| Self::begin_on(route, SpanOf::Site(site), parent))
    }

    /// Starts a span of any name, kind and initial attributes (the integrations' spans).
    #[cfg_attr(not(any(feature = "axum", feature = "tracing")), allow(dead_code))]
    pub(crate) fn begin(
        name: Cow<'static, str>,
        kind: SpanKind,
        attributes: Vec<KeyValue>,
        parent: Parent,
    ) -> Self {
        route::with_route(|route| {
            Self::begin_on(
                route,
                SpanOf::Other {
                    name,
                    kind,
                    attributes,
                },
                parent,
            )
        })
    }

    fn begin_on(route: &Route, origin: SpanOf, parent: Parent) -> Self {
        if matches!(route, Route::Off) {
            return Self::inert();
        }
        match parent {
            // Borrowed, not cloned: the new context is made from it directly.
            Parent::Current | Parent::Remote(None) => {
                Context::map_current(|parent_cx| Self::begin_under(route, origin, parent_cx, None))
            }
            Parent::Root => Self::begin_under(route, origin, &Context::new(), None),
            #[cfg(feature = "tracing")]
            Parent::Context(cx) => Self::begin_under(route, origin, &cx, None),
            // The request's context already continued here (an outer layer extracted the
            // same headers, and its span is current): nest under that span rather than
            // beside it.
            Parent::Remote(Some(extracted)) if continued_here(&extracted) => {
                Context::map_current(|parent_cx| Self::begin_under(route, origin, parent_cx, None))
            }
            Parent::Remote(Some(extracted)) => {
                let problems =
                    (!extracted.problems().is_empty()).then(|| extracted.problems().to_vec());
                let link = extracted.link().cloned();
                let remote = Remote { problems, link };
                Self::begin_under(route, origin, &extracted.to_context(), Some(remote))
            }
        }
    }

    fn begin_under(
        route: &Route,
        origin: SpanOf,
        parent_cx: &Context,
        remote: Option<Remote>,
    ) -> Self {
        let (problems, links) = match remote {
            Some(Remote { problems, link }) => (
                problems,
                link.map(|remote| vec![opentelemetry::trace::Link::with_context(remote)]),
            ),
            None => (None, None),
        };
        if let Route::Ours(tracer) = route {
            // Our provider: a function's static attributes are added at export.
            let (site, name, kind, attributes) = match origin {
                SpanOf::Site(site) => (
                    Some(site),
                    Cow::Borrowed(site.name),
                    SpanKind::Internal,
                    Vec::new(),
                ),
                SpanOf::Other {
                    name,
                    kind,
                    attributes,
                } => (None, name, kind, attributes),
            };
            let span = tracer.start_call(site, name, kind, attributes, links, parent_cx);
            let mut call = Self::started(parent_cx, span, problems);
            call.ours = true;
            return call;
        }
        let (name, kind, attributes) = match origin {
            SpanOf::Site(site) => (
                Cow::Borrowed(site.name),
                SpanKind::Internal,
                site.attributes(),
            ),
            SpanOf::Other {
                name,
                kind,
                attributes,
            } => (name, kind, attributes),
        };
        let mut builder = opentelemetry::trace::SpanBuilder::from_name(name)
            .with_kind(kind)
            .with_attributes(attributes);
        builder.links = links;
        let tracer = global::tracer_with_scope(SCOPE.clone());
        let span = tracer.build_with_context(builder, parent_cx);
        Self::started(parent_cx, span, problems)
    }

    fn started<S>(
        parent_cx: &Context,
        mut span: S,
        problems: Option<Vec<crate::propagation::Problem>>,
    ) -> Self
    where
        S: opentelemetry::trace::Span + Send + Sync + 'static,
    {
        let recording = span.is_recording();
        let policy = OnceLock::new();
        let mut langsmith = None;
        if recording {
            Self::annotate(&mut span, parent_cx, problems, &policy);
            langsmith = crate::propagation::langsmith::begin(parent_cx, &mut span);
        }
        let cx = parent_cx.with_span(span);
        Self {
            cx: match langsmith {
                Some(run) => cx.with_value(run),
                None => cx,
            },
            inert: false,
            recording,
            policy,
            user_set: UserSet::default(),
            ended: false,
            ours: false,
            input: None,
        }
    }

    /// The attributes a recording span takes from its parent context.
    fn annotate<S: opentelemetry::trace::Span>(
        span: &mut S,
        parent_cx: &Context,
        problems: Option<Vec<crate::propagation::Problem>>,
        policy: &OnceLock<Arc<Policy>>,
    ) {
        let trace_wide = trace_wide::attributes(parent_cx);
        if !trace_wide.is_empty() {
            span.set_attributes(trace_wide);
        }
        if let Some(problems) = problems {
            // What the caller sent is quoted in the problems: bounded like every value.
            let max = policy.get_or_init(crate::redact::policy).max_bytes;
            let mut text = String::new();
            for problem in &problems {
                if text.len() > max {
                    break;
                }
                if !text.is_empty() {
                    text.push_str("; ");
                }
                text.push_str(&problem.to_string());
            }
            span.set_attribute(KeyValue::new(
                attr::PROPAGATION_PROBLEM,
                crate::bounded::cut(&text, max),
            ));
        }
    }

    /// A call that makes no span: the pipeline records nothing.
    #[inline]
    fn inert() -> Self {
        Self {
            cx: Context::new(),
            inert: true,
            recording: false,
            policy: OnceLock::new(),
            user_set: UserSet::default(),
            ended: true,
            ours: false,
            input: None,
        }
    }

    /// Whether the span records anything: nothing is captured or formatted otherwise.
    #[inline]
    pub fn is_recording(&self) -> bool {
        self.recording
    }

    /// The policy of this call: fetched on first use (a span that captures nothing never
    /// takes the policy's lock), then the same for every capture of the call.
    fn policy(&self) -> &Arc<Policy> {
        self.policy.get_or_init(crate::redact::policy)
    }

    /// The context holding this call's span.
    #[cfg(feature = "tracing")]
    pub(crate) fn context(&self) -> &Context {
        &self.cx
    }

    /// A field's value made safe by this call's policy.
    #[cfg(feature = "tracing")]
    pub(crate) fn field_value(&self, key: &str, value: Value) -> Value {
        crate::log_event::safe_value(self.policy(), key, value)
    }

    /// An empty input object for this call's arguments, under its policy.
    pub fn input(&self) -> InputObject {
        InputObject::with_policy(self.policy().clone())
    }

    /// Whether a captured text of `len` bytes can travel in the span's record as it is
    /// (our span, no mask function to run on it, within the size limit).
    fn defers(&self, len: usize) -> bool {
        self.ours && {
            let policy = self.policy();
            policy.mask.is_none() && len <= policy.max_bytes
        }
    }

    /// Records the arguments as `input.value` (secrets masked, size limited).
    pub fn record_input(&mut self, mut input: InputObject) {
        let span = self.cx.span();
        let extra = std::mem::take(&mut input.extra);
        if !extra.is_empty() {
            span.set_attributes(safe(input.policy(), extra));
        }
        let captured = match input.finish_small() {
            Ok(text) if self.defers(text.len()) => {
                self.input = Some(Box::new(text));
                return;
            }
            Ok(text) => crate::redact::Captured {
                text: text.as_str().to_owned(),
                ..Default::default()
            },
            Err(captured) => captured,
        };
        let mut attributes =
            self.policy()
                .captured_attributes(attr::INPUT_VALUE, captured, span.span_context());
        attributes.push(KeyValue::new(attr::INPUT_MIME_TYPE, attr::MIME_JSON));
        span.set_attributes(attributes);
    }

    /// Records one `fields(key = value)` attribute (masked when its key is a secret name).
    pub fn record_field(&self, key: &'static str, value: Value) {
        let value = self.policy().field_value(key, value);
        self.cx.span().set_attribute(KeyValue::new(key, value));
    }

    /// Sets `output.value` and its MIME type (size limited).
    pub(crate) fn output_attributes(&self, text: String, mime: &'static str) -> Vec<KeyValue> {
        self.captured_output_attributes(
            crate::redact::Captured {
                text,
                ..Default::default()
            },
            mime,
        )
    }

    /// Sets `output.value` of a capture (cut or failed) and its MIME type.
    pub(crate) fn captured_output_attributes(
        &self,
        captured: crate::redact::Captured,
        mime: &'static str,
    ) -> Vec<KeyValue> {
        let span = self.cx.span();
        let mut attributes =
            self.policy()
                .captured_attributes(attr::OUTPUT_VALUE, captured, span.span_context());
        attributes.push(KeyValue::new(attr::OUTPUT_MIME_TYPE, mime));
        attributes
    }

    /// Runs `body` with the span current. A panic is recorded, ends the span, and goes on
    /// unchanged.
    #[inline]
    pub fn run<R>(&mut self, body: impl FnOnce() -> R) -> R {
        if self.inert {
            return body();
        }
        // Only the call of `body` is generic: what surrounds it is shared by every
        // traced function (less code to generate and compile per function).
        let result = {
            let _scope = self.enter();
            catch_unwind(AssertUnwindSafe(body))
        };
        match result {
            Ok(value) => value,
            Err(payload) => self.rethrow(payload),
        }
    }

    /// Makes the span current on this thread (with its frame, for a recording span)
    /// until the scope is dropped. (`#[inline]` lets optimised builds inline it; a debug
    /// build still compiles it once.)
    #[inline]
    fn enter(&mut self) -> Entered<'_> {
        let attached = self.cx.clone().attach();
        // Only a recording span can have an output or usage set by hand.
        let frame = self
            .recording
            .then(|| frames::enter(self.cx.span().span_context().span_id(), &mut self.user_set));
        Entered {
            _frame: frame,
            _attached: attached,
        }
    }

    /// Records a panic of the body, ends the span, and lets the panic go on.
    #[cold]
    fn rethrow(&mut self, payload: Box<dyn Any + Send>) -> ! {
        self.end_with_panic(&*payload);
        resume_unwind(payload)
    }

    /// Records the returned value (output or error) and ends the span.
    #[inline]
    pub fn finish<T: ?Sized>(&mut self, value: &T, record: impl FnOnce(&mut Outcome, &T)) {
        if self.ended {
            return;
        }
        if self.recording {
            // The call's policy if a capture fetched it already; else the output fetches
            // it only if it captures something (a span that records no output takes no
            // lock: the policy's `RwLock` and `Arc` cost an empty span about 20 ns).
            let mut recorder = Outcome {
                output: OutputValue::with_policy_if_any(self.policy.get().cloned()),
                ..Outcome::default()
            };
            // Whatever recording the value runs of the user's code (an error's Display, a
            // Serialize not caught deeper down) must not take the value away from the
            // caller: a panic here is recorded, and the value returned all the same.
            if let Err(message) = crate::contain::contained(|| record(&mut recorder, value)) {
                recorder.attributes.push(KeyValue::new(
                    "traced.capture.failed.output.value",
                    format!("recording the returned value panicked: {message}"),
                ));
            }
            self.finish_recorded(recorder);
        } else {
            self.end();
        }
    }

    /// Ends the call of a function that returns `()`: no output, no error to record.
    #[inline]
    pub fn end_returned(&mut self) {
        if !self.ended {
            self.end();
        }
    }

    /// What `finish` does once the value is recorded (not generic: compiled once).
    fn finish_recorded(&mut self, mut recorder: Outcome) {
        let span = self.cx.span();
        let mut output = None;
        if let Some((text, mime)) = recorder.output.value.take() {
            if !self.user_set.contains(UserSet::OUTPUT) {
                let whole = !recorder.output.cut && recorder.output.failure.is_none();
                match text.inline() {
                    Some(inline) if whole && self.defers(inline.len()) => {
                        output = Some((*inline, mime));
                    }
                    _ => {
                        let captured = crate::redact::Captured {
                            text: text.into_string(),
                            cut: recorder.output.cut,
                            failures: recorder.output.failure.take().into_iter().collect(),
                        };
                        span.set_attributes(self.captured_output_attributes(captured, mime));
                    }
                }
            }
        }
        let extra = std::mem::take(&mut recorder.output.extra);
        if !extra.is_empty() && !self.user_set.contains(UserSet::OUTPUT) {
            span.set_attributes(safe(self.policy(), extra));
        }
        if !recorder.attributes.is_empty() {
            span.set_attributes(recorder.attributes);
        }
        if let Some(error) = recorder.error {
            self.record_error(error);
        } else if let Some(description) = recorder.failure {
            self.set_error_status(description);
        }
        self.end_with(output);
    }

    fn record_error(&self, error: ErrorReport) {
        self.add_exception_event(error.type_name, error.message);
        self.set_error_status(error.display);
    }

    /// Adds an `exception` event.
    pub(crate) fn add_exception_event(&self, type_name: &'static str, message: String) {
        self.cx.span().add_event(
            attr::EXCEPTION_EVENT,
            vec![
                KeyValue::new(attr::EXCEPTION_TYPE, type_name),
                KeyValue::new(attr::EXCEPTION_MESSAGE, message),
            ],
        );
    }

    /// Sets the span status to Error.
    pub(crate) fn set_error_status(&self, description: String) {
        self.cx.span().set_status(Status::Error {
            description: Cow::Owned(description),
        });
    }

    /// Sets attributes on the span.
    pub(crate) fn set_attributes(&self, attributes: impl IntoIterator<Item = KeyValue>) {
        self.cx.span().set_attributes(attributes);
    }

    /// What the user recorded by hand on this span so far.
    pub(crate) fn user_set(&self) -> UserSet {
        self.user_set
    }

    pub(crate) fn is_ended(&self) -> bool {
        self.ended
    }

    /// Runs `future` to completion with the span current while it is polled, without
    /// ending the span (the body of an `async fn` that returns a stream).
    pub fn run_future<F: std::future::Future>(&mut self, future: F) -> RunFuture<'_, F> {
        RunFuture { call: self, future }
    }

    /// Ends the span of a body that panicked with `payload`.
    fn end_with_panic(&mut self, payload: &(dyn Any + Send)) {
        if self.ended {
            return;
        }
        if self.recording {
            let message = crate::contain::panic_message(payload);
            self.cx
                .span()
                .set_attribute(KeyValue::new(attr::PANICKED, true));
            self.record_error(ErrorReport::from_text(
                "panic",
                format!(
                    "panicked: {}",
                    crate::bounded::cut(&message, self.policy().max_bytes)
                ),
            ));
        }
        self.end();
    }

    pub(crate) fn end(&mut self) {
        self.end_with(None);
    }

    /// Ends the span, handing it the captured values it carries (the input kept by
    /// [`Call::record_input`], and `output`).
    fn end_with(&mut self, output: Option<(InlineText<OUTPUT_INLINE>, &'static str)>) {
        self.ended = true;
        // A span processor that panics (the SDK's simple processor does when it runs inside
        // `futures::executor::block_on`) must not take the user's call down with it: the
        // panic hook has already reported it, and the span is lost, not the program.
        let span = self.cx.span();
        if self.input.is_some() || output.is_some() {
            let input = self.input.take().map(|input| *input);
            deferred::hand_over(span.span_context().span_id(), Deferred { input, output });
        }
        let _ = catch_unwind(AssertUnwindSafe(|| span.end()));
    }
}

impl Drop for Call {
    #[inline]
    fn drop(&mut self) {
        if self.ended {
            return;
        }
        self.drop_unfinished();
    }
}

impl Call {
    #[cold]
    fn drop_unfinished(&mut self) {
        if std::thread::panicking() {
            // Dropped while the thread unwinds from a panic that is not this call's own
            // (its body's panics are caught in `run`, its captures' are contained): a
            // future dropped with its task, say. This call did not fail; it was cut off.
            if self.recording {
                let span = self.cx.span();
                span.set_attribute(KeyValue::new(attr::CANCELLED, true));
                span.set_status(Status::Error {
                    description: Cow::Borrowed(
                        "cancelled: dropped while the thread unwound from a panic outside this call",
                    ),
                });
            }
            self.end();
        } else {
            if self.recording {
                self.cx
                    .span()
                    .set_attribute(KeyValue::new(attr::CANCELLED, true));
            }
            self.end();
        }
    }
}

pin_project_lite::pin_project! {
    /// See [`Call::run_future`].
    #[doc(hidden)]
    #[derive(Debug)]
    pub struct RunFuture<'a, F> {
        call: &'a mut Call,
        #[pin]
        future: F,
    }
}

impl<F: std::future::Future> std::future::Future for RunFuture<'_, F> {
    type Output = F::Output;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        task: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        let this = self.project();
        let future = this.future;
        this.call.run(|| future.poll(task))
    }
}
