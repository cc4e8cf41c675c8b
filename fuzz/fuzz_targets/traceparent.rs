//! `traceparent`: the W3C header, parsed strictly by traced's own code.
//!
//! Checks: no panic; an accepted value has non-zero ids and only the flags traced keeps;
//! its ids are the input's text, and for version 00 (exactly 55 characters) it formats
//! back to the same lowercase text but for the flag bits traced does not know.
#![no_main]

use libfuzzer_sys::fuzz_target;
use traced::opentelemetry::trace::{SpanId, TraceId};
use traced::propagation::traceparent::{
    format_traceparent, parse_traceparent, RANDOM_FLAG, SAMPLED_FLAG,
};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(parsed) = parse_traceparent(&text) else {
        return;
    };
    assert_ne!(parsed.trace_id, TraceId::INVALID);
    assert_ne!(parsed.parent_id, SpanId::INVALID);
    assert_eq!(parsed.flags.to_u8() & !(SAMPLED_FLAG | RANDOM_FLAG), 0);

    let formatted = format_traceparent(parsed.trace_id, parsed.parent_id, parsed.flags);
    assert_eq!(formatted.len(), 55);
    // Whatever the version, the ids are the input's (lowercase) text.
    assert_eq!(&formatted[2..53], &text[2..53], "{text:?}");
    let flags = u8::from_str_radix(&text[53..55], 16).expect("flags are hex");
    assert_eq!(parsed.flags.to_u8(), flags & (SAMPLED_FLAG | RANDOM_FLAG));
    if text.starts_with("00") {
        assert_eq!(text.len(), 55, "version 00 has nothing after the flags");
        assert_eq!(&formatted[..53], &text[..53]);
    }
    // What traced writes, it reads back the same.
    assert_eq!(parse_traceparent(&formatted), Ok(parsed));
});
