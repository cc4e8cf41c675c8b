//! Integers, booleans and text of the standard types written as JSON directly, without
//! serde_json's serializer, the bounded writer and the masking formatter (which cost the
//! most of capturing `fn(a: u64, b: u64)`), and without containing a panic: only the
//! standard library's own `Serialize` runs, which does not panic.
//!
//! Whether a type is one of them is decided by its name, a constant once the function is
//! monomorphised (the comparison folds away).

use serde::ser::{Impossible, Serialize, Serializer};

use super::json_text::{push_json_str, push_json_string};
use crate::small_text::{SmallText, TextOut};

/// Whether `T` is a standard number, boolean, character or string.
pub(crate) fn is_std_primitive<T: ?Sized>() -> bool {
    matches!(
        std::any::type_name::<T>(),
        "i8" | "i16"
            | "i32"
            | "i64"
            | "i128"
            | "isize"
            | "u8"
            | "u16"
            | "u32"
            | "u64"
            | "u128"
            | "usize"
            | "f32"
            | "f64"
            | "bool"
            | "char"
            | "str"
            | "&str"
            | "alloc::string::String"
    )
}

/// What a primitive is, as the output records it: text is kept as text.
pub(crate) enum Written {
    /// JSON (an integer, `true`, `false`).
    Json,
    /// A string: its JSON, and whether it is text.
    Text,
}

/// Writes `value` (a standard primitive: see [`is_std_primitive`]) as JSON into `out`, if
/// it takes no more than `room` bytes; `None` (and nothing written) otherwise.
pub(crate) fn write_primitive<T: Serialize + ?Sized, W: TextOut>(
    value: &T,
    out: &mut W,
    room: usize,
) -> Option<Written> {
    let start = out.text_len();
    let written = value.serialize(Direct { out, room }).ok();
    if written.is_none() || out.text_len() - start > room {
        out.cut_to(start);
        return None;
    }
    written
}

/// A string's text without its JSON quotes, for an output kept as text; `None` when the
/// value is not a standard string or is longer than `room` (the bounded path then cuts it
/// while writing, rather than copying it whole first).
pub(crate) fn text_of<T: Serialize + ?Sized, const N: usize>(
    value: &T,
    room: usize,
) -> Option<SmallText<N>> {
    struct Text<const N: usize>(usize);
    impl<const N: usize> Text<N> {
        fn text(text: &str) -> Result<SmallText<N>, Unsupported> {
            let mut out = SmallText::new();
            out.push_text(text);
            Ok(out)
        }
    }
    impl<const N: usize> Serializer for Text<N> {
        type Ok = SmallText<N>;
        type Error = Unsupported;
        type SerializeSeq = Impossible<SmallText<N>, Unsupported>;
        type SerializeTuple = Impossible<SmallText<N>, Unsupported>;
        type SerializeTupleStruct = Impossible<SmallText<N>, Unsupported>;
        type SerializeTupleVariant = Impossible<SmallText<N>, Unsupported>;
        type SerializeMap = Impossible<SmallText<N>, Unsupported>;
        type SerializeStruct = Impossible<SmallText<N>, Unsupported>;
        type SerializeStructVariant = Impossible<SmallText<N>, Unsupported>;
        fn serialize_str(self, v: &str) -> Result<SmallText<N>, Unsupported> {
            if v.len() > self.0 {
                return Err(Unsupported);
            }
            Self::text(v)
        }
        fn serialize_char(self, v: char) -> Result<SmallText<N>, Unsupported> {
            Self::text(v.encode_utf8(&mut [0; 4]))
        }
        unsupported_rest!(SmallText<N>);
        fn serialize_bool(self, _: bool) -> Result<SmallText<N>, Unsupported> {
            Err(Unsupported)
        }
        fn serialize_i64(self, _: i64) -> Result<SmallText<N>, Unsupported> {
            Err(Unsupported)
        }
        fn serialize_u64(self, _: u64) -> Result<SmallText<N>, Unsupported> {
            Err(Unsupported)
        }
        fn serialize_f64(self, _: f64) -> Result<SmallText<N>, Unsupported> {
            Err(Unsupported)
        }
        fn serialize_f32(self, _: f32) -> Result<SmallText<N>, Unsupported> {
            Err(Unsupported)
        }
    }
    value.serialize(Text::<N>(room)).ok()
}

/// Anything that is not a primitive.
#[derive(Debug)]
pub(crate) struct Unsupported;

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not a primitive")
    }
}

impl std::error::Error for Unsupported {}

impl serde::ser::Error for Unsupported {
    fn custom<M: std::fmt::Display>(_: M) -> Self {
        Unsupported
    }
}

/// The methods a primitive never calls, each refusing.
macro_rules! unsupported_rest {
    ($ok:ty) => {
        fn serialize_i8(self, v: i8) -> Result<$ok, Unsupported> {
            self.serialize_i64(i64::from(v))
        }
        fn serialize_i16(self, v: i16) -> Result<$ok, Unsupported> {
            self.serialize_i64(i64::from(v))
        }
        fn serialize_i32(self, v: i32) -> Result<$ok, Unsupported> {
            self.serialize_i64(i64::from(v))
        }
        fn serialize_u8(self, v: u8) -> Result<$ok, Unsupported> {
            self.serialize_u64(u64::from(v))
        }
        fn serialize_u16(self, v: u16) -> Result<$ok, Unsupported> {
            self.serialize_u64(u64::from(v))
        }
        fn serialize_u32(self, v: u32) -> Result<$ok, Unsupported> {
            self.serialize_u64(u64::from(v))
        }
        fn serialize_bytes(self, _: &[u8]) -> Result<$ok, Unsupported> {
            Err(Unsupported)
        }
        fn serialize_none(self) -> Result<$ok, Unsupported> {
            Err(Unsupported)
        }
        fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<$ok, Unsupported> {
            Err(Unsupported)
        }
        fn serialize_unit(self) -> Result<$ok, Unsupported> {
            Err(Unsupported)
        }
        fn serialize_unit_struct(self, _: &'static str) -> Result<$ok, Unsupported> {
            Err(Unsupported)
        }
        fn serialize_unit_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
        ) -> Result<$ok, Unsupported> {
            Err(Unsupported)
        }
        fn serialize_newtype_struct<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            _: &T,
        ) -> Result<$ok, Unsupported> {
            Err(Unsupported)
        }
        fn serialize_newtype_variant<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: &T,
        ) -> Result<$ok, Unsupported> {
            Err(Unsupported)
        }
        fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Unsupported> {
            Err(Unsupported)
        }
        fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Unsupported> {
            Err(Unsupported)
        }
        fn serialize_tuple_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleStruct, Unsupported> {
            Err(Unsupported)
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleVariant, Unsupported> {
            Err(Unsupported)
        }
        fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Unsupported> {
            Err(Unsupported)
        }
        fn serialize_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStruct, Unsupported> {
            Err(Unsupported)
        }
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStructVariant, Unsupported> {
            Err(Unsupported)
        }
    };
}
use unsupported_rest;

/// Writes one primitive as JSON.
struct Direct<'a, W> {
    out: &'a mut W,
    room: usize,
}

impl<W: TextOut> Direct<'_, W> {
    /// An integer in decimal, as serde_json writes it (with `itoa`, which serde_json
    /// uses too: a tenth of the instructions of `fmt`).
    fn integer(self, value: impl itoa::Integer) -> Result<Written, Unsupported> {
        self.out.push_text(itoa::Buffer::new().format(value));
        Ok(Written::Json)
    }
}

impl<W: TextOut> Serializer for Direct<'_, W> {
    type Ok = Written;
    type Error = Unsupported;
    type SerializeSeq = Impossible<Written, Unsupported>;
    type SerializeTuple = Impossible<Written, Unsupported>;
    type SerializeTupleStruct = Impossible<Written, Unsupported>;
    type SerializeTupleVariant = Impossible<Written, Unsupported>;
    type SerializeMap = Impossible<Written, Unsupported>;
    type SerializeStruct = Impossible<Written, Unsupported>;
    type SerializeStructVariant = Impossible<Written, Unsupported>;

    fn serialize_bool(self, v: bool) -> Result<Written, Unsupported> {
        self.out.push_text(if v { "true" } else { "false" });
        Ok(Written::Json)
    }

    fn serialize_i64(self, v: i64) -> Result<Written, Unsupported> {
        self.integer(v)
    }

    fn serialize_i128(self, v: i128) -> Result<Written, Unsupported> {
        self.integer(v)
    }

    fn serialize_u64(self, v: u64) -> Result<Written, Unsupported> {
        self.integer(v)
    }

    fn serialize_u128(self, v: u128) -> Result<Written, Unsupported> {
        self.integer(v)
    }

    // Floats go the bounded path: serde_json writes them with ryu (`1e+300`), and the
    // output stays the same whichever path writes it.
    fn serialize_f64(self, _: f64) -> Result<Written, Unsupported> {
        Err(Unsupported)
    }

    fn serialize_f32(self, _: f32) -> Result<Written, Unsupported> {
        Err(Unsupported)
    }

    fn serialize_char(self, v: char) -> Result<Written, Unsupported> {
        push_json_string(self.out, format_args!("{v}"));
        Ok(Written::Text)
    }

    fn serialize_str(self, v: &str) -> Result<Written, Unsupported> {
        // Escaping can make a string up to six times longer: past the room, the bounded
        // path cuts it instead.
        if v.len().saturating_mul(6).saturating_add(2) > self.room {
            return Err(Unsupported);
        }
        push_json_str(self.out, v);
        Ok(Written::Text)
    }

    unsupported_rest!(Written);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json<T: Serialize + ?Sized>(value: &T) -> Option<String> {
        let mut out = String::new();
        write_primitive(value, &mut out, 1024).map(|_| out)
    }

    #[test]
    fn writes_what_serde_json_writes() {
        for (ours, theirs) in [
            (json(&42u64), serde_json::to_string(&42u64).ok()),
            (json(&-7i32), serde_json::to_string(&-7i32).ok()),
            (json(&true), serde_json::to_string(&true).ok()),
            (json(&u64::MAX), serde_json::to_string(&u64::MAX).ok()),
            (json(&i128::MIN), serde_json::to_string(&i128::MIN).ok()),
            (json(&0.5f64), None),
            (
                json("quote \" nl \n é"),
                serde_json::to_string("quote \" nl \n é").ok(),
            ),
            (json(&'x'), serde_json::to_string(&'x').ok()),
        ] {
            assert_eq!(ours, theirs);
            if let Some(text) = &ours {
                assert!(
                    serde_json::from_str::<serde_json::Value>(text).is_ok(),
                    "{text}"
                );
            }
        }
        assert!(is_std_primitive::<u64>() && is_std_primitive::<&str>());
        assert!(is_std_primitive::<String>() && !is_std_primitive::<Vec<u8>>());
    }

    #[test]
    fn a_long_string_is_left_to_the_bounded_path() {
        let mut out = String::from("{");
        assert!(write_primitive(&"x".repeat(1000), &mut out, 100).is_none());
        assert_eq!(out, "{");
        let text = |text: Option<SmallText<8>>| text.map(SmallText::into_string);
        assert_eq!(text(text_of("text", 100)).as_deref(), Some("text"));
        assert_eq!(
            text(text_of("text", 3)),
            None,
            "past the room: the bounded path"
        );
        assert_eq!(text(text_of(&5u8, 100)), None);
        assert_eq!(
            text(text_of("longer than eight", 100)).as_deref(),
            Some("longer than eight"),
            "past the inline bytes: on the heap"
        );
    }
}
