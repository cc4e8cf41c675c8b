//! LLM-specific attributes: the model and the token usage of a generation, written in
//! both the OpenTelemetry GenAI keys (read by Langfuse and OTel GenAI tooling) and the
//! OpenInference keys (read by Arize Phoenix).

use opentelemetry::KeyValue;

/// `gen_ai.request.model`: the model asked for.
pub const REQUEST_MODEL: &str = "gen_ai.request.model";
/// `gen_ai.response.model`: the model that answered, as the reply names it.
pub const RESPONSE_MODEL: &str = "gen_ai.response.model";
/// `llm.model_name`: the OpenInference model name.
pub const OPENINFERENCE_MODEL: &str = "llm.model_name";
/// `gen_ai.usage.input_tokens`.
pub const INPUT_TOKENS: &str = "gen_ai.usage.input_tokens";
/// `gen_ai.usage.output_tokens`.
pub const OUTPUT_TOKENS: &str = "gen_ai.usage.output_tokens";
/// `llm.token_count.prompt` (OpenInference).
pub const PROMPT_TOKENS: &str = "llm.token_count.prompt";
/// `llm.token_count.completion` (OpenInference).
pub const COMPLETION_TOKENS: &str = "llm.token_count.completion";
/// `llm.token_count.total` (OpenInference).
pub const TOTAL_TOKENS: &str = "llm.token_count.total";

/// The tokens a generation used, counted as the OpenTelemetry GenAI conventions count
/// them: the input includes tokens read from or written to the cache, the output
/// includes reasoning tokens.
///
/// ```
/// let usage = traced::Usage::new(12, 30).cache_read_input_tokens(8).reasoning_output_tokens(10);
/// assert_eq!(usage.total_tokens(), 42);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Usage {
    /// Tokens of the prompt (cached ones included).
    pub input_tokens: u64,
    /// Tokens of the reply (reasoning ones included).
    pub output_tokens: u64,
    /// Of the input, the tokens read from the provider's cache.
    pub cache_read_input_tokens: u64,
    /// Of the input, the tokens written to the provider's cache.
    pub cache_creation_input_tokens: u64,
    /// Of the output, the reasoning tokens.
    pub reasoning_output_tokens: u64,
}

impl Usage {
    /// Input and output tokens.
    ///
    /// ```
    /// assert_eq!(traced::Usage::new(1, 2).output_tokens, 2);
    /// ```
    pub const fn new(input_tokens: u64, output_tokens: u64) -> Self {
        Self {
            input_tokens,
            output_tokens,
            cache_read_input_tokens: 0,
            cache_creation_input_tokens: 0,
            reasoning_output_tokens: 0,
        }
    }

    /// With this many of the input tokens read from the cache.
    pub const fn cache_read_input_tokens(mut self, tokens: u64) -> Self {
        self.cache_read_input_tokens = tokens;
        self
    }

    /// With this many of the input tokens written to the cache.
    pub const fn cache_creation_input_tokens(mut self, tokens: u64) -> Self {
        self.cache_creation_input_tokens = tokens;
        self
    }

    /// With this many of the output tokens spent reasoning.
    pub const fn reasoning_output_tokens(mut self, tokens: u64) -> Self {
        self.reasoning_output_tokens = tokens;
        self
    }

    /// Input and output tokens together.
    ///
    /// ```
    /// assert_eq!(traced::Usage::new(1, 2).total_tokens(), 3);
    /// ```
    pub fn total_tokens(&self) -> u64 {
        self.input_tokens.saturating_add(self.output_tokens)
    }

    /// The attributes of this usage in every backend's keys (see [`crate::genai`]).
    pub(crate) fn attributes(&self) -> Vec<KeyValue> {
        let int = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let mut attributes = vec![
            KeyValue::new(INPUT_TOKENS, int(self.input_tokens)),
            KeyValue::new(OUTPUT_TOKENS, int(self.output_tokens)),
            KeyValue::new("gen_ai.usage.total_tokens", int(self.total_tokens())),
            KeyValue::new(PROMPT_TOKENS, int(self.input_tokens)),
            KeyValue::new(COMPLETION_TOKENS, int(self.output_tokens)),
            KeyValue::new(TOTAL_TOKENS, int(self.total_tokens())),
        ];
        if self.cache_read_input_tokens > 0 {
            let n = int(self.cache_read_input_tokens);
            attributes.push(KeyValue::new("gen_ai.usage.cache_read.input_tokens", n));
            attributes.push(KeyValue::new(
                "llm.token_count.prompt_details.cache_read",
                n,
            ));
        }
        if self.cache_creation_input_tokens > 0 {
            let n = int(self.cache_creation_input_tokens);
            attributes.push(KeyValue::new("gen_ai.usage.cache_creation.input_tokens", n));
            attributes.push(KeyValue::new(
                "llm.token_count.prompt_details.cache_write",
                n,
            ));
        }
        if self.reasoning_output_tokens > 0 {
            let n = int(self.reasoning_output_tokens);
            attributes.push(KeyValue::new("gen_ai.usage.reasoning.output_tokens", n));
            attributes.push(KeyValue::new(
                "llm.token_count.completion_details.reasoning",
                n,
            ));
        }
        // Langfuse keeps cache and reasoning tokens apart from input and output.
        let cached = self
            .cache_read_input_tokens
            .saturating_add(self.cache_creation_input_tokens);
        let mut details = serde_json::json!({
            "input": self.input_tokens.saturating_sub(cached),
            "output": self.output_tokens.saturating_sub(self.reasoning_output_tokens),
            "total": self.total_tokens(),
        });
        if self.cache_read_input_tokens > 0 {
            details["input_cached_tokens"] = self.cache_read_input_tokens.into();
        }
        if self.cache_creation_input_tokens > 0 {
            details["input_cache_creation"] = self.cache_creation_input_tokens.into();
        }
        if self.reasoning_output_tokens > 0 {
            details["output_reasoning_tokens"] = self.reasoning_output_tokens.into();
        }
        attributes.push(KeyValue::new(
            "langfuse.observation.usage_details",
            details.to_string(),
        ));
        attributes
    }
}
