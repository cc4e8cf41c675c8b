//! The W3C `traceparent` header (Trace Context Level 2), parsed strictly by our own code.
//!
//! The stock `TraceContextPropagator` of opentelemetry is not used for parsing because it
//! is lenient where the specification is not: it takes the first of repeated header lines
//! (the spec makes two `traceparent` lines invalid), accepts fields of the wrong length,
//! and masks the flags down to `sampled`, losing Level 2's `random` flag.

use std::fmt;

use opentelemetry::trace::{SpanId, TraceFlags, TraceId};

/// The `random` flag of Trace Context Level 2: the trace id's right 7 bytes are random.
pub const RANDOM_FLAG: u8 = 0x02;
/// The `sampled` flag.
pub const SAMPLED_FLAG: u8 = 0x01;

/// A parsed `traceparent`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Traceparent {
    /// The trace id.
    pub trace_id: TraceId,
    /// The caller's span id: the parent of the span that continues the trace.
    pub parent_id: SpanId,
    /// The flags we know and keep: `sampled` and `random`.
    pub flags: TraceFlags,
}

/// Why a `traceparent` value was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceparentError {
    /// Not `version-traceid-parentid-flags` with 2, 32, 16 and 2 characters.
    Malformed,
    /// A character that is not lowercase hex where hex is expected.
    NotLowercaseHex,
    /// Version `ff`, which the spec forbids.
    ForbiddenVersion,
    /// Version `00` with something after the flags.
    TrailingData,
    /// The trace id is all zeros.
    ZeroTraceId,
    /// The parent id is all zeros.
    ZeroParentId,
}

impl fmt::Display for TraceparentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Malformed => {
                "traceparent is not version-traceid-parentid-flags of 2, 32, 16 and 2 characters"
            }
            Self::NotLowercaseHex => "traceparent has a character that is not lowercase hex",
            Self::ForbiddenVersion => "traceparent version ff is invalid",
            Self::TrailingData => "traceparent version 00 has data after the flags",
            Self::ZeroTraceId => "traceparent trace id is all zeros",
            Self::ZeroParentId => "traceparent parent id is all zeros",
        })
    }
}

impl std::error::Error for TraceparentError {}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        _ => None,
    }
}

/// Parses lowercase hex of an exact length into its bytes.
fn lower_hex<const N: usize>(text: &[u8]) -> Result<[u8; N], TraceparentError> {
    if text.len() != N * 2 {
        return Err(TraceparentError::Malformed);
    }
    let mut out = [0u8; N];
    for (i, pair) in text.chunks_exact(2).enumerate() {
        let high = hex_value(pair[0]).ok_or(TraceparentError::NotLowercaseHex)?;
        let low = hex_value(pair[1]).ok_or(TraceparentError::NotLowercaseHex)?;
        out[i] = high << 4 | low;
    }
    Ok(out)
}

/// Parses one `traceparent` value (already trimmed of surrounding spaces and tabs).
///
/// ```
/// use traced::propagation::traceparent::{parse_traceparent, TraceparentError};
///
/// let parsed = parse_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03").unwrap();
/// assert!(parsed.flags.is_sampled());
/// assert_eq!(parsed.flags.to_u8() & 0x02, 0x02, "the random flag is kept");
/// assert_eq!(
///     parse_traceparent("00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01"),
///     Err(TraceparentError::NotLowercaseHex)
/// );
/// ```
pub fn parse_traceparent(value: &str) -> Result<Traceparent, TraceparentError> {
    let bytes = value.as_bytes();
    // version "-" trace-id "-" parent-id "-" flags: 2 + 1 + 32 + 1 + 16 + 1 + 2 = 55.
    if bytes.len() < 55 {
        return Err(TraceparentError::Malformed);
    }
    if bytes[2] != b'-' || bytes[35] != b'-' || bytes[52] != b'-' {
        return Err(TraceparentError::Malformed);
    }
    let [version] = lower_hex::<1>(&bytes[0..2])?;
    if version == 0xff {
        return Err(TraceparentError::ForbiddenVersion);
    }
    if bytes.len() > 55 {
        // Version 00 is exactly 55 characters; a later version may add fields, each
        // after a dash, and is parsed by its first four.
        if version == 0 {
            return Err(TraceparentError::TrailingData);
        }
        if bytes[55] != b'-' {
            return Err(TraceparentError::Malformed);
        }
    }
    let trace_id = lower_hex::<16>(&bytes[3..35])?;
    let parent_id = lower_hex::<8>(&bytes[36..52])?;
    let [flags] = lower_hex::<1>(&bytes[53..55])?;
    if trace_id == [0; 16] {
        return Err(TraceparentError::ZeroTraceId);
    }
    if parent_id == [0; 8] {
        return Err(TraceparentError::ZeroParentId);
    }
    Ok(Traceparent {
        trace_id: TraceId::from_bytes(trace_id),
        parent_id: SpanId::from_bytes(parent_id),
        flags: TraceFlags::new(flags & (SAMPLED_FLAG | RANDOM_FLAG)),
    })
}

/// Formats a version-00 `traceparent`.
///
/// ```
/// use opentelemetry::trace::{SpanId, TraceFlags, TraceId};
/// use traced::propagation::traceparent::format_traceparent;
///
/// let text = format_traceparent(TraceId::from(1u128), SpanId::from(2u64), TraceFlags::SAMPLED);
/// assert_eq!(text, "00-00000000000000000000000000000001-0000000000000002-01");
/// ```
pub fn format_traceparent(trace_id: TraceId, span_id: SpanId, flags: TraceFlags) -> String {
    format!(
        "00-{trace_id:032x}-{span_id:016x}-{:02x}",
        flags.to_u8() & (SAMPLED_FLAG | RANDOM_FLAG)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn accepts_the_spec_example() {
        let parsed = parse_traceparent(GOOD).unwrap();
        assert_eq!(
            format!("{:032x}", parsed.trace_id),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(format!("{:016x}", parsed.parent_id), "00f067aa0ba902b7");
        assert!(parsed.flags.is_sampled());
        assert_eq!(
            format_traceparent(parsed.trace_id, parsed.parent_id, parsed.flags),
            GOOD
        );
    }

    #[test]
    fn flags_keep_sampled_and_random_and_drop_unknown_bits() {
        let flags = |f: &str| {
            parse_traceparent(&format!("{}{f}", &GOOD[..53]))
                .unwrap()
                .flags
                .to_u8()
        };
        assert_eq!(flags("00"), 0);
        assert_eq!(flags("02"), RANDOM_FLAG);
        assert_eq!(flags("03"), RANDOM_FLAG | SAMPLED_FLAG);
        assert_eq!(flags("ff"), RANDOM_FLAG | SAMPLED_FLAG);
    }

    #[test]
    fn version_rules() {
        use TraceparentError::*;
        assert_eq!(
            parse_traceparent(&format!("ff{}", &GOOD[2..])),
            Err(ForbiddenVersion)
        );
        // A future version is read by its first four fields, with or without more.
        assert!(parse_traceparent(&format!("01{}", &GOOD[2..])).is_ok());
        assert!(parse_traceparent(&format!("cc{}-what-comes-next", &GOOD[2..])).is_ok());
        assert_eq!(
            parse_traceparent(&format!("cc{}x", &GOOD[2..])),
            Err(Malformed)
        );
        assert_eq!(
            parse_traceparent(&format!("{GOOD}-extra")),
            Err(TrailingData)
        );
        assert_eq!(
            parse_traceparent(&format!("0g{}", &GOOD[2..])),
            Err(NotLowercaseHex)
        );
    }

    #[test]
    fn lengths_characters_and_zero_ids() {
        use TraceparentError::*;
        let cases = [
            ("", Malformed),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
                Malformed,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",
                Malformed,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-701",
                Malformed,
            ),
            (
                "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                Malformed,
            ),
            (
                "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                NotLowercaseHex,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
                NotLowercaseHex,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0G",
                NotLowercaseHex,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e473z-00f067aa0ba902b7-01",
                NotLowercaseHex,
            ),
            (
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                ZeroTraceId,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                ZeroParentId,
            ),
            (
                "00-+bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                NotLowercaseHex,
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_traceparent(input), Err(expected), "{input:?}");
        }
    }
}
