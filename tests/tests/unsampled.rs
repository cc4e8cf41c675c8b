//! With a sampler that drops every span, nothing is captured, formatted or serialised:
//! instrumentation costs nothing it does not need to.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

use opentelemetry_sdk::trace::Sampler;
use serde::{Serialize, Serializer};
use traced::traced;

static SERIALIZED: AtomicUsize = AtomicUsize::new(0);
static FORMATTED: AtomicUsize = AtomicUsize::new(0);
static FIELD_EVALUATED: AtomicUsize = AtomicUsize::new(0);

struct Counted;

impl Serialize for Counted {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        SERIALIZED.fetch_add(1, Ordering::SeqCst);
        serializer.serialize_str("counted")
    }
}

impl fmt::Debug for Counted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        FORMATTED.fetch_add(1, Ordering::SeqCst);
        f.write_str("Counted")
    }
}

struct DebugCounted;

impl fmt::Debug for DebugCounted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        FORMATTED.fetch_add(1, Ordering::SeqCst);
        f.write_str("DebugCounted")
    }
}

fn field_value() -> u8 {
    FIELD_EVALUATED.fetch_add(1, Ordering::SeqCst);
    1
}

#[traced(fields(extra = field_value()))]
fn work(input: Counted, other: DebugCounted) -> Result<Counted, String> {
    let _ = other;
    if traced::current_span().is_recording() {
        return Err("recording".into());
    }
    traced::current_span().set_output(&input);
    Ok(input)
}

#[traced]
fn failing(_input: Counted) -> Result<(), DebugCounted> {
    Err(DebugCounted)
}

#[traced]
fn counted_stream() -> impl futures::Stream<Item = Counted> {
    futures::stream::iter([Counted, Counted])
}

#[test]
fn nothing_is_serialised_or_formatted_when_not_sampled() {
    let exporter = traced_tests::install(Sampler::AlwaysOff);
    assert!(work(Counted, DebugCounted).is_ok());
    assert!(failing(Counted).is_err());
    let items = futures::executor::block_on(futures::StreamExt::count(counted_stream()));
    assert_eq!(items, 2);
    assert_eq!(SERIALIZED.load(Ordering::SeqCst), 0);
    assert_eq!(FORMATTED.load(Ordering::SeqCst), 0);
    assert_eq!(FIELD_EVALUATED.load(Ordering::SeqCst), 0);
    assert_eq!(exporter.get_finished_spans().map(|s| s.len()).ok(), Some(0));
}
