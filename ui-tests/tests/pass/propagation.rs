//! Every way of choosing a remote parent compiles, with warnings denied.
#![deny(warnings)]
#![allow(dead_code)]

use http::request::Parts;
use http::{HeaderMap, Request};
use traced::{traced, Extracted, HeaderCarrier, TraceContext};

#[traced(extract)]
fn owned_headers(headers: HeaderMap, body: String) -> usize {
    let _ = headers;
    body.len()
}

#[traced(extract)]
async fn borrowed_headers(headers: &HeaderMap) -> usize {
    headers.len()
}

#[traced(extract)]
fn request<B>(request: Request<B>) -> String {
    request.uri().to_string()
}

#[traced(extract)]
fn request_ref(request: &http::Request<Vec<u8>>) -> usize {
    request.body().len()
}

#[traced(extract)]
fn parts(parts: Parts, body: Vec<u8>) -> usize {
    let _ = parts;
    body.len()
}

struct Message {
    headers: HeaderMap,
}

impl HeaderCarrier for Message {
    fn headers(&self) -> &HeaderMap {
        &self.headers
    }
}

#[traced(extract = message)]
fn custom(id: u32, message: &Message) -> u32 {
    let _ = message;
    id
}

#[traced(parent = trace)]
fn explicit(trace: TraceContext) {}

#[traced(parent = trace.as_ref())]
fn optional(trace: Option<TraceContext>) {}

#[traced(parent = &extracted)]
fn from_extracted(extracted: Extracted) {}

#[traced(parent = &headers)]
fn from_headers(headers: HeaderMap) {}

fn main() {}

#[traced(extract, untrusted)]
fn public_edge(headers: &HeaderMap) -> usize {
    headers.len()
}

#[traced(parent = &headers, untrusted)]
fn public_edge_parent(headers: HeaderMap) {}
