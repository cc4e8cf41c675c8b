//! async-openai's chat completions, recorded with no code from the user: a
//! `#[traced(as_type = "generation")]` function taking a `CreateChatCompletionRequest`
//! and returning its `CreateChatCompletionResponse`, or its stream of
//! `CreateChatCompletionStreamResponse` chunks, records the model asked for and the one
//! that answered, the request's parameters and tools, the input messages, the output
//! message (text and tool calls, put together from the stream's deltas), the finish
//! reasons, the response id, the usage (with cached and reasoning tokens; from the last
//! chunk when `stream_options.include_usage` is set), its cost when prices are configured,
//! time to first token, and the API's errors. See [`crate::genai`] for the attributes.
//!
//! ```
//! use async_openai::types::chat::{
//!     ChatCompletionRequestUserMessage, CreateChatCompletionRequest, CreateChatCompletionResponse,
//! };
//!
//! #[traced::traced(as_type = "generation")]
//! async fn answer(request: CreateChatCompletionRequest) -> Result<CreateChatCompletionResponse, String> {
//!     // client.chat().create(request).await (async-openai's client), here a stand-in:
//!     Err(format!("no server for {}", request.model))
//! }
//! # let request = CreateChatCompletionRequest {
//! #     model: "gpt-4o".into(),
//! #     messages: vec![ChatCompletionRequestUserMessage::from("hi").into()],
//! #     ..Default::default()
//! # };
//! # assert!(futures::executor::block_on(answer(request)).is_err());
//! ```
//!
//! The version of async-openai is pinned in one place, the workspace's `Cargo.toml`;
//! only its types are used (feature `chat-completion-types`), so the client, its HTTP
//! stack and TLS stay the application's choice.

use async_openai::types::chat::{
    CreateChatCompletionRequest, CreateChatCompletionResponse, CreateChatCompletionStreamResponse,
};

use crate::capture::{OwnCapture, ValueSink};
use crate::stream::{Accumulate, StreamOutput};

impl OwnCapture for CreateChatCompletionRequest {
    fn capture_with<S: ValueSink>(&self, sink: &mut S) {
        sink.serialize(self);
        if let Ok(json) = serde_json::to_value(self) {
            sink.attributes(crate::openai_wire::request_attributes(&json));
        }
    }
}

impl OwnCapture for CreateChatCompletionResponse {
    fn capture_with<S: ValueSink>(&self, sink: &mut S) {
        sink.serialize(self);
        if let Ok(json) = serde_json::to_value(self) {
            sink.attributes(crate::openai_wire::response_attributes(&json));
        }
    }
}

impl Accumulate for CreateChatCompletionStreamResponse {
    fn accumulate(&self, output: &mut StreamOutput) {
        let Ok(json) = serde_json::to_value(self) else {
            return;
        };
        let reply = output.reply.get_or_insert_with(Default::default);
        reply.add_chunk(&json);
        let usage = reply.usage;
        // The text of the reply is the stream's output, as for any text stream.
        for choice in &self.choices {
            if let Some(text) = &choice.delta.content {
                output.push_text(text);
            }
        }
        if let Some(usage) = usage {
            output.set_usage(usage);
        }
    }
}
