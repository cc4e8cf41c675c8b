//! The attribute keys `traced` writes, one schema that Langfuse, Arize Phoenix, LangSmith
//! and OpenTelemetry GenAI tooling all read.
//!
//! ```
//! assert_eq!(traced::attributes::INPUT_VALUE, "input.value");
//! ```

/// The captured arguments: a JSON object keyed by argument name.
pub const INPUT_VALUE: &str = "input.value";
/// The MIME type of [`INPUT_VALUE`]: always `application/json`.
pub const INPUT_MIME_TYPE: &str = "input.mime_type";
/// The captured output: JSON, or the text itself when the output is a string.
pub const OUTPUT_VALUE: &str = "output.value";
/// The MIME type of [`OUTPUT_VALUE`]: `application/json` or `text/plain`.
pub const OUTPUT_MIME_TYPE: &str = "output.mime_type";
/// The OpenInference span kind (`LLM`, `TOOL`, `CHAIN`, ...), read by Arize Phoenix.
pub const OPENINFERENCE_SPAN_KIND: &str = "openinference.span.kind";
/// The Langfuse observation type (`span`, `generation`, `tool`, ...).
pub const LANGFUSE_OBSERVATION_TYPE: &str = "langfuse.observation.type";
/// The Langfuse observation level: `DEBUG`, `DEFAULT`, `WARNING` or `ERROR`
/// ([`CurrentSpan::set_level`](crate::CurrentSpan::set_level)).
pub const LANGFUSE_OBSERVATION_LEVEL: &str = "langfuse.observation.level";
/// The Langfuse observation status message, shown beside the level.
pub const LANGFUSE_OBSERVATION_STATUS_MESSAGE: &str = "langfuse.observation.status_message";
/// The name of the Langfuse-managed prompt a generation used.
pub const LANGFUSE_OBSERVATION_PROMPT_NAME: &str = "langfuse.observation.prompt.name";
/// The version (an integer) of that prompt.
pub const LANGFUSE_OBSERVATION_PROMPT_VERSION: &str = "langfuse.observation.prompt.version";
/// The fully qualified name of the traced function (`my_crate::module::function`).
pub const CODE_FUNCTION_NAME: &str = "code.function.name";
/// The source file of the traced function.
pub const CODE_FILE_PATH: &str = "code.file.path";
/// The line of the traced function's name in [`CODE_FILE_PATH`].
pub const CODE_LINE_NUMBER: &str = "code.line.number";
/// `true` on a span whose future was dropped before it completed.
pub const CANCELLED: &str = "traced.cancelled";
/// `true` on a span whose function panicked.
pub const PANICKED: &str = "traced.panicked";
/// On a stream's span: how many items it yielded.
pub const STREAM_CHUNKS: &str = "traced.stream.chunks";
/// On a stream's span: the bytes of output that arrived (text bytes, or JSON of items).
pub const STREAM_BYTES: &str = "traced.stream.bytes";
/// On a stream's span: seconds from the call to the end of the stream.
pub const STREAM_DURATION: &str = "traced.stream.duration";
/// On a stream's span: `true` when it was dropped before it ended.
pub const STREAM_CANCELLED: &str = "traced.stream.cancelled";
/// On a stream's span: `true` when byte items were not UTF-8 (replaced in the output).
pub const STREAM_INVALID_UTF8: &str = "traced.stream.invalid_utf8";
/// Seconds from the call to the first item of a stream.
pub const STREAM_TIME_TO_FIRST_CHUNK: &str = "gen_ai.response.time_to_first_chunk";
/// RFC 3339 time of the first item of a stream (Langfuse's completion start time).
pub const COMPLETION_START_TIME: &str = "langfuse.observation.completion_start_time";
/// `true` when the recorded output was cut at the size cap.
pub const OUTPUT_TRUNCATED: &str = "traced.output.truncated";
/// What was wrong with the inbound trace context of a span that had to start a new trace.
pub const PROPAGATION_PROBLEM: &str = "traced.propagation.problem";
/// The user of the trace: set by [`TraceAttributes`](crate::TraceAttributes), copied to
/// every span of the trace and carried to other services in `baggage`.
pub const USER_ID: &str = "user.id";
/// The session of the trace, like [`USER_ID`].
pub const SESSION_ID: &str = "session.id";
/// The name of the event that records an error or a panic.
pub const EXCEPTION_EVENT: &str = "exception";
/// The type of the error, on the [`EXCEPTION_EVENT`].
pub const EXCEPTION_TYPE: &str = "exception.type";
/// The error's message with its whole `source()` chain, on the [`EXCEPTION_EVENT`].
pub const EXCEPTION_MESSAGE: &str = "exception.message";

/// The MIME type of JSON values.
pub const MIME_JSON: &str = "application/json";
/// The MIME type of plain text values.
pub const MIME_TEXT: &str = "text/plain";
