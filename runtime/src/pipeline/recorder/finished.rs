//! The ended span as the calling thread leaves it for the export thread, and who made it:
//! the one type the buffers, the span and the export thread share.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::SystemTime;

use opentelemetry::trace::{SpanContext, SpanId, SpanKind, Status};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};

use crate::deferred::Deferred;
use crate::site::{CallSite, SCOPE};

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

/// One thread's ended spans, in the order they ended, with the small captured values
/// some of them carried ([`crate::deferred`]), by index. Most spans carry none: kept
/// beside the records, not in each, the values cost a span without captures nothing (a
/// larger record made every span slower to buffer and export).
#[derive(Debug, Default)]
pub(super) struct Batch {
    pub(super) spans: Vec<Finished>,
    captured: Vec<(usize, Deferred)>,
}

impl Batch {
    pub(super) fn with_capacity(spans: usize) -> Self {
        Self {
            spans: Vec::with_capacity(spans),
            captured: Vec::new(),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.spans.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    #[inline]
    pub(super) fn push(&mut self, span: Finished, deferred: Option<&Deferred>) {
        if let Some(deferred) = deferred {
            self.captured.push((self.spans.len(), *deferred));
        }
        self.spans.push(span);
    }

    /// The spans in export form, in order, leaving the batch empty (for reuse).
    pub(super) fn drain_span_data(&mut self) -> SpanDataDrain<'_> {
        SpanDataDrain {
            spans: self.spans.drain(..),
            captured: self.captured.drain(..).peekable(),
            at: 0,
        }
    }
}

/// See [`Batch::drain_span_data`].
pub(super) struct SpanDataDrain<'a> {
    spans: std::vec::Drain<'a, Finished>,
    captured: std::iter::Peekable<std::vec::Drain<'a, (usize, Deferred)>>,
    at: usize,
}

impl Iterator for SpanDataDrain<'_> {
    type Item = SpanData;

    #[inline]
    fn next(&mut self) -> Option<SpanData> {
        let span = self.spans.next()?;
        let at = self.at;
        self.at += 1;
        let carried = self.captured.next_if(|(of, _)| *of == at).map(|(_, d)| d);
        Some(span.into_span_data(carried.as_ref()))
    }
}

/// The rarer parts of a span.
#[derive(Debug, Default)]
pub(super) struct Extras {
    pub(super) events: SpanEvents,
    pub(super) links: SpanLinks,
    pub(super) status: Status,
}

impl Finished {
    /// The standard export form: the site's attributes first, then the span's own, then
    /// the captured values it carried.
    pub(super) fn into_span_data(self, carried: Option<&Deferred>) -> SpanData {
        let deferred = carried.map_or(0, Deferred::attribute_count);
        let (mut attributes, instrumentation_scope) = match self.origin {
            Origin::Site(site) => (
                site.attributes_then(self.attributes, deferred),
                SCOPE.clone(),
            ),
            Origin::Traced => (self.attributes, SCOPE.clone()),
            Origin::Tracer(scope) => (self.attributes, InstrumentationScope::clone(&scope)),
        };
        if let Some(carried) = carried {
            attributes.reserve(deferred);
            carried.push_attributes(&mut attributes);
        }
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

    /// What of the captured values a call handed over fits the `free` attribute slots
    /// left (the rest is counted as dropped, as a late `set_attribute` is).
    pub(super) fn keep(&mut self, deferred: Deferred, free: usize) -> Option<Deferred> {
        let (kept, dropped) = deferred.within(free);
        self.dropped_attributes_count = self.dropped_attributes_count.saturating_add(dropped);
        (!kept.is_empty()).then_some(kept)
    }

    pub(super) fn extras(&mut self) -> &mut Extras {
        self.extras.get_or_insert_with(Box::default)
    }
}
