//! Quickstart: trace a small flow, `flow → node A → node A-1` with `node B` beside
//! node A, and print the spans it recorded as a tree.
//!
//! Run it with `cargo run -p traced-examples --bin quickstart`.

use std::time::Duration;

use opentelemetry::global;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use traced::traced;

#[derive(serde::Serialize)]
struct Question {
    user: &'static str,
    text: &'static str,
}

#[traced(name = "node A-1", as_type = "retriever")]
fn look_up(topic: &str) -> Vec<&'static str> {
    std::thread::sleep(Duration::from_millis(3));
    match topic {
        "rust" => vec!["ownership", "borrowing"],
        _ => vec![],
    }
}

#[traced(name = "node A", as_type = "tool")]
fn node_a(question: &Question) -> Result<Vec<&'static str>, String> {
    let facts = look_up("rust");
    if facts.is_empty() {
        return Err(format!("nothing known about {}", question.text));
    }
    Ok(facts)
}

#[traced(name = "node B", as_type = "generation", fields(gen_ai.request.model = "tiny-llm"))]
async fn node_b(facts: Vec<&'static str>) -> String {
    std::thread::sleep(Duration::from_millis(2));
    format!("Rust is about {}.", facts.join(" and "))
}

#[traced(name = "flow", fields(user.id = question.user))]
async fn flow(question: Question) -> Result<String, String> {
    let facts = node_a(&question)?;
    Ok(node_b(facts).await)
}

fn main() {
    // Record spans in memory; `traced` uses whatever provider is installed globally.
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    global::set_tracer_provider(provider.clone());

    let question = Question {
        user: "ada",
        text: "What is Rust about?",
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("could not start the async runtime: {error}");
            return;
        }
    };
    match runtime.block_on(flow(question)) {
        Ok(answer) => println!("answer: {answer}\n"),
        Err(error) => println!("failed: {error}\n"),
    }

    match exporter.get_finished_spans() {
        Ok(spans) => {
            let resource = traced::export::Resource {
                attributes: vec![traced::export::Attribute {
                    key: "service.name".into(),
                    value: traced::export::AnyValue::StringValue("quickstart".into()),
                }],
            };
            let records: Vec<_> = spans
                .iter()
                .map(|span| traced::export::SpanRecord::from_span(span, &resource))
                .collect();
            print!("{}", traced_viewer::render_traces(&records));
        }
        Err(error) => eprintln!("could not read the recorded spans: {error}"),
    }
    if let Err(error) = provider.shutdown() {
        eprintln!("shutdown: {error}");
    }
}
