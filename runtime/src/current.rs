//! The span that is current on this thread: its ids, and a handle to add to it.

use std::borrow::Cow;

use opentelemetry::trace::{SpanId, TraceContextExt};
use opentelemetry::{Context, Key, KeyValue, Value};
use serde::Serialize;

use crate::attributes as attr;
use crate::capture::OutputValue;
use crate::llm::{self, Usage};

/// The frames of traced calls running on this thread, innermost last, so that what the
/// user records by hand through [`CurrentSpan`] (an output, a usage) is not written again
/// by the call when it ends.
pub(crate) mod frames {
    use std::cell::RefCell;

    use opentelemetry::trace::SpanId;

    /// Things the user has recorded by hand on a call's span.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub(crate) struct UserSet(u8);

    impl UserSet {
        pub(crate) const OUTPUT: UserSet = UserSet(1);
        pub(crate) const USAGE: UserSet = UserSet(2);

        pub(crate) fn contains(self, other: UserSet) -> bool {
            self.0 & other.0 == other.0
        }
    }

    struct Frame {
        span_id: SpanId,
        user_set: UserSet,
        /// The model the user named on this span (for pricing its usage).
        model: Option<String>,
    }

    thread_local! {
        static FRAMES: RefCell<Vec<Frame>> = const { RefCell::new(Vec::new()) };
    }

    /// Pushes a frame; the guard pops it and hands back what the user set meanwhile.
    pub(crate) fn enter(span_id: SpanId, user_set: &mut UserSet) -> FrameGuard<'_> {
        let initial = *user_set;
        let _ = FRAMES.try_with(|frames| {
            frames.borrow_mut().push(Frame {
                span_id,
                user_set: initial,
                model: None,
            })
        });
        FrameGuard { user_set }
    }

    pub(crate) struct FrameGuard<'a> {
        user_set: &'a mut UserSet,
    }

    impl Drop for FrameGuard<'_> {
        fn drop(&mut self) {
            let popped = FRAMES.try_with(|frames| frames.borrow_mut().pop());
            if let Ok(Some(frame)) = popped {
                *self.user_set = frame.user_set;
            }
        }
    }

    /// Runs `f` on the innermost frame of `span_id`, if there is one on this thread.
    fn innermost<R>(span_id: SpanId, f: impl FnOnce(&mut Frame) -> R) -> Option<R> {
        FRAMES
            .try_with(|frames| {
                frames
                    .borrow_mut()
                    .iter_mut()
                    .rev()
                    .find(|frame| frame.span_id == span_id)
                    .map(f)
            })
            .ok()
            .flatten()
    }

    /// Remembers the model named on the innermost frame of `span_id`.
    pub(crate) fn set_model(span_id: SpanId, model: &str) {
        innermost(span_id, |frame| frame.model = Some(model.to_owned()));
    }

    /// The model named on the innermost frame of `span_id`.
    pub(crate) fn model(span_id: SpanId) -> Option<String> {
        innermost(span_id, |frame| frame.model.clone()).flatten()
    }

    /// Marks `what` as set by the user on the innermost frame of `span_id`.
    pub(crate) fn mark(span_id: SpanId, what: UserSet) {
        innermost(span_id, |frame| frame.user_set.0 |= what.0);
    }
}

/// The trace id of the current span, as 32 lowercase hex digits; `None` outside a span.
///
/// ```
/// use traced::traced;
///
/// #[traced]
/// fn work() -> Option<String> {
///     traced::current_trace_id()
/// }
///
/// assert_eq!(traced::current_trace_id(), None);
/// // With no tracer provider installed the span is a no-op and has no id either.
/// assert_eq!(work(), None);
/// ```
pub fn current_trace_id() -> Option<String> {
    Context::map_current(|cx| {
        let span = cx.span();
        let ids = span.span_context();
        ids.is_valid().then(|| format!("{:032x}", ids.trace_id()))
    })
}

/// The span id of the current span, as 16 lowercase hex digits; `None` outside a span.
///
/// ```
/// assert_eq!(traced::current_span_id(), None);
/// ```
pub fn current_span_id() -> Option<String> {
    Context::map_current(|cx| {
        let span = cx.span();
        let ids = span.span_context();
        ids.is_valid().then(|| format!("{:016x}", ids.span_id()))
    })
}

/// A handle to the current span, to record what the macro cannot see.
///
/// ```
/// use traced::traced;
///
/// #[traced]
/// fn answer(question: &str) -> usize {
///     let span = traced::current_span();
///     span.set_attribute("question.length", question.len() as i64);
///     span.add_event("thinking", []);
///     span.set_output(&"forty-two");
///     42
/// }
///
/// assert_eq!(answer("life?"), 42);
/// ```
#[derive(Debug, Clone)]
pub struct CurrentSpan {
    cx: Context,
}

/// The span that is current now (a no-op handle outside any span).
///
/// ```
/// let span = traced::current_span();
/// assert!(!span.is_recording());
/// ```
pub fn current_span() -> CurrentSpan {
    CurrentSpan {
        cx: Context::current(),
    }
}

impl CurrentSpan {
    /// Whether the span records anything (false outside a span or when not sampled).
    ///
    /// ```
    /// assert!(!traced::current_span().is_recording());
    /// ```
    pub fn is_recording(&self) -> bool {
        self.cx.span().is_recording()
    }

    fn raw_span_id(&self) -> SpanId {
        self.cx.span().span_context().span_id()
    }

    /// Records `value` as the span's output (`output.value`), by the same rules as a
    /// returned value: text as is, anything else as JSON. A traced function that calls
    /// this keeps this output instead of its return value.
    ///
    /// ```
    /// traced::current_span().set_output(&serde_json::json!({"answer": 42}));
    /// ```
    pub fn set_output<T: Serialize + ?Sized>(&self, value: &T) {
        if !self.is_recording() {
            return;
        }
        let mut output = OutputValue::default();
        crate::capture::ValueSink::serialize(&mut output, value);
        if let Some((text, mime)) = output.value {
            let span = self.cx.span();
            span.set_attributes(crate::redact::policy().text_attributes(
                attr::OUTPUT_VALUE,
                text.into_string(),
                span.span_context(),
            ));
            span.set_attribute(KeyValue::new(attr::OUTPUT_MIME_TYPE, mime));
            frames::mark(self.raw_span_id(), frames::UserSet::OUTPUT);
        }
    }

    /// Records the model a generation asks for (`gen_ai.request.model`, and
    /// `llm.model_name` for OpenInference).
    ///
    /// ```
    /// traced::current_span().set_model("tiny-llm-1");
    /// ```
    pub fn set_model(&self, model: impl Into<String>) {
        if self.is_recording() {
            let model = model.into();
            frames::set_model(self.raw_span_id(), &model);
            let span = self.cx.span();
            span.set_attribute(KeyValue::new(llm::OPENINFERENCE_MODEL, model.clone()));
            span.set_attribute(KeyValue::new(llm::REQUEST_MODEL, model));
        }
    }

    /// Records the provider (`gen_ai.provider.name`, `gen_ai.system`: `openai`,
    /// `anthropic`, `aws.bedrock`...) and the operation (`gen_ai.operation.name = chat`).
    ///
    /// ```
    /// traced::current_span().set_provider("openai");
    /// ```
    pub fn set_provider(&self, provider: impl Into<String>) {
        if self.is_recording() {
            let provider = provider.into();
            self.cx.span().set_attributes([
                KeyValue::new("gen_ai.operation.name", "chat"),
                KeyValue::new("gen_ai.provider.name", provider.clone()),
                KeyValue::new("gen_ai.system", provider),
            ]);
        }
    }

    /// Records the request's parameters (`gen_ai.request.*`, Langfuse's
    /// `model.parameters`, the tool definitions).
    ///
    /// ```
    /// let parameters = traced::genai::RequestParameters { temperature: Some(0.0), ..Default::default() };
    /// traced::current_span().set_request_parameters(&parameters);
    /// ```
    pub fn set_request_parameters(&self, parameters: &crate::genai::RequestParameters) {
        if self.is_recording() {
            self.set_safe(crate::genai::parameter_attributes(parameters));
        }
    }

    /// Records the messages sent to the model, and its system instructions if any, in
    /// GenAI's structured form and in OpenAI's chat form (see [`crate::genai`]).
    ///
    /// ```
    /// use traced::genai::Message;
    /// traced::current_span().set_input_messages(Some("be brief"), &[Message::text("user", "hi")]);
    /// ```
    pub fn set_input_messages(
        &self,
        system_instructions: Option<&str>,
        messages: &[crate::genai::Message],
    ) {
        if self.is_recording() {
            let mut attributes = Vec::new();
            if let Some(system) = system_instructions {
                attributes.push(KeyValue::new(
                    "gen_ai.system_instructions",
                    serde_json::json!([{"type": "text", "content": system}]).to_string(),
                ));
            }
            attributes.extend(crate::genai::input_attributes(
                messages,
                system_instructions,
                &[],
            ));
            self.set_safe(attributes);
        }
    }

    /// Records the model's reply: its messages (with their finish reasons), and the
    /// response's id and model when given.
    ///
    /// ```
    /// use traced::genai::Message;
    /// traced::current_span().set_output_messages(
    ///     Some("chatcmpl-1"),
    ///     Some("gpt-4o-2024-08-06"),
    ///     &[Message::text("assistant", "hello").finish_reason("stop")],
    /// );
    /// ```
    pub fn set_output_messages(
        &self,
        response_id: Option<&str>,
        response_model: Option<&str>,
        messages: &[crate::genai::Message],
    ) {
        if self.is_recording() {
            if let Some(model) = response_model {
                frames::set_model(self.raw_span_id(), model);
            }
            self.set_safe(crate::genai::response_attributes(
                response_id,
                response_model,
                messages,
            ));
            frames::mark(self.raw_span_id(), frames::UserSet::OUTPUT);
        }
    }

    /// Records what the generation cost (`gen_ai.usage.cost`, Langfuse's
    /// `cost_details`), when it is known better than from `Config::model_price`.
    ///
    /// ```
    /// traced::current_span().set_cost(traced::genai::Cost { input: 0.01, output: 0.02, total: 0.03 });
    /// ```
    pub fn set_cost(&self, cost: crate::genai::Cost) {
        if self.is_recording() {
            self.cx.span().set_attributes(cost.attributes());
        }
    }

    /// Sets attributes made safe by the policy (secret keys masked, cut to the limit).
    fn set_safe(&self, attributes: Vec<KeyValue>) {
        let policy = crate::redact::policy();
        self.cx
            .span()
            .set_attributes(crate::call::safe(&policy, attributes));
    }

    /// Records the tokens a generation used (`gen_ai.usage.*`, `llm.token_count.*` for
    /// OpenInference, Langfuse's `usage_details`), and, when a price is configured for
    /// the model named on this span (`Config::model_price`), its cost. A traced stream
    /// whose chunks carry usage keeps this one.
    ///
    /// ```
    /// traced::current_span().set_usage(traced::Usage::new(12, 30));
    /// ```
    pub fn set_usage(&self, usage: Usage) {
        if self.is_recording() {
            let span = self.cx.span();
            span.set_attributes(usage.attributes());
            let model = frames::model(self.raw_span_id());
            span.set_attributes(crate::genai::cost_attributes(model.as_deref(), &usage));
            frames::mark(self.raw_span_id(), frames::UserSet::USAGE);
        }
    }

    /// The level Langfuse shows for this observation (`langfuse.observation.level`):
    /// debug noise, the default, a warning, or an error. The span's OpenTelemetry status
    /// is left as it is: a warning is not a failure.
    ///
    /// ```
    /// traced::current_span().set_level(traced::ObservationLevel::Warning);
    /// ```
    pub fn set_level(&self, level: ObservationLevel) {
        if self.is_recording() {
            self.cx.span().set_attribute(KeyValue::new(
                attr::LANGFUSE_OBSERVATION_LEVEL,
                level.as_str(),
            ));
        }
    }

    /// The message Langfuse shows beside the level (`langfuse.observation.status_message`),
    /// cut to the size limit.
    ///
    /// ```
    /// traced::current_span().set_status_message("retried twice: the model was overloaded");
    /// ```
    pub fn set_status_message(&self, message: impl Into<String>) {
        if self.is_recording() {
            let value = crate::redact::policy().field_value(
                attr::LANGFUSE_OBSERVATION_STATUS_MESSAGE,
                Value::from(message.into()),
            );
            self.cx.span().set_attribute(KeyValue::new(
                attr::LANGFUSE_OBSERVATION_STATUS_MESSAGE,
                value,
            ));
        }
    }

    /// Links a generation to the Langfuse-managed prompt it used, by name and version
    /// (`langfuse.observation.prompt.name`, `langfuse.observation.prompt.version`).
    ///
    /// ```
    /// traced::current_span().set_prompt("customer-support", 3);
    /// ```
    pub fn set_prompt(&self, name: impl Into<String>, version: u32) {
        if self.is_recording() {
            let span = self.cx.span();
            span.set_attribute(KeyValue::new(
                attr::LANGFUSE_OBSERVATION_PROMPT_NAME,
                name.into(),
            ));
            span.set_attribute(KeyValue::new(
                attr::LANGFUSE_OBSERVATION_PROMPT_VERSION,
                i64::from(version),
            ));
        }
    }

    /// Sets an attribute on the span. Like captured values, it is masked when its key is
    /// a secret name, and text is cut to the size limit.
    ///
    /// ```
    /// traced::current_span().set_attribute("retries", 2);
    /// ```
    pub fn set_attribute(&self, key: impl Into<Key>, value: impl Into<Value>) {
        if self.is_recording() {
            let key = key.into();
            let value = crate::redact::policy().field_value(key.as_str(), value.into());
            self.cx.span().set_attribute(KeyValue::new(key, value));
        }
    }

    /// Adds an event, with attributes, to the span.
    ///
    /// ```
    /// use opentelemetry::KeyValue;
    /// traced::current_span().add_event("cache miss", [KeyValue::new("key", "user:7")]);
    /// ```
    pub fn add_event(
        &self,
        name: impl Into<Cow<'static, str>>,
        attributes: impl IntoIterator<Item = KeyValue>,
    ) {
        if self.is_recording() {
            self.cx
                .span()
                .add_event(name, attributes.into_iter().collect());
        }
    }

    /// The trace id of this span (32 lowercase hex digits), `None` for no span.
    ///
    /// ```
    /// assert_eq!(traced::current_span().trace_id(), None);
    /// ```
    pub fn trace_id(&self) -> Option<String> {
        let span = self.cx.span();
        let ids = span.span_context();
        ids.is_valid().then(|| format!("{:032x}", ids.trace_id()))
    }

    /// The id of this span (16 lowercase hex digits), `None` for no span.
    ///
    /// ```
    /// assert_eq!(traced::current_span().span_id(), None);
    /// ```
    pub fn span_id(&self) -> Option<String> {
        let span = self.cx.span();
        let ids = span.span_context();
        ids.is_valid().then(|| format!("{:016x}", ids.span_id()))
    }

    /// The OpenTelemetry context holding this span, e.g. to hand to other OTel code.
    ///
    /// ```
    /// use opentelemetry::trace::TraceContextExt;
    /// assert!(!traced::current_span().context().has_active_span());
    /// ```
    pub fn context(&self) -> &Context {
        &self.cx
    }
}

/// The levels Langfuse gives an observation ([`CurrentSpan::set_level`]).
///
/// ```
/// assert_eq!(traced::ObservationLevel::Error.as_str(), "ERROR");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObservationLevel {
    /// `DEBUG`: detail, hidden by default.
    Debug,
    /// `DEFAULT`.
    Default,
    /// `WARNING`.
    Warning,
    /// `ERROR`.
    Error,
}

impl ObservationLevel {
    /// The value Langfuse reads.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Debug => "DEBUG",
            Self::Default => "DEFAULT",
            Self::Warning => "WARNING",
            Self::Error => "ERROR",
        }
    }
}
