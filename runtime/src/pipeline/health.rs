//! How a destination is doing, told to the user: each export failure is classified
//! (refused, DNS, TLS, unauthorized, rejected, server error, timeout), kept for
//! [`Guard::destinations`](crate::Guard::destinations), and reported once per kind — and
//! again when the kind changes or the destination recovers — as a `log` warning when a
//! logger shows warnings, else as one line on stderr (unless turned off): a user who set
//! up no logger still learns that their spans are not arriving.

use std::fmt;
use std::sync::Mutex;

/// What kind of failure an export met.
///
/// ```no_run
/// # let guard = traced::init().unwrap();
/// if let Some(failure) = guard.last_error() {
///     if failure.kind == traced::FailureKind::Unauthorized {
///         eprintln!("the tracing backend refuses our key: {failure}");
///     }
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailureKind {
    /// Nothing listens there (connection refused or reset).
    Refused,
    /// The host name does not resolve.
    Dns,
    /// The TLS handshake failed: an unknown CA, a wrong host name, an expired certificate,
    /// a client certificate the server wants or refuses.
    Tls,
    /// The backend refused the credentials (HTTP 401 or 403, gRPC `Unauthenticated` or
    /// `PermissionDenied`). Retried only at the longest backoff until it is fixed.
    Unauthorized,
    /// The backend answered another client error (HTTP 4xx, a wrong path, say).
    Rejected,
    /// The backend failed (HTTP 5xx, 429, gRPC `Unavailable`...).
    ServerError,
    /// No answer within the export timeout.
    Timeout,
    /// Anything else.
    Other,
}

impl FailureKind {
    /// Whether resending soon can help: not while the credentials or the request are
    /// wrong, which only a new configuration (and a restart) fixes.
    pub(crate) fn is_lasting(self) -> bool {
        matches!(self, Self::Unauthorized | Self::Rejected)
    }

    fn hint(self) -> &'static str {
        match self {
            Self::Refused => "is the collector running there?",
            Self::Dns => "check the host name of the endpoint",
            Self::Tls => "check the endpoint's host name, and OTEL_EXPORTER_OTLP_CERTIFICATE (the CA that signed the collector's certificate) or the client certificate",
            Self::Unauthorized => "check the API key or headers (OTEL_EXPORTER_OTLP_HEADERS, LANGFUSE_*_KEY, LANGSMITH_API_KEY); retried only every few seconds until fixed",
            Self::Rejected => "check the endpoint's path and protocol",
            Self::ServerError | Self::Timeout | Self::Other => "retrying with backoff",
        }
    }
}

/// An export failure of one destination, as [`Guard::last_error`](crate::Guard::last_error)
/// and [`Guard::destinations`](crate::Guard::destinations) give it.
///
/// ```no_run
/// # let guard = traced::init().unwrap();
/// for destination in guard.destinations() {
///     if let Some(failure) = &destination.last_error {
///         println!("{}: {failure} (HTTP status {:?})", destination.destination, failure.status);
///     }
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportFailure {
    /// The kind of failure.
    pub kind: FailureKind,
    /// The HTTP status, when the backend answered one.
    pub status: Option<u16>,
    /// What happened, in the words of the server or the library (bounded, escaped).
    pub reason: String,
}

impl fmt::Display for ExportFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            FailureKind::Refused => "connection refused",
            FailureKind::Dns => "DNS",
            FailureKind::Tls => "TLS",
            FailureKind::Unauthorized => "unauthorized",
            FailureKind::Rejected => "rejected",
            FailureKind::ServerError => "server error",
            FailureKind::Timeout => "timeout",
            FailureKind::Other => "error",
        };
        match self.status {
            Some(status) => write!(f, "{kind} (HTTP {status}): {}", self.reason),
            None => write!(f, "{kind}: {}", self.reason),
        }
    }
}

/// The most bytes of outside text (a server's answer) a failure keeps.
const MAX_REASON_BYTES: usize = 600;

/// An error chain as libraries render it, without what says nothing: the SDK's
/// "Operation failed" wrapper, and a cause repeated right after itself
/// (`...: invalid peer certificate: UnknownIssuer: invalid peer certificate: UnknownIssuer`).
fn tidy(text: &str) -> String {
    let text = text.trim();
    let text = text.strip_prefix("Operation failed: ").unwrap_or(text);
    let parts: Vec<&str> = text.split(": ").collect();
    let mut kept: Vec<&str> = Vec::with_capacity(parts.len());
    let mut i = 0;
    while i < parts.len() {
        // The longest run of segments that repeats the run just before it.
        let repeat = (1..=kept.len().min(parts.len() - i))
            .rev()
            .find(|&n| kept[kept.len() - n..] == parts[i..i + n]);
        match repeat {
            Some(n) => i += n,
            None => {
                kept.push(parts[i]);
                i += 1;
            }
        }
    }
    kept.join(": ")
}

/// Outside text made safe for one log line: control characters escaped, bounded.
pub(crate) fn bounded(text: &str) -> String {
    crate::bounded::for_log(&tidy(text), MAX_REASON_BYTES)
}

impl ExportFailure {
    pub(crate) fn new(kind: FailureKind, status: Option<u16>, reason: &str) -> Self {
        Self {
            kind,
            status,
            reason: bounded(reason),
        }
    }

    /// A failure from an HTTP status and the body the backend sent with it.
    pub(crate) fn from_status(status: u16, body: &[u8]) -> Self {
        let kind = match status {
            401 | 403 => FailureKind::Unauthorized,
            408 => FailureKind::Timeout,
            429 => FailureKind::ServerError,
            400..=499 => FailureKind::Rejected,
            _ => FailureKind::ServerError,
        };
        let body = String::from_utf8_lossy(body);
        let reason = if body.trim().is_empty() {
            "(no message)".to_owned()
        } else {
            body.into_owned()
        };
        Self::new(kind, Some(status), &reason)
    }

    /// A failure from an exporter's error text (gRPC: the status code and the source
    /// chain opentelemetry-otlp renders).
    pub(crate) fn from_text(text: &str) -> Self {
        let lower = text.to_ascii_lowercase();
        let has = |needle: &str| lower.contains(needle);
        let kind = if has("unauthenticated") || has("permissiondenied") {
            FailureKind::Unauthorized
        } else if has("certificate") || has("tls") || has("handshake") {
            FailureKind::Tls
        } else if has("dns error") || has("failed to lookup address") {
            FailureKind::Dns
        } else if has("connection refused") || has("connection reset") {
            FailureKind::Refused
        } else if has("deadlineexceeded") || has("timed out") || has("no answer within") {
            FailureKind::Timeout
        } else if has("unimplemented") || has("notfound") || has("invalidargument") {
            FailureKind::Rejected
        } else if has("unavailable") || has("internal") || has("resourceexhausted") {
            FailureKind::ServerError
        } else {
            FailureKind::Other
        };
        Self::new(kind, None, text)
    }
}

/// The health of one destination.
#[derive(Debug)]
pub(crate) struct Health {
    destination: String,
    /// Whether the destination is reached over TLS.
    tls: bool,
    stderr: bool,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// The last failure, kept after a recovery.
    last: Option<ExportFailure>,
    /// The kind (and status) last reported, while failing (`None`: not failing now).
    reported: Option<(FailureKind, Option<u16>)>,
    failures_since_ok: u64,
    /// A failure its client saw in detail, for the exporter's next error to use.
    detail: Option<ExportFailure>,
    /// How many notices were told.
    told: u64,
}

impl Health {
    pub(crate) fn new(destination: String, tls: bool, stderr: bool) -> Self {
        Self {
            destination,
            tls,
            stderr,
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The client saw this failure in detail (an HTTP status and body, a TLS alert); the
    /// exporter's next error, which says less, is taken as this one.
    pub(crate) fn detail(&self, failure: ExportFailure) {
        self.state().detail = Some(failure);
    }

    /// An export failed with `text`; returns what kind of failure it was.
    pub(crate) fn failed(&self, text: &str) -> FailureKind {
        let notice = {
            let mut state = self.state();
            let mut failure = state
                .detail
                .take()
                .unwrap_or_else(|| ExportFailure::from_text(text));
            // Under TLS 1.3 a server that refuses the client's certificate says so after
            // the handshake, and over HTTP/2 (gRPC) its alert is lost: all the client
            // sees is the connection closing.
            let lower = text.to_ascii_lowercase();
            if self.tls
                && failure.kind == FailureKind::Other
                && ["connection closed", "broken pipe", "stream closed"]
                    .iter()
                    .any(|closed| lower.contains(closed))
            {
                failure = ExportFailure::new(
                    FailureKind::Tls,
                    None,
                    &format!(
                        "{text} (the server closed the TLS connection: it may want a client \
                         certificate, OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE, or refuse this one)"
                    ),
                );
            }
            let kind = failure.kind;
            state.failures_since_ok += 1;
            let key = (failure.kind, failure.status);
            let notice = (state.reported != Some(key)).then(|| {
                format!(
                    "traced: export to {} failing: {failure} ({}); spans are kept in the spool and sent again",
                    self.destination,
                    failure.kind.hint()
                )
            });
            state.reported = Some(key);
            state.last = Some(failure);
            state.told += u64::from(notice.is_some());
            (notice, kind)
        };
        if let Some(line) = notice.0 {
            self.tell(&line);
        }
        notice.1
    }

    /// An export succeeded.
    pub(crate) fn succeeded(&self) {
        let notice = {
            let mut state = self.state();
            state.detail = None;
            let notice = state.reported.take().map(|_| {
                format!(
                    "traced: export to {} recovered after {} failed attempts",
                    self.destination, state.failures_since_ok
                )
            });
            state.failures_since_ok = 0;
            state.told += u64::from(notice.is_some());
            notice
        };
        if let Some(line) = notice {
            self.tell(&line);
        }
    }

    /// The last failure (kept after a recovery), and whether it is still failing.
    pub(crate) fn last(&self) -> (Option<ExportFailure>, bool) {
        let state = self.state();
        (state.last.clone(), state.reported.is_some())
    }

    #[cfg(test)]
    fn told(&self) -> u64 {
        self.state().told
    }

    fn tell(&self, line: &str) {
        tell(line, self.stderr);
    }
}

/// Tells the user `line`: a `log` warning when a logger shows warnings, else one line on
/// stderr when `stderr` (notices are on).
pub(crate) fn tell(line: &str, stderr: bool) {
    if log::log_enabled!(log::Level::Warn) {
        log::warn!("{line}");
    } else if stderr {
        eprintln!("{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_texts_are_classified() {
        assert_eq!(
            ExportFailure::from_status(401, b"bad key").kind,
            FailureKind::Unauthorized
        );
        assert_eq!(
            ExportFailure::from_status(404, b"").kind,
            FailureKind::Rejected
        );
        assert_eq!(
            ExportFailure::from_status(503, b"").kind,
            FailureKind::ServerError
        );
        assert_eq!(ExportFailure::from_status(404, b"").reason, "(no message)");
        let grpc = "TonicTracesClient.Export export failed with gRPC code: Unavailable: \
                    transport error: invalid peer certificate: UnknownIssuer";
        assert_eq!(ExportFailure::from_text(grpc).kind, FailureKind::Tls);
        assert_eq!(
            ExportFailure::from_text("gRPC code: Unauthenticated").kind,
            FailureKind::Unauthorized
        );
        assert_eq!(
            ExportFailure::from_text("tcp connect error: Connection refused (os error 111)").kind,
            FailureKind::Refused
        );
    }

    #[test]
    fn repeated_causes_and_the_sdk_wrapper_are_left_out() {
        let text = "Operation failed: TonicTracesClient export failed with gRPC code: Unavailable: \
                    transport error: invalid peer certificate: UnknownIssuer: invalid peer certificate: UnknownIssuer";
        assert_eq!(
            bounded(text),
            "TonicTracesClient export failed with gRPC code: Unavailable: transport error: \
             invalid peer certificate: UnknownIssuer"
        );
        assert_eq!(bounded("a: b: a: b"), "a: b");
        assert_eq!(bounded("a: b: c"), "a: b: c");
    }

    #[test]
    fn outside_text_is_bounded_and_escaped() {
        let reason =
            ExportFailure::from_status(401, "no\nkey\u{1b}[31m".repeat(200).as_bytes()).reason;
        assert!(!reason.contains('\n') && !reason.contains('\u{1b}'));
        assert!(reason.len() <= MAX_REASON_BYTES);
        assert!(reason.ends_with('…'));
    }

    #[test]
    fn a_kind_is_reported_once_and_recovery_resets_it() {
        let health = Health::new("test".into(), true, false);
        health.detail(ExportFailure::from_status(401, b"invalid key"));
        assert_eq!(
            health.failed("HTTP export failed"),
            FailureKind::Unauthorized
        );
        let (last, failing) = health.last();
        assert!(failing);
        assert_eq!(last.map(|f| f.reason), Some("invalid key".to_owned()));
        assert_eq!(health.told(), 1);
        health.detail(ExportFailure::from_status(401, b"invalid key"));
        health.failed("HTTP export failed");
        assert_eq!(health.told(), 1, "the same kind is told once");
        assert_eq!(health.failed("connection refused"), FailureKind::Refused);
        assert_eq!(health.told(), 2, "a new kind is told");
        assert_eq!(
            health.failed("gRPC code: Cancelled: transport error: connection closed"),
            FailureKind::Tls
        );
        health.succeeded();
        assert_eq!(health.told(), 4, "the recovery is told");
        health.succeeded();
        assert_eq!(health.told(), 4);
        let (last, failing) = health.last();
        assert!(!failing);
        assert_eq!(last.map(|f| f.kind), Some(FailureKind::Tls));
    }
}
