//! One span as a line of JSON with the OTLP/JSON field names (`traceId`, `spanId`,
//! `startTimeUnixNano`, `attributes: [{key, value: {stringValue}}]`, ...), plus the
//! resource and scope it came from, so a line stands on its own.

use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{SpanKind, Status};
use opentelemetry::{Array, KeyValue, Value};
use opentelemetry_sdk::trace::SpanData;
use serde::{Deserialize, Serialize};

/// A span as the embedded store keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpanRecord {
    /// The resource (service) the span came from (left out where the context gives it,
    /// as in the spool).
    #[serde(default, skip_serializing_if = "Resource::is_empty")]
    pub resource: Resource,
    /// The instrumentation scope.
    pub scope: Scope,
    /// 32 lowercase hex digits.
    pub trace_id: String,
    /// 16 lowercase hex digits.
    pub span_id: String,
    /// 16 lowercase hex digits, or empty for a root span.
    #[serde(default)]
    pub parent_span_id: String,
    /// The span's name.
    pub name: String,
    /// OTLP `SpanKind`: 1 internal, 2 server, 3 client, 4 producer, 5 consumer.
    pub kind: u8,
    /// Start, in nanoseconds since the Unix epoch (a decimal string, as OTLP/JSON writes it).
    #[serde(with = "nanos")]
    pub start_time_unix_nano: u64,
    /// End, likewise.
    #[serde(with = "nanos")]
    pub end_time_unix_nano: u64,
    /// The attributes.
    #[serde(default)]
    pub attributes: Vec<Attribute>,
    /// The events.
    #[serde(default)]
    pub events: Vec<EventRecord>,
    /// The links to other spans.
    #[serde(default)]
    pub links: Vec<LinkRecord>,
    /// The status.
    #[serde(default)]
    pub status: StatusRecord,
}

/// The resource of a span: the attributes that name its service.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    /// `service.name` and the rest.
    #[serde(default)]
    pub attributes: Vec<Attribute>,
}

impl Resource {
    /// Whether it has no attribute.
    ///
    /// ```
    /// assert!(traced::export::Resource::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.attributes.is_empty()
    }
}

/// The instrumentation scope of a span.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Scope {
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// Its version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// A key and an OTLP `AnyValue`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attribute {
    /// The key.
    pub key: String,
    /// The value.
    pub value: AnyValue,
}

/// OTLP/JSON `AnyValue`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub enum AnyValue {
    StringValue(String),
    BoolValue(bool),
    /// A decimal string in OTLP/JSON.
    IntValue(#[serde(with = "int64")] i64),
    DoubleValue(f64),
    ArrayValue(ArrayValue),
}

/// OTLP/JSON `ArrayValue`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArrayValue {
    /// The elements.
    #[serde(default)]
    pub values: Vec<AnyValue>,
}

/// An event of a span.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventRecord {
    /// When, in nanoseconds since the epoch.
    #[serde(with = "nanos")]
    pub time_unix_nano: u64,
    /// Its name (`exception` for errors).
    pub name: String,
    /// Its attributes.
    #[serde(default)]
    pub attributes: Vec<Attribute>,
}

/// A link to another span.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkRecord {
    /// 32 hex digits.
    pub trace_id: String,
    /// 16 hex digits.
    pub span_id: String,
    /// Its attributes.
    #[serde(default)]
    pub attributes: Vec<Attribute>,
}

/// OTLP `Status`: code 0 unset, 1 ok, 2 error.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StatusRecord {
    /// The code.
    #[serde(default)]
    pub code: u8,
    /// The description of an error.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

mod nanos {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(value: &u64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&value.to_string())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Text(String),
            Number(u64),
        }
        match Either::deserialize(deserializer)? {
            Either::Number(n) => Ok(n),
            Either::Text(text) => text.parse().map_err(serde::de::Error::custom),
        }
    }
}

mod int64 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(value: &i64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&value.to_string())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Text(String),
            Number(i64),
        }
        match Either::deserialize(deserializer)? {
            Either::Number(n) => Ok(n),
            Either::Text(text) => text.parse().map_err(serde::de::Error::custom),
        }
    }
}

fn unix_nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl From<&Value> for AnyValue {
    fn from(value: &Value) -> Self {
        match value {
            Value::Bool(b) => AnyValue::BoolValue(*b),
            Value::I64(i) => AnyValue::IntValue(*i),
            Value::F64(f) => AnyValue::DoubleValue(*f),
            Value::String(s) => AnyValue::StringValue(s.to_string()),
            Value::Array(array) => AnyValue::ArrayValue(ArrayValue {
                values: match array {
                    Array::Bool(v) => v.iter().map(|b| AnyValue::BoolValue(*b)).collect(),
                    Array::I64(v) => v.iter().map(|i| AnyValue::IntValue(*i)).collect(),
                    Array::F64(v) => v.iter().map(|f| AnyValue::DoubleValue(*f)).collect(),
                    Array::String(v) => v
                        .iter()
                        .map(|s| AnyValue::StringValue(s.to_string()))
                        .collect(),
                    other => vec![AnyValue::StringValue(other.to_string())],
                },
            }),
            other => AnyValue::StringValue(other.to_string()),
        }
    }
}

impl AnyValue {
    /// The value as text (strings as they are, the rest as JSON-like text).
    ///
    /// ```
    /// use traced::export::AnyValue;
    /// assert_eq!(AnyValue::IntValue(3).to_text(), "3");
    /// ```
    pub fn to_text(&self) -> String {
        match self {
            AnyValue::StringValue(s) => s.clone(),
            AnyValue::BoolValue(b) => b.to_string(),
            AnyValue::IntValue(i) => i.to_string(),
            AnyValue::DoubleValue(f) => f.to_string(),
            AnyValue::ArrayValue(array) => {
                let items: Vec<String> = array.values.iter().map(AnyValue::to_text).collect();
                format!("[{}]", items.join(", "))
            }
        }
    }
}

pub(crate) fn attributes<'a>(kvs: impl IntoIterator<Item = &'a KeyValue>) -> Vec<Attribute> {
    kvs.into_iter()
        .map(|kv| Attribute {
            key: kv.key.to_string(),
            value: AnyValue::from(&kv.value),
        })
        .collect()
}

/// The attributes of an SDK resource.
pub(crate) fn resource_attributes(resource: &opentelemetry_sdk::Resource) -> Vec<Attribute> {
    resource
        .iter()
        .map(|(key, value)| Attribute {
            key: key.to_string(),
            value: AnyValue::from(value),
        })
        .collect()
}

fn kind(kind: &SpanKind) -> u8 {
    match kind {
        SpanKind::Internal => 1,
        SpanKind::Server => 2,
        SpanKind::Client => 3,
        SpanKind::Producer => 4,
        SpanKind::Consumer => 5,
    }
}

impl SpanRecord {
    /// The record of a finished SDK span, under `resource`.
    pub fn from_span(span: &SpanData, resource: &Resource) -> Self {
        let parent = span.parent_span_id;
        SpanRecord {
            resource: resource.clone(),
            scope: Scope {
                name: span.instrumentation_scope.name().to_owned(),
                version: span.instrumentation_scope.version().map(str::to_owned),
            },
            trace_id: format!("{:032x}", span.span_context.trace_id()),
            span_id: format!("{:016x}", span.span_context.span_id()),
            parent_span_id: if parent == opentelemetry::trace::SpanId::INVALID {
                String::new()
            } else {
                format!("{parent:016x}")
            },
            name: span.name.to_string(),
            kind: kind(&span.span_kind),
            start_time_unix_nano: unix_nanos(span.start_time),
            end_time_unix_nano: unix_nanos(span.end_time),
            attributes: attributes(&span.attributes),
            events: span
                .events
                .iter()
                .map(|event| EventRecord {
                    time_unix_nano: unix_nanos(event.timestamp),
                    name: event.name.to_string(),
                    attributes: attributes(&event.attributes),
                })
                .collect(),
            links: span
                .links
                .iter()
                .map(|link| LinkRecord {
                    trace_id: format!("{:032x}", link.span_context.trace_id()),
                    span_id: format!("{:016x}", link.span_context.span_id()),
                    attributes: attributes(&link.attributes),
                })
                .collect(),
            status: match &span.status {
                Status::Unset => StatusRecord::default(),
                Status::Ok => StatusRecord {
                    code: 1,
                    message: String::new(),
                },
                Status::Error { description } => StatusRecord {
                    code: 2,
                    message: description.to_string(),
                },
            },
        }
    }

    /// The value of attribute `key`, as text.
    ///
    /// ```
    /// # use traced::export::*;
    /// # let record: SpanRecord = serde_json::from_str(r#"{"resource":{},"scope":{},"traceId":"1","spanId":"2","name":"n","kind":1,"startTimeUnixNano":"1","endTimeUnixNano":"2","attributes":[{"key":"a","value":{"intValue":"7"}}]}"#).unwrap();
    /// assert_eq!(record.attribute("a").as_deref(), Some("7"));
    /// ```
    pub fn attribute(&self, key: &str) -> Option<String> {
        self.attributes
            .iter()
            .find(|a| a.key == key)
            .map(|a| a.value.to_text())
    }

    /// The `service.name` of its resource, or `unknown_service`.
    pub fn service_name(&self) -> String {
        self.resource
            .attributes
            .iter()
            .find(|a| a.key == "service.name")
            .map(|a| a.value.to_text())
            .unwrap_or_else(|| "unknown_service".to_owned())
    }

    /// How long the span lasted, in nanoseconds.
    pub fn duration_nanos(&self) -> u64 {
        self.end_time_unix_nano
            .saturating_sub(self.start_time_unix_nano)
    }
}

impl AnyValue {
    fn to_value(&self) -> Value {
        match self {
            AnyValue::StringValue(s) => Value::from(s.clone()),
            AnyValue::BoolValue(b) => Value::Bool(*b),
            AnyValue::IntValue(i) => Value::I64(*i),
            AnyValue::DoubleValue(f) => Value::F64(*f),
            AnyValue::ArrayValue(array) => Value::Array(array_value(&array.values)),
        }
    }
}

/// An OTLP array as an OpenTelemetry array: of one type when all elements share it (and
/// there is at least one), else of their texts.
fn array_value(values: &[AnyValue]) -> Array {
    fn all<T>(values: &[AnyValue], pick: impl Fn(&AnyValue) -> Option<T>) -> Option<Vec<T>> {
        if values.is_empty() {
            return None;
        }
        values.iter().map(pick).collect()
    }
    if let Some(bools) = all(values, |v| match v {
        AnyValue::BoolValue(b) => Some(*b),
        _ => None,
    }) {
        Array::Bool(bools)
    } else if let Some(ints) = all(values, |v| match v {
        AnyValue::IntValue(i) => Some(*i),
        _ => None,
    }) {
        Array::I64(ints)
    } else if let Some(floats) = all(values, |v| match v {
        AnyValue::DoubleValue(f) => Some(*f),
        _ => None,
    }) {
        Array::F64(floats)
    } else {
        Array::String(values.iter().map(|v| v.to_text().into()).collect())
    }
}

fn key_values(attributes: &[Attribute]) -> Vec<KeyValue> {
    attributes
        .iter()
        .map(|a| KeyValue::new(a.key.clone(), a.value.to_value()))
        .collect()
}

fn system_time(nanos: u64) -> SystemTime {
    UNIX_EPOCH + std::time::Duration::from_nanos(nanos)
}

fn span_context(trace_id: &str, span_id: &str) -> Option<opentelemetry::trace::SpanContext> {
    use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
    Some(SpanContext::new(
        TraceId::from_hex(trace_id).ok()?,
        SpanId::from_hex(span_id).ok()?,
        TraceFlags::SAMPLED,
        false,
        TraceState::default(),
    ))
}

impl SpanRecord {
    /// The SDK span this record was made from (to send it again from the spool); `None`
    /// if its ids are not hex.
    pub fn to_span_data(&self) -> Option<SpanData> {
        let mut events = opentelemetry_sdk::trace::SpanEvents::default();
        events.events = self
            .events
            .iter()
            .map(|e| {
                opentelemetry::trace::Event::new(
                    e.name.clone(),
                    system_time(e.time_unix_nano),
                    key_values(&e.attributes),
                    0,
                )
            })
            .collect();
        let mut links = opentelemetry_sdk::trace::SpanLinks::default();
        links.links = self
            .links
            .iter()
            .filter_map(|l| {
                Some(opentelemetry::trace::Link::new(
                    span_context(&l.trace_id, &l.span_id)?,
                    key_values(&l.attributes),
                    0,
                ))
            })
            .collect();
        let mut scope = opentelemetry::InstrumentationScope::builder(self.scope.name.clone());
        if let Some(version) = &self.scope.version {
            scope = scope.with_version(version.clone());
        }
        Some(SpanData {
            span_context: span_context(&self.trace_id, &self.span_id)?,
            parent_span_id: if self.parent_span_id.is_empty() {
                opentelemetry::trace::SpanId::INVALID
            } else {
                opentelemetry::trace::SpanId::from_hex(&self.parent_span_id).ok()?
            },
            parent_span_is_remote: false,
            span_kind: match self.kind {
                2 => SpanKind::Server,
                3 => SpanKind::Client,
                4 => SpanKind::Producer,
                5 => SpanKind::Consumer,
                _ => SpanKind::Internal,
            },
            name: self.name.clone().into(),
            start_time: system_time(self.start_time_unix_nano),
            end_time: system_time(self.end_time_unix_nano),
            attributes: key_values(&self.attributes),
            dropped_attributes_count: 0,
            events,
            links,
            status: match self.status.code {
                1 => Status::Ok,
                2 => Status::error(self.status.message.clone()),
                _ => Status::Unset,
            },
            instrumentation_scope: scope.build(),
        })
    }
}
