//! The simple pair `X-Trace-ID` + `X-Parent-Span-ID`, and ids passed by hand: UUIDs with
//! dashes and upper case are normalised to 32 / 16 lowercase hex digits, then checked.

use std::fmt;

use opentelemetry::trace::{SpanId, TraceId};

/// Why an id passed by hand (a header or a [`TraceContext`](crate::TraceContext)) was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdError {
    /// Not 32 hex digits once dashes are removed.
    TraceId(String),
    /// Not 16 hex digits once dashes are removed.
    SpanId(String),
    /// All zeros.
    Zero(&'static str),
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TraceId(text) => write!(f, "trace id {text:?} is not 32 hex digits"),
            Self::SpanId(text) => write!(f, "parent span id {text:?} is not 16 hex digits"),
            Self::Zero(which) => write!(f, "{which} is all zeros"),
        }
    }
}

impl std::error::Error for IdError {}

/// Spaces and tabs around, dashes inside removed, lower-cased.
fn normalise(text: &str) -> String {
    text.trim_matches([' ', '\t'])
        .chars()
        .filter(|&c| c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn hex_digits(text: &str, len: usize) -> Option<u128> {
    if text.len() != len || !text.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    u128::from_str_radix(text, 16).ok()
}

/// Parses a trace id: 32 hex digits, or a UUID with dashes, any case.
///
/// ```
/// use traced::propagation::simple::parse_trace_id;
/// let id = parse_trace_id("4BF92F35-77B3-4DA6-A3CE-929D0E0E4736").unwrap();
/// assert_eq!(format!("{id:032x}"), "4bf92f3577b34da6a3ce929d0e0e4736");
/// ```
pub fn parse_trace_id(text: &str) -> Result<TraceId, IdError> {
    let digits = normalise(text);
    match hex_digits(&digits, 32) {
        Some(0) => Err(IdError::Zero("trace id")),
        Some(value) => Ok(TraceId::from(value)),
        None => Err(IdError::TraceId(text.to_owned())),
    }
}

/// Parses a span id: 16 hex digits (dashes allowed), any case.
///
/// ```
/// use traced::propagation::simple::parse_span_id;
/// assert!(parse_span_id("00F067AA0BA902B7").is_ok());
/// assert!(parse_span_id("0000000000000000").is_err());
/// ```
pub fn parse_span_id(text: &str) -> Result<SpanId, IdError> {
    let digits = normalise(text);
    match hex_digits(&digits, 16) {
        Some(0) => Err(IdError::Zero("parent span id")),
        Some(value) => Ok(SpanId::from(value as u64)),
        None => Err(IdError::SpanId(text.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_uuids_and_case() {
        assert_eq!(
            parse_trace_id(" 4bf92f35-77b3-4da6-a3ce-929d0e0e4736\t")
                .map(|id| format!("{id:032x}")),
            Ok("4bf92f3577b34da6a3ce929d0e0e4736".to_owned())
        );
        assert!(parse_trace_id("4bf92f3577b34da6a3ce929d0e0e473").is_err());
        assert!(parse_trace_id("4bf92f3577b34da6a3ce929d0e0e47zz").is_err());
        assert!(parse_trace_id("+bf92f3577b34da6a3ce929d0e0e4736").is_err());
        assert_eq!(
            parse_trace_id("00000000-0000-0000-0000-000000000000"),
            Err(IdError::Zero("trace id"))
        );
        assert_eq!(
            parse_span_id("00F0-67AA-0BA9-02B7").map(|id| format!("{id:016x}")),
            Ok("00f067aa0ba902b7".to_owned())
        );
        assert!(parse_span_id("00f067aa0ba902b").is_err());
    }
}
