//! The application under test: a "traced request" is a `#[traced]` handler with two
//! nested `#[traced]` children and small captured inputs (sync, for threads, and async,
//! for tokio tasks), and the same code untraced for reference. Producers run a fixed
//! number of requests at a fixed pace and time each call on their own thread.

use std::hint::black_box;
use std::time::{Duration, Instant};

use traced::traced;

/// A request id: which phase, which producer, which request (also captured as the
/// handler's input, so the collector can tell which phase a span came from).
pub fn request_id(phase: usize, producer: usize, seq: u64) -> u64 {
    phase as u64 * 1_000_000_000 + producer as u64 * 10_000_000 + seq
}

/// The phase a request id belongs to.
pub fn phase_of(req_id: u64) -> usize {
    (req_id / 1_000_000_000) as usize
}

/// The producer and the request number of a request id.
pub fn producer_and_seq(req_id: u64) -> (usize, u64) {
    let rest = req_id % 1_000_000_000;
    ((rest / 10_000_000) as usize, rest % 10_000_000)
}

fn retrieve_body(query: &str) -> Vec<String> {
    (0..3)
        .map(|i| format!("doc-{i}: about {}", query.len() + i))
        .collect()
}

fn generate_body(docs: &[String]) -> String {
    let mut answer = String::from("answer from ");
    answer.push_str(&docs.join(", "));
    answer
}

/// Spans per traced request.
pub const SPANS_PER_REQUEST: u64 = 3;

#[traced(as_type = "retriever")]
fn retrieve(req_id: u64, query: &str) -> Vec<String> {
    retrieve_body(black_box(query))
}

#[traced(as_type = "generation", fields(gen_ai.request.model = "tiny-llm"))]
fn generate(req_id: u64, docs: &[String]) -> String {
    generate_body(docs)
}

/// The traced request, sync.
#[traced(name = "handle request", as_type = "chain")]
pub fn handle(req_id: u64, prompt: &str) -> Result<usize, String> {
    let docs = retrieve(req_id, prompt);
    let answer = generate(req_id, &docs);
    Ok(answer.len())
}

#[traced(as_type = "retriever")]
async fn retrieve_async(req_id: u64, query: String) -> Vec<String> {
    retrieve_body(black_box(&query))
}

#[traced(as_type = "generation", fields(gen_ai.request.model = "tiny-llm"))]
async fn generate_async(req_id: u64, docs: Vec<String>) -> String {
    generate_body(&docs)
}

/// The traced request, async.
#[traced(name = "handle request async", as_type = "chain")]
pub async fn handle_async(req_id: u64, prompt: String) -> Result<usize, String> {
    let docs = retrieve_async(req_id, prompt).await;
    let answer = generate_async(req_id, docs).await;
    Ok(answer.len())
}

/// The same request, untraced.
pub fn handle_bare(req_id: u64, prompt: &str) -> Result<usize, String> {
    black_box(req_id);
    let docs = retrieve_body(black_box(prompt));
    let answer = generate_body(black_box(&docs));
    Ok(answer.len())
}

/// The same request, untraced, async.
pub async fn handle_bare_async(req_id: u64, prompt: String) -> Result<usize, String> {
    handle_bare(req_id, &prompt)
}

/// How much load a phase produces.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub threads: usize,
    pub tasks: usize,
    pub requests_per_producer: u64,
    pub interval: Duration,
}

impl Plan {
    pub fn producers(&self) -> usize {
        self.threads + self.tasks
    }
}

fn prompt(seq: u64) -> String {
    format!("what does request {seq} need to know?")
}

/// Runs one phase: `plan.threads` threads and `plan.tasks` tokio tasks on `runtime`,
/// each making `requests_per_producer` requests, one per `interval` (catching up
/// without sleeping when behind). Returns every request's latency in nanoseconds.
pub fn run_phase(
    runtime: &tokio::runtime::Runtime,
    plan: Plan,
    phase: usize,
    traced_calls: bool,
) -> Vec<u64> {
    let start = Instant::now() + Duration::from_millis(5);
    let tasks: Vec<_> = (0..plan.tasks)
        .map(|t| {
            let producer = plan.threads + t;
            runtime.spawn(async move {
                let mut latencies = Vec::with_capacity(plan.requests_per_producer as usize);
                for seq in 0..plan.requests_per_producer {
                    let due = start + plan.interval * seq as u32;
                    tokio::time::sleep_until(due.into()).await;
                    let req_id = request_id(phase, producer, seq);
                    let prompt = prompt(seq);
                    let began = Instant::now();
                    let out = if traced_calls {
                        handle_async(req_id, prompt).await
                    } else {
                        handle_bare_async(req_id, prompt).await
                    };
                    latencies.push(began.elapsed().as_nanos() as u64);
                    black_box(out).ok();
                }
                latencies
            })
        })
        .collect();
    let mut all: Vec<u64> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..plan.threads)
            .map(|producer| {
                scope.spawn(move || {
                    let mut latencies = Vec::with_capacity(plan.requests_per_producer as usize);
                    for seq in 0..plan.requests_per_producer {
                        let due = start + plan.interval * seq as u32;
                        let now = Instant::now();
                        if due > now {
                            std::thread::sleep(due - now);
                        }
                        let req_id = request_id(phase, producer, seq);
                        let prompt = prompt(seq);
                        let began = Instant::now();
                        let out = if traced_calls {
                            handle(req_id, &prompt)
                        } else {
                            handle_bare(req_id, &prompt)
                        };
                        latencies.push(began.elapsed().as_nanos() as u64);
                        black_box(out).ok();
                    }
                    latencies
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().unwrap_or_default())
            .collect()
    });
    for task in tasks {
        if let Ok(latencies) = runtime.block_on(task) {
            all.extend(latencies);
        }
    }
    all
}

/// p50, p99 and max of latencies in nanoseconds (nearest rank), in microseconds.
pub fn percentiles(latencies: &mut [u64]) -> (f64, f64, f64) {
    if latencies.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    latencies.sort_unstable();
    let rank = |p: f64| {
        let i = ((p / 100.0) * latencies.len() as f64).ceil() as usize;
        latencies[i.clamp(1, latencies.len()) - 1] as f64 / 1000.0
    };
    (
        rank(50.0),
        rank(99.0),
        latencies[latencies.len() - 1] as f64 / 1000.0,
    )
}
