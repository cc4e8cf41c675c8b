//! An LLM generation recorded the way the backends render it: one set of attributes that
//! the OpenTelemetry GenAI semantic conventions, Langfuse, Arize Phoenix (which converts
//! `gen_ai.*` from its version 15.10) and LangSmith read.
//!
//! | what | attributes written |
//! |---|---|
//! | operation, provider | `gen_ai.operation.name` (`chat`), `gen_ai.provider.name`, and `gen_ai.system` (what LangSmith reads) |
//! | models | `gen_ai.request.model`, `gen_ai.response.model`, `llm.model_name` (Phoenix) |
//! | response | `gen_ai.response.id`, `gen_ai.response.finish_reasons` (string array) |
//! | parameters | `gen_ai.request.{temperature, max_tokens, top_p, frequency_penalty, presence_penalty, seed, stop_sequences}`; `langfuse.observation.model.parameters` (JSON); `gen_ai.tool.definitions` (JSON) |
//! | messages | `gen_ai.input.messages`, `gen_ai.output.messages` (GenAI's structured JSON: `role`, `parts` of `text`, `tool_call`, `tool_call_response`), `gen_ai.system_instructions`; the same in OpenAI's chat format as `gen_ai.prompt` / `gen_ai.completion` (`{"messages": [...]}`, what LangSmith renders) and `langfuse.observation.input` / `.output` (what Langfuse renders first, before a function's captured arguments) |
//! | usage | `gen_ai.usage.{input_tokens, output_tokens, total_tokens, cache_read.input_tokens, cache_creation.input_tokens, reasoning.output_tokens}` (input counting cache tokens, output counting reasoning tokens, as GenAI counts them); `llm.token_count.{prompt, completion, total, prompt_details.cache_read, completion_details.reasoning}` (Phoenix); `langfuse.observation.usage_details` (JSON, Langfuse's keys, cache and reasoning tokens apart) |
//! | cost | with prices configured (`Config::model_price`): `gen_ai.usage.cost` (total, in the prices' currency) and `langfuse.observation.cost_details` (JSON `input`, `output`, `total`) |
//!
//! Token counts: GenAI, Phoenix and LangSmith count cache tokens in the input and
//! reasoning tokens in the output; Langfuse keeps them apart, so its `usage_details` has
//! `input` without cache tokens and `output` without reasoning tokens.

use opentelemetry::{Array, KeyValue, StringValue, Value};
use serde::Serialize;
use serde_json::json;

use crate::llm::Usage;

/// One message of a conversation, in GenAI's structured form.
///
/// ```
/// use traced::genai::{Message, Part};
/// let asked = Message::text("user", "What is the weather in Tokyo?");
/// let answered = Message::new("assistant")
///     .part(Part::tool_call("call_1", "get_weather", serde_json::json!({"location": "Tokyo"})))
///     .finish_reason("tool_calls");
/// # drop((asked, answered));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Message {
    /// `system`, `user`, `assistant` or `tool`.
    pub role: String,
    /// What it says.
    pub parts: Vec<Part>,
    /// Why the model stopped (output messages).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
}

impl Message {
    /// A message with no parts yet.
    pub fn new(role: impl Into<String>) -> Self {
        Self {
            role: role.into(),
            parts: Vec::new(),
            finish_reason: None,
        }
    }

    /// A message of one text part.
    pub fn text(role: impl Into<String>, content: impl Into<String>) -> Self {
        Self::new(role).part(Part::text(content))
    }

    /// Adds a part.
    pub fn part(mut self, part: Part) -> Self {
        self.parts.push(part);
        self
    }

    /// Sets why the model stopped.
    pub fn finish_reason(mut self, reason: impl Into<String>) -> Self {
        self.finish_reason = Some(reason.into());
        self
    }
}

/// A part of a [`Message`].
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Part {
    /// Text.
    Text {
        /// The text.
        content: String,
    },
    /// The model asks for a tool to be called.
    ToolCall {
        /// The call's id.
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        /// The tool.
        name: String,
        /// Its arguments (a JSON object; text that is not JSON is kept as a string).
        arguments: serde_json::Value,
    },
    /// A tool's answer.
    ToolCallResponse {
        /// The id of the call it answers.
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        /// What the tool returned.
        response: serde_json::Value,
    },
}

impl Part {
    /// A text part.
    ///
    /// ```
    /// let _ = traced::genai::Part::text("hello");
    /// ```
    pub fn text(content: impl Into<String>) -> Self {
        Self::Text {
            content: content.into(),
        }
    }

    /// A tool call part.
    pub fn tool_call(
        id: impl Into<String>,
        name: impl Into<String>,
        arguments: serde_json::Value,
    ) -> Self {
        Self::ToolCall {
            id: Some(id.into()),
            name: name.into(),
            arguments,
        }
    }

    /// A tool's answer to the call `id`.
    pub fn tool_call_response(id: impl Into<String>, response: serde_json::Value) -> Self {
        Self::ToolCallResponse {
            id: Some(id.into()),
            response,
        }
    }
}

/// Tool call arguments as the model wrote them: JSON when they parse, else the text.
#[cfg(feature = "async-openai")]
pub(crate) fn arguments(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|_| serde_json::Value::String(text.to_owned()))
}

/// The parameters of a request, each only when set.
///
/// ```
/// let parameters = traced::genai::RequestParameters {
///     temperature: Some(0.2),
///     max_tokens: Some(256),
///     ..Default::default()
/// };
/// traced::current_span().set_request_parameters(&parameters);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RequestParameters {
    /// `temperature`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// `max_tokens` (or `max_completion_tokens`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    /// `top_p`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// `frequency_penalty`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    /// `presence_penalty`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    /// `seed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// `stop` sequences.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stop_sequences: Vec<String>,
    /// Whether the reply is streamed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// The tools the model may call: each `{"type": "function", "name", "description",
    /// "parameters"}`.
    #[serde(skip)]
    pub tools: Vec<serde_json::Value>,
}

/// What a model costs per million tokens (in any one currency).
///
/// ```
/// let price = traced::genai::ModelPrice::per_million(2.50, 10.00).cache_read(1.25);
/// let usage = traced::Usage::new(1_000_000, 100_000).cache_read_input_tokens(400_000);
/// let cost = price.cost(&usage);
/// assert!((cost.total - (0.6 * 2.50 + 0.4 * 1.25 + 0.1 * 10.00)).abs() < 1e-9);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ModelPrice {
    /// Per million input tokens.
    pub input: f64,
    /// Per million output tokens (reasoning tokens are output tokens).
    pub output: f64,
    /// Per million input tokens read from the cache (the input price when not set).
    pub cache_read: Option<f64>,
    /// Per million input tokens written to the cache (the input price when not set).
    pub cache_creation: Option<f64>,
}

impl ModelPrice {
    /// Input and output prices per million tokens.
    pub fn per_million(input: f64, output: f64) -> Self {
        Self {
            input,
            output,
            cache_read: None,
            cache_creation: None,
        }
    }

    /// The price of cached input tokens.
    pub fn cache_read(mut self, per_million: f64) -> Self {
        self.cache_read = Some(per_million);
        self
    }

    /// The price of input tokens written to the cache.
    pub fn cache_creation(mut self, per_million: f64) -> Self {
        self.cache_creation = Some(per_million);
        self
    }

    /// What `usage` costs at these prices.
    pub fn cost(&self, usage: &Usage) -> Cost {
        let million = 1_000_000.0;
        let cached = usage.cache_read_input_tokens as f64;
        let created = usage.cache_creation_input_tokens as f64;
        let plain = (usage.input_tokens as f64 - cached - created).max(0.0);
        let input = (plain * self.input
            + cached * self.cache_read.unwrap_or(self.input)
            + created * self.cache_creation.unwrap_or(self.input))
            / million;
        let output = usage.output_tokens as f64 * self.output / million;
        Cost {
            input,
            output,
            total: input + output,
        }
    }
}

/// What a generation cost.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Cost {
    /// Of the input.
    pub input: f64,
    /// Of the output.
    pub output: f64,
    /// Of both.
    pub total: f64,
}

impl Cost {
    pub(crate) fn attributes(&self) -> Vec<KeyValue> {
        vec![
            KeyValue::new("gen_ai.usage.cost", self.total),
            KeyValue::new(
                "langfuse.observation.cost_details",
                json!({"input": self.input, "output": self.output, "total": self.total})
                    .to_string(),
            ),
        ]
    }
}

/// The price configured for `model`: its own, else that of the longest configured name
/// it starts with (`gpt-4o` prices `gpt-4o-2024-08-06`).
pub(crate) fn price_for<'a>(
    prices: &'a [(String, ModelPrice)],
    model: &str,
) -> Option<&'a ModelPrice> {
    prices
        .iter()
        .find(|(name, _)| name == model)
        .or_else(|| {
            prices
                .iter()
                .filter(|(name, _)| model.starts_with(name.as_str()))
                .max_by_key(|(name, _)| name.len())
        })
        .map(|(_, price)| price)
}

/// The cost attributes of `usage` for `model`, when a price is configured for it.
pub(crate) fn cost_attributes(model: Option<&str>, usage: &Usage) -> Vec<KeyValue> {
    let policy = crate::redact::policy();
    model
        .and_then(|model| price_for(&policy.prices, model))
        .map(|price| price.cost(usage).attributes())
        .unwrap_or_default()
}

fn strings(values: impl IntoIterator<Item = String>) -> Value {
    Value::Array(Array::String(
        values.into_iter().map(StringValue::from).collect(),
    ))
}

/// The request's attributes: operation, provider, model, parameters, messages.
#[cfg(feature = "async-openai")]
pub(crate) fn request_attributes(
    provider: Option<&str>,
    model: Option<&str>,
    parameters: &RequestParameters,
    system_instructions: Option<&str>,
    input: &[Message],
) -> Vec<KeyValue> {
    let mut attributes = vec![KeyValue::new("gen_ai.operation.name", "chat")];
    if let Some(provider) = provider {
        attributes.push(KeyValue::new("gen_ai.provider.name", provider.to_owned()));
        attributes.push(KeyValue::new("gen_ai.system", provider.to_owned()));
    }
    if let Some(model) = model {
        attributes.push(KeyValue::new(crate::llm::REQUEST_MODEL, model.to_owned()));
        attributes.push(KeyValue::new(
            crate::llm::OPENINFERENCE_MODEL,
            model.to_owned(),
        ));
    }
    attributes.extend(parameter_attributes(parameters));
    if let Some(system) = system_instructions {
        attributes.push(KeyValue::new(
            "gen_ai.system_instructions",
            json!([{"type": "text", "content": system}]).to_string(),
        ));
    }
    attributes.extend(input_attributes(
        input,
        system_instructions,
        &parameters.tools,
    ));
    attributes
}

/// `gen_ai.request.*`, `langfuse.observation.model.parameters`, `gen_ai.tool.definitions`.
pub(crate) fn parameter_attributes(parameters: &RequestParameters) -> Vec<KeyValue> {
    let mut attributes = Vec::new();
    let float = |key: &'static str, value: Option<f64>, out: &mut Vec<KeyValue>| {
        if let Some(value) = value {
            out.push(KeyValue::new(key, value));
        }
    };
    float(
        "gen_ai.request.temperature",
        parameters.temperature,
        &mut attributes,
    );
    float("gen_ai.request.top_p", parameters.top_p, &mut attributes);
    float(
        "gen_ai.request.frequency_penalty",
        parameters.frequency_penalty,
        &mut attributes,
    );
    float(
        "gen_ai.request.presence_penalty",
        parameters.presence_penalty,
        &mut attributes,
    );
    if let Some(max) = parameters.max_tokens {
        attributes.push(KeyValue::new(
            "gen_ai.request.max_tokens",
            i64::try_from(max).unwrap_or(i64::MAX),
        ));
    }
    if let Some(seed) = parameters.seed {
        attributes.push(KeyValue::new("gen_ai.request.seed", seed));
    }
    if !parameters.stop_sequences.is_empty() {
        attributes.push(KeyValue::new(
            "gen_ai.request.stop_sequences",
            strings(parameters.stop_sequences.iter().cloned()),
        ));
    }
    if let Ok(json) = serde_json::to_string(parameters) {
        if json != "{}" {
            attributes.push(KeyValue::new("langfuse.observation.model.parameters", json));
        }
    }
    if !parameters.tools.is_empty() {
        attributes.push(KeyValue::new(
            "gen_ai.tool.definitions",
            serde_json::Value::Array(parameters.tools.clone()).to_string(),
        ));
    }
    attributes
}

/// The input messages in GenAI's form, and in OpenAI's chat form for LangSmith and
/// Langfuse.
pub(crate) fn input_attributes(
    input: &[Message],
    system_instructions: Option<&str>,
    tools: &[serde_json::Value],
) -> Vec<KeyValue> {
    if input.is_empty() && system_instructions.is_none() {
        return Vec::new();
    }
    let mut chat: Vec<serde_json::Value> = Vec::new();
    if let Some(system) = system_instructions {
        chat.push(json!({"role": "system", "content": system}));
    }
    chat.extend(input.iter().map(openai_message));
    let mut prompt = json!({ "messages": chat });
    if !tools.is_empty() {
        prompt["tools"] = serde_json::Value::Array(tools.to_vec());
    }
    vec![
        KeyValue::new(
            "gen_ai.input.messages",
            serde_json::to_string(input).unwrap_or_default(),
        ),
        KeyValue::new("gen_ai.prompt", prompt.to_string()),
        KeyValue::new(
            "langfuse.observation.input",
            serde_json::Value::Array(chat).to_string(),
        ),
    ]
}

/// The response's attributes: id, model, finish reasons, output messages.
pub(crate) fn response_attributes(
    id: Option<&str>,
    model: Option<&str>,
    output: &[Message],
) -> Vec<KeyValue> {
    let mut attributes = Vec::new();
    if let Some(id) = id {
        attributes.push(KeyValue::new("gen_ai.response.id", id.to_owned()));
    }
    if let Some(model) = model {
        attributes.push(KeyValue::new(crate::llm::RESPONSE_MODEL, model.to_owned()));
    }
    let reasons: Vec<String> = output
        .iter()
        .filter_map(|m| m.finish_reason.clone())
        .collect();
    if !reasons.is_empty() {
        attributes.push(KeyValue::new(
            "gen_ai.response.finish_reasons",
            strings(reasons),
        ));
    }
    if !output.is_empty() {
        let chat: Vec<serde_json::Value> = output.iter().map(openai_message).collect();
        attributes.push(KeyValue::new(
            "gen_ai.output.messages",
            serde_json::to_string(output).unwrap_or_default(),
        ));
        attributes.push(KeyValue::new(
            "gen_ai.completion",
            json!({ "messages": chat }).to_string(),
        ));
        let shown = match chat.as_slice() {
            [one] => one.clone(),
            _ => serde_json::Value::Array(chat),
        };
        attributes.push(KeyValue::new(
            "langfuse.observation.output",
            shown.to_string(),
        ));
    }
    attributes
}

/// A message in OpenAI's chat format: `content` text, `tool_calls` of an assistant,
/// `tool_call_id` of a tool's answer.
fn openai_message(message: &Message) -> serde_json::Value {
    let mut text = String::new();
    let mut tool_calls = Vec::new();
    let mut answered = None;
    for part in &message.parts {
        match part {
            Part::Text { content } => text.push_str(content),
            Part::ToolCall {
                id,
                name,
                arguments,
            } => tool_calls.push(json!({
                "id": id,
                "type": "function",
                "function": {
                    "name": name,
                    "arguments": match arguments {
                        serde_json::Value::String(text) => text.clone(),
                        other => other.to_string(),
                    },
                },
            })),
            Part::ToolCallResponse { id, response } => {
                answered = id.clone();
                match response {
                    serde_json::Value::String(response) => text.push_str(response),
                    other => text.push_str(&other.to_string()),
                }
            }
        }
    }
    let mut out = json!({ "role": message.role });
    if !text.is_empty() || tool_calls.is_empty() {
        out["content"] = serde_json::Value::String(text);
    }
    if !tool_calls.is_empty() {
        out["tool_calls"] = serde_json::Value::Array(tool_calls);
    }
    if let Some(id) = answered {
        out["tool_call_id"] = serde_json::Value::String(id);
    }
    out
}

/// A streamed reply put together from its chunks: text, tool calls assembled from their
/// fragments, finish reasons, ids, usage.
#[cfg(feature = "async-openai")]
#[derive(Debug, Default)]
pub(crate) struct StreamedReply {
    pub(crate) id: Option<String>,
    pub(crate) model: Option<String>,
    /// By choice index: text, tool calls (index, id, name, arguments), finish reason.
    pub(crate) choices: Vec<StreamedChoice>,
    pub(crate) usage: Option<Usage>,
}

#[cfg(feature = "async-openai")]
#[derive(Debug, Default)]
pub(crate) struct StreamedChoice {
    pub(crate) index: u32,
    pub(crate) text: String,
    pub(crate) tool_calls: Vec<StreamedToolCall>,
    pub(crate) finish_reason: Option<String>,
}

#[cfg(feature = "async-openai")]
#[derive(Debug, Default)]
pub(crate) struct StreamedToolCall {
    pub(crate) index: u32,
    pub(crate) id: Option<String>,
    pub(crate) name: String,
    pub(crate) arguments: String,
}

#[cfg(feature = "async-openai")]
impl StreamedReply {
    /// The choice of `index`, added when first seen.
    pub(crate) fn choice(&mut self, index: u32) -> &mut StreamedChoice {
        let at = match self.choices.iter().position(|c| c.index == index) {
            Some(at) => at,
            None => {
                self.choices.push(StreamedChoice {
                    index,
                    ..Default::default()
                });
                self.choices.len() - 1
            }
        };
        &mut self.choices[at]
    }

    /// The reply as output messages.
    pub(crate) fn messages(&self) -> Vec<Message> {
        self.choices
            .iter()
            .map(|choice| {
                let mut message = Message::new("assistant");
                if !choice.text.is_empty() {
                    message = message.part(Part::text(choice.text.clone()));
                }
                for call in &choice.tool_calls {
                    message = message.part(Part::ToolCall {
                        id: call.id.clone(),
                        name: call.name.clone(),
                        arguments: arguments(&call.arguments),
                    });
                }
                message.finish_reason = choice.finish_reason.clone();
                message
            })
            .collect()
    }
}

#[cfg(feature = "async-openai")]
impl StreamedChoice {
    /// The tool call of `index`, added when first seen.
    pub(crate) fn tool_call(&mut self, index: u32) -> &mut StreamedToolCall {
        let at = match self.tool_calls.iter().position(|c| c.index == index) {
            Some(at) => at,
            None => {
                self.tool_calls.push(StreamedToolCall {
                    index,
                    ..Default::default()
                });
                self.tool_calls.len() - 1
            }
        };
        &mut self.tool_calls[at]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_in_both_forms() {
        let input = [
            Message::text("user", "weather in Tokyo?"),
            Message::new("assistant").part(Part::tool_call(
                "call_1",
                "get_weather",
                json!({"location": "Tokyo"}),
            )),
            Message::new("tool").part(Part::tool_call_response("call_1", json!("sunny"))),
        ];
        let attributes = input_attributes(&input, Some("be brief"), &[]);
        let get = |key: &str| {
            attributes
                .iter()
                .find(|kv| kv.key.as_str() == key)
                .map(|kv| kv.value.to_string())
                .unwrap_or_default()
        };
        let genai: serde_json::Value = serde_json::from_str(&get("gen_ai.input.messages")).unwrap();
        assert_eq!(genai[1]["parts"][0]["type"], "tool_call");
        assert_eq!(genai[1]["parts"][0]["arguments"]["location"], "Tokyo");
        assert_eq!(genai[2]["parts"][0]["type"], "tool_call_response");
        let prompt: serde_json::Value = serde_json::from_str(&get("gen_ai.prompt")).unwrap();
        assert_eq!(
            prompt["messages"][0],
            json!({"role": "system", "content": "be brief"})
        );
        assert_eq!(
            prompt["messages"][2]["tool_calls"][0]["function"]["arguments"],
            r#"{"location":"Tokyo"}"#
        );
        assert_eq!(prompt["messages"][3]["tool_call_id"], "call_1");
    }

    #[test]
    fn prices_match_exactly_then_by_the_longest_prefix() {
        let prices = vec![
            ("gpt-4o".to_owned(), ModelPrice::per_million(2.5, 10.0)),
            ("gpt-4o-mini".to_owned(), ModelPrice::per_million(0.15, 0.6)),
        ];
        assert_eq!(price_for(&prices, "gpt-4o").map(|p| p.input), Some(2.5));
        assert_eq!(
            price_for(&prices, "gpt-4o-mini-2024-07-18").map(|p| p.input),
            Some(0.15)
        );
        assert!(price_for(&prices, "claude").is_none());
    }
}
