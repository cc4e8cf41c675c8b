//! What kind of work a span stands for (`as_type = "..."` in `#[traced]`).

use std::fmt;
use std::str::FromStr;

/// The kind of observation a span records, set by `#[traced(as_type = "...")]`.
///
/// Each kind is written both as the OpenInference span kind (`openinference.span.kind`,
/// read by Arize Phoenix) and as the Langfuse observation type
/// (`langfuse.observation.type`).
///
/// ```
/// use traced::ObservationType;
///
/// let kind: ObservationType = "generation".parse().unwrap();
/// assert_eq!(kind, ObservationType::Generation);
/// assert_eq!(kind.openinference_kind(), "LLM");
/// assert_eq!(kind.langfuse_type(), "generation");
/// assert!("llm-call".parse::<ObservationType>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ObservationType {
    /// Any unit of work (the default): OpenInference `CHAIN`, Langfuse `span`.
    #[default]
    Span,
    /// A call to a language model: OpenInference `LLM`, Langfuse `generation`.
    Generation,
    /// A tool the model calls: `TOOL` / `tool`.
    Tool,
    /// An agent deciding what to do next: `AGENT` / `agent`.
    Agent,
    /// A chain of steps: `CHAIN` / `chain`.
    Chain,
    /// A retrieval from a store or index: `RETRIEVER` / `retriever`.
    Retriever,
    /// A call to an embedding model: `EMBEDDING` / `embedding`.
    Embedding,
    /// An evaluation of another step's output: `EVALUATOR` / `evaluator`.
    Evaluator,
    /// A guardrail check: `GUARDRAIL` / `guardrail`.
    Guardrail,
}

impl ObservationType {
    /// Every kind, in the order of the documentation.
    ///
    /// ```
    /// assert_eq!(traced::ObservationType::ALL.len(), 9);
    /// ```
    pub const ALL: [ObservationType; 9] = [
        Self::Span,
        Self::Generation,
        Self::Tool,
        Self::Agent,
        Self::Chain,
        Self::Retriever,
        Self::Embedding,
        Self::Evaluator,
        Self::Guardrail,
    ];

    /// The name used in `as_type = "..."` and in `langfuse.observation.type`.
    ///
    /// ```
    /// assert_eq!(traced::ObservationType::Tool.langfuse_type(), "tool");
    /// ```
    pub const fn langfuse_type(self) -> &'static str {
        match self {
            Self::Span => "span",
            Self::Generation => "generation",
            Self::Tool => "tool",
            Self::Agent => "agent",
            Self::Chain => "chain",
            Self::Retriever => "retriever",
            Self::Embedding => "embedding",
            Self::Evaluator => "evaluator",
            Self::Guardrail => "guardrail",
        }
    }

    /// The value of `openinference.span.kind`.
    ///
    /// ```
    /// assert_eq!(traced::ObservationType::Span.openinference_kind(), "CHAIN");
    /// ```
    pub const fn openinference_kind(self) -> &'static str {
        match self {
            Self::Span | Self::Chain => "CHAIN",
            Self::Generation => "LLM",
            Self::Tool => "TOOL",
            Self::Agent => "AGENT",
            Self::Retriever => "RETRIEVER",
            Self::Embedding => "EMBEDDING",
            Self::Evaluator => "EVALUATOR",
            Self::Guardrail => "GUARDRAIL",
        }
    }
}

impl fmt::Display for ObservationType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.langfuse_type())
    }
}

/// The error of parsing an unknown observation type.
///
/// ```
/// let err = "llm".parse::<traced::ObservationType>().unwrap_err();
/// assert!(err.to_string().contains("generation"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownObservationType(pub String);

impl fmt::Display for UnknownObservationType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown observation type `{}`; expected one of ", self.0)?;
        for (i, kind) in ObservationType::ALL.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "`{kind}`")?;
        }
        Ok(())
    }
}

impl std::error::Error for UnknownObservationType {}

impl FromStr for ObservationType {
    type Err = UnknownObservationType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ObservationType::ALL
            .into_iter()
            .find(|kind| kind.langfuse_type() == s)
            .ok_or_else(|| UnknownObservationType(s.to_owned()))
    }
}
