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

/// The tokens a generation used.
///
/// ```
/// let usage = traced::Usage { input_tokens: 12, output_tokens: 30 };
/// assert_eq!(usage.total_tokens(), 42);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Usage {
    /// Tokens of the prompt.
    pub input_tokens: u64,
    /// Tokens of the reply.
    pub output_tokens: u64,
}

impl Usage {
    /// Input and output tokens together.
    ///
    /// ```
    /// assert_eq!(traced::Usage { input_tokens: 1, output_tokens: 2 }.total_tokens(), 3);
    /// ```
    pub fn total_tokens(&self) -> u64 {
        self.input_tokens.saturating_add(self.output_tokens)
    }

    pub(crate) fn attributes(&self) -> [KeyValue; 5] {
        let int = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        [
            KeyValue::new(INPUT_TOKENS, int(self.input_tokens)),
            KeyValue::new(OUTPUT_TOKENS, int(self.output_tokens)),
            KeyValue::new(PROMPT_TOKENS, int(self.input_tokens)),
            KeyValue::new(COMPLETION_TOKENS, int(self.output_tokens)),
            KeyValue::new(TOTAL_TOKENS, int(self.total_tokens())),
        ]
    }
}
