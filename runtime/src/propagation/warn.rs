//! Warnings about bad inbound context: logged once per cause per minute (a flood of bad
//! headers must not flood the logs), and counted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The causes warned about, each with its own rate limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cause {
    Traceparent = 0,
    Tracestate = 1,
    Baggage = 2,
    SimpleHeaders = 3,
    ExplicitParent = 4,
    Langsmith = 5,
}

const CAUSES: usize = 6;
const INTERVAL_SECS: u64 = 60;
/// The most bytes of a problem's text a log line quotes.
const MAX_LOGGED_BYTES: usize = 512;

static LAST_LOGGED: [AtomicU64; CAUSES] = [const { AtomicU64::new(0) }; CAUSES];
static COUNT: [AtomicU64; CAUSES] = [const { AtomicU64::new(0) }; CAUSES];

/// Counts the problem, and logs it unless this cause was logged in the last minute.
pub(crate) fn warn(cause: Cause, message: &dyn std::fmt::Display) {
    let index = cause as usize;
    let total = COUNT[index].fetch_add(1, Ordering::Relaxed) + 1;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let last = LAST_LOGGED[index].load(Ordering::Relaxed);
    if (last == 0 || now >= last + INTERVAL_SECS)
        && LAST_LOGGED[index]
            .compare_exchange(last, now.max(1), Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        // The message quotes what the caller sent: bounded and escaped, so a request can
        // neither flood nor forge log lines.
        let message = crate::bounded::for_log(&message.to_string(), MAX_LOGGED_BYTES);
        log::warn!(
            "traced: ignoring inbound trace context ({message}); the request starts a new trace \
             [{total} such so far; logged at most once a minute]"
        );
    }
}

/// How many inbound problems of any cause have been seen (for tests and diagnostics).
///
/// ```
/// let _ = traced::propagation::inbound_problem_count();
/// ```
pub fn inbound_problem_count() -> u64 {
    COUNT.iter().map(|c| c.load(Ordering::Relaxed)).sum()
}
