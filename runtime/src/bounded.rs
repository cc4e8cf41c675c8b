//! Text from outside the program (a request's headers, a server's answer, a panic's
//! message) made safe to keep: bounded in bytes and, for a log line, escaped, so a caller
//! can neither bloat a span nor forge or flood log lines.

/// The longest prefix of `text` of at most `max_bytes` that ends between characters.
pub(crate) fn prefix(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `text` cut to at most `max_bytes` at a UTF-8 boundary, ending with `…` when cut.
pub(crate) fn cut(text: &str, max_bytes: usize) -> String {
    if text.len() <= max_bytes {
        return text.to_owned();
    }
    let kept = prefix(text, max_bytes.saturating_sub('…'.len_utf8()));
    let mut out = String::with_capacity(kept.len() + '…'.len_utf8());
    out.push_str(kept);
    out.push('…');
    out
}

/// `text` for one log line: control characters (newlines, escape sequences) escaped, at
/// most `max_bytes` kept, ending with `…` when cut.
pub(crate) fn for_log(text: &str, max_bytes: usize) -> String {
    let room = max_bytes.saturating_sub('…'.len_utf8());
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let before = out.len();
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
        if out.len() > room && (chars.peek().is_some() || out.len() > max_bytes) {
            out.truncate(before);
            out.push('…');
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_keeps_whole_characters_and_marks_the_cut() {
        assert_eq!(cut("short", 10), "short");
        let long = "é".repeat(100);
        let kept = cut(&long, 11);
        assert!(kept.len() <= 11, "{}", kept.len());
        assert!(kept.ends_with('…'));
        assert!(kept.trim_end_matches('…').chars().all(|c| c == 'é'));
    }

    #[test]
    fn log_text_is_escaped_and_bounded() {
        assert_eq!(for_log("a\nb\u{1b}[31m", 100), "a\\nb\\u{1b}[31m");
        let flood = "x\n".repeat(10_000);
        let line = for_log(&flood, 200);
        assert!(line.len() <= 200, "{}", line.len());
        assert!(!line.contains('\n'));
        assert!(line.ends_with('…'));
    }
}
