//! Attributes of a whole trace (`user.id`, `session.id`): carried in the context's
//! baggage, so they are copied to every span started under it and travel to other
//! services in the `baggage` header.

use std::future::Future;

use opentelemetry::baggage::BaggageExt;
use opentelemetry::context::{FutureExt as _, WithContext};
use opentelemetry::trace::TraceContextExt;
use opentelemetry::{Context, ContextGuard, KeyValue};

use crate::attributes::{SESSION_ID, USER_ID};

/// The baggage keys copied onto spans as attributes.
const TRACE_WIDE_KEYS: [&str; 2] = [USER_ID, SESSION_ID];

/// The trace-wide attributes the context's baggage holds.
pub(crate) fn attributes(cx: &Context) -> Vec<KeyValue> {
    let baggage = cx.baggage();
    if baggage.is_empty() {
        return Vec::new();
    }
    TRACE_WIDE_KEYS
        .iter()
        .filter_map(|key| {
            baggage
                .get(*key)
                .map(|value| KeyValue::new(*key, value.clone()))
        })
        .collect()
}

/// The user and session of a trace: set once, copied to every span started under them
/// (here and, through `baggage`, in the services this one calls).
///
/// ```
/// use traced::{traced, TraceAttributes};
///
/// #[traced]
/// fn handle() -> Option<String> {
///     opentelemetry::baggage::BaggageExt::baggage(&opentelemetry::Context::current())
///         .get("user.id")
///         .map(|v| v.to_string())
/// }
///
/// let _scope = TraceAttributes::new().user_id("ada").session_id("chat-7").attach();
/// assert_eq!(handle().as_deref(), Some("ada"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TraceAttributes {
    members: Vec<(&'static str, String)>,
}

impl TraceAttributes {
    /// No attributes yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// `user.id`.
    pub fn user_id(mut self, id: impl Into<String>) -> Self {
        self.members.push((USER_ID, id.into()));
        self
    }

    /// `session.id`.
    pub fn session_id(mut self, id: impl Into<String>) -> Self {
        self.members.push((SESSION_ID, id.into()));
        self
    }

    /// The current context with these attributes added to its baggage; they are also set
    /// on the current span.
    pub fn context(&self) -> Context {
        Context::map_current(|cx| {
            let span = cx.span();
            let mut members: Vec<KeyValue> = cx
                .baggage()
                .iter()
                .filter(|(key, _)| !self.members.iter().any(|(k, _)| key.as_str() == *k))
                .map(|(key, (value, _))| KeyValue::new(key.clone(), value.clone()))
                .collect();
            for (key, value) in &self.members {
                span.set_attribute(KeyValue::new(*key, value.clone()));
                members.push(KeyValue::new(*key, value.clone()));
            }
            cx.with_baggage(members)
        })
    }

    /// Makes them current on this thread until the guard is dropped.
    pub fn attach(self) -> ContextGuard {
        self.context().attach()
    }

    /// Makes them current while `future` runs.
    ///
    /// ```
    /// use traced::TraceAttributes;
    /// let future = TraceAttributes::new().user_id("ada").scope(async { 1 });
    /// assert_eq!(futures::executor::block_on(future), 1);
    /// ```
    pub fn scope<F: Future>(self, future: F) -> WithContext<F> {
        future.with_context(self.context())
    }
}
