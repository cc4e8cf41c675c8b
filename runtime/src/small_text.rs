//! Text kept inline while it is short.
//!
//! A small captured value (`{"a":1,"b":2}`, an integer output) is written into an inline
//! buffer, carried in the span's record, and made an attribute on the export thread: the
//! calling thread allocates nothing for it. Memory the calling thread allocates and the
//! export thread frees was the largest cost of a small capture: with glibc's malloc each
//! such block leaves the caller's per-thread cache and comes back through the arena, about
//! 300 instructions a block where a cached allocation takes 30.
//!
//! A leaf: it imports nothing of the crate.

use std::fmt;

/// At most `N` bytes (`N` ≤ 255) of UTF-8 text, stored inline.
#[derive(Clone, Copy)]
pub(crate) struct InlineText<const N: usize> {
    bytes: [u8; N],
    len: u8,
}

impl<const N: usize> InlineText<N> {
    pub(crate) const fn new() -> Self {
        assert!(N <= u8::MAX as usize);
        Self {
            bytes: [0; N],
            len: 0,
        }
    }

    /// `text` inline, if it fits.
    #[cfg(test)]
    pub(crate) fn of(text: &str) -> Option<Self> {
        let mut inline = Self::new();
        inline.try_push_str(text).then_some(inline)
    }

    pub(crate) fn len(&self) -> usize {
        usize::from(self.len)
    }

    pub(crate) fn as_str(&self) -> &str {
        // Only whole `&str`s are pushed and cuts are made at lengths the text had, so
        // the bytes are UTF-8; the check costs little for so few bytes, and needs no
        // `unsafe`.
        std::str::from_utf8(&self.bytes[..self.len()]).unwrap_or_default()
    }

    /// Appends `text` if it fits; whether it did (nothing is written otherwise).
    fn try_push_str(&mut self, text: &str) -> bool {
        let start = self.len();
        let end = start + text.len();
        if end > N {
            return false;
        }
        self.bytes[start..end].copy_from_slice(text.as_bytes());
        // `end` ≤ N ≤ 255.
        self.len = end as u8;
        true
    }

    /// Cuts the text back to `len` bytes, a length it had before.
    fn truncate(&mut self, len: usize) {
        if len < self.len() {
            self.len = len as u8;
        }
    }
}

impl<const N: usize> Default for InlineText<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> fmt::Debug for InlineText<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<const N: usize> PartialEq for InlineText<N> {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

/// Text that stays inline up to `N` bytes and moves to the heap past them, once.
#[derive(Clone, PartialEq)]
pub(crate) enum SmallText<const N: usize> {
    Inline(InlineText<N>),
    Heap(String),
}

impl<const N: usize> SmallText<N> {
    pub(crate) const fn new() -> Self {
        Self::Inline(InlineText::new())
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            Self::Inline(text) => text.as_str(),
            Self::Heap(text) => text,
        }
    }

    /// The text on the heap, moved there first if it was inline (to hand to code that
    /// writes into a `String` or a `Vec<u8>`).
    pub(crate) fn heap(&mut self) -> &mut String {
        self.heap_for(N)
    }

    /// [`Self::heap`], with room for `more` bytes past the text.
    fn heap_for(&mut self, more: usize) -> &mut String {
        if let Self::Inline(text) = self {
            let mut heap = String::with_capacity(2 * (text.len() + more));
            heap.push_str(text.as_str());
            *self = Self::Heap(heap);
        }
        match self {
            Self::Heap(text) => text,
            // Made `Heap` just above.
            Self::Inline(_) => unreachable!("moved to the heap above"),
        }
    }

    pub(crate) fn into_string(self) -> String {
        match self {
            Self::Inline(text) => text.as_str().to_owned(),
            Self::Heap(text) => text,
        }
    }

    /// The text, if it is still inline.
    pub(crate) fn inline(&self) -> Option<&InlineText<N>> {
        match self {
            Self::Inline(text) => Some(text),
            Self::Heap(_) => None,
        }
    }
}

impl<const N: usize> Default for SmallText<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> From<String> for SmallText<N> {
    fn from(text: String) -> Self {
        Self::Heap(text)
    }
}

impl<const N: usize> fmt::Debug for SmallText<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// Text a capture writes into: a `String`, or a [`SmallText`].
pub(crate) trait TextOut: fmt::Write {
    fn push_text(&mut self, text: &str);
    fn text_len(&self) -> usize;
    /// Cuts the text back to `len` bytes, a length it had before.
    fn cut_to(&mut self, len: usize);
}

impl TextOut for String {
    #[inline]
    fn push_text(&mut self, text: &str) {
        self.push_str(text);
    }

    #[inline]
    fn text_len(&self) -> usize {
        self.len()
    }

    #[inline]
    fn cut_to(&mut self, len: usize) {
        self.truncate(len);
    }
}

impl<const N: usize> TextOut for SmallText<N> {
    #[inline]
    fn push_text(&mut self, text: &str) {
        match self {
            Self::Inline(inline) => {
                if !inline.try_push_str(text) {
                    self.heap_for(text.len()).push_str(text);
                }
            }
            Self::Heap(heap) => heap.push_str(text),
        }
    }

    #[inline]
    fn text_len(&self) -> usize {
        match self {
            Self::Inline(text) => text.len(),
            Self::Heap(text) => text.len(),
        }
    }

    #[inline]
    fn cut_to(&mut self, len: usize) {
        match self {
            Self::Inline(text) => text.truncate(len),
            Self::Heap(text) => text.truncate(len),
        }
    }
}

impl<const N: usize> fmt::Write for SmallText<N> {
    #[inline]
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.push_text(text);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_inline_until_full_then_moves_once() {
        let mut text = SmallText::<8>::new();
        text.push_text("{\"a\":");
        text.push_text("1");
        assert_eq!(text.inline().map(InlineText::as_str), Some("{\"a\":1"));
        text.push_text(",\"b\":2}");
        assert!(text.inline().is_none(), "past 8 bytes: on the heap");
        assert_eq!(text.as_str(), "{\"a\":1,\"b\":2}");
        text.cut_to(6);
        assert_eq!(text.into_string(), "{\"a\":1");
    }

    #[test]
    fn keeps_utf8_and_cuts_where_it_was() {
        let mut text = SmallText::<16>::new();
        text.push_text("é");
        let mark = text.text_len();
        text.push_text("字x");
        text.cut_to(mark);
        assert_eq!(text.as_str(), "é");
        assert_eq!(InlineText::<4>::of("toolong"), None);
        assert_eq!(InlineText::<4>::of("ok").map(|t| t.len()), Some(2));
    }
}
