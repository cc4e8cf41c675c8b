//! `tracestate`: the input is split into header lines (at `\n`).
//!
//! Checks: no panic; an accepted state has at most 32 members, no key twice, and its
//! header text parses again to the same state.
#![no_main]

use libfuzzer_sys::fuzz_target;
use traced::propagation::tracestate::{parse_tracestate, MAX_MEMBERS};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(state) = parse_tracestate(text.split('\n')) else {
        return;
    };
    let header = state.header();
    let members: Vec<&str> = header.split(',').filter(|m| !m.is_empty()).collect();
    assert!(members.len() <= MAX_MEMBERS, "{header:?}");
    for (i, member) in members.iter().enumerate() {
        let (key, value) = member.split_once('=').expect("key=value");
        assert!(!key.is_empty() && !value.is_empty(), "{member:?}");
        assert_eq!(state.get(key), Some(value));
        assert!(
            members[..i]
                .iter()
                .all(|m| !m.starts_with(&format!("{key}="))),
            "{key:?} twice"
        );
    }
    let again = parse_tracestate([header.as_str()]).expect("accepted once, accepted again");
    assert_eq!(again, state);
});
