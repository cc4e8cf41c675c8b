//! The W3C `baggage` header: `key=value` members with optional properties, values
//! percent-encoded, capped at 8192 bytes and 64 members as the spec's limits say.

use std::fmt;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS};

/// The most bytes of baggage read from a request (the spec's limit for a header).
pub const MAX_BYTES: usize = 8192;
/// The most members of baggage read from a request.
pub const MAX_MEMBERS: usize = 64;

/// What reading the baggage found wrong; the members that were fine are kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BaggageError {
    /// The headers together were longer than [`MAX_BYTES`]; members past it were dropped.
    TooLong(usize),
    /// More than [`MAX_MEMBERS`] members; the rest were dropped.
    TooManyMembers(usize),
    /// A member that is not `key=value` (key a token, value percent-encoded UTF-8).
    BadMember(String),
}

impl fmt::Display for BaggageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLong(n) => write!(
                f,
                "baggage is {n} bytes, more than {MAX_BYTES}; the members past it were dropped"
            ),
            Self::TooManyMembers(n) => write!(
                f,
                "baggage has {n} members, more than {MAX_MEMBERS}; the rest were dropped"
            ),
            Self::BadMember(member) => write!(f, "baggage member {member:?} is not key=value"),
        }
    }
}

impl std::error::Error for BaggageError {}

/// RFC 7230 `tchar`.
fn is_token(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c))
}

/// Parses the `baggage` header lines into `(key, value)` pairs (values decoded),
/// keeping what is valid within the limits and reporting what was not.
///
/// ```
/// use traced::propagation::baggage::parse_baggage;
///
/// let (members, errors) = parse_baggage(["user.id=ada, session.id=s%201;prop=1"]);
/// assert_eq!(members, [("user.id".to_owned(), "ada".to_owned()), ("session.id".to_owned(), "s 1".to_owned())]);
/// assert!(errors.is_empty());
/// ```
pub fn parse_baggage<'a>(
    lines: impl IntoIterator<Item = &'a str>,
) -> (Vec<(String, String)>, Vec<BaggageError>) {
    let mut members = Vec::new();
    let mut errors = Vec::new();
    let mut bytes = 0usize;
    let mut seen = 0usize;
    let mut too_long = false;
    for line in lines {
        for member in line.split(',') {
            let member = member.trim_matches([' ', '\t']);
            if member.is_empty() {
                continue;
            }
            seen += 1;
            bytes += member.len() + usize::from(bytes > 0);
            if bytes > MAX_BYTES {
                too_long = true;
                continue;
            }
            if members.len() == MAX_MEMBERS {
                continue;
            }
            // Properties (`;name=value`) are allowed and not kept.
            let pair = member.split(';').next().unwrap_or_default();
            let Some((key, value)) = pair.split_once('=') else {
                errors.push(BaggageError::BadMember(member.to_owned()));
                continue;
            };
            let (key, value) = (
                key.trim_matches([' ', '\t']),
                value.trim_matches([' ', '\t']),
            );
            // Langfuse's Python SDK writes its members with `quote_plus`: `+` is a space.
            let plus_as_space;
            let value = if key.starts_with("langfuse_") && value.contains('+') {
                plus_as_space = value.replace('+', "%20");
                plus_as_space.as_str()
            } else {
                value
            };
            match percent_decode_str(value).decode_utf8() {
                Ok(decoded) if is_token(key) => {
                    members.push((key.to_owned(), decoded.into_owned()))
                }
                _ => errors.push(BaggageError::BadMember(member.to_owned())),
            }
        }
    }
    if too_long {
        errors.push(BaggageError::TooLong(bytes));
    }
    if seen > MAX_MEMBERS {
        errors.push(BaggageError::TooManyMembers(seen));
    }
    (members, errors)
}

/// Characters escaped in baggage values: controls, space, the delimiters, and `+` (which
/// Python's OpenTelemetry SDK decodes as a space).
const VALUE_ESCAPES: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'+')
    .add(b'"')
    .add(b',')
    .add(b';')
    .add(b'\\')
    .add(b'%')
    .add(b'=');

/// Formats `(key, value)` pairs as a `baggage` header value, within the limits.
///
/// ```
/// use traced::propagation::baggage::format_baggage;
/// assert_eq!(format_baggage([("user.id", "ada lovelace")]), "user.id=ada%20lovelace");
/// ```
pub fn format_baggage<'a>(members: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    let mut kept = 0;
    for (key, value) in members {
        if kept == MAX_MEMBERS {
            break;
        }
        if !is_token(key) {
            continue;
        }
        let member = format!("{key}={}", utf8_percent_encode(value, VALUE_ESCAPES));
        if out.len() + member.len() + 1 > MAX_BYTES {
            break;
        }
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(&member);
        kept += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_awkward_values() {
        let value = "a b,c;d=e%f\"g\\h é";
        let header = format_baggage([("k", value)]);
        let (members, errors) = parse_baggage([header.as_str()]);
        assert!(errors.is_empty());
        assert_eq!(members, [("k".to_owned(), value.to_owned())]);
    }

    #[test]
    fn plus_is_a_space_in_langfuse_members_only() {
        let (members, _) = parse_baggage(["langfuse_user_id=a+b%2Bc,other=a+b"]);
        assert_eq!(members[0].1, "a b+c");
        assert_eq!(members[1].1, "a+b");
        assert_eq!(format_baggage([("k", "a+b")]), "k=a%2Bb");
    }

    #[test]
    fn bad_members_are_reported_and_the_rest_kept() {
        let (members, errors) = parse_baggage(["good=1,novalue,bad key=2", "also=%FF"]);
        assert_eq!(members, [("good".to_owned(), "1".to_owned())]);
        assert_eq!(errors.len(), 3);
    }

    #[test]
    fn limits_drop_the_excess() {
        let many = (0..70)
            .map(|i| format!("k{i}=v"))
            .collect::<Vec<_>>()
            .join(",");
        let (members, errors) = parse_baggage([many.as_str()]);
        assert_eq!(members.len(), MAX_MEMBERS);
        assert_eq!(errors, [BaggageError::TooManyMembers(70)]);

        let long = format!("a=1,big={},c=3", "x".repeat(MAX_BYTES));
        let (members, errors) = parse_baggage([long.as_str()]);
        assert_eq!(
            members.len(),
            1,
            "only a is kept: the limit falls inside big: {members:?}"
        );
        assert!(matches!(errors[..], [BaggageError::TooLong(_)]));
    }
}
