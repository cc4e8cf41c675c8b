//! OpenAI's chat completions wire format (the JSON of a request, a response, a stream
//! chunk) read into the generation schema of [`crate::genai`]. Working on the JSON, not on
//! one client's types, keeps it right for any client that speaks the format (async-openai
//! through its `Serialize`, or a hand-written one).

use opentelemetry::KeyValue;
use serde_json::Value;

use crate::genai::{self, Message, Part, RequestParameters, StreamedReply};
use crate::llm::Usage;

fn text_of(content: &Value) -> Option<String> {
    match content {
        Value::String(text) => Some(text.clone()),
        // An array of parts: the text parts, joined.
        Value::Array(parts) => {
            let texts: Vec<&str> = parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect();
            (!texts.is_empty()).then(|| texts.join(""))
        }
        _ => None,
    }
}

/// A wire message (`{"role", "content", "tool_calls", "tool_call_id"}`) as a GenAI message.
fn message(wire: &Value) -> Message {
    let role = wire.get("role").and_then(Value::as_str).unwrap_or("user");
    let role = if role == "developer" { "system" } else { role };
    let mut message = Message::new(role);
    let text = wire.get("content").and_then(text_of);
    if role == "tool" {
        let id = wire
            .get("tool_call_id")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let response = genai::arguments(text.as_deref().unwrap_or_default());
        return message.part(Part::ToolCallResponse { id, response });
    }
    if let Some(text) = text {
        message = message.part(Part::text(text));
    }
    for call in wire
        .get("tool_calls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let function = call.get("function");
        message = message.part(Part::ToolCall {
            id: call.get("id").and_then(Value::as_str).map(str::to_owned),
            name: function
                .and_then(|f| f.get("name"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            arguments: genai::arguments(
                function
                    .and_then(|f| f.get("arguments"))
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
            ),
        });
    }
    message
}

/// A parameter as the user wrote it: clients that hold it as an `f32` (async-openai does)
/// serialise `0.2` as `0.20000000298023224`; a value an `f32` holds exactly is given back
/// in the fewest digits that name that `f32`.
fn shortest(value: f64) -> f64 {
    let narrow = value as f32;
    if f64::from(narrow) == value {
        narrow.to_string().parse().unwrap_or(value)
    } else {
        value
    }
}

/// The attributes of a chat completions request.
pub(crate) fn request_attributes(request: &Value) -> Vec<KeyValue> {
    let float = |key: &str| request.get(key).and_then(Value::as_f64).map(shortest);
    let stop_sequences = match request.get("stop") {
        Some(Value::String(one)) => vec![one.clone()],
        Some(Value::Array(many)) => many
            .iter()
            .filter_map(|s| s.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    let tools = request
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|tool| {
            let function = tool.get("function")?;
            Some(serde_json::json!({
                "type": "function",
                "name": function.get("name"),
                "description": function.get("description"),
                "parameters": function.get("parameters"),
            }))
        })
        .collect();
    let parameters = RequestParameters {
        temperature: float("temperature"),
        max_tokens: request
            .get("max_completion_tokens")
            .or_else(|| request.get("max_tokens"))
            .and_then(Value::as_u64),
        top_p: float("top_p"),
        frequency_penalty: float("frequency_penalty"),
        presence_penalty: float("presence_penalty"),
        seed: request.get("seed").and_then(Value::as_i64),
        stop_sequences,
        stream: request.get("stream").and_then(Value::as_bool),
        tools,
    };
    let input: Vec<Message> = request
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(message)
        .collect();
    genai::request_attributes(
        Some("openai"),
        request.get("model").and_then(Value::as_str),
        &parameters,
        None,
        &input,
    )
}

/// The usage of a response or of a stream's last chunk.
pub(crate) fn usage(wire: &Value) -> Option<Usage> {
    let usage = wire.get("usage").filter(|u| !u.is_null())?;
    let count = |value: Option<&Value>| value.and_then(Value::as_u64).unwrap_or(0);
    Some(
        Usage::new(
            count(usage.get("prompt_tokens")),
            count(usage.get("completion_tokens")),
        )
        .cache_read_input_tokens(count(
            usage
                .get("prompt_tokens_details")
                .and_then(|d| d.get("cached_tokens")),
        ))
        .reasoning_output_tokens(count(
            usage
                .get("completion_tokens_details")
                .and_then(|d| d.get("reasoning_tokens")),
        )),
    )
}

/// The attributes of a (whole) chat completions response: id, model, output messages,
/// finish reasons, usage and its cost.
pub(crate) fn response_attributes(response: &Value) -> Vec<KeyValue> {
    let output: Vec<Message> = response
        .get("choices")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|choice| {
            let mut message = choice
                .get("message")
                .map(message)
                .unwrap_or_else(|| Message::new("assistant"));
            message.finish_reason = choice
                .get("finish_reason")
                .and_then(Value::as_str)
                .map(str::to_owned);
            message
        })
        .collect();
    let model = response.get("model").and_then(Value::as_str);
    let mut attributes =
        genai::response_attributes(response.get("id").and_then(Value::as_str), model, &output);
    if let Some(usage) = usage(response) {
        attributes.extend(usage.attributes());
        attributes.extend(genai::cost_attributes(model, &usage));
    }
    attributes
}

impl StreamedReply {
    /// Adds one chunk of a streamed reply: its text deltas, tool call fragments, finish
    /// reasons, ids and (the last chunk's) usage.
    pub(crate) fn add_chunk(&mut self, chunk: &Value) {
        if self.id.is_none() {
            self.id = chunk.get("id").and_then(Value::as_str).map(str::to_owned);
        }
        if self.model.is_none() {
            self.model = chunk
                .get("model")
                .and_then(Value::as_str)
                .map(str::to_owned);
        }
        if let Some(usage) = usage(chunk) {
            self.usage = Some(usage);
        }
        for wire in chunk
            .get("choices")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let index = wire.get("index").and_then(Value::as_u64).unwrap_or(0) as u32;
            let choice = self.choice(index);
            if let Some(reason) = wire.get("finish_reason").and_then(Value::as_str) {
                choice.finish_reason = Some(reason.to_owned());
            }
            let Some(delta) = wire.get("delta") else {
                continue;
            };
            if let Some(text) = delta.get("content").and_then(Value::as_str) {
                choice.text.push_str(text);
            }
            for fragment in delta
                .get("tool_calls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let index = fragment.get("index").and_then(Value::as_u64).unwrap_or(0) as u32;
                let call = choice.tool_call(index);
                if let Some(id) = fragment.get("id").and_then(Value::as_str) {
                    call.id = Some(id.to_owned());
                }
                let function = fragment.get("function");
                if let Some(name) = function.and_then(|f| f.get("name")).and_then(Value::as_str) {
                    call.name.push_str(name);
                }
                if let Some(arguments) = function
                    .and_then(|f| f.get("arguments"))
                    .and_then(Value::as_str)
                {
                    call.arguments.push_str(arguments);
                }
            }
        }
    }

    /// The reply's attributes once the stream ended (or was dropped): output messages,
    /// finish reasons, id, model; the usage is recorded by the stream's own path.
    pub(crate) fn attributes(&self) -> Vec<KeyValue> {
        genai::response_attributes(self.id.as_deref(), self.model.as_deref(), &self.messages())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parameters_held_as_f32_read_as_written() {
        assert_eq!(shortest(f64::from(0.2f32)), 0.2);
        assert_eq!(shortest(0.2), 0.2);
        assert_eq!(shortest(0.1 + 0.2), 0.1 + 0.2);
    }

    #[test]
    fn tool_call_fragments_are_put_together() {
        let mut reply = StreamedReply::default();
        for chunk in [
            json!({"id": "c1", "model": "gpt-4o-2024-08-06", "choices": [{"index": 0, "delta": {"role": "assistant", "tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}}]}),
            json!({"id": "c1", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{\"location\""}}]}}]}),
            json!({"id": "c1", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": ": \"Tokyo\"}"}}]}}]}),
            json!({"id": "c1", "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
            json!({"id": "c1", "choices": [], "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15, "prompt_tokens_details": {"cached_tokens": 4}}}),
        ] {
            reply.add_chunk(&chunk);
        }
        let messages = reply.messages();
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].finish_reason.as_deref(), Some("tool_calls"));
        assert_eq!(
            messages[0].parts,
            [Part::ToolCall {
                id: Some("call_1".into()),
                name: "get_weather".into(),
                arguments: json!({"location": "Tokyo"}),
            }]
        );
        assert_eq!(
            reply.usage,
            Some(Usage::new(10, 5).cache_read_input_tokens(4))
        );
    }

    #[test]
    fn request_messages_of_every_role() {
        let request = json!({
            "model": "gpt-4o",
            "temperature": 0.2,
            "max_completion_tokens": 100,
            "stop": "END",
            "messages": [
                {"role": "developer", "content": "be brief"},
                {"role": "user", "content": [{"type": "text", "text": "weather?"}]},
                {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"location\":\"Tokyo\"}"}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}
            ],
            "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
        });
        let attributes = request_attributes(&request);
        let get = |key: &str| {
            attributes
                .iter()
                .find(|kv| kv.key.as_str() == key)
                .map(|kv| kv.value.to_string())
        };
        assert_eq!(get("gen_ai.request.model").as_deref(), Some("gpt-4o"));
        assert_eq!(get("gen_ai.request.max_tokens").as_deref(), Some("100"));
        assert_eq!(get("gen_ai.provider.name").as_deref(), Some("openai"));
        let messages: Value = serde_json::from_str(&get("gen_ai.input.messages").unwrap()).unwrap();
        assert_eq!(messages[0]["role"], "system");
        assert_eq!(messages[1]["parts"][0]["content"], "weather?");
        assert_eq!(messages[2]["parts"][0]["arguments"]["location"], "Tokyo");
        assert_eq!(messages[3]["parts"][0]["type"], "tool_call_response");
        assert!(get("gen_ai.tool.definitions")
            .unwrap()
            .contains("get_weather"));
    }
}
