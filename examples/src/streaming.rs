//! A streamed LLM reply, traced: a small model simulator streams tokens with realistic
//! delays and a final chunk carrying usage; the text is printed as it arrives, then the
//! span that was recorded, with its totals.
//!
//! Run it with `cargo run -p traced-examples --bin streaming`.

use std::time::Duration;

use futures::{Stream, StreamExt};
use traced::{traced, Accumulate, StreamOutput, Usage};

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
            usage: Some(Usage::new(input_tokens, tokens.len() as u64)),
        };
    }
}

/// Answers with the streamed text; returns it with the trace id. Only the text is the
/// span's output (`set_output` replaces the returned value).
#[traced(name = "answer question")]
async fn answer(question: &str) -> (String, String) {
    let mut reply = std::pin::pin!(chat(format!("Answer briefly: {question}")));
    let mut text = String::new();
    while let Some(chunk) = reply.next().await {
        print!("{}", chunk.delta);
        let _ = std::io::Write::flush(&mut std::io::stdout());
        text.push_str(&chunk.delta);
    }
    println!("\n");
    traced::current_span().set_output(&text);
    (text, traced::current_trace_id().unwrap_or_default())
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
    let guard = config.init()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()?;
    let (_, trace_id) = runtime.block_on(answer("When does a traced stream's span end?"));
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
                println!("  {} = {}", attribute.key, attribute.value.to_text());
            }
        }
    }
    if !delivered {
        return not_delivered();
    }
    Ok(())
}
