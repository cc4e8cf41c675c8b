//! A one-pass look at a captured text: can any secret word occur in it at all?
//!
//! Masking has to parse a captured JSON document only when some secret name could be
//! among its keys. Looking for every word of every secret name in turn (16 substring
//! searches over a lowercased copy) cost about 7,000 instructions for a two-argument
//! call; this filter reads the text once, without allocating, and rejects almost every
//! ordinary text. It may accept a text with no secret (then the precise check runs); it
//! never rejects one that has one.

/// The first three letters of every secret word, hashed into a 65,536-bit set.
#[derive(Clone)]
pub(super) struct Prefilter {
    /// `None` when a secret word is shorter than three letters: everything passes.
    starts: Option<Box<[u64; 1024]>>,
}

impl std::fmt::Debug for Prefilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prefilter")
            .field("active", &self.starts.is_some())
            .finish()
    }
}

fn slot(a: u8, b: u8, c: u8) -> usize {
    (usize::from(a) << 10 ^ usize::from(b) << 5 ^ usize::from(c)) & 0xFFFF
}

impl Prefilter {
    /// For secret names given as their lowercase words.
    pub(super) fn new(names: &[Vec<String>]) -> Self {
        let mut starts = Box::new([0u64; 1024]);
        for word in names.iter().flatten() {
            let &[a, b, c, ..] = word.as_bytes() else {
                return Self { starts: None };
            };
            let index = slot(a, b, c);
            starts[index / 64] |= 1 << (index % 64);
        }
        Self {
            starts: Some(starts),
        }
    }

    /// False only if no secret word can occur in `text` (compared ignoring ASCII case).
    pub(super) fn may_match(&self, text: &str) -> bool {
        let Some(starts) = &self.starts else {
            return true;
        };
        text.as_bytes().windows(3).any(|w| {
            let index = slot(
                w[0].to_ascii_lowercase(),
                w[1].to_ascii_lowercase(),
                w[2].to_ascii_lowercase(),
            );
            starts[index / 64] & (1 << (index % 64)) != 0
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(names: &[&[&str]]) -> Prefilter {
        let names: Vec<Vec<String>> = names
            .iter()
            .map(|words| words.iter().map(|w| w.to_string()).collect())
            .collect();
        Prefilter::new(&names)
    }

    #[test]
    fn passes_texts_with_a_secret_word_in_any_case_and_place() {
        let f = filter(&[&["api", "key"], &["password"]]);
        for text in [
            r#"{"openai_api_key":"x"}"#,
            r#"{"nested":{"PassWord":1}}"#,
            "APIKEY",
            "key",
        ] {
            assert!(f.may_match(text), "{text}");
        }
    }

    #[test]
    fn rejects_ordinary_texts() {
        let f = filter(&[&["api", "key"], &["password"], &["token"]]);
        for text in [r#"{"n":7,"s":"short"}"#, "", "ab", r#"{"max_tokens":5}"#] {
            // "tok" of max_tokens is a real candidate: the precise check decides it.
            let expected = text.contains("tok");
            assert_eq!(f.may_match(text), expected, "{text}");
        }
    }

    #[test]
    fn a_short_secret_word_turns_the_filter_off() {
        let f = filter(&[&["pw"]]);
        assert!(f.may_match(r#"{"n":7}"#));
    }
}
