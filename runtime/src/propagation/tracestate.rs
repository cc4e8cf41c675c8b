//! The W3C `tracestate` header, parsed strictly by Trace Context Level 2: repeated header
//! lines are joined with `,`, every member must match the key/value grammar, and more
//! than 32 members or any bad member drops the whole tracestate (the stock propagator
//! truncates instead, passing on a state the sender never wrote).
//!
//! What is accepted is passed on as received (Level 2: "vendors receiving a `tracestate`
//! request header MUST send it to outgoing requests"), including what opentelemetry's
//! `TraceState` cannot hold: a key twice (the spec leaves it to the receiver to keep both
//! or one; we keep both), or a multi-tenant key of 241 + 1 + 14 characters, which its key
//! check refuses by one character. Those members stay in [`Inbound::header`], and the
//! `TraceState` holds the rest, first occurrence of each key.

use std::fmt;

use opentelemetry::trace::TraceState;

/// The most members a tracestate may have.
pub const MAX_MEMBERS: usize = 32;

/// The longest key: one character then up to 255 (`key = ( lcalpha / DIGIT ) 0*255 (
/// keychar )`).
pub const MAX_KEY_LEN: usize = 256;

/// Why a `tracestate` was dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TracestateError {
    /// More than [`MAX_MEMBERS`] members.
    TooManyMembers(usize),
    /// A member that is not `key=value` by the spec's grammar.
    BadMember(String),
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
        }
    }
}

impl std::error::Error for TracestateError {}

/// An accepted inbound tracestate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inbound {
    /// The members as an OpenTelemetry `TraceState`: each key once (its first member),
    /// without the members `TraceState` refuses.
    pub state: TraceState,
    /// Every member as received, trimmed of optional whitespace, in order, joined with
    /// `,`: what is passed on.
    pub header: String,
}

impl Inbound {
    /// Whether `state` holds every member of `header`, so `state` alone passes it on.
    ///
    /// ```
    /// use traced::propagation::tracestate::parse_tracestate;
    /// assert!(parse_tracestate(["a=1,b=2"]).unwrap().state_is_whole());
    /// assert!(!parse_tracestate(["a=1,a=2"]).unwrap().state_is_whole());
    /// ```
    pub fn state_is_whole(&self) -> bool {
        self.state.header() == self.header
    }
}

/// `keychar = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@"`.
fn is_key_char(c: u8) -> bool {
    matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'*' | b'/' | b'@')
}

/// `key = ( lcalpha / DIGIT ) 0*255 ( keychar )` (Level 2, which folded Level 1's
/// `tenant@system` form into one rule).
fn valid_key(key: &str) -> bool {
    let bytes = key.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_KEY_LEN
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes.iter().all(|&c| is_key_char(c))
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

/// Parses the `tracestate` header lines (joined with `,`).
///
/// ```
/// use traced::propagation::tracestate::parse_tracestate;
///
/// let inbound = parse_tracestate(["rojo=00f067aa0ba902b7", "congo=t61rcWkgMzE"]).unwrap();
/// assert_eq!(inbound.state.get("congo"), Some("t61rcWkgMzE"));
/// assert!(parse_tracestate(["Rojo=1"]).is_err(), "keys are lowercase");
///
/// // A key twice is passed on as received; the TraceState keeps the first.
/// let inbound = parse_tracestate(["foo=1,foo=2"]).unwrap();
/// assert_eq!(inbound.header, "foo=1,foo=2");
/// assert_eq!(inbound.state.header(), "foo=1");
/// ```
pub fn parse_tracestate<'a>(
    lines: impl IntoIterator<Item = &'a str>,
) -> Result<Inbound, TracestateError> {
    let members: Vec<&str> = lines
        .into_iter()
        .flat_map(|line| line.split(','))
        .map(|member| member.trim_matches([' ', '\t']))
        .filter(|member| !member.is_empty()) // the spec allows empty list members
        .collect();
    if members.len() > MAX_MEMBERS {
        return Err(TracestateError::TooManyMembers(members.len()));
    }
    let mut kept: Vec<(&str, &str)> = Vec::with_capacity(members.len());
    for member in &members {
        let Some((key, value)) = member.split_once('=') else {
            return Err(TracestateError::BadMember((*member).to_owned()));
        };
        if !valid_key(key) || !valid_value(value) {
            return Err(TracestateError::BadMember((*member).to_owned()));
        }
        let repeated = kept.iter().any(|(k, _)| *k == key);
        // What `TraceState` refuses stays in the header only.
        if !repeated && TraceState::from_key_value([(key, value)]).is_ok() {
            kept.push((key, value));
        }
    }
    let state = TraceState::from_key_value(kept)
        .map_err(|error| TracestateError::BadMember(error.to_string()))?;
    Ok(Inbound {
        state,
        header: members.join(","),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_repeated_lines_and_skips_empty_members() {
        let inbound = parse_tracestate(["a=1, ,b=2", "\tc=3 "]).unwrap();
        assert_eq!(inbound.header, "a=1,b=2,c=3");
        assert!(inbound.state_is_whole());
    }

    #[test]
    fn multi_tenant_keys_and_values_with_spaces() {
        let inbound =
            parse_tracestate(["fw529a3039@dt=d4cda95b652f4a1592b449d5929fda1b, x=a b"]).unwrap();
        assert_eq!(
            inbound.state.get("fw529a3039@dt"),
            Some("d4cda95b652f4a1592b449d5929fda1b")
        );
        assert_eq!(inbound.state.get("x"), Some("a b"));
    }

    #[test]
    fn bad_members_drop_everything() {
        let long_key = format!("{}=1", "z".repeat(257));
        for bad in [
            "a=1,Bad=2",
            "a=1,b",
            "a=1,b=",
            "a=1,b=x\ty",
            "a=1,b=x=y",
            "foo =1",
            "foo.bar=1",
            "@foo=1,bar=2",
            "_a=1",
            long_key.as_str(),
        ] {
            assert!(parse_tracestate([bad]).is_err(), "{bad:?} accepted");
        }
    }

    /// The tracestate cases of the W3C Trace Context Level 2 test suite (strict).
    #[test]
    fn w3c_level_2_suite_cases() {
        // Duplicated keys: inherited, kept as received.
        for (lines, header) in [
            (&["foo=1,foo=1"][..], "foo=1,foo=1"),
            (&["foo=1,foo=2"], "foo=1,foo=2"),
            (&["foo=1", "foo=1"], "foo=1,foo=1"),
            (&["foo=1", "foo=2"], "foo=1,foo=2"),
        ] {
            let inbound = parse_tracestate(lines.iter().copied()).unwrap();
            assert_eq!(inbound.header, header);
            assert_eq!(inbound.state.get("foo"), Some("1"));
            assert!(!inbound.state_is_whole());
        }
        // `@` is a key character in Level 2: these are inherited whole.
        for header in ["foo@=1,bar=2", "foo@@bar=1,bar=2", "foo@bar@baz=1,bar=2"] {
            let inbound = parse_tracestate([header]).unwrap();
            assert_eq!(inbound.header, header);
            assert_eq!(inbound.state.get("bar"), Some("2"));
        }
        // A 256-character key and a 241@14 multi-tenant key are valid; 257 is not.
        let key_256 = format!("{}=1", "z".repeat(256));
        let inbound = parse_tracestate(["foo=1", key_256.as_str()]).unwrap();
        assert!(inbound.state_is_whole());
        let tenant = format!("{}@{}=1", "t".repeat(241), "v".repeat(14));
        let inbound = parse_tracestate(["foo=1", tenant.as_str()]).unwrap();
        assert_eq!(inbound.header, format!("foo=1,{tenant}"));
        assert_eq!(
            inbound.state.header(),
            "foo=1",
            "TraceState refuses the key"
        );
        // All allowed characters, with and without a vendor part.
        let key = "abcdefghijklmnopqrstuvwxyz0123456789_-*/";
        let value: String = (0x20u8..=0x7e)
            .filter(|c| *c != b',' && *c != b'=')
            .map(char::from)
            .collect();
        for key in [key.to_owned(), format!("{key}@a-z0-9_-*/")] {
            let member = format!("{key}={value}");
            let inbound = parse_tracestate([member.as_str()]).unwrap();
            assert_eq!(inbound.header, member);
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
