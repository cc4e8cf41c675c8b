//! Traced streams: the span lives until the stream ends or is dropped, the output is
//! accumulated, and the totals are recorded.

use std::pin::Pin;
use std::time::Duration;

use futures::stream::{self, BoxStream, Stream, StreamExt};
use opentelemetry::trace::Status;
use opentelemetry::Value;
use traced::{traced, Accumulate, StreamOutput, Usage};
use traced_tests::{attr, attr_count, attr_str, current_trace, in_trace_async, Span};

fn int(span: &Span, key: &str) -> i64 {
    match attr(span, key) {
        Some(Value::I64(n)) => *n,
        other => panic!("{key} on {} is {other:?}", span.name),
    }
}

fn float(span: &Span, key: &str) -> f64 {
    match attr(span, key) {
        Some(Value::F64(n)) => *n,
        other => panic!("{key} on {} is {other:?}", span.name),
    }
}

#[traced]
fn tokens(words: Vec<&'static str>) -> impl Stream<Item = String> {
    stream::iter(words).then(|word| async move {
        tokio::task::yield_now().await;
        word.to_owned()
    })
}

#[tokio::test(flavor = "current_thread")]
async fn the_span_ends_only_after_the_last_item() {
    let (_, trace) = in_trace_async(async {
        let mut reply = Box::pin(tokens(vec!["Hel", "lo", " world"]));
        assert_eq!(reply.next().await.as_deref(), Some("Hel"));
        assert_eq!(reply.next().await.as_deref(), Some("lo"));
        assert!(
            current_trace().all("tokens").is_empty(),
            "still open mid-stream"
        );
        assert_eq!(reply.next().await.as_deref(), Some(" world"));
        assert!(
            current_trace().all("tokens").is_empty(),
            "still open before None"
        );
        assert_eq!(reply.next().await, None);
        assert_eq!(current_trace().all("tokens").len(), 1, "ended at None");
        // Polling again after the end does nothing more.
        assert_eq!(reply.next().await, None);
    })
    .await;
    let span = trace.span("tokens");
    assert_eq!(
        attr_str(span, "output.value").as_deref(),
        Some("Hello world")
    );
    assert_eq!(
        attr_str(span, "output.mime_type").as_deref(),
        Some("text/plain")
    );
    assert_eq!(int(span, "traced.stream.chunks"), 3);
    assert_eq!(int(span, "traced.stream.bytes"), 11);
    assert_eq!(attr(span, "traced.stream.cancelled"), None);
    assert_eq!(attr_count(span, "output.value"), 1);
}

#[tokio::test(flavor = "current_thread")]
async fn dropping_early_records_cancelled_and_the_partial_text() {
    let (_, trace) = in_trace_async(async {
        let mut reply = Box::pin(tokens(vec!["The", " answer", " is", " 42"]));
        reply.next().await;
        reply.next().await;
        drop(reply);
    })
    .await;
    let span = trace.span("tokens");
    assert_eq!(
        attr(span, "traced.stream.cancelled"),
        Some(&Value::Bool(true))
    );
    assert_eq!(
        attr_str(span, "output.value").as_deref(),
        Some("The answer")
    );
    assert_eq!(int(span, "traced.stream.chunks"), 2);
}

#[traced]
async fn look_up(word: &'static str) -> usize {
    tokio::task::yield_now().await;
    word.len()
}

#[traced]
fn with_nested_work(words: Vec<&'static str>) -> impl Stream<Item = usize> {
    async_stream::stream! {
        for word in words {
            yield look_up(word).await;
        }
    }
}

#[tokio::test(flavor = "current_thread")]
async fn traced_calls_inside_the_stream_body_are_children() {
    let (lengths, trace) = in_trace_async(async {
        with_nested_work(vec!["a", "bb", "ccc"])
            .collect::<Vec<_>>()
            .await
    })
    .await;
    assert_eq!(lengths, [1, 2, 3]);
    let parent = trace.span("with_nested_work");
    assert_eq!(trace.all("look_up").len(), 3);
    for child in trace.all("look_up") {
        assert_eq!(child.parent_span_id, parent.span_context.span_id());
    }
    assert_eq!(attr_str(parent, "output.value").as_deref(), Some("[1,2,3]"));
    assert_eq!(
        attr_str(parent, "output.mime_type").as_deref(),
        Some("application/json")
    );
}

#[derive(Debug)]
struct RateLimited(u8);

impl std::fmt::Display for RateLimited {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "rate limited #{}", self.0)
    }
}

impl std::error::Error for RateLimited {}

#[traced]
fn flaky() -> impl Stream<Item = Result<&'static str, RateLimited>> {
    stream::iter([Ok("a"), Err(RateLimited(1)), Ok("b"), Err(RateLimited(2))])
}

#[tokio::test(flavor = "current_thread")]
async fn result_items_accumulate_oks_and_record_each_error() {
    let (items, trace) = in_trace_async(async { flaky().collect::<Vec<_>>().await }).await;
    assert_eq!(items.len(), 4);
    let span = trace.span("flaky");
    assert_eq!(attr_str(span, "output.value").as_deref(), Some("ab"));
    let messages: Vec<String> = span
        .events
        .iter()
        .filter(|e| e.name == "exception")
        .filter_map(|e| {
            e.attributes
                .iter()
                .find(|kv| kv.key.as_str() == "exception.message")
        })
        .map(|kv| kv.value.as_str().into_owned())
        .collect();
    assert_eq!(messages, ["rate limited #1", "rate limited #2"]);
    assert_eq!(
        span.status,
        Status::Error {
            description: "rate limited #1".into()
        },
        "the first error sets the status"
    );
}

/// An OpenAI-style chunk: a text delta, and usage on the final chunk.
#[derive(Debug, Clone)]
struct ChatChunk {
    delta: &'static str,
    usage: Option<Usage>,
}

impl Accumulate for ChatChunk {
    fn accumulate(&self, output: &mut StreamOutput) {
        output.push_text(self.delta);
        if let Some(usage) = self.usage {
            output.set_usage(usage);
            output.set_response_model("tiny-llm-2026-01");
        }
    }
}

fn chat_chunks() -> Vec<ChatChunk> {
    vec![
        ChatChunk {
            delta: "Hi",
            usage: None,
        },
        ChatChunk {
            delta: " there",
            usage: None,
        },
        ChatChunk {
            delta: "",
            usage: Some(Usage::new(9, 2)),
        },
    ]
}

#[traced(as_type = "generation")]
fn chat() -> impl Stream<Item = ChatChunk> {
    traced::current_span().set_model("tiny-llm");
    stream::iter(chat_chunks())
}

#[tokio::test(flavor = "current_thread")]
async fn chunks_that_accumulate_themselves_carry_usage_without_user_code() {
    let (_, trace) = in_trace_async(async { chat().collect::<Vec<_>>().await }).await;
    let span = trace.span("chat");
    assert_eq!(attr_str(span, "output.value").as_deref(), Some("Hi there"));
    assert_eq!(int(span, "gen_ai.usage.input_tokens"), 9);
    assert_eq!(int(span, "gen_ai.usage.output_tokens"), 2);
    assert_eq!(int(span, "llm.token_count.total"), 11);
    assert_eq!(
        attr_str(span, "gen_ai.request.model").as_deref(),
        Some("tiny-llm")
    );
    assert_eq!(
        attr_str(span, "gen_ai.response.model").as_deref(),
        Some("tiny-llm-2026-01")
    );
    assert_eq!(
        attr_str(span, "llm.model_name").as_deref(),
        Some("tiny-llm")
    );
    assert_eq!(
        attr_str(span, "openinference.span.kind").as_deref(),
        Some("LLM")
    );
    assert_eq!(
        attr_str(span, "langfuse.observation.type").as_deref(),
        Some("generation")
    );
}

#[traced(as_type = "generation")]
fn usage_set_by_hand() -> impl Stream<Item = ChatChunk> {
    async_stream::stream! {
        for chunk in chat_chunks() {
            yield chunk;
        }
        traced::current_span().set_usage(Usage::new(100, 200));
    }
}

#[tokio::test(flavor = "current_thread")]
async fn usage_set_by_hand_wins_over_the_chunks() {
    let (_, trace) = in_trace_async(async { usage_set_by_hand().collect::<Vec<_>>().await }).await;
    let span = trace.span("usage_set_by_hand");
    assert_eq!(int(span, "gen_ai.usage.input_tokens"), 100);
    assert_eq!(attr_count(span, "gen_ai.usage.input_tokens"), 1);
}

/// Keeps only the upper-cased first letter of each word. The items are `String`s; the
/// reducer may take them as `&str`, by deref coercion.
fn initials(output: &mut StreamOutput, word: &str) {
    if let Some(first) = word.chars().next() {
        output.push_text(&first.to_uppercase().to_string());
    }
}

#[traced(reduce = initials)]
fn reduced(words: Vec<&'static str>) -> impl Stream<Item = String> {
    stream::iter(words.into_iter().map(str::to_owned))
}

#[tokio::test(flavor = "current_thread")]
async fn reduce_overrides_the_accumulation() {
    let (_, trace) =
        in_trace_async(async { reduced(vec!["hyper", "text", "markup"]).count().await }).await;
    assert_eq!(
        attr_str(trace.span("reduced"), "output.value").as_deref(),
        Some("HTM")
    );
}

#[traced]
fn slow_start(delay: Duration) -> impl Stream<Item = &'static str> {
    async_stream::stream! {
        tokio::time::sleep(delay).await;
        yield "first";
        yield "second";
    }
}

#[tokio::test(flavor = "current_thread")]
async fn time_to_first_chunk_is_measured_from_the_call() {
    let delay = Duration::from_millis(60);
    let (_, trace) = in_trace_async(async move {
        let reply = slow_start(delay);
        reply.collect::<Vec<_>>().await
    })
    .await;
    let span = trace.span("slow_start");
    let ttfc = float(span, "gen_ai.response.time_to_first_chunk");
    assert!(
        ttfc >= delay.as_secs_f64(),
        "time to first chunk {ttfc} < {delay:?}"
    );
    assert!(float(span, "traced.stream.duration") >= ttfc);
    let start = attr_str(span, "langfuse.observation.completion_start_time").expect("recorded");
    // RFC 3339, UTC, microseconds: 2026-11-21T12:34:56.123456Z
    assert_eq!(start.len(), 27, "{start}");
    assert!(
        start.ends_with('Z') && start.as_bytes()[10] == b'T',
        "{start}"
    );
    let span_start = humantime_secs(span.start_time);
    let first = parse_rfc3339_secs(&start);
    assert!(
        first >= span_start + delay.as_secs_f64() - 0.001,
        "{first} vs {span_start}"
    );
}

fn humantime_secs(t: std::time::SystemTime) -> f64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Seconds since the epoch of `YYYY-MM-DDThh:mm:ss.ffffffZ` (days computed by counting).
fn parse_rfc3339_secs(text: &str) -> f64 {
    let num = |range: std::ops::Range<usize>| text[range].parse::<i64>().expect("digits");
    let (year, month, day) = (num(0..4), num(5..7), num(8..10));
    let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let mut days = (1970..year)
        .map(|y| if leap(y) { 366 } else { 365 })
        .sum::<i64>();
    let month_days = [
        31,
        if leap(year) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    days += month_days[..(month - 1) as usize].iter().sum::<i64>() + day - 1;
    let secs = days * 86_400 + num(11..13) * 3600 + num(14..16) * 60 + num(17..19);
    secs as f64 + num(20..26) as f64 / 1e6
}

#[traced]
fn many(n: usize) -> impl Stream<Item = String> {
    stream::iter((0..n).map(|i| format!("{}", i % 10)))
}

#[tokio::test(flavor = "current_thread")]
async fn totals_are_right_for_ten_thousand_chunks() {
    let (count, trace) = in_trace_async(async { many(10_000).count().await }).await;
    assert_eq!(count, 10_000);
    let span = trace.span("many");
    assert_eq!(int(span, "traced.stream.chunks"), 10_000);
    assert_eq!(int(span, "traced.stream.bytes"), 10_000);
    let text = attr_str(span, "output.value").expect("output");
    assert_eq!(text.len(), 10_000);
    assert!(text.starts_with("0123456789"));
}

#[traced(stream)]
fn boxed(words: Vec<&'static str>) -> BoxStream<'static, String> {
    tokens(words).boxed()
}

#[traced]
fn pinned_dyn<'a>(prefix: &'a str) -> Pin<Box<dyn Stream<Item = String> + Send + 'a>> {
    Box::pin(stream::iter(["x", "y"]).map(move |s| format!("{prefix}{s}")))
}

#[traced]
async fn async_stream_fn(words: Vec<&'static str>) -> impl Stream<Item = String> {
    tokio::task::yield_now().await;
    let n = look_up("setup").await;
    tokens(words).map(move |w| format!("{w}{n}"))
}

#[tokio::test(flavor = "current_thread")]
async fn boxed_and_async_streams() {
    let (collected, trace) = in_trace_async(async {
        let a: Vec<String> = boxed(vec!["p", "q"]).collect().await;
        let b: Vec<String> = pinned_dyn("-").collect().await;
        let c: Vec<String> = async_stream_fn(vec!["r"]).await.collect().await;
        (a, b, c)
    })
    .await;
    assert_eq!(collected.0, ["p", "q"]);
    assert_eq!(collected.1, ["-x", "-y"]);
    assert_eq!(collected.2, ["r5"]);
    assert_eq!(
        attr_str(trace.span("boxed"), "output.value").as_deref(),
        Some("pq")
    );
    let boxed_id = trace.span("boxed").span_context.span_id();
    assert!(trace
        .all("tokens")
        .iter()
        .any(|t| t.parent_span_id == boxed_id));
    assert_eq!(
        attr_str(trace.span("pinned_dyn"), "output.value").as_deref(),
        Some("-x-y")
    );
    let async_span = trace.span("async_stream_fn");
    assert_eq!(attr_str(async_span, "output.value").as_deref(), Some("r5"));
    assert_eq!(
        trace.parent_name("look_up").as_deref(),
        Some("async_stream_fn")
    );
}
