//! A span of our provider. The calling thread records only what differs from span to
//! span; what every span of a `#[traced]` function shares (its code attributes, the
//! instrumentation scope) is added by the export thread when it turns the record into
//! [`SpanData`]. So a `#[traced]` span allocates nothing for its attributes on the
//! calling thread, and what the export thread allocates it also frees (no memory crosses
//! threads, which with glibc's malloc meant contention on the arena lock).

use std::borrow::Cow;
use std::time::SystemTime;

use opentelemetry::trace::{Event, Link, SpanContext, Status};
use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::SpanLimits;

use super::buffers;
use super::finished::Finished;

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
        // Taken whether or not the span is exported: the slot is left empty.
        let handed = crate::deferred::take_for(self.span_context.span_id());
        if !recording.export {
            return;
        }
        let Recording {
            mut record,
            pipeline,
            limits,
            ..
        } = recording;
        let carried = handed.and_then(|deferred| {
            let room = record.origin.attribute_room(limits.max_attributes_per_span);
            let free = room.saturating_sub(record.attributes.len());
            record.keep(deferred, free)
        });
        record.end_time = end_time.unwrap_or_else(opentelemetry::time::now);
        buffers::push(pipeline, record, carried.as_ref());
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
