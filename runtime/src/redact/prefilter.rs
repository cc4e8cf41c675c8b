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
    /// The bytes a secret word starts with (lowercase): only there is a trigram looked up.
    first: [bool; 256],
}

impl std::fmt::Debug for Prefilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prefilter")
            .field("active", &self.starts.is_some())
            .finish()
    }
}

fn slot(a: u8, b: u8, c: u8) -> usize {
    let mixed = u32::from(a).wrapping_mul(0x9E37_79B1)
        ^ u32::from(b).wrapping_mul(0x85EB_CA77)
        ^ u32::from(c).wrapping_mul(0xC2B2_AE3D);
    (mixed >> 16) as usize
}

impl Prefilter {
    /// For secret names given as their lowercase words.
    pub(super) fn new(names: &[Vec<String>]) -> Self {
        let mut starts = Box::new([0u64; 1024]);
        let mut first = [false; 256];
        for word in names.iter().flatten() {
            let &[a, b, c, ..] = word.as_bytes() else {
                return Self {
                    starts: None,
                    first,
                };
            };
            let index = slot(a, b, c);
            starts[index / 64] |= 1 << (index % 64);
            first[usize::from(a)] = true;
        }
        Self {
            starts: Some(starts),
            first,
        }
    }

    /// False only if no secret word can occur in `text` (compared ignoring ASCII case).
    pub(super) fn may_match(&self, text: &str) -> bool {
        let Some(starts) = &self.starts else {
            return true;
        };
        text.as_bytes().windows(3).any(|w| {
            let a = w[0].to_ascii_lowercase();
            if !self.first[usize::from(a)] {
                return false;
            }
            let index = slot(a, w[1].to_ascii_lowercase(), w[2].to_ascii_lowercase());
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

    /// Never a false "no": every default secret word, in any case, anywhere in a text.
    #[test]
    fn every_default_word_passes_wherever_it_stands() {
        let names: Vec<Vec<String>> = crate::redact::DEFAULT_SECRET_NAMES
            .iter()
            .map(|name| super::super::words(name))
            .collect();
        let f = Prefilter::new(&names);
        for word in names.iter().flatten() {
            for (prefix, suffix) in [("", ""), ("{\"x_", "\":1}"), ("9", "!"), ("é", "ü")] {
                let upper = word.to_ascii_uppercase();
                let mut mixed = word.clone();
                mixed[..1].make_ascii_uppercase();
                for form in [word.as_str(), upper.as_str(), mixed.as_str()] {
                    let text = format!("{prefix}{form}{suffix}");
                    assert!(f.may_match(&text), "{text}");
                }
            }
        }
    }

    #[test]
    fn a_short_secret_word_turns_the_filter_off() {
        let f = filter(&[&["pw"]]);
        assert!(f.may_match(r#"{"n":7}"#));
    }
}
