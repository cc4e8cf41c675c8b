//! Every shape of function `#[traced]` supports compiles, with warnings denied.
#![deny(warnings)]
#![allow(dead_code)]

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;

use traced::traced;

/// A documented free function with attributes around the traced one.
#[must_use]
#[traced]
pub fn free(a: u8, b: &str) -> usize {
    a as usize + b.len()
}

#[traced]
pub(crate) fn unit_no_args() {}

#[traced]
fn inner_attributes(x: u8) -> u8 {
    #![allow(clippy::identity_op)]
    x + 0
}

#[traced]
fn early_return(n: i32) -> Result<i32, std::num::ParseIntError> {
    if n < 0 {
        return Ok(0);
    }
    Ok("5".parse::<i32>()? + n)
}

#[traced]
fn generics<'a, T, const N: usize>(items: [T; N], label: &'a str, shown: impl Debug) -> &'a str
where
    T: Clone + Send,
{
    let _ = (items, shown);
    label
}

#[traced]
fn returns_impl_iterator(n: u32) -> impl Iterator<Item = u32> {
    0..n
}

#[traced]
fn returns_impl_future(n: u32) -> impl Future<Output = u32> + Send {
    async move { n }
}

#[traced]
fn returns_boxed_future<'a>(s: &'a str) -> Pin<Box<dyn Future<Output = usize> + Send + 'a>> {
    Box::pin(async move { s.len() })
}

#[traced]
async fn async_fn(s: String) -> Result<String, std::io::Error> {
    Ok(s)
}

#[traced]
async fn async_unit() {}

#[traced]
async fn async_borrowed(s: &str) -> &str {
    s
}

#[traced]
unsafe fn unsafe_fn(p: *const u8) -> u8 {
    unsafe { *p }
}

#[traced]
extern "C" fn extern_c(x: u32) -> u32 {
    x
}

#[traced]
fn r#raw_name(r#type: u8) -> u8 {
    r#type
}

#[traced]
fn patterns((a, b): (u8, u8), [c, ..]: [u8; 2], _: u8, mut d: u8) -> u8 {
    d += 1;
    a + b + c + d
}

#[traced]
fn diverging_body() -> u8 {
    loop {
        return 1;
    }
}

#[traced(
    name = "all options",
    as_type = "generation",
    skip(secret),
    capture_input = true,
    capture_output = false,
    fields(gen_ai.request.model = "m", "a key" = secret.len(), n = 1),
    root,
    crate = traced
)]
fn all_options(secret: &str, visible: u8) -> u8 {
    let _ = secret;
    visible
}

#[traced(skip_all)]
fn skip_all(a: u8) -> u8 {
    a
}

pub struct Service {
    calls: u32,
}

impl Service {
    #[traced]
    pub fn new() -> Self {
        Service { calls: 0 }
    }

    #[traced]
    fn by_ref(&self) -> u32 {
        self.calls
    }

    #[traced]
    fn by_mut(&mut self) -> u32 {
        self.calls += 1;
        self.calls
    }

    #[traced]
    fn by_value(self) -> u32 {
        self.calls
    }

    #[traced]
    fn boxed_self(self: Box<Self>) -> u32 {
        self.calls
    }

    #[traced]
    async fn async_by_ref(&self, extra: u32) -> u32 {
        self.calls + extra
    }

    #[traced]
    async fn async_by_mut(&mut self) -> &mut u32 {
        &mut self.calls
    }
}

trait Tool {
    fn call(&self, input: &str) -> String;
    fn provided(&self) -> u8 {
        0
    }
    async fn call_async(&self, input: &str) -> String;
}

impl Tool for Service {
    #[traced(as_type = "tool")]
    fn call(&self, input: &str) -> String {
        input.to_owned()
    }

    #[traced]
    fn provided(&self) -> u8 {
        1
    }

    #[traced]
    async fn call_async(&self, input: &str) -> String {
        self.call(input)
    }
}

#[async_trait::async_trait]
trait Retriever {
    async fn retrieve(&self, query: &str) -> Vec<String>;
}

#[async_trait::async_trait]
impl Retriever for Service {
    #[traced(as_type = "retriever")]
    async fn retrieve(&self, query: &str) -> Vec<String> {
        vec![query.to_owned()]
    }
}

fn assert_send<T: Send>(_: T) {}

fn main() {
    let _ = free(1, "x");
    assert_send(async_fn(String::new()));
    assert_send(returns_impl_future(1));
    let service = Service::new();
    assert_send(service.retrieve("q"));
    futures::executor::block_on(async {
        let _ = async_borrowed("x").await;
        let _ = returns_boxed_future("abc").await;
    });
}
