//! A log record (from `tracing` or the `log` crate) as an event on the current span: its
//! message as the event's name, its level, target, source location and fields (masked and
//! bounded by the policy); an `ERROR` also sets the observation level Langfuse shows.
//! Nothing is done, and nothing formatted, outside a recording span.

use opentelemetry::trace::{Status, TraceContextExt};
use opentelemetry::{Context, KeyValue, Value};

use crate::attributes as attr;
use crate::current::ObservationLevel;
use crate::redact::Policy;

/// One record, its parts still unformatted.
pub(crate) struct LogRecord<'a> {
    /// `ERROR`, `WARN`, `INFO`, `DEBUG` or `TRACE`.
    pub level: &'static str,
    pub target: &'a str,
    pub file: Option<&'a str>,
    pub line: Option<u32>,
    /// Whether an `ERROR` record also sets the span's status.
    pub error_sets_status: bool,
}

/// Records on the current span, if it records: `fields` is called only then, and gives the
/// message (if any) and the other fields.
pub(crate) fn record_on_current_span(
    record: &LogRecord<'_>,
    fields: impl FnOnce() -> (Option<String>, Vec<(&'static str, Value)>),
) {
    Context::map_current(|cx| {
        let span = cx.span();
        if !span.is_recording() {
            return;
        }
        let policy = crate::redact::policy();
        let (message, values) = fields();
        let message = message.map_or_else(
            || record.level.to_owned(),
            |m| crate::bounded::cut(&m, policy.max_bytes),
        );
        let mut attributes = vec![
            KeyValue::new("level", record.level),
            KeyValue::new("target", record.target.to_owned()),
        ];
        attributes.extend(location(record.file, record.line));
        attributes.extend(
            values
                .into_iter()
                .map(|(key, value)| KeyValue::new(key, safe_value(&policy, key, value))),
        );
        if record.level == "ERROR" {
            span.set_attribute(KeyValue::new(
                attr::LANGFUSE_OBSERVATION_LEVEL,
                ObservationLevel::Error.as_str(),
            ));
            span.set_attribute(KeyValue::new(
                attr::LANGFUSE_OBSERVATION_STATUS_MESSAGE,
                message.clone(),
            ));
            if record.error_sets_status {
                span.set_status(Status::error(message.clone()));
            }
        }
        span.add_event(message, attributes);
    });
}

/// `code.file.path` and `code.line.number` of a record's or a span's call site.
pub(crate) fn location(file: Option<&str>, line: Option<u32>) -> Vec<KeyValue> {
    let mut attributes = Vec::with_capacity(2);
    if let Some(file) = file {
        attributes.push(KeyValue::new(attr::CODE_FILE_PATH, file.to_owned()));
    }
    if let Some(line) = line {
        attributes.push(KeyValue::new(attr::CODE_LINE_NUMBER, i64::from(line)));
    }
    attributes
}

/// A field's value made safe: secret-named fields masked, secrets inside `Debug` text
/// masked, text cut to the limit.
pub(crate) fn safe_value(policy: &Policy, key: &str, value: Value) -> Value {
    match value {
        Value::String(text) => {
            let text = policy.redact_debug(text.to_string());
            policy.field_value(key, Value::from(text))
        }
        other => policy.field_value(key, other),
    }
}
