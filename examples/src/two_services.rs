//! The scenario `traced` exists for: server A runs a flow start → node A → node B → end;
//! node A calls server B over HTTP; server B's work appears in the same trace as
//! `node A-1`, a child of node A, with its own sub-task below it.
//!
//! `cargo run -p traced-examples --bin two_services` starts server B and server A as two
//! separate processes on loopback ports, sends one request to A, stops both (they flush
//! their spans to the embedded store, `./traces` or `$TRACED_DIR`), and prints the trace
//! as a tree.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use http::HeaderMap;
use tokio::sync::Notify;
use traced::reqwest::RequestBuilderExt;
use traced::{traced, TraceAttributes};

type Error = Box<dyn std::error::Error + Send + Sync>;

// ---- server B -----------------------------------------------------------------------

#[traced(name = "node A-1", extract)]
async fn process(headers: HeaderMap, body: String) -> String {
    let _ = &headers;
    let facts = sub_task(&body).await;
    format!("{body} -> {}", facts.join(", "))
}

#[traced(name = "node A-1 sub-task", as_type = "retriever")]
async fn sub_task(query: &str) -> Vec<&'static str> {
    tokio::time::sleep(Duration::from_millis(4)).await;
    if query.contains("Rust") {
        vec!["ownership", "borrowing"]
    } else {
        vec!["nothing known"]
    }
}

// ---- server A -----------------------------------------------------------------------

#[traced(name = "start")]
fn start_node(question: &str) -> String {
    question.trim().to_owned()
}

#[traced(name = "node A", as_type = "tool", skip(client))]
async fn node_a(
    client: &reqwest::Client,
    server_b: &str,
    question: String,
) -> Result<String, Error> {
    let response = client
        .post(format!("http://{server_b}/process"))
        .inject_context()
        .body(question)
        .send()
        .await?
        .error_for_status()?;
    Ok(response.text().await?)
}

#[traced(name = "node B", as_type = "generation", fields(gen_ai.request.model = "tiny-llm"))]
async fn node_b(facts: String) -> String {
    tokio::time::sleep(Duration::from_millis(3)).await;
    format!("Answer built from: {facts}")
}

#[traced(name = "end")]
fn end_node(answer: &str) -> usize {
    answer.len()
}

/// Why the guardrail flagged an answer.
#[derive(Debug)]
struct Flagged(&'static str);

impl std::fmt::Display for Flagged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "answer flagged: {}", self.0)
    }
}

impl std::error::Error for Flagged {}

/// A check that fails on purpose, to show how an error is recorded (status ERROR and an
/// `exception` event); the flow goes on.
#[traced(name = "guardrail", as_type = "guardrail")]
fn guardrail(answer: &str) -> Result<(), Flagged> {
    if answer.contains("source:") {
        Ok(())
    } else {
        Err(Flagged("no source cited"))
    }
}

#[traced(name = "flow", skip(client))]
async fn flow(client: &reqwest::Client, server_b: &str, question: &str) -> Result<String, Error> {
    let question = start_node(question);
    let facts = node_a(client, server_b, question).await?;
    let answer = node_b(facts).await;
    if let Err(flag) = guardrail(&answer) {
        log_flag(&flag);
    }
    end_node(&answer);
    Ok(answer)
}

fn log_flag(flag: &Flagged) {
    eprintln!("server-a: {flag}");
}

#[derive(Clone)]
struct AppState {
    server_b: String,
    client: reqwest::Client,
    stop: Arc<Notify>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct RunReply {
    trace_id: String,
    answer: String,
}

async fn run(State(state): State<AppState>, question: String) -> Result<Json<RunReply>, String> {
    let trace_id = traced::current_trace_id().unwrap_or_default();
    let answer = TraceAttributes::new()
        .user_id("ada")
        .session_id("demo-session")
        .scope(flow(&state.client, &state.server_b, &question))
        .await
        .map_err(|e| e.to_string())?;
    Ok(Json(RunReply { trace_id, answer }))
}

async fn shutdown(State(stop): State<Arc<Notify>>) -> &'static str {
    stop.notify_one();
    "stopping"
}

// ---- both servers -------------------------------------------------------------------

/// Serves `router` on a loopback port until `/shutdown`, then flushes the spans. Export
/// follows the environment (`OTEL_*`, `LANGFUSE_*`); with none set, the embedded store.
async fn serve(service: &'static str, router: Router, stop: Arc<Notify>) -> Result<(), Error> {
    let guard = traced::Config::from_env()?.service_name(service).init()?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    // The parent process reads this line to learn the port.
    println!("listening {}", listener.local_addr()?);
    axum::serve(listener, router)
        .with_graceful_shutdown(async move { stop.notified().await })
        .await?;
    let (destinations, stats) = tokio::task::spawn_blocking(move || {
        guard.flush();
        let destinations = guard.destinations();
        (destinations, guard.shutdown())
    })
    .await?;
    // The parent reads these lines to say what became of the spans, destination by
    // destination: it claims nothing the figures do not show.
    for d in destinations {
        let error = d
            .last_error
            .map_or_else(|| "-".to_owned(), |e| e.to_string());
        println!(
            "export\t{service}\t{}\t{}\t{}\t{}\t{}",
            d.destination, d.exported, d.spooled, d.dropped, error
        );
    }
    if stats.dropped > 0 {
        eprintln!("{service}: {} spans dropped", stats.dropped);
    }
    Ok(())
}

/// What a server said of one destination when it stopped.
struct Delivery {
    service: String,
    destination: String,
    exported: u64,
    spooled: u64,
    dropped: u64,
    error: String,
}

impl Delivery {
    fn parse(line: &str) -> Option<Self> {
        let mut fields = line.trim_end().strip_prefix("export\t")?.split('\t');
        Some(Self {
            service: fields.next()?.to_owned(),
            destination: fields.next()?.to_owned(),
            exported: fields.next()?.parse().ok()?,
            spooled: fields.next()?.parse().ok()?,
            dropped: fields.next()?.parse().ok()?,
            error: fields.collect::<Vec<_>>().join("\t"),
        })
    }
}

async fn server_b() -> Result<(), Error> {
    let stop = Arc::new(Notify::new());
    let router = Router::new()
        .route("/process", post(process))
        .route("/shutdown", post(shutdown).with_state(stop.clone()));
    serve("server-b", router, stop).await
}

async fn server_a(server_b: String) -> Result<(), Error> {
    let stop = Arc::new(Notify::new());
    let state = AppState {
        server_b,
        client: reqwest::Client::new(),
        stop: stop.clone(),
    };
    let router = Router::new()
        .route("/run", post(run))
        .route_layer(traced::axum::TraceLayer::new())
        .route("/shutdown", post(shutdown).with_state(state.stop.clone()))
        .with_state(state);
    serve("server-a", router, stop).await
}

// ---- the orchestrator ---------------------------------------------------------------

/// A child process and the address it listens on; killed if still running when dropped.
struct Service {
    child: Child,
    addr: String,
    stdout: BufReader<ChildStdout>,
}

impl Service {
    /// What the stopped server said of its destinations.
    fn deliveries(&mut self) -> Vec<Delivery> {
        let mut out = Vec::new();
        let mut line = String::new();
        while self.stdout.read_line(&mut line).is_ok_and(|n| n > 0) {
            out.extend(Delivery::parse(&line));
            line.clear();
        }
        out
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn start(args: &[&str]) -> Result<Service, Error> {
    let mut child = Command::new(std::env::current_exe()?)
        .args(args)
        .stdout(Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout from the child")?;
    let mut reader = BufReader::new(stdout);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let addr = line
        .strip_prefix("listening ")
        .map(|a| a.trim().to_owned())
        .ok_or_else(|| format!("{args:?} did not start: {line:?}"))?;
    Ok(Service {
        child,
        addr,
        stdout: reader,
    })
}

fn wait_for_exit(service: &mut Service, limit: Duration) -> Result<(), Error> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if service.child.try_wait()?.is_some() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(format!("service at {} did not stop in {limit:?}", service.addr).into())
}

async fn orchestrate() -> Result<(), Error> {
    let config = traced::Config::from_env()?;
    let mut b = start(&["server-b"])?;
    let mut a = start(&["server-a", &b.addr])?;
    let destination = config
        .targets()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" and ");
    println!(
        "server B on {}, server A on {}; spans go to {destination}\n",
        b.addr, a.addr
    );

    let client = reqwest::Client::new();
    let reply: RunReply = serde_json::from_str(
        &client
            .post(format!("http://{}/run", a.addr))
            .body("What is Rust about?")
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?,
    )?;
    println!("answer: {}", reply.answer);
    println!("trace {}\n", reply.trace_id);

    for service in [&mut a, &mut b] {
        client
            .post(format!("http://{}/shutdown", service.addr))
            .send()
            .await?;
        wait_for_exit(service, Duration::from_secs(10))?;
    }

    let deliveries: Vec<Delivery> = [&mut a, &mut b]
        .into_iter()
        .flat_map(Service::deliveries)
        .collect();
    let remote = deliveries
        .iter()
        .filter(|d| !d.destination.starts_with("the embedded store"));
    let mut all_delivered = true;
    for d in remote {
        if d.spooled == 0 && d.dropped == 0 {
            println!(
                "{}: {} spans exported to {}",
                d.service, d.exported, d.destination
            );
        } else {
            all_delivered = false;
            println!(
                "{}: {} exported, {} NOT delivered to {} ({} spooled, sent again by the next start; {} dropped); last error: {}",
                d.service,
                d.exported,
                d.spooled + d.dropped,
                d.destination,
                d.spooled,
                d.dropped,
                d.error
            );
        }
    }
    let embedded = config.targets().find_map(|t| match t {
        traced::Target::Embedded { dir } => Some(dir.clone()),
        _ => None,
    });
    let not_delivered = || Err("some spans did not reach the backend (see above)".into());
    let Some(dir) = embedded else {
        if all_delivered {
            println!("look for trace {} in the backend", reply.trace_id);
            return Ok(());
        }
        return not_delivered();
    };
    let dir = &dir;
    let store = traced_viewer::read_store(dir)?;
    let tree = traced_viewer::render_trace(&store.spans, &reply.trace_id);
    if tree.is_empty() {
        return Err(format!("trace {} not found under {}", reply.trace_id, dir.display()).into());
    }
    print!("{tree}");
    println!(
        "\nsee it in a browser: cargo run -p traced-viewer -- view --trace {} --html trace.html",
        reply.trace_id
    );
    if !all_delivered {
        return not_delivered();
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("could not start the async runtime: {error}");
            std::process::exit(1);
        }
    };
    let result = runtime.block_on(async {
        match args
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            [] => orchestrate().await,
            ["server-b"] => server_b().await,
            ["server-a", server_b_addr] => server_a((*server_b_addr).to_owned()).await,
            other => Err(format!("unknown arguments {other:?}; run with none").into()),
        }
    });
    if let Err(error) = result {
        eprintln!("two_services: {error}");
        std::process::exit(1);
    }
}
