//! Writing `Debug` and `Display` text straight into a JSON string literal, without an
//! intermediate `String`.

use std::fmt::{self, Write};

use crate::small_text::TextOut;

/// A `fmt::Write` that escapes what it is given as the inside of a JSON string.
pub(crate) struct JsonEscaper<'a, W: TextOut + ?Sized> {
    out: &'a mut W,
}

impl<'a, W: TextOut + ?Sized> JsonEscaper<'a, W> {
    pub(crate) fn new(out: &'a mut W) -> Self {
        Self { out }
    }
}

/// Whether any of the 8 bytes of `word` may need escaping: a control character, `"` or
/// `\`. Never false for a word that has one (it may be true for one that has none, and
/// then the bytes are looked at one by one). The usual tests for a byte below a bound and
/// for a zero byte, on 8 bytes at once: clean text is scanned about 8 times faster than
/// byte by byte.
fn may_need_escape(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
    let zero_byte = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let quote = zero_byte(word ^ (ONES * u64::from(b'"')));
    let backslash = zero_byte(word ^ (ONES * u64::from(b'\\')));
    below_space | quote | backslash != 0
}

impl<W: TextOut + ?Sized> Write for JsonEscaper<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let bytes = s.as_bytes();
        let mut plain_from = 0;
        let mut i = 0;
        while i < bytes.len() {
            if let Some(Ok(chunk)) = bytes.get(i..i + 8).map(<[u8; 8]>::try_from) {
                if !may_need_escape(u64::from_le_bytes(chunk)) {
                    i += 8;
                    continue;
                }
            }
            // As serde_json writes them.
            let escaped = match bytes[i] {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0x08 => "\\b",
                0x0c => "\\f",
                0x00..=0x1f => "",
                _ => {
                    i += 1;
                    continue;
                }
            };
            // `i` is at an ASCII byte: a character boundary.
            self.out.push_text(&s[plain_from..i]);
            if escaped.is_empty() {
                // Other control characters: \u00XX.
                let _ = write!(self.out, "\\u{:04x}", bytes[i]);
            } else {
                self.out.push_text(escaped);
            }
            i += 1;
            plain_from = i;
        }
        self.out.push_text(&s[plain_from..]);
        Ok(())
    }
}

/// Appends `args` to `out` as a quoted JSON string.
pub(crate) fn push_json_string<W: TextOut + ?Sized>(out: &mut W, args: fmt::Arguments<'_>) {
    out.push_text("\"");
    let _ = JsonEscaper::new(out).write_fmt(args);
    out.push_text("\"");
}

/// Appends `text` to `out` as a quoted JSON string (no formatting machinery).
pub(crate) fn push_json_str<W: TextOut + ?Sized>(out: &mut W, text: &str) {
    out.push_text("\"");
    let _ = JsonEscaper::new(out).write_str(text);
    out.push_text("\"");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_serde_json() {
        let text = "quote \" back \\ nl \n tab \t bell \u{7} bs \u{8} ff \u{c} é 字";
        let mut out = String::new();
        push_json_string(&mut out, format_args!("{text}"));
        assert_eq!(out, serde_json::to_string(text).unwrap());
        // Every byte in every position of the 8-byte steps, in a longer text.
        for special in ['"', '\\', '\n', '\u{1f}', '\u{0}', 'é'] {
            for at in 0..24 {
                let mut text: String = "abcdefghijklmnopqrstuvwx".chars().collect();
                text.insert(at, special);
                let mut out = String::new();
                push_json_str(&mut out, &text);
                assert_eq!(out, serde_json::to_string(&text).unwrap(), "{text:?}");
            }
        }
    }
}
