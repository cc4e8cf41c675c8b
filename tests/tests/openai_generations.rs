//! async-openai's client against an OpenAI-compatible server on 127.0.0.1 that speaks the
//! real wire format (`tests/fixtures/openai/`): a plain call, a stream read to the end, a
//! stream of tool-call fragments, a stream dropped halfway, and an API error, each traced
//! by `#[traced(as_type = "generation")]` with no other code, and priced by
//! `Config::model_price`.

use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::types::chat::{
    ChatCompletionRequestSystemMessage, ChatCompletionRequestUserMessage,
    ChatCompletionResponseStream, ChatCompletionStreamOptions, CreateChatCompletionRequest,
    CreateChatCompletionResponse,
};
use async_openai::Client;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::Router;
use futures::StreamExt as _;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};
use serde_json::{json, Value};
use traced::genai::ModelPrice;
use traced::{traced, Config};

const TEXT_STREAM: &str = include_str!("../fixtures/openai/text_stream.sse");
const TOOL_CALL_STREAM: &str = include_str!("../fixtures/openai/tool_call_stream.sse");
const RESPONSE: &str = include_str!("../fixtures/openai/response.json");

/// One pipeline at a time in this binary.
static PIPELINE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn completions(body: axum::body::Bytes) -> axum::response::Response {
    let request: Value = serde_json::from_slice(&body).unwrap_or_default();
    if request["model"] == "no-such-model" {
        let body = json!({"error": {"message": "The model `no-such-model` does not exist",
            "type": "invalid_request_error", "param": "model", "code": "model_not_found"}});
        return (
            http::StatusCode::NOT_FOUND,
            [("content-type", "application/json")],
            body.to_string(),
        )
            .into_response();
    }
    if request["stream"] == true {
        let asks_weather = request["messages"].to_string().contains("weather");
        let body = if asks_weather {
            TOOL_CALL_STREAM
        } else {
            TEXT_STREAM
        };
        return ([("content-type", "text/event-stream")], body).into_response();
    }
    ([("content-type", "application/json")], RESPONSE).into_response()
}

async fn server() -> (Client<OpenAIConfig>, tokio::sync::oneshot::Sender<()>) {
    let app = Router::new().route("/v1/chat/completions", post(completions));
    let (addr, stop) = traced_tests::serve(app).await;
    let config = OpenAIConfig::new()
        .with_api_base(format!("http://{addr}/v1"))
        .with_api_key("sk-test-not-a-real-key");
    (Client::with_config(config), stop)
}

fn request(model: &str, question: &str) -> CreateChatCompletionRequest {
    CreateChatCompletionRequest {
        model: model.into(),
        messages: vec![
            ChatCompletionRequestSystemMessage::from("Answer briefly.").into(),
            ChatCompletionRequestUserMessage::from(question).into(),
        ],
        temperature: Some(0.2),
        max_completion_tokens: Some(64),
        stream_options: Some(ChatCompletionStreamOptions {
            include_usage: Some(true),
            include_obfuscation: None,
        }),
        ..Default::default()
    }
}

#[traced(as_type = "generation", skip(client))]
async fn chat(
    client: &Client<OpenAIConfig>,
    request: CreateChatCompletionRequest,
) -> Result<CreateChatCompletionResponse, OpenAIError> {
    client.chat().create(request).await
}

#[traced(as_type = "generation", skip(client), stream)]
async fn chat_stream(
    client: &Client<OpenAIConfig>,
    request: CreateChatCompletionRequest,
) -> Result<ChatCompletionResponseStream, OpenAIError> {
    client.chat().create_stream(request).await
}

/// Runs `body` under a pipeline priced for gpt-4o-mini; the spans it made.
async fn recorded<F: std::future::Future>(
    body: impl FnOnce(Client<OpenAIConfig>) -> F,
) -> Vec<SpanData> {
    let _one = PIPELINE.lock().await;
    let exporter = InMemorySpanExporter::default();
    let guard = Config::new()
        .exporter(exporter.clone())
        .model_price(
            "gpt-4o-mini",
            ModelPrice::per_million(0.15, 0.60).cache_read(0.075),
        )
        .init()
        .expect("pipeline");
    let (client, _stop) = server().await;
    body(client).await;
    // Read before shutting down: the in-memory exporter forgets its spans at shutdown.
    let spans = tokio::task::spawn_blocking(move || {
        guard.flush();
        let spans = exporter.get_finished_spans().expect("spans");
        guard.shutdown();
        spans
    })
    .await
    .expect("flushed");
    spans
}

fn attr(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

fn json_attr(span: &SpanData, key: &str) -> Value {
    let text = attr(span, key).unwrap_or_else(|| panic!("no {key}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{key} is not JSON ({e}): {text}"))
}

/// What every generation span of these tests says of the request.
fn assert_request(span: &SpanData) {
    assert_eq!(attr(span, "gen_ai.operation.name").as_deref(), Some("chat"));
    assert_eq!(
        attr(span, "gen_ai.provider.name").as_deref(),
        Some("openai")
    );
    assert_eq!(
        attr(span, "gen_ai.request.temperature").as_deref(),
        Some("0.2")
    );
    assert_eq!(
        attr(span, "gen_ai.request.max_tokens").as_deref(),
        Some("64")
    );
    let input = json_attr(span, "gen_ai.input.messages");
    assert_eq!(input[0]["role"], "system");
    assert_eq!(input[1]["role"], "user");
    assert_eq!(input[1]["parts"][0]["type"], "text");
    let prompt = json_attr(span, "gen_ai.prompt");
    assert_eq!(prompt["messages"][0]["content"], "Answer briefly.");
    assert_eq!(
        attr(span, "langfuse.observation.type").as_deref(),
        Some("generation")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_call_records_the_whole_generation() {
    let spans = recorded(|client| async move {
        chat(&client, request("gpt-4o-mini", "Say hello"))
            .await
            .expect("reply");
    })
    .await;
    let span = spans.iter().find(|s| s.name == "chat").expect("chat span");
    assert_request(span);
    assert_eq!(
        attr(span, "gen_ai.request.model").as_deref(),
        Some("gpt-4o-mini")
    );
    assert_eq!(
        attr(span, "gen_ai.response.model").as_deref(),
        Some("gpt-4o-mini-2024-07-18")
    );
    assert_eq!(
        attr(span, "gen_ai.response.id").as_deref(),
        Some("chatcmpl-test123")
    );
    assert_eq!(
        attr(span, "gen_ai.response.finish_reasons").as_deref(),
        Some("[\"stop\"]")
    );
    let output = json_attr(span, "gen_ai.output.messages");
    assert_eq!(output[0]["parts"][0]["content"], "Hello world");
    assert_eq!(output[0]["finish_reason"], "stop");
    for (key, value) in [
        ("gen_ai.usage.input_tokens", "12"),
        ("gen_ai.usage.output_tokens", "2"),
        ("gen_ai.usage.cache_read.input_tokens", "3"),
        ("gen_ai.usage.reasoning.output_tokens", "1"),
        ("llm.token_count.prompt", "12"),
        ("llm.token_count.total", "14"),
    ] {
        assert_eq!(attr(span, key).as_deref(), Some(value), "{key}");
    }
    let details = json_attr(span, "langfuse.observation.usage_details");
    assert_eq!(
        details,
        json!({"input": 9, "input_cached_tokens": 3, "output": 1,
        "output_reasoning_tokens": 1, "total": 14})
    );
    // Priced by the longest configured name the answering model starts with.
    let cost: f64 = attr(span, "gen_ai.usage.cost")
        .expect("cost")
        .parse()
        .expect("number");
    let expected = (9.0 * 0.15 + 3.0 * 0.075 + 2.0 * 0.60) / 1e6;
    assert!((cost - expected).abs() < 1e-12, "{cost} != {expected}");
    // The key never reaches the span: the client is not captured.
    assert!(!format!("{:?}", span.attributes).contains("sk-test"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_read_to_the_end_records_the_reply_usage_and_first_token() {
    let spans = recorded(|client| async move {
        let mut stream = chat_stream(&client, request("gpt-4o-mini", "Say hello"))
            .await
            .expect("stream");
        let mut text = String::new();
        while let Some(chunk) = stream.next().await {
            for choice in chunk.expect("chunk").choices {
                text.push_str(choice.delta.content.as_deref().unwrap_or_default());
            }
        }
        assert_eq!(text, "Hello world");
    })
    .await;
    let span = spans
        .iter()
        .find(|s| s.name == "chat_stream")
        .expect("span");
    assert_request(span);
    assert_eq!(attr(span, "output.value").as_deref(), Some("Hello world"));
    let output = json_attr(span, "gen_ai.output.messages");
    assert_eq!(output[0]["parts"][0]["content"], "Hello world");
    assert_eq!(
        attr(span, "gen_ai.response.finish_reasons").as_deref(),
        Some("[\"stop\"]")
    );
    assert_eq!(
        attr(span, "gen_ai.usage.input_tokens").as_deref(),
        Some("12")
    );
    assert_eq!(attr(span, "traced.stream.chunks").as_deref(), Some("5"));
    assert!(attr(span, "gen_ai.response.time_to_first_chunk").is_some());
    assert!(attr(span, "langfuse.observation.completion_start_time").is_some());
    assert!(attr(span, "gen_ai.usage.cost").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tool_call_fragments_become_one_tool_call() {
    let spans = recorded(|client| async move {
        let stream = chat_stream(
            &client,
            request("gpt-4o-mini", "What is the weather in Tokyo?"),
        )
        .await
        .expect("stream");
        let chunks: Vec<_> = stream.collect().await;
        assert_eq!(chunks.len(), 6);
    })
    .await;
    let span = spans
        .iter()
        .find(|s| s.name == "chat_stream")
        .expect("span");
    let output = json_attr(span, "gen_ai.output.messages");
    assert_eq!(
        output[0]["parts"][0],
        json!({"type": "tool_call", "id": "call_abc123", "name": "get_weather",
            "arguments": {"location": "Tokyo"}})
    );
    assert_eq!(output[0]["finish_reason"], "tool_calls");
    let completion = json_attr(span, "gen_ai.completion");
    assert_eq!(
        completion["messages"][0]["tool_calls"][0]["function"]["arguments"],
        r#"{"location":"Tokyo"}"#
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_dropped_halfway_keeps_the_partial_reply() {
    let spans = recorded(|client| async move {
        let mut stream = chat_stream(&client, request("gpt-4o-mini", "Say hello"))
            .await
            .expect("stream");
        for _ in 0..2 {
            stream.next().await.expect("a chunk").expect("ok");
        }
        drop(stream);
    })
    .await;
    let span = spans
        .iter()
        .find(|s| s.name == "chat_stream")
        .expect("span");
    assert_eq!(
        attr(span, "traced.stream.cancelled").as_deref(),
        Some("true")
    );
    assert_eq!(attr(span, "output.value").as_deref(), Some("Hello"));
    let output = json_attr(span, "gen_ai.output.messages");
    assert_eq!(output[0]["parts"][0]["content"], "Hello");
    assert!(
        attr(span, "gen_ai.usage.input_tokens").is_none(),
        "no usage arrived"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_error_is_the_generations_error() {
    let spans = recorded(|client| async move {
        let error = chat(&client, request("no-such-model", "Say hello"))
            .await
            .expect_err("404");
        assert!(error.to_string().contains("does not exist"), "{error}");
        let error = chat_stream(&client, request("no-such-model", "Say hello"))
            .await
            .err()
            .expect("404 before any chunk");
        assert!(error.to_string().contains("does not exist"), "{error}");
    })
    .await;
    for name in ["chat", "chat_stream"] {
        let span = spans.iter().find(|s| s.name == name).expect("span");
        assert!(
            matches!(&span.status, opentelemetry::trace::Status::Error { description } if description.contains("does not exist")),
            "{name}: {:?}",
            span.status
        );
        let exception = span
            .events
            .iter()
            .find(|e| e.name == "exception")
            .expect("exception event");
        assert!(exception
            .attributes
            .iter()
            .any(|kv| kv.key.as_str() == "exception.type"
                && kv.value.to_string().contains("OpenAIError")));
        assert_eq!(
            attr(span, "gen_ai.request.model").as_deref(),
            Some("no-such-model")
        );
    }
}
