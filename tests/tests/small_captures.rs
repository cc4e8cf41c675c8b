//! Small captured values travel in the span's record on `init()`'s pipeline and become
//! attributes on the export thread (no allocation on the calling thread); on any other
//! tracer provider they are set as attributes at once. Either way a span must carry the
//! same attributes with the same values: this file records the same calls both ways and
//! compares them, and checks the edges (the size limit, a mask function, the attribute
//! count limit).

use std::sync::{Mutex, MutexGuard};

use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};
use serde::Serialize;
use traced::{traced, Config};
use traced_tests::attr_str;

/// The spans `calls` made, exported through `init()`'s pipeline configured by `config`.
fn spans_under(config: Config, calls: impl FnOnce()) -> Vec<SpanData> {
    let exporter = InMemorySpanExporter::default();
    let guard = config.exporter(exporter.clone()).init().expect("init");
    calls();
    guard.flush();
    // Read before the shutdown: the in-memory exporter forgets its spans then.
    let spans = exporter.get_finished_spans().expect("spans");
    guard.shutdown();
    spans
}

fn named<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    spans
        .iter()
        .find(|span| span.name == name)
        .unwrap_or_else(|| panic!("no span {name}"))
}

/// `init()` is process-wide: the tests of this file take turns.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[traced]
fn add(a: u64, b: u64) -> u64 {
    a + b
}

#[traced]
fn greet(name: &str, loud: bool) -> String {
    if loud {
        format!("HELLO, {name}!")
    } else {
        format!("hello, {name}")
    }
}

#[traced]
fn widest(x: i128) -> i128 {
    x
}

#[traced]
fn letter(upper: bool) -> char {
    if upper {
        'X'
    } else {
        'x'
    }
}

#[traced]
fn long_reply(n: usize) -> String {
    "é".repeat(n)
}

#[traced]
fn login(user: &str, api_key: &str) -> bool {
    !user.is_empty() && !api_key.is_empty()
}

#[traced]
fn parse(text: &str) -> Result<u8, std::num::ParseIntError> {
    text.parse()
}

#[traced]
fn maybe(n: i8) -> Option<i8> {
    (n > 0).then_some(n)
}

#[traced]
fn half(x: f64) -> f64 {
    x / 2.0
}

#[derive(Serialize)]
struct Point {
    x: i32,
    y: i32,
}

#[traced]
fn norm(p: &Point) -> i64 {
    i64::from(p.x.abs()) + i64::from(p.y.abs())
}

#[traced]
fn nothing(flag: bool) {
    let _ = flag;
}

#[traced]
async fn doubled(x: u32) -> u32 {
    tokio::task::yield_now().await;
    2 * x
}

#[traced]
async fn quietly(x: u32) {
    tokio::task::yield_now().await;
    let _ = x;
}

#[traced]
fn words(prefix: &'static str, n: usize) -> impl futures::Stream<Item = String> {
    futures::stream::iter((0..n).map(move |i| format!("{prefix}{i}")))
}

/// The async and stream shapes: their calls end on other paths (the future's last poll,
/// the stream's end or drop).
fn async_calls() {
    use futures::StreamExt as _;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        doubled(21).await;
        quietly(1).await;
        let all: Vec<String> = words("w", 3).collect().await;
        assert_eq!(all, ["w0", "w1", "w2"]);
        // Dropped after one item: the call ends as the stream is dropped.
        let mut partial = Box::pin(words("p", 3));
        partial.next().await;
    });
}

/// Every call of the file, once (the names are the spans').
fn calls() {
    add(1, 2);
    add(u64::MAX, 0);
    greet("Ada \"the first\"\n", true);
    greet("Grace", false);
    widest(i128::MIN);
    letter(true);
    long_reply(20); // 40 bytes: inline
    long_reply(21); // 42 bytes: on the heap
    greet(&"ü".repeat(21), false); // input of 63 bytes
    greet(&"ü".repeat(22), false); // input of 65 bytes
    login("ada", "sk-123");
    let _ = parse("12");
    let _ = parse("x");
    maybe(3);
    maybe(-3);
    half(0.5);
    norm(&Point { x: 3, y: -4 });
    nothing(true);
    async_calls();
}

/// A span's name, its captured values (input, output, and what traced says about them)
/// in order of key, and its status.
type Captured = (String, Vec<(String, String)>, String);

/// The [`Captured`] view of a span.
fn captured(span: &SpanData) -> Captured {
    let mut attributes: Vec<(String, String)> = span
        .attributes
        .iter()
        .filter(|kv| {
            let key = kv.key.as_str();
            // Timings differ from run to run; every other value must not.
            let timing = key.contains("duration") || key.contains("first_chunk");
            !timing
                && (key.starts_with("input.")
                    || key.starts_with("output.")
                    || key.starts_with("traced."))
        })
        .map(|kv| (kv.key.to_string(), kv.value.to_string()))
        .collect();
    attributes.sort();
    (
        span.name.to_string(),
        attributes,
        format!("{:?}", span.status),
    )
}

fn all_captured(spans: &[SpanData]) -> Vec<Captured> {
    let mut all: Vec<_> = spans.iter().map(captured).collect();
    all.sort();
    all
}

fn value<'a>(spans: &'a [Captured], name: &str, key: &str) -> Vec<&'a str> {
    spans
        .iter()
        .filter(|(span, _, _)| span == name)
        .filter_map(|(_, attributes, _)| {
            attributes
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        })
        .collect()
}

#[test]
fn the_same_attributes_on_our_pipeline_as_on_the_sdk() {
    let _turn = one_at_a_time();

    // First through the SDK's provider (set as the global provider; no `init()`).
    let sdk = traced_tests::exporter();
    calls();
    let through_sdk = all_captured(&sdk.get_finished_spans().expect("spans"));

    // Then through `init()`'s pipeline, where small values travel in the record.
    let through_ours = all_captured(&spans_under(Config::new(), calls));

    assert_eq!(through_ours.len(), 22);
    assert_eq!(through_ours, through_sdk);

    // And the values are the ones expected, not only the same.
    let spans = &through_ours;
    assert_eq!(
        value(spans, "add", "input.value"),
        [r#"{"a":1,"b":2}"#, r#"{"a":18446744073709551615,"b":0}"#]
    );
    assert_eq!(
        value(spans, "add", "output.value"),
        ["3", "18446744073709551615"]
    );
    assert_eq!(
        value(spans, "add", "output.mime_type"),
        ["application/json", "application/json"]
    );
    assert_eq!(
        value(spans, "widest", "output.value"),
        ["-170141183460469231731687303715884105728"]
    );
    assert_eq!(value(spans, "letter", "output.value"), ["X"]);
    assert_eq!(value(spans, "letter", "output.mime_type"), ["text/plain"]);
    assert!(value(spans, "greet", "input.value")
        .contains(&r#"{"name":"Ada \"the first\"\n","loud":true}"#));
    assert!(value(spans, "greet", "output.value").contains(&"HELLO, Ada \"the first\"\n!"));
    assert_eq!(
        value(spans, "login", "input.value"),
        [r#"{"user":"ada","api_key":"[REDACTED]"}"#]
    );
    assert_eq!(value(spans, "parse", "output.value"), ["12"]);
    assert_eq!(value(spans, "maybe", "output.value"), ["null", "3"]);
    assert_eq!(value(spans, "half", "input.value"), [r#"{"x":0.5}"#]);
    assert_eq!(
        value(spans, "norm", "input.value"),
        [r#"{"p":{"x":3,"y":-4}}"#]
    );
    assert_eq!(value(spans, "nothing", "output.value"), Vec::<&str>::new());
    assert_eq!(value(spans, "doubled", "input.value"), [r#"{"x":21}"#]);
    assert_eq!(value(spans, "doubled", "output.value"), ["42"]);
    assert_eq!(value(spans, "quietly", "input.value"), [r#"{"x":1}"#]);
    assert_eq!(
        value(spans, "words", "input.value"),
        [r#"{"prefix":"p","n":3}"#, r#"{"prefix":"w","n":3}"#]
    );
    assert_eq!(value(spans, "words", "output.value"), ["p0", "w0w1w2"]);
    let failed = spans
        .iter()
        .find(|(name, attributes, _)| {
            name == "parse" && attributes.iter().any(|(_, v)| v == r#"{"text":"x"}"#)
        })
        .expect("the failed parse");
    assert!(failed.2.contains("Error"), "{}", failed.2);
}

#[test]
fn small_values_obey_the_size_limit_and_the_mask() {
    let _turn = one_at_a_time();
    let config = Config::new()
        .max_attribute_bytes(16)
        .mask(|_key, value| value.replace("Grace", "<name>"));
    let spans = spans_under(config, || {
        add(123456, 789012);
        greet("Grace", false);
    });

    let add = named(&spans, "add");
    // `{"a":123456,"b":789012}` is 23 bytes: cut to at most 16, and said so.
    let input = attr_str(add, "input.value").expect("input");
    assert!(
        input.len() <= 16 && input.starts_with(r#"{"a":123456,"#),
        "{input}"
    );
    assert_eq!(
        attr_str(add, "traced.truncated.input.value").as_deref(),
        Some("more than 16")
    );
    assert_eq!(attr_str(add, "output.value").as_deref(), Some("912468"));

    // A small, whole output still goes through the mask function.
    let greet = named(&spans, "greet");
    assert_eq!(
        attr_str(greet, "output.value").as_deref(),
        Some("hello, <name>")
    );
}

#[traced]
fn busy(n: u64) -> u64 {
    for i in 0..3 {
        traced::current_span().set_attribute(format!("step.{i}"), i64::from(i));
    }
    n
}

#[test]
fn the_attribute_count_limit_counts_what_the_record_carried() {
    let _turn = one_at_a_time();
    // 4 site attributes (code.*, openinference.span.kind) leave the span 5 of its own:
    // its 3 steps and the input pair fit, the output pair does not.
    std::env::set_var("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "9");
    let spans = spans_under(Config::new(), || {
        busy(7);
    });
    std::env::remove_var("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT");

    let span = named(&spans, "busy");
    assert_eq!(span.attributes.len(), 9);
    assert_eq!(attr_str(span, "input.value").as_deref(), Some(r#"{"n":7}"#));
    assert_eq!(attr_str(span, "output.value"), None);
    assert_eq!(
        span.dropped_attributes_count, 2,
        "the output and its MIME type"
    );
}

#[traced]
fn lookup(account: &str, page: u8) -> u8 {
    let _ = account;
    page
}

/// The input of the `lookup` span exported under `config`.
fn lookup_input_under(config: Config) -> String {
    let spans = spans_under(config, || {
        lookup("ada-7", 2);
    });
    attr_str(named(&spans, "lookup"), "input.value").expect("input")
}

#[test]
fn a_call_site_decides_its_secret_arguments_anew_when_the_names_change() {
    let _turn = one_at_a_time();
    let plain = r#"{"account":"ada-7","page":2}"#;
    let masked = r#"{"account":"[REDACTED]","page":2}"#;
    assert_eq!(lookup_input_under(Config::new()), plain);
    assert_eq!(
        lookup_input_under(Config::new().also_secret(["account"])),
        masked
    );
    // Decided once for these names, then kept: the same on the next calls.
    assert_eq!(
        lookup_input_under(Config::new().also_secret(["account"])),
        masked
    );
    assert_eq!(lookup_input_under(Config::new()), plain);
}

#[traced]
fn relabelled(n: u32) -> u32 {
    traced::current_span().set_attribute("input.value", "set by hand");
    traced::current_span().set_attribute("output.value", "also by hand");
    n
}

#[test]
fn a_value_set_by_hand_wins_over_the_carried_one() {
    let _turn = one_at_a_time();
    let spans = spans_under(Config::new(), || {
        relabelled(1);
    });
    let span = named(&spans, "relabelled");
    for (key, value) in [
        ("input.value", "set by hand"),
        ("output.value", "also by hand"),
    ] {
        assert_eq!(traced_tests::attr_count(span, key), 1, "{key} once");
        assert_eq!(attr_str(span, key).as_deref(), Some(value));
    }
}
