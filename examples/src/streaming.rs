//! A streamed LLM reply, traced: a small model simulator streams tokens with realistic
//! delays and a final chunk carrying usage; the text is printed as it arrives, then the
//! span that was recorded, with its totals.
//!
//! Run it with `cargo run -p traced-examples --bin streaming`.

use std::time::Duration;

use futures::{Stream, StreamExt};
use opentelemetry::global;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use traced::{traced, Accumulate, StreamOutput, Usage};
use traced_examples::print_trace_tree;

/// An OpenAI-style chunk: a piece of text, and on the last chunk the usage.
#[derive(Debug, Clone)]
struct ChatChunk {
    delta: String,
    usage: Option<Usage>,
}

impl Accumulate for ChatChunk {
    fn accumulate(&self, output: &mut StreamOutput) {
        output.push_text(&self.delta);
        if let Some(usage) = self.usage {
            output.set_usage(usage);
        }
    }
}

/// The model simulator: "thinks" before the first token, then streams one token at a time.
#[traced(name = "tiny-llm.chat", as_type = "generation", fields(gen_ai.system = "simulator"))]
fn chat(prompt: String) -> impl Stream<Item = ChatChunk> {
    traced::current_span().set_model("tiny-llm-1");
    let reply = "Streams end when they end, not when the function returns.";
    async_stream::stream! {
        tokio::time::sleep(Duration::from_millis(120)).await; // time to first token
        let tokens: Vec<&str> = reply.split_inclusive(' ').collect();
        for token in &tokens {
            tokio::time::sleep(Duration::from_millis(15)).await;
            yield ChatChunk { delta: (*token).to_owned(), usage: None };
        }
        let input_tokens = prompt.split_whitespace().count() as u64;
        yield ChatChunk {
            delta: String::new(),
            usage: Some(Usage { input_tokens, output_tokens: tokens.len() as u64 }),
        };
    }
}

#[traced(name = "answer question")]
async fn answer(question: &str) -> String {
    let mut reply = std::pin::pin!(chat(format!("Answer briefly: {question}")));
    let mut text = String::new();
    while let Some(chunk) = reply.next().await {
        print!("{}", chunk.delta);
        let _ = std::io::Write::flush(&mut std::io::stdout());
        text.push_str(&chunk.delta);
    }
    println!("\n");
    text
}

fn main() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    global::set_tracer_provider(provider.clone());

    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("could not start the async runtime: {error}");
            return;
        }
    };
    runtime.block_on(answer("When does a traced stream's span end?"));

    match exporter.get_finished_spans() {
        Ok(spans) => {
            print_trace_tree(&spans, &mut std::io::stdout().lock());
            if let Some(span) = spans.iter().find(|s| s.name == "tiny-llm.chat") {
                println!("\nattributes of `{}`:", span.name);
                for kv in &span.attributes {
                    if !kv.key.as_str().starts_with("code.") && kv.key.as_str() != "output.value" {
                        println!("  {} = {}", kv.key, kv.value);
                    }
                }
            }
        }
        Err(error) => eprintln!("could not read the recorded spans: {error}"),
    }
    if let Err(error) = provider.shutdown() {
        eprintln!("shutdown: {error}");
    }
}
