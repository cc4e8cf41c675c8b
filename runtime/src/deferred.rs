//! Small captured values carried in a span's record and made attributes on the export
//! thread (why: see [`small_text`](crate::small_text)).
//!
//! A call of our own pipeline keeps its input and output here when they are small, whole
//! and need no rewriting; as its span ends, the call hands them to the span through a
//! slot of its thread ([`hand_over`], taken by the span in the same `end()` call with
//! [`take_for`]), since the span sits behind OpenTelemetry's type-erased `Context`. The
//! export thread writes `input.value` / `input.mime_type` and `output.value` /
//! `output.mime_type` from them: the same attributes, with the same values, that the
//! calling thread would have set.

use std::cell::Cell;

use opentelemetry::trace::SpanId;
use opentelemetry::KeyValue;

use crate::attributes as attr;
use crate::small_text::InlineText;

/// The most bytes of a captured input kept inline (`{"a":1,"b":2}` is 13).
pub(crate) const INPUT_INLINE: usize = 64;
/// The most bytes of a captured output kept inline (an `i128` is at most 40).
pub(crate) const OUTPUT_INLINE: usize = 40;

/// A call's small captured input and output.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Deferred {
    /// The arguments' JSON object.
    pub(crate) input: Option<InlineText<INPUT_INLINE>>,
    /// The output and its MIME type.
    pub(crate) output: Option<(InlineText<OUTPUT_INLINE>, &'static str)>,
}

impl Deferred {
    pub(crate) fn is_empty(&self) -> bool {
        self.input.is_none() && self.output.is_none()
    }

    /// How many attributes [`Deferred::push_attributes`] writes.
    pub(crate) fn attribute_count(&self) -> usize {
        2 * (usize::from(self.input.is_some()) + usize::from(self.output.is_some()))
    }

    /// What fits `free` attribute slots (the input first, as it was captured first),
    /// and how many attributes were left out.
    pub(crate) fn within(mut self, free: usize) -> (Self, u32) {
        let mut dropped = 0;
        let mut free = free;
        if self.input.is_some() {
            if free >= 2 {
                free -= 2;
            } else {
                self.input = None;
                dropped += 2;
            }
        }
        if self.output.is_some() && free < 2 {
            self.output = None;
            dropped += 2;
        }
        (self, dropped)
    }

    /// The attributes, as the calling thread would have set them; a value the span
    /// already has under the same key (set by hand, with `current_span().set_attribute`)
    /// is kept instead (set by hand after the capture, it came later and won).
    pub(crate) fn push_attributes(&self, attributes: &mut Vec<KeyValue>) {
        let set =
            |attributes: &[KeyValue], key: &str| attributes.iter().any(|kv| kv.key.as_str() == key);
        if let Some(input) = self.input.filter(|_| !set(attributes, attr::INPUT_VALUE)) {
            attributes.push(KeyValue::new(attr::INPUT_VALUE, input.as_str().to_owned()));
            attributes.push(KeyValue::new(attr::INPUT_MIME_TYPE, attr::MIME_JSON));
        }
        if let Some((output, mime)) = self.output.filter(|_| !set(attributes, attr::OUTPUT_VALUE)) {
            attributes.push(KeyValue::new(
                attr::OUTPUT_VALUE,
                output.as_str().to_owned(),
            ));
            attributes.push(KeyValue::new(attr::OUTPUT_MIME_TYPE, mime));
        }
    }
}

thread_local! {
    /// The span the values in [`HANDED`] are for; invalid when there are none (so a
    /// span that ends with nothing handed over reads one word, not the values).
    static HANDED_TO: Cell<SpanId> = const { Cell::new(SpanId::INVALID) };
    /// What the call ending on this thread hands to its span. `Deferred` is `Copy`, so
    /// neither slot has a destructor: they are there until the thread is gone.
    static HANDED: Cell<Deferred> = const {
        Cell::new(Deferred {
            input: None,
            output: None,
        })
    };
}

/// Leaves `deferred` for span `span`, which takes it as it ends, on this thread.
pub(crate) fn hand_over(span: SpanId, deferred: Deferred) {
    let _ = HANDED.try_with(|slot| slot.set(deferred));
    let _ = HANDED_TO.try_with(|slot| slot.set(span));
}

/// What was handed over for span `span`, if anything; the slot is emptied either way
/// (what a span that never ended left there is not given to another).
pub(crate) fn take_for(span: SpanId) -> Option<Deferred> {
    let handed_to = HANDED_TO
        .try_with(|slot| {
            let handed_to = slot.get();
            if handed_to != SpanId::INVALID {
                slot.set(SpanId::INVALID);
            }
            handed_to
        })
        .unwrap_or(SpanId::INVALID);
    if handed_to == SpanId::INVALID || handed_to != span {
        return None;
    }
    HANDED.try_with(Cell::take).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both() -> Deferred {
        Deferred {
            input: InlineText::of("{\"a\":1}"),
            output: InlineText::of("2").map(|text| (text, attr::MIME_JSON)),
        }
    }

    #[test]
    fn keeps_what_fits_input_first() {
        assert_eq!(both().within(4), (both(), 0));
        let (kept, dropped) = both().within(3);
        assert_eq!(
            (kept.input.is_some(), kept.output.is_some(), dropped),
            (true, false, 2)
        );
        let (kept, dropped) = both().within(1);
        assert!(kept.is_empty());
        assert_eq!(dropped, 4);
    }

    #[test]
    fn handed_to_one_span_only() {
        let span = SpanId::from_bytes(7u64.to_be_bytes());
        hand_over(span, both());
        assert_eq!(
            take_for(SpanId::from_bytes(8u64.to_be_bytes())),
            None,
            "another span's"
        );
        assert_eq!(take_for(span), None, "emptied by the first look");
        hand_over(span, both());
        let mut attributes = Vec::new();
        take_for(span)
            .expect("handed")
            .push_attributes(&mut attributes);
        let pairs: Vec<(String, String)> = attributes
            .iter()
            .map(|kv| (kv.key.to_string(), kv.value.to_string()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("input.value", "{\"a\":1}"),
                ("input.mime_type", "application/json"),
                ("output.value", "2"),
                ("output.mime_type", "application/json"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
    }
}
