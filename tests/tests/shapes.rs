//! Every shape of function the attribute goes on: methods with each kind of `self`,
//! trait impls, generics with where-clauses and `impl Trait` arguments, async trait
//! methods (native and `#[async_trait]`).

use std::fmt::Debug;

use serde_json::json;
use traced::traced;
use traced_tests::{attr_str, in_trace, in_trace_async, input_json};

#[derive(Debug, Default)]
struct Agent {
    steps: u32,
}

impl Agent {
    #[traced]
    fn by_ref(&self, hint: &str) -> u32 {
        self.steps + hint.len() as u32
    }

    #[traced]
    fn by_mut(&mut self, add: u32) -> u32 {
        self.steps += add;
        self.steps
    }

    #[traced]
    fn by_value(self, extra: u32) -> u32 {
        self.steps + extra
    }

    #[traced]
    fn associated(steps: u32) -> Self {
        Agent { steps }
    }

    #[traced]
    async fn async_by_mut(&mut self) -> u32 {
        self.steps += 1;
        self.steps
    }

    #[traced]
    fn borrowed<'a>(&'a self, words: &'a [String]) -> Option<&'a String> {
        let _ = self;
        words.first()
    }
}

#[test]
fn methods_with_every_kind_of_self() {
    let (result, trace) = in_trace(|| {
        let mut agent = Agent::associated(1);
        let a = agent.by_ref("xy");
        let b = agent.by_mut(2);
        let words = vec!["first".to_owned()];
        let c = agent.borrowed(&words).cloned();
        let d = agent.by_value(10);
        (a, b, c, d)
    });
    assert_eq!(result, (3, 3, Some("first".to_owned()), 13));
    // `self` is never captured; the other arguments are.
    assert_eq!(input_json(trace.span("by_ref")), json!({"hint": "xy"}));
    assert_eq!(input_json(trace.span("by_mut")), json!({"add": 2}));
    assert_eq!(input_json(trace.span("by_value")), json!({"extra": 10}));
    assert_eq!(
        input_json(trace.span("borrowed")),
        json!({"words": ["first"]})
    );
    assert_eq!(
        attr_str(trace.span("borrowed"), "output.value").as_deref(),
        Some("first")
    );
    assert_eq!(
        attr_str(trace.span("associated"), "output.value").as_deref(),
        Some("Agent { steps: 1 }")
    );
}

#[tokio::test(flavor = "current_thread")]
async fn async_methods() {
    let mut agent = Agent::default();
    let (steps, trace) = in_trace_async(async { agent.async_by_mut().await }).await;
    assert_eq!(steps, 1);
    assert_eq!(
        attr_str(trace.span("async_by_mut"), "output.value").as_deref(),
        Some("1")
    );
}

trait Tool {
    fn run(&self, input: &str) -> String;
    async fn run_async(&self, input: &str) -> String;
}

struct Echo;

impl Tool for Echo {
    #[traced(as_type = "tool")]
    fn run(&self, input: &str) -> String {
        input.to_owned()
    }

    #[traced(as_type = "tool")]
    async fn run_async(&self, input: &str) -> String {
        self.run(input)
    }
}

#[tokio::test(flavor = "current_thread")]
async fn trait_impl_methods_sync_and_async() {
    let (out, trace) = in_trace_async(async { Echo.run_async("ping").await }).await;
    assert_eq!(out, "ping");
    assert_eq!(trace.parent_name("run").as_deref(), Some("run_async"));
    assert_eq!(trace.parent_name("run_async").as_deref(), Some("harness"));
}

#[async_trait::async_trait]
trait Retriever {
    async fn retrieve(&self, query: &str, k: usize) -> Vec<String>;
}

struct Store;

#[async_trait::async_trait]
impl Retriever for Store {
    #[traced(as_type = "retriever")]
    async fn retrieve(&self, query: &str, k: usize) -> Vec<String> {
        tokio::task::yield_now().await;
        inner_lookup(query).await;
        vec![query.to_owned(); k]
    }
}

#[traced]
async fn inner_lookup(query: &str) -> usize {
    query.len()
}

#[tokio::test(flavor = "current_thread")]
async fn async_trait_methods_cover_the_future() {
    let (docs, trace) = in_trace_async(async { Store.retrieve("rust", 2).await }).await;
    assert_eq!(docs.len(), 2);
    let span = trace.span("retrieve");
    assert_eq!(input_json(span), json!({"query": "rust", "k": 2}));
    assert_eq!(
        attr_str(span, "output.value").as_deref(),
        Some(r#"["rust","rust"]"#)
    );
    assert_eq!(
        trace.parent_name("inner_lookup").as_deref(),
        Some("retrieve")
    );
    assert_eq!(
        attr_str(span, "openinference.span.kind").as_deref(),
        Some("RETRIEVER")
    );
}

#[traced]
fn generic<T, U>(serializable: T, debug_only: U, shown: impl Debug + Clone) -> usize
where
    T: serde::Serialize + Clone,
    U: Debug,
{
    let _ = (serializable, debug_only, shown);
    1
}

#[traced]
fn unbounded<T>(value: T) -> T {
    value
}

#[derive(Debug)]
struct DebugOnly;

#[test]
fn generics_capture_by_what_their_bounds_allow() {
    let (_, trace) = in_trace(|| {
        generic(vec![1, 2], DebugOnly, "shown");
        unbounded(5u8)
    });
    assert_eq!(
        input_json(trace.span("generic")),
        json!({"serializable": [1, 2], "debug_only": "DebugOnly", "shown": "\"shown\""})
    );
    // An unbounded `T` is neither known Serialize nor Debug inside the function: type name.
    assert_eq!(
        input_json(trace.span("unbounded")),
        json!({"value": "<u8>"})
    );
}

#[traced]
async fn generic_async<T: serde::Serialize + Send>(value: T) -> T {
    tokio::task::yield_now().await;
    value
}

#[tokio::test(flavor = "current_thread")]
async fn generic_async_functions() {
    let (value, trace) = in_trace_async(generic_async("x")).await;
    assert_eq!(value, "x");
    assert_eq!(
        input_json(trace.span("generic_async")),
        json!({"value": "x"})
    );
}

#[traced]
fn early_return(n: i32) -> Result<i32, std::num::ParseIntError> {
    if n < 0 {
        return Ok(0);
    }
    let parsed: i32 = "12".parse()?;
    Ok(parsed + n)
}

#[test]
fn return_and_question_mark_inside_the_body() {
    let (values, trace) = in_trace(|| (early_return(-1), early_return(1)));
    assert_eq!(values, (Ok(0), Ok(13)));
    let outputs: Vec<_> = trace
        .all("early_return")
        .iter()
        .map(|s| attr_str(s, "output.value").unwrap_or_default())
        .collect();
    assert!(outputs.contains(&"0".to_owned()) && outputs.contains(&"13".to_owned()));
}
