//! Where a captured value goes: into the JSON object of the inputs, or into the output.

use std::fmt::Debug;

use serde::Serialize;

use super::json_text::push_json_string;
use crate::attributes::{MIME_JSON, MIME_TEXT};

/// What a captured value is written into. The three methods are the three capture rules:
/// JSON for `Serialize`, Debug text for `Debug`, the type name for anything else.
#[doc(hidden)]
pub trait ValueSink {
    fn serialize<T: Serialize + ?Sized>(&mut self, value: &T);
    fn debug<T: Debug + ?Sized>(&mut self, value: &T);
    fn type_name(&mut self, name: &'static str);
}

/// Appends `value` as JSON to `out`; a value whose `Serialize` fails is recorded as a
/// string that says why, so nothing else of the capture is lost.
fn push_json<T: Serialize + ?Sized>(out: &mut String, value: &T) {
    thread_local! {
        /// Serialised into here and copied, so no buffer is allocated per value.
        static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let mut value = Some(value);
    let _ = SCRATCH.try_with(|scratch| {
        // Taken by an outer capture (a `Serialize` that calls a traced function): the
        // nested capture allocates instead.
        let Ok(mut scratch) = scratch.try_borrow_mut() else {
            return;
        };
        if let Some(value) = value.take() {
            scratch.clear();
            let written = serde_json::to_writer(&mut *scratch, value);
            match (written, std::str::from_utf8(&scratch)) {
                (Ok(()), Ok(json)) => out.push_str(json),
                (Err(err), _) => not_serializable::<T>(out, &err),
                // serde_json writes UTF-8 only; kept for completeness.
                (Ok(()), Err(_)) => out.push_str(&String::from_utf8_lossy(&scratch)),
            }
            if scratch.capacity() > 64 * 1024 {
                *scratch = Vec::new(); // do not keep a huge value's buffer around
            }
        }
    });
    if let Some(value) = value {
        match serde_json::to_string(value) {
            Ok(json) => out.push_str(&json),
            Err(err) => not_serializable::<T>(out, &err),
        }
    }
}

fn not_serializable<T: ?Sized>(out: &mut String, err: &serde_json::Error) {
    push_json_string(
        out,
        format_args!("<not serializable: {err}: {}>", std::any::type_name::<T>()),
    );
}

#[doc(hidden)]
#[derive(Debug)]
pub struct InputObject {
    json: String,
}

impl Default for InputObject {
    fn default() -> Self {
        Self::new()
    }
}

impl InputObject {
    pub fn new() -> Self {
        let mut json = String::with_capacity(64);
        json.push('{');
        Self { json }
    }

    /// Starts the entry of argument `name`; the value is written through the sink.
    pub fn arg(&mut self, name: &str) -> &mut Self {
        if self.json.len() > 1 {
            self.json.push(',');
        }
        push_json_string(&mut self.json, format_args!("{name}"));
        self.json.push(':');
        self
    }

    /// The JSON object, with the values of secret names (arguments or nested keys) masked.
    /// Starts the next argument from its key already written as JSON (`"name":`), as
    /// the macro writes it at compile time for an identifier (which needs no escaping).
    pub fn key(&mut self, json_key: &'static str) -> &mut Self {
        if self.json.len() > 1 {
            self.json.push(',');
        }
        self.json.push_str(json_key);
        self
    }

    pub(crate) fn finish(mut self) -> String {
        self.json.push('}');
        crate::redact::policy().redact_json(self.json)
    }
}

impl ValueSink for InputObject {
    fn serialize<T: Serialize + ?Sized>(&mut self, value: &T) {
        push_json(&mut self.json, value);
    }

    fn debug<T: Debug + ?Sized>(&mut self, value: &T) {
        let text = crate::redact::policy().redact_debug(format!("{value:?}"));
        push_json_string(&mut self.json, format_args!("{text}"));
    }

    fn type_name(&mut self, name: &'static str) {
        push_json_string(&mut self.json, format_args!("<{name}>"));
    }
}

/// One captured value on its own, with its MIME type: a string is kept as plain text,
/// anything else as JSON.
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct OutputValue {
    pub(crate) value: Option<(String, &'static str)>,
}

impl ValueSink for OutputValue {
    fn serialize<T: Serialize + ?Sized>(&mut self, value: &T) {
        if std::any::type_name::<T>() == "()" {
            // A function that returns nothing has no output worth a line.
            return;
        }
        let mut json = String::new();
        push_json(&mut json, value);
        self.value = Some(if json.starts_with('"') {
            match serde_json::from_str::<String>(&json) {
                Ok(text) => (text, MIME_TEXT),
                Err(_) => (json, MIME_JSON),
            }
        } else {
            (crate::redact::policy().redact_json(json), MIME_JSON)
        });
    }

    fn debug<T: Debug + ?Sized>(&mut self, value: &T) {
        let text = crate::redact::policy().redact_debug(format!("{value:?}"));
        self.value = Some((text, MIME_TEXT));
    }

    fn type_name(&mut self, name: &'static str) {
        self.value = Some((format!("<{name}>"), MIME_TEXT));
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
        let json: serde_json::Value = serde_json::from_str(&input.finish()).unwrap();
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
            serializer.serialize_str(&inner.finish())
        }
    }

    #[test]
    fn a_capture_inside_a_capture_is_whole() {
        let mut input = InputObject::new();
        input.arg("outer").serialize(&CapturesWhileSerialized);
        input.key("\"after\":").serialize("text");
        let json: serde_json::Value = serde_json::from_str(&input.finish()).unwrap();
        assert_eq!(json["outer"], r#"{"inner":[1,2,3]}"#);
        assert_eq!(json["after"], "text");
    }

    #[test]
    fn output_strings_are_text_and_the_rest_json() {
        let mut out = OutputValue::default();
        out.serialize("hi\n");
        assert_eq!(out.value, Some(("hi\n".to_owned(), MIME_TEXT)));
        out.serialize(&[1, 2]);
        assert_eq!(out.value, Some(("[1,2]".to_owned(), MIME_JSON)));
        let mut unit = OutputValue::default();
        unit.serialize(&());
        assert_eq!(unit.value, None);
    }
}
