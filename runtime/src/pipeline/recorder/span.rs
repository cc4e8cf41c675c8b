//! A span of our provider. The calling thread records only what differs from span to
//! span; what every span of a `#[traced]` function shares (its code attributes, the
//! instrumentation scope) is added by the export thread when it turns the record into
//! [`SpanData`]. So a `#[traced]` span allocates nothing for its attributes on the
//! calling thread, and what the export thread allocates it also frees (no memory crosses
//! threads, which with glibc's malloc meant contention on the arena lock).

use std::borrow::Cow;
use std::sync::Arc;
use std::time::SystemTime;

use opentelemetry::trace::{Event, Link, SpanContext, SpanId, SpanKind, Status};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLimits, SpanLinks};

use super::buffers;
use crate::call::{CallSite, SCOPE};

/// A span started by [`RecordingTracer`](super::RecordingTracer).
#[derive(Debug)]
pub(crate) struct RecordingSpan {
    span_context: SpanContext,
    /// `None` when not recording, and once ended.
    data: Option<Recording>,
}

/// What a recording span has collected, and where it goes when it ends.
#[derive(Debug)]
pub(super) struct Recording {
    /// Boxed: the span is moved several times on its way into a `Context` and to a
    /// buffer, and a pointer moves cheaper than the record.
    pub(super) record: Box<Finished>,
    pub(super) limits: SpanLimits,
    /// The pipeline the span belongs to (see [`buffers::push`]).
    pub(super) pipeline: u64,
    /// Sampled spans are exported; record-only ones are dropped at their end.
    pub(super) export: bool,
}

/// Who made a span: a `#[traced]` function (its attributes and scope are static) or a
/// tracer of the OpenTelemetry API.
#[derive(Clone, Debug)]
pub(super) enum Origin {
    Site(&'static CallSite),
    /// `traced`'s own spans that are not a function's (the integrations').
    Traced,
    Tracer(Arc<InstrumentationScope>),
}

impl Origin {
    /// How many attributes a span of this origin may have of its own: a function's
    /// static attributes, added at export, count against the limit.
    pub(super) fn attribute_room(&self, limit: u32) -> usize {
        match self {
            Origin::Site(site) => (limit as usize).saturating_sub(site.attribute_count()),
            _ => limit as usize,
        }
    }
}

/// An ended span as the calling thread leaves it; [`Finished::into_span_data`] completes
/// it on the export thread.
#[derive(Debug)]
pub(super) struct Finished {
    pub(super) origin: Origin,
    pub(super) span_context: SpanContext,
    pub(super) parent_span_id: SpanId,
    pub(super) parent_span_is_remote: bool,
    pub(super) span_kind: SpanKind,
    pub(super) name: Cow<'static, str>,
    pub(super) start_time: SystemTime,
    pub(super) end_time: SystemTime,
    /// Those of the span itself; a site's are put in front when exported.
    pub(super) attributes: Vec<KeyValue>,
    pub(super) dropped_attributes_count: u32,
    /// Events, links and a status: most spans have none, so they are kept out of line
    /// and the record stays small (it is copied once into its thread's buffer).
    pub(super) extras: Option<Box<Extras>>,
}

/// The rarer parts of a span.
#[derive(Debug, Default)]
pub(super) struct Extras {
    pub(super) events: SpanEvents,
    pub(super) links: SpanLinks,
    pub(super) status: Status,
}

impl Finished {
    /// The standard export form: the site's attributes first, then the span's own.
    pub(super) fn into_span_data(self) -> SpanData {
        let (attributes, instrumentation_scope) = match self.origin {
            Origin::Site(site) => (site.attributes_then(self.attributes), SCOPE.clone()),
            Origin::Traced => (self.attributes, SCOPE.clone()),
            Origin::Tracer(scope) => (self.attributes, InstrumentationScope::clone(&scope)),
        };
        let extras = self.extras.map(|extras| *extras).unwrap_or_default();
        SpanData {
            span_context: self.span_context,
            parent_span_id: self.parent_span_id,
            parent_span_is_remote: self.parent_span_is_remote,
            span_kind: self.span_kind,
            name: self.name,
            start_time: self.start_time,
            end_time: self.end_time,
            attributes,
            dropped_attributes_count: self.dropped_attributes_count,
            events: extras.events,
            links: extras.links,
            status: extras.status,
            instrumentation_scope,
        }
    }
}

impl Finished {
    /// An estimate of the memory this span holds while it waits: the record, its
    /// attribute slots and their text. (Events and links are counted by a flat sum.)
    pub(super) fn weight(&self) -> usize {
        let text: usize = self
            .attributes
            .iter()
            .map(|kv| match &kv.value {
                opentelemetry::Value::String(text) => text.as_str().len(),
                _ => 0,
            })
            .sum();
        std::mem::size_of::<Self>()
            + self.attributes.capacity() * std::mem::size_of::<KeyValue>()
            + text
            + if self.extras.is_some() { 512 } else { 0 }
    }

    fn extras(&mut self) -> &mut Extras {
        self.extras.get_or_insert_with(Box::default)
    }
}

impl RecordingSpan {
    pub(super) fn recording(recording: Recording) -> Self {
        Self {
            span_context: recording.record.span_context.clone(),
            data: Some(recording),
        }
    }

    pub(super) fn not_recording(span_context: SpanContext) -> Self {
        Self {
            span_context,
            data: None,
        }
    }

    fn finish(&mut self, end_time: Option<SystemTime>) {
        let Some(recording) = self.data.take() else {
            return;
        };
        if !recording.export {
            return;
        }
        let Recording {
            mut record,
            pipeline,
            ..
        } = recording;
        record.end_time = end_time.unwrap_or_else(opentelemetry::time::now);
        buffers::push(pipeline, record);
    }
}

/// What is past a limit is counted as dropped, as the SDK does.
fn capped<T>(items: &mut Vec<T>, limit: usize, dropped: &mut u32, item: T) {
    if items.len() < limit {
        items.push(item);
    } else {
        *dropped = dropped.saturating_add(1);
    }
}

/// Keeps at most `limit` items (attributes, events, links); returns how many were cut.
pub(super) fn truncate<T>(items: &mut Vec<T>, limit: u32) -> u32 {
    let over = items.len().saturating_sub(limit as usize);
    items.truncate(limit as usize);
    u32::try_from(over).unwrap_or(u32::MAX)
}

impl Recording {
    /// How many attributes the span itself may have (a site's count against the limit).
    fn attribute_room(&self) -> usize {
        self.record
            .origin
            .attribute_room(self.limits.max_attributes_per_span)
    }
}

impl opentelemetry::trace::Span for RecordingSpan {
    fn add_event_with_timestamp<T>(
        &mut self,
        name: T,
        timestamp: SystemTime,
        mut attributes: Vec<KeyValue>,
    ) where
        T: Into<Cow<'static, str>>,
    {
        if let Some(recording) = self.data.as_mut() {
            let dropped = truncate(&mut attributes, recording.limits.max_attributes_per_event);
            let events = &mut recording.record.extras().events;
            capped(
                &mut events.events,
                recording.limits.max_events_per_span as usize,
                &mut events.dropped_count,
                Event::new(name, timestamp, attributes, dropped),
            );
        }
    }

    fn span_context(&self) -> &SpanContext {
        &self.span_context
    }

    fn is_recording(&self) -> bool {
        self.data.is_some()
    }

    fn set_attribute(&mut self, attribute: KeyValue) {
        if let Some(recording) = self.data.as_mut() {
            let room = recording.attribute_room();
            let record = &mut recording.record;
            capped(
                &mut record.attributes,
                room,
                &mut record.dropped_attributes_count,
                attribute,
            );
        }
    }

    fn set_status(&mut self, status: Status) {
        if let Some(recording) = self.data.as_mut() {
            // Ok > Error > Unset, as the specification orders them.
            if status > Status::Unset {
                let extras = recording.record.extras();
                if status > extras.status {
                    extras.status = status;
                }
            }
        }
    }

    fn update_name<T>(&mut self, new_name: T)
    where
        T: Into<Cow<'static, str>>,
    {
        if let Some(recording) = self.data.as_mut() {
            recording.record.name = new_name.into();
        }
    }

    fn add_link(&mut self, span_context: SpanContext, mut attributes: Vec<KeyValue>) {
        if let Some(recording) = self.data.as_mut() {
            let dropped = truncate(&mut attributes, recording.limits.max_attributes_per_link);
            let links = &mut recording.record.extras().links;
            capped(
                &mut links.links,
                recording.limits.max_links_per_span as usize,
                &mut links.dropped_count,
                Link::new(span_context, attributes, dropped),
            );
        }
    }

    fn end_with_timestamp(&mut self, timestamp: SystemTime) {
        self.finish(Some(timestamp));
    }

    fn end(&mut self) {
        self.finish(None);
    }
}

impl Drop for RecordingSpan {
    fn drop(&mut self) {
        self.finish(None);
    }
}
