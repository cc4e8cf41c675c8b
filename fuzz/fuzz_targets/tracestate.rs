//! `tracestate`: the input is split into header lines (at `\n`).
//!
//! Checks: no panic; an accepted tracestate has at most 32 members; its `TraceState`
//! holds each key once, with the value of the key's first member in the header; and the
//! header text parses again to the same result.
#![no_main]

use libfuzzer_sys::fuzz_target;
use traced::propagation::tracestate::{parse_tracestate, MAX_MEMBERS};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(inbound) = parse_tracestate(text.split('\n')) else {
        return;
    };
    let members: Vec<&str> = inbound
        .header
        .split(',')
        .filter(|m| !m.is_empty())
        .collect();
    assert!(members.len() <= MAX_MEMBERS, "{:?}", inbound.header);
    for member in &members {
        let (key, value) = member.split_once('=').expect("key=value");
        assert!(!key.is_empty() && !value.is_empty(), "{member:?}");
        if let Some(kept) = inbound.state.get(key) {
            let first = members
                .iter()
                .find_map(|m| m.strip_prefix(&format!("{key}=")))
                .expect("the key is in the header");
            assert_eq!(kept, first, "{key:?} keeps its first value");
        }
    }
    let state = inbound.state.header();
    for member in state.split(',').filter(|m| !m.is_empty()) {
        assert!(members.contains(&member), "{member:?} not received");
    }
    let again = parse_tracestate([inbound.header.as_str()]).expect("accepted once, accepted again");
    assert_eq!(again, inbound);
});
