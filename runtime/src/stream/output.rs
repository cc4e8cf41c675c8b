//! The output a traced stream accumulates from its items: text concatenated, other items
//! as a JSON array, errors, usage, all within a memory cap.

use std::fmt::Debug;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;

use crate::capture::ValueSink;
use crate::error_chain::ErrorReport;
use crate::llm::Usage;

/// The default cap of a stream's accumulated output: 1 MiB.
pub const DEFAULT_STREAM_OUTPUT_LIMIT: usize = 1 << 20;

static OUTPUT_LIMIT: AtomicUsize = AtomicUsize::new(DEFAULT_STREAM_OUTPUT_LIMIT);

/// Caps how many bytes of a stream's output are kept (for streams started from now on).
/// Past the cap the output is kept truncated, marked `traced.output.truncated = true`,
/// while `traced.stream.chunks` and `traced.stream.bytes` keep counting.
///
/// ```
/// traced::set_stream_output_limit(64 * 1024);
/// assert_eq!(traced::stream_output_limit(), 64 * 1024);
/// # traced::set_stream_output_limit(traced::DEFAULT_STREAM_OUTPUT_LIMIT);
/// ```
pub fn set_stream_output_limit(bytes: usize) {
    OUTPUT_LIMIT.store(bytes, Ordering::Relaxed);
}

/// The cap set by [`set_stream_output_limit`] (1 MiB unless changed).
///
/// ```
/// assert!(traced::stream_output_limit() > 0);
/// ```
pub fn stream_output_limit() -> usize {
    OUTPUT_LIMIT.load(Ordering::Relaxed)
}

/// How a chunk type adds itself to the output a traced stream records, and what usage it
/// carries. Implement it for your chunk type; `#[traced]` uses it without more code.
///
/// ```
/// use traced::{Accumulate, StreamOutput, Usage};
///
/// struct Chunk {
///     delta: String,
///     usage: Option<Usage>,
/// }
///
/// impl Accumulate for Chunk {
///     fn accumulate(&self, output: &mut StreamOutput) {
///         output.push_text(&self.delta);
///         if let Some(usage) = self.usage {
///             output.set_usage(usage);
///         }
///     }
/// }
///
/// let mut output = StreamOutput::with_limit(1024);
/// Chunk { delta: "Hel".into(), usage: None }.accumulate(&mut output);
/// Chunk { delta: "lo".into(), usage: Some(Usage::new(3, 2)) }
///     .accumulate(&mut output);
/// assert_eq!(output.text(), "Hello");
/// assert_eq!(output.usage(), Some(Usage::new(3, 2)));
/// ```
pub trait Accumulate {
    /// Adds this chunk to `output`.
    fn accumulate(&self, output: &mut StreamOutput);
}

/// Types whose items are text: concatenated into the output.
#[doc(hidden)]
pub trait TextChunk {
    fn push_to(&self, output: &mut StreamOutput);
}

macro_rules! text_chunk {
    ($($t:ty),*) => {$(
        impl TextChunk for $t {
            fn push_to(&self, output: &mut StreamOutput) {
                output.push_text(self);
            }
        }
    )*};
}
text_chunk!(
    str,
    String,
    Box<str>,
    std::rc::Rc<str>,
    std::sync::Arc<str>,
    std::borrow::Cow<'_, str>
);

impl TextChunk for [u8] {
    fn push_to(&self, output: &mut StreamOutput) {
        output.push_bytes(self);
    }
}

impl TextChunk for Vec<u8> {
    fn push_to(&self, output: &mut StreamOutput) {
        output.push_bytes(self);
    }
}

impl<T: TextChunk + ?Sized> TextChunk for &T {
    fn push_to(&self, output: &mut StreamOutput) {
        (**self).push_to(output);
    }
}

/// What a traced stream has recorded of its items so far.
///
/// Custom reducers (`#[traced(reduce = path)]`) and [`Accumulate`] implementations write
/// into it.
///
/// ```
/// let mut output = traced::StreamOutput::with_limit(8);
/// output.push_text("hello ");
/// output.push_text("world");
/// assert_eq!(output.text(), "hello wo");
/// assert!(output.is_truncated());
/// assert_eq!(output.bytes(), 11);
/// ```
#[derive(Debug)]
pub struct StreamOutput {
    text: String,
    /// The JSON array's elements, comma-separated, without the brackets.
    items: String,
    bytes: u64,
    limit: usize,
    truncated: bool,
    invalid_utf8: bool,
    usage: Option<Usage>,
    response_model: Option<String>,
    errors: Vec<ErrorReport>,
    /// An LLM reply put together from its chunks (OpenAI's chat completions chunks).
    #[cfg(feature = "async-openai")]
    pub(crate) reply: Option<Box<crate::genai::StreamedReply>>,
}

impl Default for StreamOutput {
    fn default() -> Self {
        Self::with_limit(stream_output_limit())
    }
}

impl StreamOutput {
    /// An empty output that keeps at most `limit` bytes.
    ///
    /// ```
    /// assert_eq!(traced::StreamOutput::with_limit(10).text(), "");
    /// ```
    pub fn with_limit(limit: usize) -> Self {
        Self {
            text: String::new(),
            items: String::new(),
            bytes: 0,
            limit,
            truncated: false,
            invalid_utf8: false,
            usage: None,
            response_model: None,
            errors: Vec::new(),
            #[cfg(feature = "async-openai")]
            reply: None,
        }
    }

    fn kept(&self) -> usize {
        self.text.len() + self.items.len()
    }

    /// Appends text to the output.
    ///
    /// ```
    /// let mut output = traced::StreamOutput::default();
    /// output.push_text("a");
    /// output.push_text("b");
    /// assert_eq!(output.text(), "ab");
    /// ```
    pub fn push_text(&mut self, text: &str) {
        self.bytes += text.len() as u64;
        if self.truncated {
            // Once cut, later pieces are not appended: the kept text stays a true prefix.
            return;
        }
        let room = self.limit.saturating_sub(self.kept());
        if text.len() <= room {
            self.text.push_str(text);
        } else {
            self.text.push_str(crate::bounded::prefix(text, room));
            self.truncated = true;
        }
    }

    /// Appends bytes as text; bytes that are not UTF-8 are replaced (and
    /// `traced.stream.invalid_utf8 = true` is recorded).
    ///
    /// ```
    /// let mut output = traced::StreamOutput::default();
    /// output.push_bytes(b"caf\xc3\xa9");
    /// assert_eq!(output.text(), "café");
    /// ```
    pub fn push_bytes(&mut self, bytes: &[u8]) {
        match std::str::from_utf8(bytes) {
            Ok(text) => self.push_text(text),
            Err(_) => {
                self.invalid_utf8 = true;
                let text = String::from_utf8_lossy(bytes);
                self.push_text(&text);
                // Count what arrived, not the replacement characters.
                self.bytes = self.bytes - text.len() as u64 + bytes.len() as u64;
            }
        }
    }

    /// Appends one item to the output's JSON array.
    ///
    /// ```
    /// let mut output = traced::StreamOutput::default();
    /// output.push_item(&1);
    /// output.push_item(&"two");
    /// assert_eq!(output.items_json(), Some(r#"[1,"two"]"#.to_owned()));
    /// ```
    pub fn push_item<T: Serialize + ?Sized>(&mut self, item: &T) {
        // Written masked, and no further than the output's limit: an item larger than
        // the whole output cannot be kept, and is not serialised past it.
        let policy = crate::redact::policy();
        let mut bytes = Vec::new();
        let written = crate::capture::write_json(&mut bytes, item, self.limit, &policy);
        let json = match written {
            crate::capture::Written::Whole | crate::capture::Written::Cut => {
                String::from_utf8(bytes).unwrap_or_default()
            }
            crate::capture::Written::Failed(error) => serde_json::Value::String(format!(
                "<not serializable: {error}: {}>",
                std::any::type_name::<T>()
            ))
            .to_string(),
        };
        self.push_item_json(json);
    }

    fn push_item_json(&mut self, json: String) {
        self.bytes += json.len() as u64;
        if self.truncated {
            return;
        }
        let separator = usize::from(!self.items.is_empty());
        // The 2 bytes of the brackets count too, so the rendered array fits the cap.
        if self.kept() + separator + json.len() + 2 > self.limit {
            self.truncated = true;
            return;
        }
        if separator == 1 {
            self.items.push(',');
        }
        self.items.push_str(&json);
    }

    /// Records the usage the reply reports (the last one given wins).
    ///
    /// ```
    /// let mut output = traced::StreamOutput::default();
    /// output.set_usage(traced::Usage::new(1, 2));
    /// assert_eq!(output.usage().map(|u| u.total_tokens()), Some(3));
    /// ```
    pub fn set_usage(&mut self, usage: Usage) {
        self.usage = Some(usage);
    }

    /// Records the model that answered, as the reply names it (`gen_ai.response.model`).
    ///
    /// ```
    /// let mut output = traced::StreamOutput::default();
    /// output.set_response_model("tiny-llm-1-2026");
    /// ```
    pub fn set_response_model(&mut self, model: impl Into<String>) {
        self.response_model = Some(model.into());
    }

    /// Records an error one item carried: an `exception` event; the first also sets the
    /// span status to Error.
    ///
    /// ```
    /// let mut output = traced::StreamOutput::default();
    /// output.record_error(&std::io::Error::other("connection reset"));
    /// ```
    pub fn record_error(&mut self, error: &(dyn std::error::Error + '_)) {
        self.errors
            .push(ErrorReport::from_error("dyn std::error::Error", error));
    }

    #[doc(hidden)]
    pub fn record_error_report(&mut self, report: ErrorReport) {
        self.errors.push(report);
    }

    /// The text accumulated so far (truncated past the cap).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The non-text items accumulated so far, as a JSON array; `None` if there were none.
    pub fn items_json(&self) -> Option<String> {
        (!self.items.is_empty()).then(|| format!("[{}]", self.items))
    }

    /// Whether the cap cut the output.
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }

    /// Bytes of output that arrived, kept or not.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The usage recorded, if any.
    pub fn usage(&self) -> Option<Usage> {
        self.usage
    }

    pub(crate) fn response_model(&self) -> Option<&str> {
        self.response_model.as_deref()
    }

    pub(crate) fn invalid_utf8(&self) -> bool {
        self.invalid_utf8
    }

    pub(crate) fn take_errors(&mut self) -> Vec<ErrorReport> {
        std::mem::take(&mut self.errors)
    }

    /// The output to record and its MIME type: the items as a JSON array (with the text,
    /// if any, as a last string element), or else the text.
    pub(crate) fn render(&self) -> Option<(String, &'static str)> {
        use crate::attributes::{MIME_JSON, MIME_TEXT};
        match (self.items.is_empty(), self.text.is_empty()) {
            (true, true) => None,
            (true, false) => Some((self.text.clone(), MIME_TEXT)),
            (false, true) => Some((format!("[{}]", self.items), MIME_JSON)),
            (false, false) => {
                let text = serde_json::Value::String(self.text.clone());
                Some((format!("[{},{text}]", self.items), MIME_JSON))
            }
        }
    }
}

/// Items that are neither text nor [`Accumulate`] go through the capture rules: JSON,
/// else Debug text, else the type name, as elements of a JSON array.
impl ValueSink for StreamOutput {
    fn serialize<T: Serialize + ?Sized>(&mut self, value: &T) {
        self.push_item(value);
    }

    fn debug<T: Debug + ?Sized>(&mut self, value: &T) {
        self.push_item(&format!("{value:?}"));
    }

    fn type_name(&mut self, name: &'static str) {
        self.push_item(&format!("<{name}>"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_utf8_boundaries() {
        let mut output = StreamOutput::with_limit(5);
        output.push_text("ab");
        output.push_text("cé€"); // c(1) é(2) €(3): only "cé" fits in the 3 left
        assert_eq!(output.text(), "abcé");
        assert!(output.is_truncated());
        output.push_text("x");
        assert_eq!(output.text(), "abcé", "nothing is appended after the cut");
        assert_eq!(output.bytes(), 2 + 6 + 1);
    }

    #[test]
    fn items_stop_at_the_cap_but_keep_counting() {
        let mut output = StreamOutput::with_limit(8);
        for i in 0..10 {
            output.push_item(&i);
        }
        assert_eq!(output.items_json().as_deref(), Some("[0,1,2]"));
        assert_eq!(output.bytes(), 10);
        assert!(output.is_truncated());
    }

    #[test]
    fn invalid_utf8_is_replaced_and_counted_as_it_came() {
        let mut output = StreamOutput::default();
        output.push_bytes(&[b'o', b'k', 0xff]);
        assert_eq!(output.text(), "ok\u{fffd}");
        assert_eq!(output.bytes(), 3);
        assert!(output.invalid_utf8());
    }
}
