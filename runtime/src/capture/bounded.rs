//! Serialising a captured value within the size limit, masking as it goes: the writer
//! stops the serialiser once the limit is reached, a string is cut to the room left
//! before serde_json scans it for characters to escape (so a 20 MB argument costs what
//! its first 32 KiB cost), and the formatter writes `"[REDACTED]"` for the value of every
//! key that names a secret, so a value cut short is still masked — masking the finished
//! text would need whole, parseable JSON.

use std::cell::Cell;
use std::fmt;
use std::io;

use super::room::Roomed;

use serde::Serialize;
use serde_json::ser::{CharEscape, CompactFormatter, Formatter};

use crate::redact::{Policy, REDACTED};

/// How a bounded serialisation ended.
#[derive(Debug)]
pub(crate) enum Written {
    /// The whole value.
    Whole,
    /// Stopped at the limit: what was written is a prefix.
    Cut,
    /// The value's `Serialize` failed (what was written is to be dropped).
    Failed(serde_json::Error),
}

/// Appends to `out`, refusing (with an error that stops the serialiser) past the bytes
/// `room` leaves.
struct Capped<'a> {
    out: &'a mut Vec<u8>,
    room: &'a Cell<usize>,
    cut: bool,
}

impl io::Write for Capped<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = self.room.get();
        if buf.len() <= room {
            self.out.extend_from_slice(buf);
            self.room.set(room - buf.len());
            return Ok(buf.len());
        }
        self.out.extend_from_slice(&buf[..room]);
        self.room.set(0);
        self.cut = true;
        Err(io::Error::other("traced: the size limit is reached"))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Compact JSON, with the values of secret keys masked.
struct Masking<'p> {
    policy: &'p Policy,
    /// The key being written.
    key: Option<String>,
    /// The key just written names a secret: its value is masked.
    secret: bool,
    /// While the value of a secret key is skipped: how deep inside it the serialiser is.
    skipping: Option<usize>,
}

macro_rules! plain {
    ($($name:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $name<W: ?Sized + io::Write>(&mut self, writer: &mut W $(, $arg: $ty)*) -> io::Result<()> {
            if self.skipping.is_some() {
                return Ok(());
            }
            CompactFormatter.$name(writer $(, $arg)*)
        }
    )*};
}

impl Formatter for Masking<'_> {
    plain! {
        write_null();
        write_bool(value: bool);
        write_i8(value: i8);
        write_i16(value: i16);
        write_i32(value: i32);
        write_i64(value: i64);
        write_i128(value: i128);
        write_u8(value: u8);
        write_u16(value: u16);
        write_u32(value: u32);
        write_u64(value: u64);
        write_u128(value: u128);
        write_f32(value: f32);
        write_f64(value: f64);
        write_number_str(value: &str);
        begin_string();
        end_string();
        write_byte_array(value: &[u8]);
        begin_array_value(first: bool);
        end_array_value();
        write_raw_fragment(fragment: &str);
    }

    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        if self.skipping.is_some() {
            return Ok(());
        }
        if let Some(key) = &mut self.key {
            key.push_str(fragment);
        }
        CompactFormatter.write_string_fragment(writer, fragment)
    }

    fn write_char_escape<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        escape: CharEscape,
    ) -> io::Result<()> {
        if self.skipping.is_some() {
            return Ok(());
        }
        if let Some(key) = &mut self.key {
            key.push(' '); // an escaped character separates words as well as any
        }
        CompactFormatter.write_char_escape(writer, escape)
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        if let Some(depth) = &mut self.skipping {
            *depth += 1;
            return Ok(());
        }
        CompactFormatter.begin_array(writer)
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        if let Some(depth) = &mut self.skipping {
            *depth = depth.saturating_sub(1);
            return Ok(());
        }
        CompactFormatter.end_array(writer)
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        if let Some(depth) = &mut self.skipping {
            *depth += 1;
            return Ok(());
        }
        CompactFormatter.begin_object(writer)
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        if let Some(depth) = &mut self.skipping {
            *depth = depth.saturating_sub(1);
            return Ok(());
        }
        CompactFormatter.end_object(writer)
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if self.skipping.is_some() {
            return Ok(());
        }
        self.key = Some(String::new());
        CompactFormatter.begin_object_key(writer, first)
    }

    fn end_object_key<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        if self.skipping.is_some() {
            return Ok(());
        }
        self.secret = self
            .key
            .take()
            .is_some_and(|key| self.policy.is_secret_key(&key));
        CompactFormatter.end_object_key(writer)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        if self.skipping.is_some() {
            return Ok(());
        }
        CompactFormatter.begin_object_value(writer)?;
        if std::mem::take(&mut self.secret) {
            writer.write_all(b"\"")?;
            writer.write_all(REDACTED.as_bytes())?;
            writer.write_all(b"\"")?;
            self.skipping = Some(0);
        }
        Ok(())
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        match self.skipping {
            Some(0) => {
                self.skipping = None;
                Ok(())
            }
            Some(_) => Ok(()),
            None => CompactFormatter.end_object_value(writer),
        }
    }
}

/// Appends `value` as JSON to `out`, masked, writing at most `room` bytes.
pub(crate) fn write_json<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    value: &T,
    room: usize,
    policy: &Policy,
) -> Written {
    let start = out.len();
    let room = Cell::new(room);
    let mut writer = Capped {
        out,
        room: &room,
        cut: false,
    };
    let formatter = Masking {
        policy,
        key: None,
        secret: false,
        skipping: None,
    };
    let mut serializer = serde_json::Serializer::with_formatter(&mut writer, formatter);
    let result = Roomed::new(value, &room).serialize(&mut serializer);
    let cut = writer.cut;
    match result {
        Ok(()) => Written::Whole,
        Err(_) if cut => {
            // Keep whole characters only.
            let valid = match std::str::from_utf8(&out[start..]) {
                Ok(_) => out.len(),
                Err(error) => start + error.valid_up_to(),
            };
            out.truncate(valid);
            Written::Cut
        }
        Err(error) => {
            out.truncate(start);
            Written::Failed(error)
        }
    }
}

/// A `fmt::Write` that refuses (stopping the formatter) past `room` bytes.
struct CappedText<'a> {
    out: &'a mut String,
    room: usize,
    cut: bool,
}

impl fmt::Write for CappedText<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        if text.len() <= self.room {
            self.out.push_str(text);
            self.room -= text.len();
            return Ok(());
        }
        self.out.push_str(crate::bounded::prefix(text, self.room));
        self.room = 0;
        self.cut = true;
        Err(fmt::Error)
    }
}

/// The `Debug` text of `value`, at most `room` bytes of it; whether it was cut.
pub(crate) fn debug_text<T: fmt::Debug + ?Sized>(value: &T, room: usize) -> (String, bool) {
    let mut out = String::new();
    let mut writer = CappedText {
        out: &mut out,
        room,
        cut: false,
    };
    // An error is either our stop at the limit or the value's own `fmt` failing: both
    // keep what was written.
    let _ = fmt::write(&mut writer, format_args!("{value:?}"));
    let cut = writer.cut;
    (out, cut)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy() -> Policy {
        Policy::new(crate::redact::DEFAULT_SECRET_NAMES, 1024)
    }

    fn json_of(value: &serde_json::Value, room: usize) -> (String, bool) {
        let mut out = Vec::new();
        let written = write_json(&mut out, value, room, &policy());
        let cut = matches!(written, Written::Cut);
        (String::from_utf8(out).unwrap_or_default(), cut)
    }

    #[test]
    fn secret_keys_are_masked_at_any_depth() {
        let value = json!({
            "user": "ada",
            "api_key": {"nested": [1, {"deep": true}]},
            "list": [{"password": "p", "ok": 1}],
            "accessToken": "t",
        });
        let (text, cut) = json_of(&value, usize::MAX);
        assert!(!cut);
        let back: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(
            back,
            json!({
                "user": "ada",
                "api_key": REDACTED,
                "list": [{"password": REDACTED, "ok": 1}],
                "accessToken": REDACTED,
            })
        );
    }

    #[test]
    fn serialisation_stops_at_the_limit_and_keeps_whole_characters() {
        let value = json!({"text": "é".repeat(10_000), "password": "hunter2"});
        let (text, cut) = json_of(&value, 101);
        assert!(cut);
        assert!(text.len() <= 101);
        assert!(
            text.starts_with(r#"{"password":"[REDACTED]","text":"éé"#)
                || text.starts_with(r#"{"text":"éé"#)
        );
        assert!(!text.contains("hunter2"));
    }

    #[test]
    fn every_shape_round_trips_when_it_fits() {
        #[derive(Serialize)]
        enum Shape {
            Unit,
            New(u8),
            Tuple(u8, &'static str),
            Struct { a: Option<u8>, b: Vec<(u8, bool)> },
        }
        #[derive(Serialize)]
        struct Wrapper(Vec<Shape>, std::collections::BTreeMap<u8, &'static str>, ());
        let value = Wrapper(
            vec![
                Shape::Unit,
                Shape::New(1),
                Shape::Tuple(2, "two"),
                Shape::Struct {
                    a: Some(3),
                    b: vec![(4, true)],
                },
            ],
            [(5, "five")].into_iter().collect(),
            (),
        );
        let mut out = Vec::new();
        assert!(matches!(
            write_json(&mut out, &value, usize::MAX, &policy()),
            Written::Whole
        ));
        assert_eq!(
            String::from_utf8(out).unwrap_or_default(),
            serde_json::to_string(&value).unwrap_or_default()
        );
    }

    #[test]
    fn debug_text_stops_at_the_limit() {
        let (text, cut) = debug_text(&vec![7u8; 100_000], 50);
        assert!(cut);
        assert!(text.len() <= 50);
        assert!(text.starts_with("[7, 7"));
        let (whole, cut) = debug_text(&Some(1), 50);
        assert_eq!((whole.as_str(), cut), ("Some(1)", false));
    }
}
