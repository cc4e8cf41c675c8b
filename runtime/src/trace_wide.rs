//! Attributes of a whole trace (user, session, trace name, tags, metadata, release,
//! version, environment): carried in the context's baggage under our keys, so they are
//! copied to every span started under it and travel to other services in `baggage`
//! (where `inject` also writes them in the keys Langfuse's and LangSmith's SDKs read).
//!
//! The keys each becomes are listed on [`TraceAttributes`].

use std::future::Future;

use opentelemetry::baggage::{Baggage, BaggageExt};
use opentelemetry::context::{FutureExt as _, WithContext};
use opentelemetry::trace::TraceContextExt;
use opentelemetry::{Array, Context, ContextGuard, KeyValue, StringValue, Value};

use crate::attributes::{SESSION_ID, USER_ID};

/// Our baggage key of the trace name.
pub(crate) const TRACE_NAME: &str = "traced.trace.name";
/// Our baggage key of the tags, comma-separated.
pub(crate) const TAGS: &str = "traced.trace.tags";
/// The prefix of our baggage keys of metadata.
pub(crate) const METADATA_PREFIX: &str = "traced.trace.metadata.";
/// Our baggage key of the release.
pub(crate) const RELEASE: &str = "traced.release";
/// Our baggage key of the version.
pub(crate) const VERSION: &str = "traced.version";
/// Our baggage key of the environment.
pub(crate) const ENVIRONMENT: &str = "traced.environment";

/// Whether `key` is one of our trace-wide baggage keys.
pub(crate) fn is_trace_wide_key(key: &str) -> bool {
    matches!(
        key,
        USER_ID | SESSION_ID | TRACE_NAME | TAGS | RELEASE | VERSION | ENVIRONMENT
    ) || key.starts_with(METADATA_PREFIX)
}

/// Tags from their comma-separated baggage form: trimmed, empty ones left out.
pub(crate) fn split_tags(text: &str) -> impl Iterator<Item = &str> {
    text.split(',').map(str::trim).filter(|tag| !tag.is_empty())
}

/// The trace-wide attributes the context's baggage holds, in every backend's keys.
pub(crate) fn attributes(cx: &Context) -> Vec<KeyValue> {
    let baggage = cx.baggage();
    if baggage.is_empty() {
        return Vec::new();
    }
    attributes_of(baggage)
}

fn attributes_of(baggage: &Baggage) -> Vec<KeyValue> {
    let mut attributes = Vec::new();
    for (key, (value, _)) in baggage.iter() {
        let text = value.as_str();
        match key.as_str() {
            USER_ID => attributes.push(KeyValue::new(USER_ID, text.to_owned())),
            SESSION_ID => {
                attributes.push(KeyValue::new(SESSION_ID, text.to_owned()));
                attributes.push(KeyValue::new(
                    "langsmith.metadata.session_id",
                    text.to_owned(),
                ));
            }
            TRACE_NAME => attributes.push(KeyValue::new("langfuse.trace.name", text.to_owned())),
            TAGS => {
                let tags: Vec<StringValue> =
                    split_tags(text).map(|t| t.to_owned().into()).collect();
                let joined = tags.iter().map(StringValue::as_str).collect::<Vec<_>>();
                attributes.push(KeyValue::new("langsmith.span.tags", joined.join(",")));
                attributes.push(KeyValue::new(
                    "langfuse.trace.tags",
                    Value::Array(Array::String(tags)),
                ));
            }
            RELEASE => attributes.push(KeyValue::new("langfuse.release", text.to_owned())),
            VERSION => attributes.push(KeyValue::new("langfuse.version", text.to_owned())),
            ENVIRONMENT => attributes.push(KeyValue::new("langfuse.environment", text.to_owned())),
            other => {
                if let Some(name) = other.strip_prefix(METADATA_PREFIX) {
                    attributes.push(KeyValue::new(
                        format!("langfuse.trace.metadata.{name}"),
                        text.to_owned(),
                    ));
                    attributes.push(KeyValue::new(
                        format!("langsmith.metadata.{name}"),
                        text.to_owned(),
                    ));
                }
            }
        }
    }
    attributes
}

/// What a whole trace is about: its user and session, its name, tags and metadata, and
/// the release, version and environment of the code. Set once, copied to every span
/// started under it, here and, through `baggage`, in the services this one calls (in our
/// keys, and in the keys Langfuse's and LangSmith's Python SDKs read).
///
/// On each span they are written in the keys each backend reads:
///
/// | set with | baggage key (ours) | span attributes |
/// |---|---|---|
/// | `user_id` | `user.id` | `user.id` |
/// | `session_id` | `session.id` | `session.id`, `langsmith.metadata.session_id` (LangSmith's threads) |
/// | `trace_name` | `traced.trace.name` | `langfuse.trace.name` |
/// | `tag`, `tags` | `traced.trace.tags` (comma-separated) | `langfuse.trace.tags` (string array), `langsmith.span.tags` (comma-separated) |
/// | `metadata(k, v)` | `traced.trace.metadata.k` | `langfuse.trace.metadata.k`, `langsmith.metadata.k` |
/// | `release` | `traced.release` | `langfuse.release` |
/// | `version` | `traced.version` | `langfuse.version` |
/// | `environment` | `traced.environment` | `langfuse.environment` |
///
/// LangSmith's `langsmith.trace.name` is not written: despite its name LangSmith reads it
/// as each *run's* name, so writing the trace name there would rename every span.
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
/// let _scope = TraceAttributes::new()
///     .user_id("ada")
///     .session_id("chat-7")
///     .trace_name("checkout")
///     .tags(["beta", "eu"])
///     .metadata("tenant", "acme")
///     .environment("production")
///     .attach();
/// assert_eq!(handle().as_deref(), Some("ada"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TraceAttributes {
    members: Vec<(String, String)>,
    tags: Vec<String>,
}

impl TraceAttributes {
    /// No attributes yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn set(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let key = key.into();
        self.members.retain(|(k, _)| *k != key);
        self.members.push((key, value.into()));
        self
    }

    /// `user.id`.
    pub fn user_id(self, id: impl Into<String>) -> Self {
        self.set(USER_ID, id)
    }

    /// `session.id`: the conversation or chat the trace belongs to.
    pub fn session_id(self, id: impl Into<String>) -> Self {
        self.set(SESSION_ID, id)
    }

    /// The trace's name (Langfuse shows it as the trace's title).
    pub fn trace_name(self, name: impl Into<String>) -> Self {
        self.set(TRACE_NAME, name)
    }

    /// A tag, added to those the trace already has. Commas separate tags in `baggage`,
    /// so a comma in a tag splits it.
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// Tags, added to those the trace already has.
    ///
    /// ```
    /// let attributes = traced::TraceAttributes::new().tags(["a", "b"]).tag("c");
    /// # drop(attributes);
    /// ```
    pub fn tags<S: Into<String>>(mut self, tags: impl IntoIterator<Item = S>) -> Self {
        self.tags.extend(tags.into_iter().map(Into::into));
        self
    }

    /// A metadata entry (`key` → `value`), replacing the trace's entry of that key.
    ///
    /// ```
    /// let _scope = traced::TraceAttributes::new()
    ///     .metadata("tenant", "acme")
    ///     .release("4f2a9c1")
    ///     .version("2.3")
    ///     .environment("staging")
    ///     .attach();
    /// ```
    pub fn metadata(self, key: impl AsRef<str>, value: impl Into<String>) -> Self {
        let key = format!("{METADATA_PREFIX}{}", key.as_ref());
        self.set(key, value)
    }

    /// The release of the code (a git SHA, a build number).
    pub fn release(self, release: impl Into<String>) -> Self {
        self.set(RELEASE, release)
    }

    /// The version of the code or of the feature being traced.
    pub fn version(self, version: impl Into<String>) -> Self {
        self.set(VERSION, version)
    }

    /// The environment (`production`, `staging`...).
    pub fn environment(self, environment: impl Into<String>) -> Self {
        self.set(ENVIRONMENT, environment)
    }

    /// The current context with these attributes added to its baggage; they are also set
    /// on the current span.
    pub fn context(&self) -> Context {
        Context::map_current(|cx| {
            let span = cx.span();
            let current = cx.baggage();
            let mut members: Vec<KeyValue> = current
                .iter()
                .filter(|(key, _)| {
                    key.as_str() != TAGS && !self.members.iter().any(|(k, _)| key.as_str() == k)
                })
                .map(|(key, (value, _))| KeyValue::new(key.clone(), value.clone()))
                .collect();
            let mut added: Vec<KeyValue> = self
                .members
                .iter()
                .map(|(key, value)| KeyValue::new(key.clone(), value.clone()))
                .collect();
            let mut tags: Vec<String> = current
                .get(TAGS)
                .map(|v| split_tags(v.as_str()).map(str::to_owned).collect())
                .unwrap_or_default();
            for tag in self.tags.iter().flat_map(|t| split_tags(t)) {
                if !tags.iter().any(|t| t == tag) {
                    tags.push(tag.to_owned());
                }
            }
            if !tags.is_empty() {
                added.push(KeyValue::new(TAGS, tags.join(",")));
            }
            let own = Baggage::from_iter(added.iter().cloned());
            span.set_attributes(attributes_of(&own));
            members.extend(added);
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
