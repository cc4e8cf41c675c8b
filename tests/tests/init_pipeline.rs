//! The pipeline `traced::init()` builds: spans take its own tracer (no global lookup),
//! a new `init()` replaces it, and a sampler that records nothing makes no span at all.

use std::sync::atomic::{AtomicUsize, Ordering};

use opentelemetry_sdk::trace::InMemorySpanExporter;
use serde::{Serialize, Serializer};
use traced::{traced, Config, SamplerConfig};
use traced_tests::attr_str;

#[traced(name = "outer")]
async fn outer(n: u32) -> u32 {
    inner(n) + 1
}

#[traced(name = "inner")]
fn inner(n: u32) -> u32 {
    traced::current_span().set_output("by hand");
    n * 2
}

static SERIALIZED: AtomicUsize = AtomicUsize::new(0);

struct Counted;

impl Serialize for Counted {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        SERIALIZED.fetch_add(1, Ordering::SeqCst);
        serializer.serialize_unit()
    }
}

#[traced]
fn takes_counted(value: Counted) -> Option<String> {
    let _ = value;
    traced::current_trace_id()
}

#[test]
fn init_routes_spans_to_its_pipeline_and_a_new_init_replaces_it() {
    let first = InMemorySpanExporter::default();
    let guard = Config::new()
        .service_name("one")
        .exporter(first.clone())
        .init()
        .expect("init");
    assert_eq!(futures::executor::block_on(outer(4)), 9);
    // The in-memory exporter forgets its spans when shut down: read them after a flush.
    guard.flush();
    let spans = first.get_finished_spans().expect("spans");
    let stats = guard.shutdown();
    assert_eq!((stats.ended, stats.exported, stats.dropped), (2, 2, 0));
    let outer_span = spans.iter().find(|s| s.name == "outer").expect("outer");
    let inner_span = spans.iter().find(|s| s.name == "inner").expect("inner");
    assert_eq!(inner_span.parent_span_id, outer_span.span_context.span_id());
    assert_eq!(
        attr_str(inner_span, "output.value").as_deref(),
        Some("by hand")
    );
    assert_eq!(
        inner_span
            .attributes
            .iter()
            .filter(|kv| kv.key.as_str() == "output.value")
            .count(),
        1
    );

    let second = InMemorySpanExporter::default();
    let guard = Config::new()
        .service_name("two")
        .exporter(second.clone())
        .init()
        .expect("init");
    assert_eq!(futures::executor::block_on(outer(1)), 3);
    guard.flush();
    assert_eq!(second.get_finished_spans().map(|s| s.len()).ok(), Some(2));
    assert_eq!(
        guard.shutdown().ended,
        2,
        "the second pipeline counted only its own"
    );

    // AlwaysOff: no span, nothing captured, no id.
    let third = InMemorySpanExporter::default();
    let guard = Config::new()
        .exporter(third.clone())
        .sampler(SamplerConfig::AlwaysOff)
        .init()
        .expect("init");
    assert_eq!(takes_counted(Counted), None);
    guard.flush();
    assert_eq!(third.get_finished_spans().map(|s| s.len()).ok(), Some(0));
    assert_eq!(guard.shutdown().ended, 0);
    assert_eq!(SERIALIZED.load(Ordering::SeqCst), 0);

    // OTEL_SDK_DISABLED the same way, from the environment's words.
    let guard =
        Config::from_lookup(|name| (name == "OTEL_SDK_DISABLED").then(|| "true".to_owned()))
            .expect("valid")
            .init()
            .expect("init");
    assert_eq!(takes_counted(Counted), None);
    assert_eq!(guard.destination(), "nowhere (disabled)");
}
