//! A stream that carries its call's span: current while polled, ended when the stream
//! yields `None` or is dropped early, with the accumulated output and the totals.

use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::{Instant, SystemTime};

use futures_core::Stream;
use opentelemetry::KeyValue;
use pin_project_lite::pin_project;

use super::output::StreamOutput;
use crate::attributes as attr;
use crate::call::Call;
use crate::current::frames::UserSet;
use crate::llm;
use crate::time::rfc3339;

pin_project! {
    /// The stream returned by a traced function that returns a stream.
    #[doc(hidden)]
    pub struct TracedStream<S, A> {
        #[pin]
        stream: S,
        call: Call,
        accumulate: A,
        output: StreamOutput,
        started: Instant,
        first_item: Option<Instant>,
        chunks: u64,
        error_recorded: bool,
        accumulate_failed: bool,
        done: bool,
    }

    impl<S, A> PinnedDrop for TracedStream<S, A> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if !*this.done {
                *this.done = true;
                let totals = Totals { started: *this.started, chunks: *this.chunks };
                finish(this.call, this.output, &totals, true);
            }
        }
    }
}

impl<S, A> std::fmt::Debug for TracedStream<S, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TracedStream")
            .field("call", &self.call)
            .field("chunks", &self.chunks)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<S, A> TracedStream<S, A>
where
    S: Stream,
    A: FnMut(&mut StreamOutput, &S::Item),
{
    /// Wraps `stream`; `started` is when the call began (time to first chunk counts from it).
    pub fn new(call: Call, started: Instant, stream: S, accumulate: A) -> Self {
        Self {
            stream,
            call,
            accumulate,
            output: StreamOutput::default(),
            started,
            first_item: None,
            chunks: 0,
            error_recorded: false,
            accumulate_failed: false,
            done: false,
        }
    }
}

impl<S, A> Stream for TracedStream<S, A>
where
    S: Stream,
    A: FnMut(&mut StreamOutput, &S::Item),
{
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<Option<S::Item>> {
        let this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        let stream = this.stream;
        let polled = this.call.run(|| stream.poll_next(task));
        match &polled {
            Poll::Ready(Some(item)) => {
                *this.chunks += 1;
                if this.first_item.is_none() {
                    let now = Instant::now();
                    *this.first_item = Some(now);
                    if this.call.is_recording() {
                        record_first_item(this.call, *this.started, now);
                    }
                }
                if this.call.is_recording() {
                    // A `reduce` function or an `Accumulate` impl that panics loses its
                    // own item's share of the output, not the item, nor the stream.
                    let accumulate = &mut *this.accumulate;
                    let output = &mut *this.output;
                    if let Err(message) = crate::contain::contained(|| accumulate(output, item)) {
                        if !*this.accumulate_failed {
                            *this.accumulate_failed = true;
                            this.call.set_attributes([KeyValue::new(
                                "traced.capture.failed.output.value",
                                format!("accumulating a stream item panicked: {message}"),
                            )]);
                        }
                    }
                    for error in this.output.take_errors() {
                        this.call
                            .add_exception_event(error.type_name, error.message);
                        if !*this.error_recorded {
                            *this.error_recorded = true;
                            this.call.set_error_status(error.display);
                        }
                    }
                }
            }
            Poll::Ready(None) => {
                *this.done = true;
                let totals = Totals {
                    started: *this.started,
                    chunks: *this.chunks,
                };
                finish(this.call, this.output, &totals, false);
            }
            Poll::Pending => {}
        }
        polled
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            (0, Some(0))
        } else {
            self.stream.size_hint()
        }
    }
}

/// `gen_ai.response.time_to_first_chunk` and `langfuse.observation.completion_start_time`,
/// recorded when the first item arrives so they are right even if the stream never ends.
fn record_first_item(call: &Call, started: Instant, now: Instant) {
    let completion_start = SystemTime::now();
    call.set_attributes([
        KeyValue::new(
            attr::STREAM_TIME_TO_FIRST_CHUNK,
            now.duration_since(started).as_secs_f64(),
        ),
        KeyValue::new(attr::COMPLETION_START_TIME, rfc3339(completion_start)),
    ]);
}

struct Totals {
    started: Instant,
    chunks: u64,
}

/// Records the output and totals and ends the span.
fn finish(call: &mut Call, output: &StreamOutput, totals: &Totals, cancelled: bool) {
    if call.is_ended() {
        return;
    }
    if call.is_recording() {
        let int = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let mut attributes = vec![
            KeyValue::new(attr::STREAM_CHUNKS, int(totals.chunks)),
            KeyValue::new(attr::STREAM_BYTES, int(output.bytes())),
            KeyValue::new(
                attr::STREAM_DURATION,
                totals.started.elapsed().as_secs_f64(),
            ),
        ];
        if cancelled {
            attributes.push(KeyValue::new(attr::STREAM_CANCELLED, true));
        }
        if output.is_truncated() {
            attributes.push(KeyValue::new(attr::OUTPUT_TRUNCATED, true));
        }
        if output.invalid_utf8() {
            attributes.push(KeyValue::new(attr::STREAM_INVALID_UTF8, true));
        }
        if !call.user_set().contains(UserSet::OUTPUT) {
            if let Some((text, mime)) = output.render() {
                let text = if mime == attr::MIME_JSON {
                    crate::redact::policy().redact_json(text)
                } else {
                    text
                };
                attributes.extend(call.output_attributes(text, mime));
            }
        }
        if let Some(model) = output.response_model() {
            attributes.push(KeyValue::new(llm::RESPONSE_MODEL, model.to_owned()));
        }
        #[cfg_attr(not(feature = "async-openai"), allow(unused_mut))]
        let mut priced_model = output.response_model().map(str::to_owned);
        #[cfg(feature = "async-openai")]
        if let Some(reply) = &output.reply {
            if !call.user_set().contains(UserSet::OUTPUT) {
                attributes.extend(crate::call::safe(
                    &crate::redact::policy(),
                    reply.attributes(),
                ));
            }
            priced_model = priced_model.or_else(|| reply.model.clone());
        }
        if let Some(usage) = output.usage() {
            if !call.user_set().contains(UserSet::USAGE) {
                attributes.extend(usage.attributes());
                attributes.extend(crate::genai::cost_attributes(
                    priced_model.as_deref(),
                    &usage,
                ));
            }
        }
        call.set_attributes(attributes);
    }
    call.end();
}
