//! Where a captured value goes: into the JSON object of the inputs, or into the output.
//!
//! Every value is written within the size limit (the serialiser stops there: see
//! [`bounded`](super::bounded)), masked as it is written, and contained: a `Serialize` or
//! `Debug` that panics leaves a marker in the value, a capture failure on the span, and
//! the call itself untouched.

use std::fmt::Debug;
use std::sync::Arc;

use serde::Serialize;

use super::bounded::{debug_text, write_json, Written};
use super::json_text::push_json_string;
use super::primitive::{is_std_primitive, text_of, write_primitive, Written as PrimitiveKind};
use crate::attributes::{MIME_JSON, MIME_TEXT};
use crate::contain::{contained, failure};
use crate::deferred::{INPUT_INLINE, OUTPUT_INLINE};
use crate::redact::{Captured, Policy, REDACTED};
use crate::site::CallSite;
use crate::small_text::{InlineText, SmallText, TextOut};

/// What a captured value is written into. The three methods are the three capture rules:
/// JSON for `Serialize`, Debug text for `Debug`, the type name for anything else.
#[doc(hidden)]
pub trait ValueSink {
    fn serialize<T: Serialize + ?Sized>(&mut self, value: &T);
    fn debug<T: Debug + ?Sized>(&mut self, value: &T);
    fn type_name(&mut self, name: &'static str);
    /// Attributes a value's type knows how to say beside its JSON (an LLM request's
    /// model and messages, say); set on the span with the value.
    fn attributes(&mut self, attributes: Vec<opentelemetry::KeyValue>) {
        let _ = attributes;
    }
}

/// How many bytes a capture may write under `policy`: the attribute limit, or all of it
/// when values past the limit are kept whole in the blob directory.
fn capture_room(policy: &Policy) -> usize {
    if policy.keeps_whole_values() {
        usize::MAX
    } else {
        policy.max_bytes
    }
}

fn not_serializable<T: ?Sized>(out: &mut impl TextOut, err: &serde_json::Error) {
    push_json_string(
        out,
        format_args!("<not serializable: {err}: {}>", std::any::type_name::<T>()),
    );
}

#[doc(hidden)]
#[derive(Debug)]
pub struct InputObject {
    /// Inline while it is small (see [`crate::small_text`]).
    json: SmallText<INPUT_INLINE>,
    policy: Arc<Policy>,
    /// The most bytes the object may take.
    limit: usize,
    /// The limit was reached: nothing more is written.
    cut: bool,
    /// The argument being written has a secret name: its value is masked.
    masked: bool,
    failures: Vec<String>,
    /// Attributes the values' types added ([`ValueSink::attributes`]).
    pub(crate) extra: Vec<opentelemetry::KeyValue>,
}

impl Default for InputObject {
    fn default() -> Self {
        Self::new()
    }
}

impl InputObject {
    pub fn new() -> Self {
        Self::with_policy(crate::redact::policy())
    }

    /// An empty object whose values are written under `policy` (the call's).
    pub(crate) fn with_policy(policy: Arc<Policy>) -> Self {
        let mut json = SmallText::new();
        json.push_text("{");
        Self {
            json,
            limit: capture_room(&policy),
            policy,
            cut: false,
            masked: false,
            failures: Vec::new(),
            extra: Vec::new(),
        }
    }

    fn room(&self) -> usize {
        self.limit.saturating_sub(self.json.text_len())
    }

    /// The policy the values are written under.
    pub(crate) fn policy(&self) -> &Arc<Policy> {
        &self.policy
    }

    /// Starts the entry of argument `name`; the value is written through the sink.
    pub fn arg(&mut self, name: &str) -> &mut Self {
        if self.cut {
            return self;
        }
        if self.json.text_len() > 1 {
            self.json.push_text(",");
        }
        push_json_string(&mut self.json, format_args!("{name}"));
        self.json.push_text(":");
        self.masked = self.policy.is_secret_key(name);
        self
    }

    /// Starts argument `index` of `site` from its key already written as JSON
    /// (`"name":`), as the macro writes it at compile time for an identifier (which needs
    /// no escaping); whether it has a secret name is decided once and kept by the site.
    pub fn site_key(
        &mut self,
        site: &'static CallSite,
        index: usize,
        json_key: &'static str,
    ) -> &mut Self {
        if self.cut {
            return self;
        }
        if self.json.text_len() > 1 {
            self.json.push_text(",");
        }
        self.json.push_text(json_key);
        let generation = self.policy.names_generation;
        self.masked = site.args.get(generation, index).unwrap_or_else(|| {
            let secret = self.policy.is_secret_key(name_of(json_key));
            site.args.set(generation, index, secret);
            secret
        });
        self
    }

    /// Writes the masked value of a secret-named argument instead of its value; whether
    /// it did.
    fn write_masked(&mut self) -> bool {
        if std::mem::take(&mut self.masked) {
            self.json.push_text("\"");
            self.json.push_text(REDACTED);
            self.json.push_text("\"");
            true
        } else {
            false
        }
    }

    /// Marks the object cut when it went past its limit.
    fn check_room(&mut self) {
        if self.json.text_len() >= self.limit {
            self.cut = true;
        }
    }

    #[cfg(test)]
    pub(crate) fn finish(mut self) -> Captured {
        if !self.cut {
            self.json.push_text("}");
        }
        Captured {
            text: self.json.into_string(),
            cut: self.cut,
            failures: self.failures,
        }
    }

    /// The object still inline when it is whole and nothing failed (to be carried in the
    /// span's record: see [`crate::deferred`]); else the capture, as [`Self::finish`].
    pub(crate) fn finish_small(mut self) -> Result<InlineText<INPUT_INLINE>, Captured> {
        if !self.cut {
            self.json.push_text("}");
            if let (Some(text), true) = (self.json.inline(), self.failures.is_empty()) {
                return Ok(*text);
            }
        }
        Err(Captured {
            text: self.json.into_string(),
            cut: self.cut,
            failures: self.failures,
        })
    }
}

impl ValueSink for InputObject {
    fn attributes(&mut self, attributes: Vec<opentelemetry::KeyValue>) {
        self.extra.extend(attributes);
    }

    fn serialize<T: Serialize + ?Sized>(&mut self, value: &T) {
        if self.cut || self.write_masked() {
            return;
        }
        let room = self.room();
        if is_std_primitive::<T>() && write_primitive(value, &mut self.json, room).is_some() {
            self.check_room();
            return;
        }
        let mut bytes = std::mem::take(self.json.heap()).into_bytes();
        let start = bytes.len();
        let written = contained(|| write_json(&mut bytes, value, room, &self.policy));
        // serde_json writes UTF-8 only, and a cut is made at a character boundary.
        self.json = SmallText::Heap(
            String::from_utf8(bytes)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        );
        match written {
            Ok(Written::Whole) => {}
            Ok(Written::Cut) => self.cut = true,
            Ok(Written::Failed(err)) => not_serializable::<T>(&mut self.json, &err),
            Err(message) => {
                self.json.cut_to(start);
                let what = failure("Serialize", std::any::type_name::<T>(), &message);
                push_json_string(&mut self.json, format_args!("<capture failed: {what}>"));
                self.failures.push(what);
            }
        }
        self.check_room();
    }

    fn debug<T: Debug + ?Sized>(&mut self, value: &T) {
        if self.cut || self.write_masked() {
            return;
        }
        match contained(|| debug_text(value, self.room())) {
            Ok((text, cut)) => {
                let text = self.policy.redact_debug(text);
                push_json_string(&mut self.json, format_args!("{text}"));
                self.cut |= cut;
            }
            Err(message) => {
                let what = failure("Debug", std::any::type_name::<T>(), &message);
                push_json_string(&mut self.json, format_args!("<capture failed: {what}>"));
                self.failures.push(what);
            }
        }
        self.check_room();
    }

    fn type_name(&mut self, name: &'static str) {
        if self.cut || self.write_masked() {
            return;
        }
        push_json_string(&mut self.json, format_args!("<{name}>"));
        self.check_room();
    }
}

/// The name in a key written as JSON (`"name":`).
fn name_of(json_key: &str) -> &str {
    json_key.trim_end_matches(':').trim_matches('"')
}

/// The text of a JSON string literal cut short: the literal closed and decoded (an
/// escape sequence the cut split is left out).
fn decode_cut_string(json: &str) -> Option<String> {
    let mut end = json.len();
    for _ in 0..8 {
        let mut closed = json[..end].to_owned();
        closed.push('"');
        if let Ok(text) = serde_json::from_str::<String>(&closed) {
            return Some(text);
        }
        end = json[..end].char_indices().last()?.0;
    }
    None
}

/// One captured value on its own, with its MIME type: a string is kept as plain text,
/// anything else as JSON.
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct OutputValue {
    /// The call's policy; the one in force when none was given.
    policy: Option<Arc<Policy>>,
    /// The value (inline while it is small) and its MIME type.
    pub(crate) value: Option<(SmallText<OUTPUT_INLINE>, &'static str)>,
    /// The value was cut at the size limit.
    pub(crate) cut: bool,
    /// What panicked while the value was captured.
    pub(crate) failure: Option<String>,
    /// Attributes the value's type added ([`ValueSink::attributes`]).
    pub(crate) extra: Vec<opentelemetry::KeyValue>,
}

impl OutputValue {
    /// An empty output captured under `policy` (the call's), or, when `None`, under the
    /// policy in force, fetched only if a value is captured.
    pub(crate) fn with_policy_if_any(policy: Option<Arc<Policy>>) -> Self {
        Self {
            policy,
            ..Self::default()
        }
    }

    fn policy(&self) -> Arc<Policy> {
        self.policy.clone().unwrap_or_else(crate::redact::policy)
    }

    /// The value and MIME type recorded when `rule` (`Serialize`, `Debug`) of `T`
    /// panicked with `message`; the failure is kept for the span.
    fn failed<T: ?Sized>(&mut self, rule: &str, message: &str) -> (String, &'static str) {
        let what = failure(rule, std::any::type_name::<T>(), message);
        let text = format!("<capture failed: {what}>");
        self.failure = Some(what);
        (text, MIME_TEXT)
    }
}

impl ValueSink for OutputValue {
    fn attributes(&mut self, attributes: Vec<opentelemetry::KeyValue>) {
        self.extra.extend(attributes);
    }

    fn serialize<T: Serialize + ?Sized>(&mut self, value: &T) {
        if std::any::type_name::<T>() == "()" {
            // A function that returns nothing has no output worth a line.
            return;
        }
        if is_std_primitive::<T>() {
            // An integer or boolean: its JSON (at most 40 bytes, an `i128`; a string that
            // could be longer is declined by that room, not copied).
            let mut json = SmallText::new();
            if let Some(PrimitiveKind::Json) = write_primitive(value, &mut json, OUTPUT_INLINE) {
                self.value = Some((json, MIME_JSON));
                return;
            }
            // A string: its text as it is, when it fits the room (past it, the bounded
            // path cuts it while writing).
            if let Some(text) = text_of(value, capture_room(&self.policy())) {
                self.value = Some((text, MIME_TEXT));
                return;
            }
        }
        let policy = self.policy();
        let mut bytes = Vec::new();
        let written = contained(|| write_json(&mut bytes, value, capture_room(&policy), &policy));
        let json = String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        let (text, mime) = match written {
            Ok(Written::Whole) => match json.starts_with('"') {
                true => match serde_json::from_str::<String>(&json) {
                    Ok(text) => (text, MIME_TEXT),
                    Err(_) => (json, MIME_JSON),
                },
                false => (json, MIME_JSON),
            },
            Ok(Written::Cut) => {
                self.cut = true;
                match json
                    .starts_with('"')
                    .then(|| decode_cut_string(&json))
                    .flatten()
                {
                    Some(text) => (text, MIME_TEXT),
                    None => (json, MIME_JSON),
                }
            }
            Ok(Written::Failed(err)) => {
                let mut text = String::new();
                not_serializable::<T>(&mut text, &err);
                (text, MIME_JSON)
            }
            Err(message) => self.failed::<T>("Serialize", &message),
        };
        self.value = Some((text.into(), mime));
    }

    fn debug<T: Debug + ?Sized>(&mut self, value: &T) {
        let policy = self.policy();
        let (text, mime) = match contained(|| debug_text(value, capture_room(&policy))) {
            Ok((text, cut)) => {
                self.cut = cut;
                (policy.redact_debug(text), MIME_TEXT)
            }
            Err(message) => self.failed::<T>("Debug", &message),
        };
        self.value = Some((text.into(), mime));
    }

    fn type_name(&mut self, name: &'static str) {
        self.value = Some((format!("<{name}>").into(), MIME_TEXT));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Failing;
    impl Serialize for Failing {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("no way"))
        }
    }

    #[test]
    fn input_object_is_valid_json_even_when_a_value_fails() {
        let mut input = InputObject::new();
        input.arg("a").serialize(&1);
        input.arg("b").serialize(&Failing);
        input.arg("c\"").debug(&"x");
        let json: serde_json::Value = serde_json::from_str(&input.finish().text).unwrap();
        assert_eq!(json["a"], 1);
        assert!(json["b"].as_str().unwrap().contains("no way"));
        assert_eq!(json["c\""], "\"x\"");
    }

    /// A value whose `Serialize` captures another value itself (as a traced function
    /// called from a `Serialize` impl would): the inner capture cannot use the scratch
    /// buffer the outer one holds, and both come out whole.
    struct CapturesWhileSerialized;
    impl Serialize for CapturesWhileSerialized {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut inner = InputObject::new();
            inner.arg("inner").serialize(&[1, 2, 3]);
            serializer.serialize_str(&inner.finish().text)
        }
    }

    #[test]
    fn a_capture_inside_a_capture_is_whole() {
        let mut input = InputObject::new();
        input.arg("outer").serialize(&CapturesWhileSerialized);
        input.arg("after").serialize("text");
        let json: serde_json::Value = serde_json::from_str(&input.finish().text).unwrap();
        assert_eq!(json["outer"], r#"{"inner":[1,2,3]}"#);
        assert_eq!(json["after"], "text");
    }

    #[test]
    fn output_strings_are_text_and_the_rest_json() {
        let mut out = OutputValue::default();
        out.serialize("hi\n");
        let text = |out: &OutputValue| {
            out.value
                .as_ref()
                .map(|(text, mime)| (text.as_str().to_owned(), *mime))
        };
        assert_eq!(text(&out), Some(("hi\n".to_owned(), MIME_TEXT)));
        out.serialize(&[1, 2]);
        assert_eq!(text(&out), Some(("[1,2]".to_owned(), MIME_JSON)));
        let mut unit = OutputValue::default();
        unit.serialize(&());
        assert_eq!(unit.value, None);
    }
}
