//! The memory cap of a stream's output (its own test binary: the cap is process-wide).

use futures::stream::{self, Stream, StreamExt};
use opentelemetry::Value;
use traced::traced;
use traced_tests::{attr, attr_str, in_trace_async};

#[traced]
fn long_reply(chunks: usize) -> impl Stream<Item = &'static str> {
    // "é" is two bytes, so a cap at an odd byte count falls inside a character.
    stream::iter(std::iter::repeat_n("aé", chunks))
}

#[traced]
fn many_items(n: u32) -> impl Stream<Item = u32> {
    stream::iter(0..n)
}

#[tokio::test(flavor = "current_thread")]
async fn past_the_cap_the_output_is_truncated_and_the_totals_keep_counting() {
    traced::set_stream_output_limit(101);
    let (_, trace) = in_trace_async(async {
        long_reply(1000).count().await;
        many_items(1000).count().await;
    })
    .await;

    let span = trace.span("long_reply");
    let text = attr_str(span, "output.value").expect("output kept");
    // 33 whole "aé" (99 bytes), then the "a" of the 34th: "é" would pass 101 bytes.
    assert_eq!(
        text.len(),
        100,
        "cut at the last character boundary within 101 bytes"
    );
    assert!(text.ends_with("aéa"));
    assert!(text.starts_with("aéaé"));
    assert_eq!(
        attr(span, "traced.output.truncated"),
        Some(&Value::Bool(true))
    );
    assert_eq!(attr(span, "traced.stream.chunks"), Some(&Value::I64(1000)));
    assert_eq!(attr(span, "traced.stream.bytes"), Some(&Value::I64(3000)));

    let items = trace.span("many_items");
    let json = attr_str(items, "output.value").expect("output kept");
    let parsed: Vec<u32> = serde_json::from_str(&json).expect("still a valid JSON array");
    assert!(json.len() <= 101 && !parsed.is_empty());
    assert_eq!(parsed, (0..parsed.len() as u32).collect::<Vec<_>>());
    assert_eq!(
        attr(items, "traced.output.truncated"),
        Some(&Value::Bool(true))
    );
    assert_eq!(attr(items, "traced.stream.chunks"), Some(&Value::I64(1000)));
}
