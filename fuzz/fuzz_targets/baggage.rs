//! `baggage`: the input is split into header lines (at `\n`).
//!
//! Checks: no panic; at most 64 members come back, each key a token; formatting them
//! stays within 8192 bytes and reads back as the same members, or as a prefix of them
//! that stops at a member that did not fit (percent-encoding makes values longer).
#![no_main]

use libfuzzer_sys::fuzz_target;
use traced::propagation::baggage::{format_baggage, parse_baggage, MAX_BYTES, MAX_MEMBERS};

fn is_token(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c))
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (members, errors) = parse_baggage(text.split('\n'));
    for error in &errors {
        let _ = error.to_string();
    }
    assert!(members.len() <= MAX_MEMBERS, "{} members", members.len());
    for (key, _) in &members {
        assert!(is_token(key), "{key:?}");
    }

    let header = format_baggage(members.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    assert!(header.len() <= MAX_BYTES, "{} bytes", header.len());
    let (again, errors) = parse_baggage([header.as_str()]);
    assert!(errors.is_empty(), "{errors:?} in {header:?}");
    assert!(
        members.starts_with(&again),
        "{again:?} is not a prefix of {members:?}"
    );
    if let Some((key, value)) = members.get(again.len()) {
        // The first member left out is one that did not fit.
        let alone = format_baggage([(key.as_str(), value.as_str())]);
        assert!(
            alone.is_empty() || header.len() + 1 + alone.len() > MAX_BYTES,
            "{key:?} left out of {header:?}"
        );
    }
});
