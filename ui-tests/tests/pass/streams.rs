//! Every stream shape `#[traced]` supports compiles, with warnings denied.
#![deny(warnings)]
#![allow(dead_code)]

use std::pin::Pin;

use futures::stream::{self, BoxStream, LocalBoxStream, Stream, StreamExt};
use traced::{traced, Accumulate, StreamOutput};

#[traced]
fn impl_stream(n: u8) -> impl Stream<Item = u8> {
    stream::iter(0..n)
}

#[traced]
fn impl_stream_send(words: Vec<String>) -> impl Stream<Item = String> + Send + 'static {
    stream::iter(words)
}

#[traced]
fn borrowing<'a>(text: &'a str) -> impl Stream<Item = &'a str> + 'a {
    stream::iter(text.split(' '))
}

#[traced]
fn pinned_dyn(n: u8) -> Pin<Box<dyn Stream<Item = u8> + Send>> {
    Box::pin(stream::iter(0..n))
}

#[traced(stream)]
fn box_stream(n: u8) -> BoxStream<'static, Result<u8, std::io::Error>> {
    stream::iter((0..n).map(Ok)).boxed()
}

#[traced(stream)]
fn local_box_stream(n: u8) -> LocalBoxStream<'static, u8> {
    stream::iter(0..n).boxed_local()
}

#[traced(as_type = "generation")]
async fn async_impl_stream(n: u8) -> impl Stream<Item = u8> {
    stream::iter(0..n)
}

#[traced(stream, as_type = "generation")]
async fn async_box_stream(n: u8) -> BoxStream<'static, u8> {
    stream::iter(0..n).boxed()
}

struct Delta(String);

impl Accumulate for Delta {
    fn accumulate(&self, output: &mut StreamOutput) {
        output.push_text(&self.0);
    }
}

#[traced]
fn accumulating() -> impl Stream<Item = Delta> {
    stream::iter([Delta("a".into())])
}

fn sum_as_text(output: &mut StreamOutput, item: &u8) {
    output.push_text(&item.to_string());
}

#[traced(reduce = sum_as_text)]
fn reduced(n: u8) -> impl Stream<Item = u8> {
    stream::iter(0..n)
}

#[traced(stream, reduce = sum_as_text, capture_output = false)]
fn all_stream_options(n: u8) -> BoxStream<'static, u8> {
    stream::iter(0..n).boxed()
}

fn assert_send<T: Send>(_: T) {}

fn main() {
    assert_send(impl_stream_send(vec![]));
    assert_send(box_stream(1));
    assert_send(async_impl_stream(1));
    futures::executor::block_on(async {
        let _ = impl_stream(2).count().await;
        let _ = async_box_stream(2).await.count().await;
    });
}
