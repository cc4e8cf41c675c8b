//! One tree with the `tracing` ecosystem: a [`tracing_subscriber::Layer`] that records
//! `tracing` events (`info!`, `warn!`, ...) as events on the current traced span, and
//! makes `tracing` spans (`#[instrument]`, tower-http's `TraceLayer`, a database
//! driver's) spans of the same trace: a `tracing` span entered inside a traced call is its
//! child, and a traced call inside a `tracing` span is that span's child.
//!
//! Two lines in a service that already uses `tracing`:
//!
//! ```
//! use tracing_subscriber::layer::SubscriberExt as _;
//!
//! let subscriber = tracing_subscriber::registry().with(traced::tracing::layer());
//! let _default = tracing::subscriber::set_default(subscriber); // or `.init()` / set_global_default
//! ```
//!
//! Keep your own layers (`fmt`, JSON logs) in the same `registry()`: they see every event
//! and span as before.
//!
//! Why a layer of our own rather than tracing-opentelemetry: its spans would not nest
//! with traced calls (it parents a `tracing` span by the `tracing` tree only) and its
//! events go to the current `tracing` span, so a `warn!` inside a `#[traced]` function
//! that is not inside a `tracing` span would be lost; its field values are written as
//! they come, where ours are masked and bounded by the same rules as captured arguments;
//! and ours starts spans on our own provider (see `BENCHMARKS.md` for the cost of each).
//!
//! The special fields keep the meaning tracing-opentelemetry gives them: `otel.name`
//! renames the span, `otel.kind` sets its kind (`server`, `client`, `producer`,
//! `consumer`, `internal`), `otel.status_code` (`ok`, `error`) and
//! `otel.status_description` its status.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;

use ::tracing::field::{Field, Visit};
use ::tracing::{span, Event, Level, Subscriber};
use opentelemetry::trace::{SpanKind, Status, TraceContextExt};
use opentelemetry::{ContextGuard, KeyValue, Value};
use tracing_subscriber::layer::Context as LayerContext;
use tracing_subscriber::registry::LookupSpan;

use crate::call::{Call, Parent};
use crate::log_event::{location, record_on_current_span, LogRecord};

/// The layer: `tracing_subscriber::registry().with(traced::tracing::layer())`.
///
/// ```
/// let _layer = traced::tracing::layer();
/// ```
pub fn layer() -> TracedLayer {
    TracedLayer::default()
}

/// Records `tracing` events and spans in traced's trees (see the [module](self)).
#[derive(Clone, Debug)]
pub struct TracedLayer {
    events: Level,
    spans: bool,
    error_status: bool,
}

impl Default for TracedLayer {
    fn default() -> Self {
        Self {
            events: Level::INFO,
            spans: true,
            error_status: false,
        }
    }
}

impl TracedLayer {
    /// The most verbose level of the events recorded (`INFO` by default: `DEBUG` and
    /// `TRACE` events are left to your other layers).
    ///
    /// ```
    /// let _layer = traced::tracing::layer().event_level(tracing::Level::DEBUG);
    /// ```
    pub fn event_level(mut self, level: Level) -> Self {
        self.events = level;
        self
    }

    /// Whether `tracing` spans become spans of the trace (on by default); off, only
    /// events are recorded.
    ///
    /// ```
    /// let _layer = traced::tracing::layer().spans(false);
    /// ```
    pub fn spans(mut self, on: bool) -> Self {
        self.spans = on;
        self
    }

    /// Whether an `ERROR` event also sets the span's status to error. Off by default: it
    /// sets the observation level Langfuse shows (`langfuse.observation.level = ERROR`)
    /// and its status message, and the span's status stays what its function returned.
    ///
    /// ```
    /// let _layer = traced::tracing::layer().error_sets_status(true);
    /// ```
    pub fn error_sets_status(mut self, on: bool) -> Self {
        self.error_status = on;
        self
    }
}

/// The traced span of a `tracing` span, in its extensions.
struct Bridged {
    call: Call,
    status: Option<Status>,
}

thread_local! {
    /// The contexts of the `tracing` spans entered on this thread, innermost last.
    static ENTERED: RefCell<Vec<(span::Id, ContextGuard)>> = const { RefCell::new(Vec::new()) };
}

impl<S> tracing_subscriber::Layer<S> for TracedLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: LayerContext<'_, S>) {
        if !self.spans || crate::pipeline::route::is_off() {
            return;
        }
        let Some(span) = ctx.span(id) else {
            return;
        };
        let parent = if attrs.is_root() {
            Parent::Root
        } else if let Some(explicit) = attrs.parent() {
            // An explicit parent: its trace context, whatever is current here.
            match ctx.span(explicit).and_then(|parent| {
                parent
                    .extensions()
                    .get::<Bridged>()
                    .map(|b| b.call.context().clone())
            }) {
                Some(cx) => Parent::Context(cx),
                None => Parent::Current,
            }
        } else {
            // Contextual: the current context is the innermost of the entered `tracing`
            // spans and the running traced calls.
            Parent::Current
        };
        let mut fields = Fields::default();
        attrs.record(&mut Visitor(&mut fields));
        let meta = attrs.metadata();
        let name = fields
            .name
            .take()
            .map_or(Cow::Borrowed(meta.name()), Cow::Owned);
        let kind = fields.kind.take().unwrap_or(SpanKind::Internal);
        let call = Call::begin(name, kind, Vec::new(), parent);
        if call.is_recording() {
            let mut attributes = location(meta.file(), meta.line());
            attributes.extend(fields.values(&call));
            call.set_attributes(attributes);
        }
        span.extensions_mut().insert(Bridged {
            call,
            status: fields.status,
        });
    }

    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, ctx: LayerContext<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut extensions = span.extensions_mut();
        let Some(bridged) = extensions.get_mut::<Bridged>() else {
            return;
        };
        if !bridged.call.is_recording() {
            return;
        }
        let mut fields = Fields::default();
        values.record(&mut Visitor(&mut fields));
        if let Some(name) = fields.name.take() {
            bridged.call.context().span().update_name(name);
        }
        if fields.status.is_some() {
            bridged.status = fields.status.take();
        }
        bridged.call.set_attributes(fields.values(&bridged.call));
    }

    fn on_enter(&self, id: &span::Id, ctx: LayerContext<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let extensions = span.extensions();
        let Some(bridged) = extensions.get::<Bridged>() else {
            return;
        };
        let guard = bridged.call.context().clone().attach();
        let _ = ENTERED.try_with(|entered| entered.borrow_mut().push((id.clone(), guard)));
    }

    fn on_exit(&self, id: &span::Id, _ctx: LayerContext<'_, S>) {
        let _ = ENTERED.try_with(|entered| {
            let mut entered = entered.borrow_mut();
            if let Some(at) = entered.iter().rposition(|(entered, _)| entered == id) {
                entered.remove(at);
            }
        });
    }

    fn on_close(&self, id: span::Id, ctx: LayerContext<'_, S>) {
        let Some(span) = ctx.span(&id) else {
            return;
        };
        let Some(mut bridged) = span.extensions_mut().remove::<Bridged>() else {
            return;
        };
        if let Some(status) = bridged.status.take() {
            bridged.call.context().span().set_status(status);
        }
        bridged.call.end();
    }

    fn on_event(&self, event: &Event<'_>, _ctx: LayerContext<'_, S>) {
        let meta = event.metadata();
        if *meta.level() > self.events {
            return;
        }
        let record = LogRecord {
            level: meta.level().as_str(),
            target: meta.target(),
            file: meta.file(),
            line: meta.line(),
            error_sets_status: self.error_status,
        };
        record_on_current_span(&record, || {
            let mut fields = EventFields::default();
            event.record(&mut Visitor(&mut fields));
            (fields.message, fields.values)
        });
    }
}

/// A span's fields: the special `otel.*` ones, and the rest as values.
#[derive(Default)]
struct Fields {
    name: Option<String>,
    kind: Option<SpanKind>,
    status: Option<Status>,
    status_description: Option<String>,
    values: Vec<(&'static str, Value)>,
}

impl Fields {
    /// The values as attributes, masked and bounded by the call's policy.
    fn values(&mut self, call: &Call) -> Vec<KeyValue> {
        if let (Some(Status::Error { .. }), Some(description)) =
            (&self.status, self.status_description.take())
        {
            self.status = Some(Status::error(description));
        }
        std::mem::take(&mut self.values)
            .into_iter()
            .map(|(key, value)| KeyValue::new(key, call.field_value(key, value)))
            .collect()
    }

    fn special(&mut self, field: &Field, text: &str) -> bool {
        match field.name() {
            "otel.name" => self.name = Some(text.to_owned()),
            "otel.kind" => {
                self.kind = Some(match text.to_ascii_lowercase().as_str() {
                    "server" => SpanKind::Server,
                    "client" => SpanKind::Client,
                    "producer" => SpanKind::Producer,
                    "consumer" => SpanKind::Consumer,
                    _ => SpanKind::Internal,
                })
            }
            "otel.status_code" => {
                self.status = match text.to_ascii_lowercase().as_str() {
                    "ok" => Some(Status::Ok),
                    "error" => Some(Status::error(String::new())),
                    _ => None,
                }
            }
            "otel.status_description" | "otel.status_message" => {
                self.status_description = Some(text.to_owned())
            }
            _ => return false,
        }
        true
    }
}

impl FieldSink for Fields {
    fn value(&mut self, name: &'static str, value: Value) {
        self.values.push((name, value));
    }

    fn text(&mut self, field: &Field, text: String) {
        if !self.special(field, &text) {
            self.values.push((field.name(), Value::from(text)));
        }
    }
}

/// An event's fields: the message, and the rest as values.
#[derive(Default)]
struct EventFields {
    message: Option<String>,
    values: Vec<(&'static str, Value)>,
}

impl FieldSink for EventFields {
    fn value(&mut self, name: &'static str, value: Value) {
        self.values.push((name, value));
    }

    fn text(&mut self, field: &Field, text: String) {
        if field.name() == "message" {
            self.message = Some(text);
        } else {
            self.values.push((field.name(), Value::from(text)));
        }
    }
}

/// Where a [`Visitor`] puts the fields it reads: text (which a span may take as one of
/// its special `otel.*` fields, and an event as its message), and the other values.
trait FieldSink {
    fn value(&mut self, name: &'static str, value: Value);
    fn text(&mut self, field: &Field, text: String);
}

/// Reads a span's or an event's fields into a [`FieldSink`].
struct Visitor<'a, S>(&'a mut S);

impl<S: FieldSink> Visit for Visitor<'_, S> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.text(field, value.to_owned());
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.value(field.name(), Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.value(field.name(), integer(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.value(field.name(), Value::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.value(field.name(), Value::from(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let text = crate::error_chain::render_chain(value);
        self.0.value(field.name(), Value::from(text));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.text(field, debug_text(value));
    }
}

/// A `u64` as an OpenTelemetry integer (`i64`), or its text when it does not fit.
fn integer(value: u64) -> Value {
    i64::try_from(value).map_or_else(|_| Value::from(value.to_string()), Value::from)
}

/// `Debug` text of a field's value; a `Debug` that panics is contained and said.
fn debug_text(value: &dyn fmt::Debug) -> String {
    crate::contain::contained(|| format!("{value:?}"))
        .unwrap_or_else(|message| format!("<Debug panicked: {message}>"))
}
