//! A streamed LLM reply, traced: async-openai's client asks a small OpenAI-compatible
//! model server (started here on 127.0.0.1; it "thinks", then streams tokens with
//! realistic delays and a last chunk carrying the usage) and the text is printed as it
//! arrives; then the span that was recorded, with its messages, tokens and totals.
//!
//! The traced generation is five lines (`chat` below): with no other code the span
//! records the model asked for and the one that answered, the parameters, the messages,
//! the reply put together from the deltas, the finish reason, the usage, time to first
//! token, and its cost from the price given to `Config::model_price`.
//!
//! Run it with `cargo run -p traced-examples --bin streaming`.

use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::types::chat::{
    ChatCompletionRequestUserMessage, ChatCompletionResponseStream, ChatCompletionStreamOptions,
    CreateChatCompletionRequest,
};
use async_openai::Client;
use futures::StreamExt;
use traced::traced;

/// The generation: async-openai's streamed chat completion, traced.
#[traced(name = "tiny-llm.chat", as_type = "generation", skip(client), stream)]
async fn chat(
    client: &Client<OpenAIConfig>,
    request: CreateChatCompletionRequest,
) -> Result<ChatCompletionResponseStream, OpenAIError> {
    client.chat().create_stream(request).await
}

/// Answers with the streamed text; returns it with the trace id. Only the text is the
/// span's output (`set_output` replaces the returned value).
#[traced(name = "answer question", skip(client))]
async fn answer(client: &Client<OpenAIConfig>, question: &str) -> (String, String) {
    let request = CreateChatCompletionRequest {
        model: "tiny-llm-1".into(),
        messages: vec![ChatCompletionRequestUserMessage::from(format!(
            "Answer briefly: {question}"
        ))
        .into()],
        temperature: Some(0.0),
        stream_options: Some(ChatCompletionStreamOptions {
            include_usage: Some(true),
            include_obfuscation: None,
        }),
        ..Default::default()
    };
    let mut text = String::new();
    match chat(client, request).await {
        Ok(mut reply) => {
            while let Some(chunk) = reply.next().await {
                let Ok(chunk) = chunk else { break };
                for choice in chunk.choices {
                    let delta = choice.delta.content.unwrap_or_default();
                    print!("{delta}");
                    let _ = std::io::Write::flush(&mut std::io::stdout());
                    text.push_str(&delta);
                }
            }
            println!("\n");
        }
        Err(error) => eprintln!("the model server failed: {error}"),
    }
    traced::current_span().set_output(&text);
    (text, traced::current_trace_id().unwrap_or_default())
}

/// The model server: OpenAI's chat completions over server-sent events, on loopback.
mod model_server {
    use std::convert::Infallible;
    use std::net::SocketAddr;
    use std::time::Duration;

    use axum::response::IntoResponse;
    use serde_json::json;

    const REPLY: &str = "Streams end when they end, not when the function returns.";

    fn chunk(delta: serde_json::Value, finish: Option<&str>) -> String {
        let chunk = json!({
            "id": "chatcmpl-tiny-1", "object": "chat.completion.chunk", "created": 1764547200,
            "model": "tiny-llm-1-2026-12", "usage": null,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        });
        format!("data: {chunk}\n\n")
    }

    async fn completions(body: axum::body::Bytes) -> axum::response::Response {
        let request: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let prompt_tokens = request["messages"].to_string().split_whitespace().count();
        let tokens: Vec<String> = REPLY.split_inclusive(' ').map(str::to_owned).collect();
        let events = async_stream::stream! {
            tokio::time::sleep(Duration::from_millis(120)).await; // time to first token
            yield Ok::<_, Infallible>(chunk(json!({"role": "assistant", "content": ""}), None));
            for token in &tokens {
                tokio::time::sleep(Duration::from_millis(15)).await;
                yield Ok(chunk(json!({"content": token}), None));
            }
            yield Ok(chunk(json!({}), Some("stop")));
            let usage = json!({
                "id": "chatcmpl-tiny-1", "object": "chat.completion.chunk", "created": 1764547200,
                "model": "tiny-llm-1-2026-12", "choices": [],
                "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": tokens.len(),
                          "total_tokens": prompt_tokens + tokens.len()},
            });
            yield Ok(format!("data: {usage}\n\ndata: [DONE]\n\n"));
        };
        (
            [("content-type", "text/event-stream")],
            axum::body::Body::from_stream(events),
        )
            .into_response()
    }

    /// Serves until the runtime stops; the address to send requests to.
    pub async fn start() -> std::io::Result<SocketAddr> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let app =
            axum::Router::new().route("/v1/chat/completions", axum::routing::post(completions));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(addr)
    }
}

fn main() {
    if let Err(error) = run() {
        eprintln!("streaming: {error}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    // Export follows the environment (`OTEL_*`, `LANGFUSE_*`); with none set, the
    // embedded store (`./traces` or `$TRACED_DIR`).
    let config = traced::Config::from_env()?.service_name("streaming-example");
    let embedded = config.targets().find_map(|t| match t {
        traced::Target::Embedded { dir } => Some(dir.clone()),
        _ => None,
    });
    let guard = config
        .model_price(
            "tiny-llm-1",
            traced::genai::ModelPrice::per_million(0.10, 0.40),
        )
        .init()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let (_, trace_id) = runtime.block_on(async {
        let addr = model_server::start().await?;
        let client = Client::with_config(
            OpenAIConfig::new()
                .with_api_base(format!("http://{addr}/v1"))
                .with_api_key("not-needed-locally"),
        );
        Ok::<_, std::io::Error>(answer(&client, "When does a traced stream's span end?").await)
    })?;
    println!("trace {trace_id}");
    guard.flush();
    let destinations = guard.destinations();
    let stats = guard.shutdown();
    if stats.dropped > 0 {
        eprintln!("{} spans dropped", stats.dropped);
    }
    // Say what the figures show, destination by destination.
    let mut delivered = true;
    for d in destinations {
        if d.spooled + d.dropped > 0 {
            delivered = false;
            let error = d
                .last_error
                .map_or_else(|| "-".to_owned(), |e| e.to_string());
            println!(
                "{}: {} exported, {} spooled for the next start, {} dropped; last error: {error}",
                d.destination, d.exported, d.spooled, d.dropped
            );
        } else {
            println!("{}: {} spans exported", d.destination, d.exported);
        }
    }

    let not_delivered = || Err("some spans did not reach the backend (see above)".into());
    let Some(dir) = embedded else {
        if delivered {
            println!("look for trace {trace_id} in the backend");
            return Ok(());
        }
        return not_delivered();
    };
    let store = traced_viewer::read_store(&dir)?;
    print!("\n{}", traced_viewer::render_trace(&store.spans, &trace_id));
    if let Some(span) = store
        .spans
        .iter()
        .find(|s| s.trace_id == trace_id && s.name == "tiny-llm.chat")
    {
        println!("\nattributes of `{}`:", span.name);
        for attribute in &span.attributes {
            if !attribute.key.starts_with("code.") && attribute.key != "output.value" {
                let value = attribute.value.to_text();
                let value = match value.char_indices().nth(100) {
                    Some((cut, _)) => format!("{}…", &value[..cut]),
                    None => value,
                };
                println!("  {} = {value}", attribute.key);
            }
        }
    }
    if !delivered {
        return not_delivered();
    }
    Ok(())
}
