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

impl<W: TextOut + ?Sized> Write for JsonEscaper<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut plain_from = 0;
        for (i, byte) in s.bytes().enumerate() {
            let escaped = match byte {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0x00..=0x1f => "",
                _ => continue,
            };
            self.out.push_text(&s[plain_from..i]);
            if escaped.is_empty() {
                // Other control characters: \u00XX.
                let _ = write!(self.out, "\\u{byte:04x}");
            } else {
                self.out.push_text(escaped);
            }
            plain_from = i + 1;
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
        let text = "quote \" back \\ nl \n tab \t bell \u{7} é 字";
        let mut out = String::new();
        push_json_string(&mut out, format_args!("{text}"));
        assert_eq!(out, serde_json::to_string(text).unwrap());
    }
}
