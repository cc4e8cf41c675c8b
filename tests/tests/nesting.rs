//! Spans nest like the calls: the three-level tree across functions, across `.await`,
//! under `join!`, into spawned tasks, and never leak between tasks.

use std::time::Duration;

use traced::traced;
use traced_tests::{in_trace, in_trace_async, spans_named};

#[traced(name = "node A-1")]
fn node_a_1(input: &str) -> String {
    format!("{input} handled by A-1")
}

#[traced(name = "node A")]
fn node_a(input: &str) -> String {
    node_a_1(input)
}

#[traced(name = "node B")]
fn node_b(previous: &str) -> usize {
    previous.len()
}

#[traced(name = "flow")]
fn flow(request: &str) -> usize {
    let a = node_a(request);
    node_b(&a)
}

#[test]
fn three_level_tree_with_a_sibling() {
    let (len, trace) = in_trace(|| flow("hello"));
    assert_eq!(len, "hello handled by A-1".len());
    assert_eq!(trace.parent_name("flow").as_deref(), Some("harness"));
    assert_eq!(trace.parent_name("node A").as_deref(), Some("flow"));
    assert_eq!(trace.parent_name("node A-1").as_deref(), Some("node A"));
    assert_eq!(trace.parent_name("node B").as_deref(), Some("flow"));
    assert_eq!(trace.children(trace.span("flow")), ["node A", "node B"]);
    // Every span ends after its children.
    assert!(trace.span("node A").end_time >= trace.span("node A-1").end_time);
    assert!(trace.span("flow").end_time >= trace.span("node B").end_time);
}

#[traced]
async fn leaf(tag: &'static str) -> &'static str {
    tokio::task::yield_now().await;
    tag
}

#[traced]
async fn branch(tag: &'static str) -> &'static str {
    // Yield between the children so the two branches under `join!` interleave.
    leaf(tag).await;
    tokio::task::yield_now().await;
    leaf(tag).await
}

#[tokio::test(flavor = "current_thread")]
async fn join_keeps_each_futures_children_apart() {
    let ((left, right), trace) =
        in_trace_async(async { futures::join!(branch("left"), branch("right")) }).await;
    assert_eq!((left, right), ("left", "right"));
    let branches = trace.all("branch");
    assert_eq!(branches.len(), 2);
    for branch in branches {
        assert_eq!(
            trace.by_id(branch.parent_span_id).map(|p| p.name.as_ref()),
            Some("harness")
        );
        let tag = traced_tests::input_json(branch)["tag"].clone();
        let children: Vec<_> = trace
            .all("leaf")
            .into_iter()
            .filter(|leaf| leaf.parent_span_id == branch.span_context.span_id())
            .collect();
        assert_eq!(children.len(), 2, "each branch has its own two leaves");
        for child in children {
            assert_eq!(traced_tests::input_json(child)["tag"], tag);
        }
    }
}

#[traced]
async fn spawned_work(n: u32) -> u32 {
    tokio::time::sleep(Duration::from_millis(5)).await;
    n * 2
}

#[traced]
async fn parent_that_spawns() -> (String, u32) {
    let me = traced::current_span_id().expect("inside a span");
    let doubled = traced::spawn(spawned_work(21)).await.expect("task ran");
    (me, doubled)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawn_carries_the_parent_into_the_task() {
    let ((parent_id, doubled), trace) = in_trace_async(parent_that_spawns()).await;
    assert_eq!(doubled, 42);
    let work = trace.span("spawned_work");
    assert_eq!(format!("{:016x}", work.parent_span_id), parent_id);
}

#[traced]
async fn orphan_task_marker() -> Option<String> {
    traced::current_trace_id()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_tokio_spawn_does_not_leak_the_span_into_the_task() {
    let (outer_and_inner, _trace) = in_trace_async(async {
        let outer = traced::current_trace_id();
        let inner = tokio::spawn(orphan_task_marker()).await.expect("task ran");
        (outer, inner)
    })
    .await;
    let (outer, inner) = outer_and_inner;
    assert!(outer.is_some() && inner.is_some());
    assert_ne!(
        outer, inner,
        "a task spawned without traced::spawn starts its own trace"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_tasks_never_share_parents() {
    let tasks: Vec<_> = (0..8u32)
        .map(|i| {
            tokio::spawn(async move {
                let ((), trace) = in_trace_async(async move {
                    for _ in 0..3 {
                        spawned_work(i).await;
                    }
                })
                .await;
                trace
            })
        })
        .collect();
    for task in tasks {
        let trace = task.await.expect("task ran");
        let harness = trace.span("harness").span_context.span_id();
        let works = trace.all("spawned_work");
        assert_eq!(
            works.len(),
            3,
            "exactly this task's three spans in its trace"
        );
        assert!(works.iter().all(|w| w.parent_span_id == harness));
    }
}

/// A function returning `impl Future`: the span starts at the call and covers the future.
#[traced]
fn deferred(ms: u64) -> impl std::future::Future<Output = u64> {
    let started = std::time::Instant::now();
    async move {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        leaf("inside").await;
        started.elapsed().as_millis() as u64
    }
}

#[tokio::test(flavor = "current_thread")]
async fn impl_future_span_covers_the_execution() {
    let (elapsed, trace) = in_trace_async(async { deferred(20).await }).await;
    assert!(elapsed >= 20);
    let span = trace.span("deferred");
    let lasted = span
        .end_time
        .duration_since(span.start_time)
        .expect("end after start");
    assert!(
        lasted >= Duration::from_millis(20),
        "span lasted {lasted:?}"
    );
    assert_eq!(trace.parent_name("leaf").as_deref(), Some("deferred"));
    assert_eq!(
        traced_tests::attr_str(span, "output.value").as_deref(),
        Some(elapsed.to_string().as_str())
    );
}

#[traced(root)]
fn new_trace() -> Option<String> {
    traced::current_trace_id()
}

#[test]
fn root_starts_a_new_trace() {
    let (inner, trace) = in_trace(new_trace);
    let inner = inner.expect("inside a span");
    let harness = format!("{:032x}", trace.span("harness").span_context.trace_id());
    assert_ne!(inner, harness);
    let root = spans_named("new_trace")
        .into_iter()
        .find(|s| format!("{:032x}", s.span_context.trace_id()) == inner)
        .expect("the root span was exported");
    assert_eq!(root.parent_span_id, opentelemetry::trace::SpanId::INVALID);
}
