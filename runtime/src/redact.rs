//! Keeping secrets and huge values out of spans: values whose argument name or JSON key
//! looks like a secret are masked, and attribute values past a size limit are cut at a
//! UTF-8 boundary with their original size recorded.

mod prefilter;

use std::sync::{Arc, RwLock};

use serde_json::Value as Json;

use prefilter::Prefilter;

/// What replaces a masked value.
pub const REDACTED: &str = "[REDACTED]";

/// The names masked by default (compared case-insensitively with the words of an
/// argument name or key: `openai_api_key`, `X-Api-Key` and `accessToken` match,
/// `max_tokens` does not).
pub const DEFAULT_SECRET_NAMES: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "api-key",
    "authorization",
    "cookie",
    "session_key",
    "private_key",
    "credential",
    "credentials",
    "secrets",
    "passwords",
    "cookies",
];

/// The default size limit of one attribute value: 32 KiB.
pub const DEFAULT_MAX_ATTRIBUTE_BYTES: usize = 32 * 1024;

/// What a capture made: the text, whether it was cut at the limit (its whole size then
/// unknown), and what panicked while it was made.
#[derive(Debug, Default)]
pub(crate) struct Captured {
    pub(crate) text: String,
    pub(crate) cut: bool,
    pub(crate) failures: Vec<String>,
}

/// The function a user gives to rewrite captured values.
pub(crate) type Rewrite = dyn Fn(&str, String) -> String + Send + Sync;

/// A user's rewrite of captured values: `(attribute key, value) -> value`.
#[derive(Clone)]
pub(crate) struct MaskFn(pub(crate) Arc<Rewrite>);

impl std::fmt::Debug for MaskFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MaskFn(..)")
    }
}

/// How captured values are made safe to export.
#[derive(Clone)]
pub(crate) struct Policy {
    /// Each secret name as its lowercase words (`api_key` → `["api", "key"]`).
    names: Vec<Vec<String>>,
    /// Which secret names these are, as a number no other set of names has had in this
    /// process: a call site keeps its arguments' verdicts under it
    /// ([`ArgVerdicts`](crate::site::ArgVerdicts)).
    pub(crate) names_generation: u32,
    /// Rejects, in one pass, texts where no secret word can occur.
    prefilter: Prefilter,
    pub(crate) max_bytes: usize,
    pub(crate) mask: Option<MaskFn>,
    pub(crate) blob_dir: Option<std::path::PathBuf>,
    /// The object store of large values, when one is configured.
    #[cfg(feature = "object-store")]
    pub(crate) blob_store: Option<Arc<crate::blob_store::Uploader>>,
    /// Baggage keys kept from an untrusted inbound context.
    pub(crate) untrusted_baggage_keys: Vec<String>,
    /// Prices per model, for the cost of generations (`Config::model_price`).
    pub(crate) prices: Vec<(String, crate::genai::ModelPrice)>,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field("names", &self.names)
            .field("max_bytes", &self.max_bytes)
            .field("mask", &self.mask.is_some())
            .field("blob_dir", &self.blob_dir)
            .finish()
    }
}

/// The lowercase words of a name: split at `_`, `-`, `.`, spaces and lower→upper case
/// changes (`accessToken` → `access`, `token`).
fn words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if matches!(c, '_' | '-' | '.' | ' ' | '/') {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            previous_lower = false;
            continue;
        }
        if c.is_uppercase() && previous_lower && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

impl Policy {
    pub(crate) fn new(names: &[impl AsRef<str>], max_bytes: usize) -> Self {
        let names: Vec<Vec<String>> = names
            .iter()
            .map(|n| words(n.as_ref()))
            .filter(|w| !w.is_empty())
            .collect();
        static GENERATIONS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
        Self {
            prefilter: Prefilter::new(&names),
            names,
            names_generation: GENERATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            max_bytes,
            mask: None,
            blob_dir: None,
            #[cfg(feature = "object-store")]
            blob_store: None,
            untrusted_baggage_keys: Vec::new(),
            prices: Vec::new(),
        }
    }

    /// Whether a name (argument, JSON key, header, field) looks like a secret.
    pub(crate) fn is_secret(&self, name: &str) -> bool {
        let name = words(name);
        self.names.iter().any(|secret| {
            secret.len() <= name.len()
                && name
                    .windows(secret.len())
                    .any(|window| window == secret.as_slice())
        })
    }

    /// Whether a key names a secret, with the one-pass prefilter first (most keys are
    /// rejected without splitting them into words).
    pub(crate) fn is_secret_key(&self, key: &str) -> bool {
        self.prefilter.may_match(key) && self.is_secret(key)
    }

    /// A cheap look at JSON text: could any key in it be a secret name?
    fn may_hold_secrets(&self, text: &str) -> bool {
        if !self.prefilter.may_match(text) {
            return false;
        }
        let lower = text.to_ascii_lowercase();
        self.names
            .iter()
            .any(|secret| secret.iter().all(|word| lower.contains(word.as_str())))
    }

    /// Masks the values of secret keys anywhere in a JSON document (text in, text out;
    /// text that is not JSON is returned as it is).
    pub(crate) fn redact_json(&self, text: String) -> String {
        if !self.may_hold_secrets(&text) {
            return text;
        }
        let Ok(mut json) = serde_json::from_str::<Json>(&text) else {
            return text;
        };
        if self.redact_value(&mut json) {
            json.to_string()
        } else {
            text
        }
    }

    fn redact_value(&self, value: &mut Json) -> bool {
        match value {
            Json::Object(map) => {
                let mut changed = false;
                for (key, value) in map.iter_mut() {
                    if self.is_secret(key) {
                        *value = Json::String(REDACTED.to_owned());
                        changed = true;
                    } else {
                        changed |= self.redact_value(value);
                    }
                }
                changed
            }
            Json::Array(items) => items
                .iter_mut()
                .fold(false, |c, v| self.redact_value(v) | c),
            _ => false,
        }
    }

    /// Masks `name: value` fields of secret names in `Debug` text
    /// (`Creds { api_key: "sk-1", user: "ada" }` → `Creds { api_key: "[REDACTED]", user: "ada" }`).
    pub(crate) fn redact_debug(&self, text: String) -> String {
        if !self.may_hold_secrets(&text) {
            return text;
        }
        let bytes = text.as_bytes();
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        let mut copied = 0;
        while i < bytes.len() {
            // An identifier followed by `: ` (or `=`), not inside a string.
            if bytes[i] == b'"' {
                // A string key of a map (`{"api_key": "sk-1"}`) is a name too.
                let end = skip_string(bytes, i);
                let key = text.get(i + 1..end.saturating_sub(1)).unwrap_or_default();
                i = if text[end..].starts_with(": ") && self.is_secret(key) {
                    mask_value(&text, end + 2, &mut copied, &mut out)
                } else {
                    end
                };
                continue;
            }
            if bytes[i].is_ascii_alphabetic() || bytes[i] == b'_' {
                let start = i;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'_' | b'-'))
                {
                    i += 1;
                }
                let name = &text[start..i];
                let separator = if text[i..].starts_with(": ") {
                    2
                } else if text[i..].starts_with('=') || text[i..].starts_with(':') {
                    1
                } else {
                    0
                };
                if separator > 0 && self.is_secret(name) {
                    i = mask_value(&text, i + separator, &mut copied, &mut out);
                }
                continue;
            }
            i += 1;
        }
        out.push_str(&text[copied..]);
        out
    }

    /// Applies the user's mask function, if any. A mask that panics is contained: the
    /// value is masked whole (what the mask meant to hide must not leak), and the failure
    /// returned.
    pub(crate) fn mask(&self, key: &str, value: String) -> (String, Option<String>) {
        match &self.mask {
            Some(mask) => match crate::contain::contained(|| (mask.0)(key, value)) {
                Ok(masked) => (masked, None),
                Err(message) => (
                    REDACTED.to_owned(),
                    Some(crate::contain::failure("the mask function", key, &message)),
                ),
            },
            None => (value, None),
        }
    }
}

/// Copies what precedes the Debug value starting at `value_start`, writes `"[REDACTED]"`
/// in its place, and returns the index after it (where copying resumes).
fn mask_value(text: &str, value_start: usize, copied: &mut usize, out: &mut String) -> usize {
    let end = value_end(text.as_bytes(), value_start);
    out.push_str(&text[*copied..value_start]);
    out.push('"');
    out.push_str(REDACTED);
    out.push('"');
    *copied = end;
    end
}

/// The index after the string literal starting at `start` (a `"`), escapes honoured.
fn skip_string(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The end of a Debug value starting at `start`: a string literal, or everything up to
/// the `,` / `}` / `)` / `]` that closes it at its own nesting depth (spaces before it
/// left out).
fn value_end(bytes: &[u8], start: usize) -> usize {
    if bytes.get(start) == Some(&b'"') {
        return skip_string(bytes, start);
    }
    let mut end = open_value_end(bytes, start);
    while end > start && bytes[end - 1] == b' ' {
        end -= 1;
    }
    end
}

fn open_value_end(bytes: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i = skip_string(bytes, i);
                continue;
            }
            b'{' | b'(' | b'[' => depth += 1,
            b'}' | b')' | b']' if depth == 0 => return i,
            b'}' | b')' | b']' => depth -= 1,
            b',' if depth == 0 => return i,
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

static POLICY: RwLock<Option<Arc<Policy>>> = RwLock::new(None);

/// The policy in force (the defaults until `init()` sets another).
pub(crate) fn policy() -> Arc<Policy> {
    if let Ok(slot) = POLICY.read() {
        if let Some(policy) = slot.as_ref() {
            return policy.clone();
        }
    }
    default_policy()
}

fn default_policy() -> Arc<Policy> {
    static DEFAULT: std::sync::OnceLock<Arc<Policy>> = std::sync::OnceLock::new();
    DEFAULT
        .get_or_init(|| {
            Arc::new(Policy::new(
                DEFAULT_SECRET_NAMES,
                DEFAULT_MAX_ATTRIBUTE_BYTES,
            ))
        })
        .clone()
}

pub(crate) fn install(policy: Option<Policy>) {
    if let Ok(mut slot) = POLICY.write() {
        *slot = policy.map(Arc::new);
    }
}

/// A value cut to the size limit: the kept text, and the original size when it was cut.
pub(crate) fn limit(text: String, max: usize) -> (String, Option<usize>) {
    if text.len() <= max {
        return (text, None);
    }
    let original = text.len();
    let kept = crate::bounded::prefix(&text, max).len();
    let mut text = text;
    text.truncate(kept);
    (text, Some(original))
}

impl Policy {
    /// Whether values past the limit are kept whole somewhere (a blob directory or an
    /// object store), so capture must write them whole before they are cut.
    pub(crate) fn keeps_whole_values(&self) -> bool {
        #[cfg(feature = "object-store")]
        if self.blob_store.is_some() {
            return true;
        }
        self.blob_dir.is_some()
    }

    /// The attributes that carry `text` under `key`: the user's mask applied, the value cut
    /// to the size limit (then `traced.truncated.{key}` holds the original size), and, with
    /// a blob directory, the whole value written there (`traced.blob.{key}` holds the path).
    pub(crate) fn text_attributes(
        &self,
        key: &'static str,
        text: String,
        span: &opentelemetry::trace::SpanContext,
    ) -> Vec<opentelemetry::KeyValue> {
        self.captured_attributes(
            key,
            Captured {
                text,
                ..Default::default()
            },
            span,
        )
    }

    /// [`Policy::text_attributes`] of a capture: one cut at the limit by the serialiser
    /// has `traced.truncated.{key}` = `"more than {limit}"` (its whole size was never
    /// computed); each capture failure is `traced.capture.failed.{key}`.
    pub(crate) fn captured_attributes(
        &self,
        key: &'static str,
        captured: Captured,
        span: &opentelemetry::trace::SpanContext,
    ) -> Vec<opentelemetry::KeyValue> {
        use opentelemetry::KeyValue;
        let (text, mask_failure) = self.mask(key, captured.text);
        let mut failures = captured.failures;
        failures.extend(mask_failure);
        let cut = captured.cut;
        let mut extra = Vec::new();
        if !failures.is_empty() {
            extra.push(KeyValue::new(
                format!("traced.capture.failed.{key}"),
                crate::bounded::cut(&failures.join("; "), self.max_bytes),
            ));
        }
        if cut {
            extra.push(KeyValue::new(
                format!("traced.truncated.{key}"),
                format!("more than {}", self.max_bytes),
            ));
        }
        if text.len() <= self.max_bytes {
            // Room for the MIME type the callers add.
            let mut attributes = Vec::with_capacity(2 + extra.len());
            attributes.push(KeyValue::new(key, text));
            attributes.extend(extra);
            return attributes;
        }
        let name = format!(
            "{:032x}-{:016x}-{}.txt",
            span.trace_id(),
            span.span_id(),
            crate::export::file_safe(key)
        );
        // Where the whole value is kept (an object store's URL, a blob file's path), if
        // anywhere; then the same attributes whichever it is.
        let whole = self.keep_whole(key, &name, &text);
        let (kept, original) = limit(text, self.max_bytes);
        let mut attributes = vec![KeyValue::new(key, kept)];
        if let Some(original) = original.filter(|_| !cut) {
            attributes.push(KeyValue::new(
                format!("traced.truncated.{key}"),
                i64::try_from(original).unwrap_or(i64::MAX),
            ));
        }
        if let Some(whole) = whole {
            attributes.push(KeyValue::new(format!("traced.blob.{key}"), whole));
        }
        attributes.extend(extra);
        attributes
    }

    /// Keeps `text`, the whole value of `key`, where values past the limit go: the object
    /// store (uploaded off this thread; its URL) or else the blob directory (its path).
    /// `None` when neither is configured or the value could not be kept.
    fn keep_whole(&self, key: &str, name: &str, text: &str) -> Option<String> {
        #[cfg(feature = "object-store")]
        if let Some(store) = &self.blob_store {
            return store.offer(name, text.to_owned());
        }
        let dir = self.blob_dir.as_ref()?;
        let path = dir.join(name);
        let written =
            std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&path, text.as_bytes()));
        match written {
            Ok(()) => Some(path.display().to_string()),
            Err(error) => {
                log::warn!(
                    "traced: could not write the full {key} to {}: {error}",
                    path.display()
                );
                None
            }
        }
    }

    /// The value of a `fields(...)` or `set_attribute` attribute, made safe: masked when
    /// its key is a secret name, text cut to the limit.
    pub(crate) fn field_value(
        &self,
        key: &str,
        value: opentelemetry::Value,
    ) -> opentelemetry::Value {
        use opentelemetry::Value;
        if self.is_secret(key) {
            return Value::from(REDACTED);
        }
        match value {
            Value::String(text) => {
                let (text, _) = self.mask(key, text.to_string());
                let text = if text.starts_with('{') || text.starts_with('[') {
                    self.redact_json(text)
                } else {
                    text
                };
                Value::from(limit(text, self.max_bytes).0)
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy::new(DEFAULT_SECRET_NAMES, 64)
    }

    #[test]
    fn names_match_by_words() {
        let p = policy();
        for secret in [
            "password",
            "PASSWORD",
            "openai_api_key",
            "X-Api-Key",
            "accessToken",
            "apiKey",
            "client_secret",
            "Authorization",
            "set-cookie",
            "db.credentials",
            "session_key",
        ] {
            assert!(p.is_secret(secret), "{secret}");
        }
        for fine in [
            "max_tokens",
            "input_tokens",
            "tokenizer",
            "key",
            "session_id",
            "author",
            "user",
        ] {
            assert!(!p.is_secret(fine), "{fine}");
        }
    }

    #[test]
    fn json_keys_are_masked_at_any_depth() {
        let p = policy();
        let text = r#"{"user":"ada","auth":{"api_key":"sk-1","nested":[{"Password":"x"}]},"max_tokens":5}"#;
        let json: Json = serde_json::from_str(&p.redact_json(text.to_owned())).unwrap();
        assert_eq!(json["auth"]["api_key"], REDACTED);
        assert_eq!(json["auth"]["nested"][0]["Password"], REDACTED);
        assert_eq!(json["user"], "ada");
        assert_eq!(json["max_tokens"], 5);
        // Nothing that looks like a secret: the very same text back.
        assert_eq!(p.redact_json(r#"{"a":1}"#.to_owned()), r#"{"a":1}"#);
    }

    #[test]
    fn debug_fields_are_masked() {
        let p = policy();
        let text = r#"Creds { api_key: "sk-\"quoted\"", user: "ada", token: Some("t"), inner: Inner { password: 42 } }"#;
        assert_eq!(
            p.redact_debug(text.to_owned()),
            r#"Creds { api_key: "[REDACTED]", user: "ada", token: "[REDACTED]", inner: Inner { password: "[REDACTED]" } }"#
        );
        assert_eq!(
            p.redact_debug("name: \"password\"".to_owned()),
            "name: \"password\""
        );
        assert_eq!(
            p.redact_debug(r#"{"api_key": "sk", "user": "ada"}"#.to_owned()),
            r#"{"api_key": "[REDACTED]", "user": "ada"}"#
        );
    }

    #[test]
    fn limits_cut_at_utf8_boundaries() {
        assert_eq!(limit("héllo".to_owned(), 2), ("h".to_owned(), Some(6)));
        assert_eq!(limit("ok".to_owned(), 2), ("ok".to_owned(), None));
    }
}
