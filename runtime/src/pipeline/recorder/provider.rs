//! [`Provider`] and [`RecordingTracer`]: the OpenTelemetry API over our recording path,
//! so `opentelemetry::global` and other OpenTelemetry-instrumented libraries record into
//! the same pipeline as `#[traced]`.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{
    Event, Link, SpanBuilder, SpanContext, SpanId, SpanKind, TraceContextExt, TraceFlags,
};
use opentelemetry::{Context, InstrumentationScope, KeyValue};
use opentelemetry_sdk::trace::{
    IdGenerator, RandomIdGenerator, SamplingDecision, SpanExporter, SpanLimits,
};
use opentelemetry_sdk::Resource;

use super::buffers::{Bounds, Buffers};
use super::export_thread::{self, Schedule};
use super::finished::{Extras, Finished, Origin};
use super::sampling::Sampling;
use super::span::{truncate, Recording, RecordingSpan};
use crate::pipeline::stats::Counters;
use crate::pipeline::SamplerConfig;
use crate::site::{CallSite, SCOPE};

/// W3C Trace Context Level 2's `random` trace flag: the trace id's right-most 7 bytes are
/// random.
const RANDOM_TRACE_ID: u8 = 0x02;

/// How a [`Provider`] samples and batches.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) sampler: SamplerConfig,
    pub(crate) resource: Resource,
    /// Spans per export call, and per wake-up of the export thread.
    pub(crate) max_batch: usize,
    /// Spans one thread may have waiting before more are dropped.
    pub(crate) queue_size: usize,
    /// Estimated bytes all threads may have waiting together.
    pub(crate) max_buffered_bytes: usize,
    /// Producers wait for room rather than drop.
    pub(crate) blocking: bool,
    /// Whether drops are told on stderr when no logger shows warnings.
    pub(crate) notices: bool,
    /// How long a span may wait when no batch fills up.
    pub(crate) scheduled_delay: Duration,
    pub(crate) counters: Arc<Counters>,
}

/// The tracer provider `traced::init()` installs.
#[derive(Clone, Debug)]
pub(crate) struct Provider {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pipeline: Arc<Buffers>,
    sampling: Sampling,
    ids: RandomIdGenerator,
    limits: SpanLimits,
    worker: Mutex<Option<JoinHandle<()>>>,
    counters: Arc<Counters>,
}

impl Provider {
    /// Starts the export thread; spans of this provider's tracers go to `exporter`.
    pub(crate) fn start<E: SpanExporter + 'static>(
        mut exporter: E,
        settings: Settings,
    ) -> std::io::Result<Self> {
        exporter.set_resource(&settings.resource);
        let pipeline = Buffers::register(Bounds {
            batch_size: settings.max_batch,
            queue_limit: settings.queue_size,
            max_bytes: settings.max_buffered_bytes,
            blocking: settings.blocking,
        });
        let spawned = export_thread::spawn(
            pipeline.clone(),
            exporter,
            Schedule {
                delay: settings.scheduled_delay,
                max_batch: settings.max_batch,
                max_buffered_bytes: settings.max_buffered_bytes,
                notices: settings.notices,
            },
            settings.counters.clone(),
        );
        let worker = match spawned {
            Ok(worker) => worker,
            Err(error) => {
                pipeline.close();
                return Err(error);
            }
        };
        Ok(Self {
            inner: Arc::new(Inner {
                pipeline,
                sampling: Sampling::new(&settings.sampler),
                ids: RandomIdGenerator::default(),
                // The SDK's defaults, or the OTEL_SPAN_*_LIMIT variables.
                limits: opentelemetry_sdk::trace::Config::default().span_limits,
                worker: Mutex::new(Some(worker)),
                counters: settings.counters,
            }),
        })
    }

    /// Exports everything ended so far; false if that took longer than `timeout`.
    pub(crate) fn force_flush(&self, timeout: Duration) -> bool {
        self.inner.pipeline.signal.flush(timeout)
    }

    /// Exports what is left, shuts the exporter down and stops the export thread, waiting
    /// at most `timeout` for it: an exporter that hangs must not hang the program on its
    /// way out (the thread is then left behind, and a warning logged). Spans that end
    /// afterwards are not recorded.
    pub(crate) fn shutdown(&self, timeout: Duration) {
        let pipeline = &self.inner.pipeline;
        pipeline.signal.shutdown();
        let worker = self
            .inner
            .worker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(worker) = worker {
            if pipeline.signal.wait_stopped(timeout) {
                if worker.join().is_err() {
                    log::warn!("traced: the export thread panicked");
                }
            } else {
                log::warn!(
                    "traced: the exporter did not finish within {timeout:?} of shutdown; \
                     spans it still holds are counted as dropped"
                );
            }
        }
        pipeline.close();
        // Spans that ended while the export thread stopped: counted as ended and not
        // exported, so the final figures report them as dropped.
        let late = pipeline.take();
        Counters::add(
            &self.inner.counters.ended,
            (late.spans + late.rejected) as usize,
        );
    }
}

impl opentelemetry::trace::TracerProvider for Provider {
    type Tracer = RecordingTracer;

    fn tracer_with_scope(&self, scope: InstrumentationScope) -> RecordingTracer {
        let origin = if scope == *SCOPE {
            Origin::Traced
        } else {
            Origin::Tracer(Arc::new(scope))
        };
        RecordingTracer {
            inner: self.inner.clone(),
            origin,
        }
    }
}

/// A tracer of [`Provider`].
#[derive(Clone, Debug)]
pub(crate) struct RecordingTracer {
    inner: Arc<Inner>,
    origin: Origin,
}

/// What a span starts with, whichever way it is started.
struct Start {
    origin: Origin,
    name: Cow<'static, str>,
    kind: SpanKind,
    attributes: Vec<KeyValue>,
    links: Option<Vec<Link>>,
    events: Option<Vec<Event>>,
    start_time: Option<SystemTime>,
}

impl RecordingTracer {
    /// The span of a traced call: of a `#[traced]` function when `site` is given (its
    /// static attributes are added at export), else of an integration.
    pub(crate) fn start_call(
        &self,
        site: Option<&'static CallSite>,
        name: Cow<'static, str>,
        kind: SpanKind,
        attributes: Vec<KeyValue>,
        links: Option<Vec<Link>>,
        parent_cx: &Context,
    ) -> RecordingSpan {
        self.inner.start(
            Start {
                origin: site.map_or(Origin::Traced, Origin::Site),
                name,
                kind,
                attributes,
                links,
                events: None,
                start_time: None,
            },
            parent_cx,
        )
    }
}

impl opentelemetry::trace::Tracer for RecordingTracer {
    type Span = RecordingSpan;

    fn build_with_context(&self, builder: SpanBuilder, parent_cx: &Context) -> RecordingSpan {
        self.inner.start(
            Start {
                origin: self.origin.clone(),
                name: builder.name,
                kind: builder.span_kind.unwrap_or(SpanKind::Internal),
                attributes: builder.attributes.unwrap_or_default(),
                links: builder.links,
                events: builder.events,
                start_time: builder.start_time,
            },
            parent_cx,
        )
    }
}

impl Inner {
    /// The SDK's `SdkTracer::build_with_context`, decision for decision: the parent is
    /// the context's span when it is valid, the sampler decides, limits apply.
    fn start(&self, start: Start, parent_cx: &Context) -> RecordingSpan {
        if parent_cx.is_telemetry_suppressed() || self.pipeline.is_closed() {
            return RecordingSpan::not_recording(SpanContext::empty_context());
        }
        let span_id = self.ids.new_span_id();
        let parent = parent_cx.span();
        let parent = Some(parent.span_context()).filter(|parent| parent.is_valid());
        let trace_id = parent.map_or_else(|| self.ids.new_trace_id(), SpanContext::trace_id);
        let sampling = self.sampling.decide(
            parent_cx,
            trace_id,
            &start.name,
            &start.kind,
            &start.attributes,
            start.links.as_deref().unwrap_or(&[]),
        );
        // A child keeps its parent's flags but `sampled` (W3C Trace Context Level 2's
        // `random` among them, also when the child is not sampled); a root says `random`,
        // since its trace id comes from a random generator.
        let flags = parent.map_or(TraceFlags::new(RANDOM_TRACE_ID), SpanContext::trace_flags);
        let export = match sampling.decision {
            SamplingDecision::Drop => {
                return RecordingSpan::not_recording(SpanContext::new(
                    trace_id,
                    span_id,
                    flags.with_sampled(false),
                    false,
                    sampling.trace_state,
                ))
            }
            SamplingDecision::RecordOnly => false,
            SamplingDecision::RecordAndSample => true,
        };
        let limits = self.limits;
        let mut attributes = start.attributes;
        if !sampling.attributes.is_empty() {
            attributes.extend(sampling.attributes);
        }
        let room = start.origin.attribute_room(limits.max_attributes_per_span);
        let dropped_attributes_count =
            truncate(&mut attributes, u32::try_from(room).unwrap_or(u32::MAX));
        let start_time = start.start_time.unwrap_or_else(opentelemetry::time::now);
        RecordingSpan::recording(Recording {
            record: Box::new(Finished {
                origin: start.origin,
                span_context: SpanContext::new(
                    trace_id,
                    span_id,
                    flags.with_sampled(export),
                    false,
                    sampling.trace_state,
                ),
                parent_span_id: parent.map_or(SpanId::INVALID, SpanContext::span_id),
                parent_span_is_remote: parent.is_some_and(SpanContext::is_remote),
                span_kind: start.kind,
                name: start.name,
                start_time,
                end_time: start_time,
                attributes,
                dropped_attributes_count,
                extras: extras(start.events, start.links, &limits),
            }),
            limits,
            pipeline: self.pipeline.generation(),
            export,
        })
    }
}

/// The builder's events and links within the limits, if it has any.
fn extras(
    events: Option<Vec<Event>>,
    links: Option<Vec<Link>>,
    limits: &SpanLimits,
) -> Option<Box<Extras>> {
    if events.is_none() && links.is_none() {
        return None;
    }
    let mut extras = Extras::default();
    (extras.events.events, extras.events.dropped_count) = in_limits(
        events,
        limits.max_events_per_span,
        limits.max_attributes_per_event,
    );
    (extras.links.links, extras.links.dropped_count) = in_limits(
        links,
        limits.max_links_per_span,
        limits.max_attributes_per_link,
    );
    Some(Box::new(extras))
}

/// Events and links alike: items with attributes of their own, under a limit each.
trait OwnAttributes {
    fn own_attributes(&mut self) -> (&mut Vec<KeyValue>, &mut u32);
}

impl OwnAttributes for Event {
    fn own_attributes(&mut self) -> (&mut Vec<KeyValue>, &mut u32) {
        (&mut self.attributes, &mut self.dropped_attributes_count)
    }
}

impl OwnAttributes for Link {
    fn own_attributes(&mut self) -> (&mut Vec<KeyValue>, &mut u32) {
        (&mut self.attributes, &mut self.dropped_attributes_count)
    }
}

/// At most `max_items` items of at most `max_attributes` attributes each, and how many
/// items were cut (what each item lost is counted on the item).
fn in_limits<T: OwnAttributes>(
    items: Option<Vec<T>>,
    max_items: u32,
    max_attributes: u32,
) -> (Vec<T>, u32) {
    let Some(mut items) = items else {
        return (Vec::new(), 0);
    };
    let dropped = truncate(&mut items, max_items);
    for item in &mut items {
        let (attributes, dropped_attributes) = item.own_attributes();
        *dropped_attributes = truncate(attributes, max_attributes);
    }
    (items, dropped)
}
