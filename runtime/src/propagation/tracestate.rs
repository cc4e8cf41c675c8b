//! The W3C `tracestate` header, parsed strictly: repeated header lines are joined with
//! `,`, every member must match the key/value grammar of the spec, and more than 32
//! members or any bad member drops the whole tracestate (the stock propagator truncates
//! instead, passing on a state the sender never wrote).

use std::fmt;

use opentelemetry::trace::TraceState;

/// The most members a tracestate may have.
pub const MAX_MEMBERS: usize = 32;

/// Why a `tracestate` was dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TracestateError {
    /// More than [`MAX_MEMBERS`] members.
    TooManyMembers(usize),
    /// A member that is not `key=value` by the spec's grammar.
    BadMember(String),
    /// The same key twice.
    DuplicateKey(String),
}

impl fmt::Display for TracestateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooManyMembers(n) => {
                write!(f, "tracestate has {n} members, more than {MAX_MEMBERS}")
            }
            Self::BadMember(member) => write!(
                f,
                "tracestate member {member:?} is not key=value by the spec"
            ),
            Self::DuplicateKey(key) => write!(f, "tracestate key {key:?} appears twice"),
        }
    }
}

impl std::error::Error for TracestateError {}

fn is_key_char(c: u8) -> bool {
    matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'*' | b'/')
}

/// `simple-key = lcalpha 0*255(lcalpha / DIGIT / "_" / "-"/ "*" / "/")`, or
/// `tenant-id "@" system-id` with `tenant-id = (lcalpha / DIGIT) 0*240(...)` and
/// `system-id = lcalpha 0*13(...)`.
fn valid_key(key: &str) -> bool {
    let bytes = key.as_bytes();
    match key.split_once('@') {
        None => {
            !bytes.is_empty()
                && bytes.len() <= 256
                && bytes[0].is_ascii_lowercase()
                && bytes.iter().all(|&c| is_key_char(c))
        }
        Some((tenant, system)) => {
            let (t, s) = (tenant.as_bytes(), system.as_bytes());
            !t.is_empty()
                && t.len() <= 241
                && (t[0].is_ascii_lowercase() || t[0].is_ascii_digit())
                && t.iter().all(|&c| is_key_char(c))
                && !s.is_empty()
                && s.len() <= 14
                && s[0].is_ascii_lowercase()
                && s.iter().all(|&c| is_key_char(c))
        }
    }
}

/// `value = 0*255(chr) nblk-chr`, `chr = %x20 / nblk-chr`,
/// `nblk-chr = %x21-2B / %x2D-3C / %x3E-7E`.
fn valid_value(value: &str) -> bool {
    let bytes = value.as_bytes();
    let nblk = |c: u8| matches!(c, 0x21..=0x2b | 0x2d..=0x3c | 0x3e..=0x7e);
    !bytes.is_empty()
        && bytes.len() <= 256
        && bytes.last().is_some_and(|&c| nblk(c))
        && bytes.iter().all(|&c| c == b' ' || nblk(c))
}

/// Parses the `tracestate` header lines (joined with `,`) into a `TraceState`.
///
/// ```
/// use traced::propagation::tracestate::parse_tracestate;
///
/// let state = parse_tracestate(["rojo=00f067aa0ba902b7", "congo=t61rcWkgMzE"]).unwrap();
/// assert_eq!(state.get("congo"), Some("t61rcWkgMzE"));
/// assert!(parse_tracestate(["Rojo=1"]).is_err(), "keys are lowercase");
/// ```
pub fn parse_tracestate<'a>(
    lines: impl IntoIterator<Item = &'a str>,
) -> Result<TraceState, TracestateError> {
    let members: Vec<&str> = lines
        .into_iter()
        .flat_map(|line| line.split(','))
        .map(|member| member.trim_matches([' ', '\t']))
        .filter(|member| !member.is_empty()) // the spec allows empty list members
        .collect();
    if members.len() > MAX_MEMBERS {
        return Err(TracestateError::TooManyMembers(members.len()));
    }
    let mut pairs: Vec<(&str, &str)> = Vec::with_capacity(members.len());
    for member in members {
        let Some((key, value)) = member.split_once('=') else {
            return Err(TracestateError::BadMember(member.to_owned()));
        };
        if !valid_key(key) || !valid_value(value) {
            return Err(TracestateError::BadMember(member.to_owned()));
        }
        if pairs.iter().any(|(k, _)| *k == key) {
            return Err(TracestateError::DuplicateKey(key.to_owned()));
        }
        pairs.push((key, value));
    }
    TraceState::from_key_value(pairs).map_err(|error| TracestateError::BadMember(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_repeated_lines_and_skips_empty_members() {
        let state = parse_tracestate(["a=1, ,b=2", "\tc=3 "]).unwrap();
        assert_eq!(state.header(), "a=1,b=2,c=3");
    }

    #[test]
    fn multi_tenant_keys_and_values_with_spaces() {
        let state =
            parse_tracestate(["fw529a3039@dt=d4cda95b652f4a1592b449d5929fda1b, x=a b"]).unwrap();
        assert_eq!(
            state.get("fw529a3039@dt"),
            Some("d4cda95b652f4a1592b449d5929fda1b")
        );
        assert_eq!(state.get("x"), Some("a b"));
    }

    #[test]
    fn bad_members_drop_everything() {
        for bad in [
            "a=1,Bad=2",
            "a=1,b",
            "a=1,b=",
            "a=1,b=x\ty",
            "a=1,b=x=y",
            "1a=1",
            "a@=1",
            "a@1sys=1",
            "tenant@system-id-way-too-long=1",
            "a=1,a=2",
        ] {
            assert!(parse_tracestate([bad]).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn thirty_two_members_pass_and_thirty_three_drop_all() {
        let members = |n: usize| {
            (0..n)
                .map(|i| format!("k{i}=v"))
                .collect::<Vec<_>>()
                .join(",")
        };
        assert!(parse_tracestate([members(32).as_str()]).is_ok());
        assert!(matches!(
            parse_tracestate([members(33).as_str()]),
            Err(TracestateError::TooManyMembers(_))
        ));
        // Split over two lines, the count is over both.
        let (first, second) = (members(20), members(13).replace('k', "j"));
        assert!(parse_tracestate([first.as_str(), second.as_str()]).is_err());
    }
}
