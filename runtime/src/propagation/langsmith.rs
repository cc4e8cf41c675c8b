//! LangSmith's own distributed tracing: the `langsmith-trace` header (a *dotted order*)
//! and the `langsmith-metadata` / `langsmith-tags` / `langsmith-project` members of
//! `baggage`, as LangSmith's Python SDK writes them (`RunTree.to_headers`) and reads them
//! (`RunTree.from_headers`, `tracing_context(parent=headers)`), langsmith 0.15.
//!
//! # The dotted order
//!
//! One segment per run from the root down, joined with `.`; a segment is the run's start
//! time in UTC as `%Y%m%dT%H%M%S%fZ` (six fraction digits) followed by the run's UUID,
//! lowercase with dashes. The first UUID is the trace id (the root run's id), the last one
//! the run the receiver nests under. LangSmith's server refuses a child whose timestamp is
//! earlier than its parent's, so a child's start is clamped to its parent's (clocks of two
//! hosts differ).
//!
//! # The id mapping
//!
//! LangSmith run ids are 16-byte UUIDs and OpenTelemetry span ids 8 bytes, so an OTLP
//! `parentSpanId` cannot name a run LangSmith's SDK created (their docs say so). LangSmith
//! reads the run's place from span attributes instead, which override the ids it would
//! derive from the OTLP span: `langsmith.trace.id`, `langsmith.span.id`,
//! `langsmith.span.parent_id`, `langsmith.span.dotted_order`, and
//! `langsmith.trace.session_name` for the project. Each span of a LangSmith trace carries
//! them, so LangSmith nests it under the caller's run whatever the OTLP ids say.
//!
//! - **A span's run id** is a UUIDv7 made from its start (milliseconds) and its 64-bit span
//!   id, the construction LangSmith's own SDK uses to post OTLP spans
//!   (`wrappers/_openai_agents_api.py::_run_id`): a valid v7 whose time is the span's
//!   start, unique as long as span ids are, and the same every time it is computed, so
//!   `inject` writes the very id the exported span carries.
//! - **A trace begun here** has the root span's run id as its LangSmith trace id (LangSmith
//!   requires trace id = root run id); its OpenTelemetry trace id stays random.
//! - **A trace continued from `langsmith-trace`** keeps the caller's trace id and dotted
//!   order. When no valid `traceparent` came with it, the OpenTelemetry parent is taken
//!   from the run ids the way LangSmith's SDK maps them in its OpenTelemetry mode
//!   (`_otel_utils.py`): trace id = the trace UUID's 16 bytes, span id = the parent run
//!   UUID's first 8 bytes (its last 8 when those are zero, as in run ids LangSmith derived
//!   from a span id), so the OpenTelemetry trace id is the same in every backend.
//!
//! # Precedence
//!
//! `traceparent` and `langsmith-trace` are read independently: a valid `traceparent`
//! decides the OpenTelemetry parent (the W3C header is what every OpenTelemetry peer
//! reads), and `langsmith-trace` decides the LangSmith run the spans nest under (it is the
//! only thing LangSmith's SDK reads; it never writes `traceparent` itself). LangSmith's SDK
//! in its OpenTelemetry mode sends both, naming the same trace. `X-Trace-ID` comes last.
//!
//! Malformed input (their SDK raises) starts a new LangSmith trace and is reported as
//! `traced.propagation.problem`; it never fails the request.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::RwLock;

use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
use opentelemetry::KeyValue;

use crate::time::{days_from_civil, utc_parts};

/// `langsmith-trace`: the dotted order of the run to nest under.
pub const LANGSMITH_TRACE: &str = "langsmith-trace";
/// The baggage member of LangSmith metadata: percent-encoded compact JSON.
pub const LANGSMITH_METADATA: &str = "langsmith-metadata";
/// The baggage member of LangSmith tags: comma-separated.
pub const LANGSMITH_TAGS: &str = "langsmith-tags";
/// The baggage member naming the LangSmith project the trace goes to.
pub const LANGSMITH_PROJECT: &str = "langsmith-project";

/// The longest dotted order read (a trace 50 runs deep is about 3 KB).
pub const MAX_DOTTED_ORDER_BYTES: usize = 8192;

/// The span attributes LangSmith reads a run's place from.
pub(crate) const TRACE_ID: &str = "langsmith.trace.id";
pub(crate) const SPAN_ID: &str = "langsmith.span.id";
pub(crate) const PARENT_ID: &str = "langsmith.span.parent_id";
pub(crate) const DOTTED_ORDER: &str = "langsmith.span.dotted_order";
pub(crate) const SESSION_NAME: &str = "langsmith.trace.session_name";

/// `len("20240101T000000000000Z")`.
const TIMESTAMP_LEN: usize = 22;
const UUID_LEN: usize = 36;

/// Why a `langsmith-trace` was not used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DottedOrderError {
    /// Longer than [`MAX_DOTTED_ORDER_BYTES`].
    TooLong(usize),
    /// A segment that is not `<%Y%m%dT%H%M%S%fZ><uuid>`.
    BadSegment(String),
    /// The trace id or a run id is the nil UUID.
    NilId,
}

impl fmt::Display for DottedOrderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLong(n) => write!(
                f,
                "langsmith-trace is {n} bytes, more than {MAX_DOTTED_ORDER_BYTES}"
            ),
            Self::BadSegment(segment) => write!(
                f,
                "langsmith-trace segment {:?} is not <%Y%m%dT%H%M%S%fZ><uuid>",
                crate::bounded::prefix(segment, 80)
            ),
            Self::NilId => f.write_str("langsmith-trace names the nil UUID"),
        }
    }
}

impl std::error::Error for DottedOrderError {}

/// A run of a LangSmith trace: the caller's (read from `langsmith-trace`) or one of ours.
/// Kept in the context, so the spans below compute their own and `inject` writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LangsmithRun {
    /// The trace's UUID (its root run's id).
    pub trace_id: u128,
    /// This run's UUID.
    pub run_id: u128,
    /// When the run started, in microseconds since the Unix epoch.
    pub start_micros: i64,
    /// The dotted order from the root to this run.
    pub dotted_order: String,
    /// The project (`langsmith-project`), when the caller named one.
    pub project: Option<String>,
}

impl LangsmithRun {
    /// The OpenTelemetry span context LangSmith's SDK gives this run (see the module's
    /// documentation), as a remote parent.
    ///
    /// ```
    /// use traced::propagation::langsmith::parse_dotted_order;
    /// let run = parse_dotted_order("20261201T044935348490Z01a22fef-d074-7e52-8541-5ca0c86a28a1").unwrap();
    /// let parent = run.otel_parent();
    /// assert_eq!(format!("{:032x}", parent.trace_id()), "01a22fefd0747e5285415ca0c86a28a1");
    /// assert_eq!(format!("{:016x}", parent.span_id()), "01a22fefd0747e52");
    /// ```
    pub fn otel_parent(&self) -> SpanContext {
        let bytes = self.run_id.to_be_bytes();
        let first = u64::from_be_bytes(bytes[..8].try_into().unwrap_or_default());
        let last = u64::from_be_bytes(bytes[8..].try_into().unwrap_or_default());
        SpanContext::new(
            TraceId::from(self.trace_id),
            SpanId::from(if first != 0 { first } else { last }),
            TraceFlags::SAMPLED,
            true,
            TraceState::default(),
        )
    }

    /// The run of a span starting now under `parent` (a new trace's root when `None`).
    pub(crate) fn child(
        parent: Option<&LangsmithRun>,
        span_id: SpanId,
        now_micros: i64,
    ) -> LangsmithRun {
        let start = parent.map_or(now_micros, |p| now_micros.max(p.start_micros));
        let run_id = run_id(start, u64::from_be_bytes(span_id.to_bytes()));
        let segment = segment(start, run_id);
        match parent {
            Some(parent) => LangsmithRun {
                trace_id: parent.trace_id,
                run_id,
                start_micros: start,
                dotted_order: format!("{}.{segment}", parent.dotted_order),
                project: parent.project.clone(),
            },
            None => LangsmithRun {
                trace_id: run_id,
                run_id,
                start_micros: start,
                dotted_order: segment,
                project: None,
            },
        }
    }

    /// The attributes LangSmith reads this run's place from.
    pub(crate) fn attributes(&self, parent: Option<&LangsmithRun>) -> Vec<KeyValue> {
        let mut attributes = vec![
            KeyValue::new(TRACE_ID, format_uuid(self.trace_id)),
            KeyValue::new(SPAN_ID, format_uuid(self.run_id)),
            KeyValue::new(DOTTED_ORDER, self.dotted_order.clone()),
        ];
        if let Some(parent) = parent {
            attributes.push(KeyValue::new(PARENT_ID, format_uuid(parent.run_id)));
        }
        if let Some(project) = &self.project {
            attributes.push(KeyValue::new(SESSION_NAME, project.clone()));
        }
        attributes
    }
}

/// Whether spans that begin a trace begin a LangSmith trace too (a LangSmith destination
/// is configured, or `Config::langsmith_runs(true)`).
static ROOTS: AtomicBool = AtomicBool::new(false);
/// The project of the LangSmith destination, named in the runs of traces begun here.
static ROOT_PROJECT: RwLock<Option<String>> = RwLock::new(None);

/// Whether spans that begin a trace begin a LangSmith trace, and in which project.
pub(crate) fn set_roots(on: bool, project: Option<String>) {
    if let Ok(mut slot) = ROOT_PROJECT.write() {
        *slot = project;
    }
    ROOTS.store(on, Ordering::Relaxed);
}

fn root_project() -> Option<String> {
    ROOT_PROJECT.read().ok().and_then(|slot| slot.clone())
}

#[inline]
pub(crate) fn roots() -> bool {
    ROOTS.load(Ordering::Relaxed)
}

/// The LangSmith run of a recording span starting under `parent_cx`, with its attributes
/// set on the span: a child of the context's run, or a new LangSmith trace when spans that
/// begin a trace begin one ([`roots`]). `None` when the span is in no LangSmith trace.
pub(crate) fn begin<S: opentelemetry::trace::Span>(
    parent_cx: &opentelemetry::Context,
    span: &mut S,
) -> Option<LangsmithRun> {
    let parent = parent_cx.get::<LangsmithRun>();
    if parent.is_none() && !roots() {
        return None;
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    let mut run = LangsmithRun::child(parent, span.span_context().span_id(), now);
    if parent.is_none() {
        run.project = root_project();
    }
    span.set_attributes(run.attributes(parent));
    Some(run)
}

/// A run id from a span's start and id: UUIDv7 = start milliseconds (48 bits), version 7,
/// the span id's top 12 bits, variant `10`, the span id's low 62 bits.
///
/// ```
/// use traced::propagation::langsmith::{format_uuid, run_id};
/// let id = run_id(1_764_547_200_123_456, 0x00f0_67aa_0ba9_02b7);
/// assert_eq!(format_uuid(id), "019ad735-847b-700f-80f0-67aa0ba902b7");
/// ```
pub fn run_id(start_micros: i64, span_id: u64) -> u128 {
    let ms = (start_micros.max(0) as u128 / 1000) & ((1 << 48) - 1);
    let span = u128::from(span_id);
    ms << 80 | 0x7 << 76 | ((span >> 52) & 0xfff) << 64 | 0b10 << 62 | (span & ((1 << 62) - 1))
}

/// A UUID as LangSmith writes it: lowercase, with dashes.
///
/// ```
/// assert_eq!(
///     traced::propagation::langsmith::format_uuid(0x01a22fef_d074_7e52_8541_5ca0c86a28a1),
///     "01a22fef-d074-7e52-8541-5ca0c86a28a1"
/// );
/// ```
pub fn format_uuid(id: u128) -> String {
    let hex = format!("{id:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// One segment: the start as `%Y%m%dT%H%M%S%fZ` then the run id.
///
/// ```
/// use traced::propagation::langsmith::segment;
/// assert_eq!(
///     segment(1_764_564_575_348_490, 0x01a22fef_d074_7e52_8541_5ca0c86a28a1),
///     "20251201T044935348490Z01a22fef-d074-7e52-8541-5ca0c86a28a1"
/// );
/// ```
pub fn segment(start_micros: i64, run_id: u128) -> String {
    let (year, month, day, hour, minute, second, micros) = utc_parts(start_micros);
    format!(
        "{year:04}{month:02}{day:02}T{hour:02}{minute:02}{second:02}{micros:06}Z{}",
        format_uuid(run_id)
    )
}

/// Parses a dotted order (the value of `langsmith-trace`) into the run it names.
///
/// Lenient where LangSmith's SDK is (1 to 6 fraction digits, upper-case UUIDs, any UUID
/// version), strict elsewhere; never panics.
///
/// ```
/// use traced::propagation::langsmith::{format_uuid, parse_dotted_order};
///
/// let run = parse_dotted_order(
///     "20261201T044935348490Z01a22fef-d074-7e52-8541-5ca0c86a28a1.\
///      20261201T044935349000Z01a22fef-d075-7000-8000-000000000001",
/// )
/// .unwrap();
/// assert_eq!(format_uuid(run.trace_id), "01a22fef-d074-7e52-8541-5ca0c86a28a1");
/// assert_eq!(format_uuid(run.run_id), "01a22fef-d075-7000-8000-000000000001");
/// assert!(parse_dotted_order("garbage").is_err());
/// ```
pub fn parse_dotted_order(text: &str) -> Result<LangsmithRun, DottedOrderError> {
    let text = text.trim_matches([' ', '\t']);
    if text.len() > MAX_DOTTED_ORDER_BYTES {
        return Err(DottedOrderError::TooLong(text.len()));
    }
    let mut first = None;
    let mut last = None;
    for part in text.split('.') {
        let parsed =
            parse_segment(part).ok_or_else(|| DottedOrderError::BadSegment(part.to_owned()))?;
        if parsed.1 == 0 {
            return Err(DottedOrderError::NilId);
        }
        first.get_or_insert(parsed);
        last = Some(parsed);
    }
    let (Some((_, trace_id)), Some((start_micros, run_id))) = (first, last) else {
        return Err(DottedOrderError::BadSegment(String::new()));
    };
    Ok(LangsmithRun {
        trace_id,
        run_id,
        start_micros,
        dotted_order: normalise(text),
        project: None,
    })
}

/// The dotted order with its UUIDs in lower case, as LangSmith compares them.
fn normalise(text: &str) -> String {
    text.to_ascii_lowercase()
        .replace('z', "Z")
        .replace('t', "T")
}

/// `<%Y%m%dT%H%M%S%fZ><uuid>` to (start in µs, uuid).
fn parse_segment(part: &str) -> Option<(i64, u128)> {
    if !part.is_ascii() || part.len() <= UUID_LEN || part.len() > TIMESTAMP_LEN + UUID_LEN {
        return None;
    }
    let (stamp, uuid) = part.split_at(part.len() - UUID_LEN);
    Some((parse_timestamp(stamp)?, parse_uuid(uuid)?))
}

/// `YYYYMMDDTHHMMSS` + 1 to 6 fraction digits + `Z`, UTC.
fn parse_timestamp(stamp: &str) -> Option<i64> {
    let stamp = stamp.strip_suffix('Z')?;
    let (date, time) = stamp.split_once('T')?;
    let number = |s: &str| -> Option<u32> {
        (!s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    if date.len() != 8 || time.len() < 7 || time.len() > 12 {
        return None;
    }
    let (year, month, day) = (
        number(&date[..4])?,
        number(&date[4..6])?,
        number(&date[6..8])?,
    );
    let (hour, minute, second) = (
        number(&time[..2])?,
        number(&time[2..4])?,
        number(&time[4..6])?,
    );
    let fraction = &time[6..];
    let micros = number(fraction)? * 10u32.pow(6 - fraction.len() as u32);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    if second > 61 {
        return None;
    }
    let days = days_from_civil(i64::from(year), month, day);
    let secs = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    Some(secs * 1_000_000 + i64::from(micros))
}

/// A UUID with dashes (8-4-4-4-12 hex digits, either case).
fn parse_uuid(text: &str) -> Option<u128> {
    let bytes = text.as_bytes();
    if bytes.len() != UUID_LEN || [8, 13, 18, 23].iter().any(|&i| bytes[i] != b'-') {
        return None;
    }
    let hex: String = text.chars().filter(|&c| c != '-').collect();
    if hex.len() != 32 || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    u128::from_str_radix(&hex, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = "20261201T044935348490Z01a22fef-d074-7e52-8541-5ca0c86a28a1";

    #[test]
    fn a_segment_round_trips() {
        let run = parse_dotted_order(TRACE).unwrap();
        assert_eq!(run.trace_id, run.run_id);
        assert_eq!(segment(run.start_micros, run.run_id), TRACE);
    }

    #[test]
    fn fewer_fraction_digits_and_upper_case_are_read() {
        let run =
            parse_dotted_order("20261201T044935348Z01A22FEF-D074-7E52-8541-5CA0C86A28A1").unwrap();
        assert_eq!(run.start_micros % 1_000_000, 348_000);
        assert_eq!(
            run.dotted_order,
            "20261201T044935348Z01a22fef-d074-7e52-8541-5ca0c86a28a1"
        );
    }

    #[test]
    fn malformed_orders_are_refused() {
        let long = format!("{TRACE}.").repeat(200);
        for bad in [
            "",
            "garbage",
            &format!("{TRACE}."),
            &format!(".{TRACE}"),
            "20261201T044935348490Z01a22fef-d074-7e52-8541-5ca0c86a28a",
            "20261201T044935348490Z01a22fefd0747e5285415ca0c86a28a1xxxx",
            "20261301T044935348490Z01a22fef-d074-7e52-8541-5ca0c86a28a1",
            "20261201T044935348490 01a22fef-d074-7e52-8541-5ca0c86a28a1",
            "20261201T044935Z01a22fef-d074-7e52-8541-5ca0c86a28a1",
            "20261201T044935348490Z00000000-0000-0000-0000-000000000000",
            "2026120１T044935348490Z01a22fef-d074-7e52-8541-5ca0c86a28a1",
            &long,
        ] {
            assert!(parse_dotted_order(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn a_child_is_never_earlier_than_its_parent() {
        let parent = parse_dotted_order(TRACE).unwrap();
        let span = SpanId::from(0x00f0_67aa_0ba9_02b7u64);
        let child = LangsmithRun::child(Some(&parent), span, parent.start_micros - 5_000_000);
        assert_eq!(child.start_micros, parent.start_micros);
        assert_eq!(child.trace_id, parent.trace_id);
        assert!(child.dotted_order.starts_with(&format!("{TRACE}.")));
        let again = parse_dotted_order(&child.dotted_order).unwrap();
        assert_eq!(again.run_id, child.run_id);
        assert_eq!(again.trace_id, parent.trace_id);
        // The run id keeps every bit of the span id and is a version-7 UUID.
        assert_eq!((child.run_id >> 76) & 0xf, 7);
        assert_eq!((child.run_id >> 62) & 0b11, 0b10);
        let span_bits = ((child.run_id >> 64) & 0xfff) << 52 | (child.run_id & ((1 << 62) - 1));
        assert_eq!(span_bits as u64, 0x00f0_67aa_0ba9_02b7);
    }

    #[test]
    fn a_root_is_its_own_trace() {
        let root = LangsmithRun::child(None, SpanId::from(7u64), 1_764_564_575_348_490);
        assert_eq!(root.trace_id, root.run_id);
        assert_eq!(root.dotted_order, segment(root.start_micros, root.run_id));
    }

    #[test]
    fn the_otel_parent_follows_langsmiths_sdk() {
        let run = parse_dotted_order(TRACE).unwrap();
        let parent = run.otel_parent();
        assert_eq!(
            format!("{:032x}", parent.trace_id()),
            "01a22fefd0747e5285415ca0c86a28a1"
        );
        assert_eq!(format!("{:016x}", parent.span_id()), "01a22fefd0747e52");
        // A run id LangSmith derived from a span id: the span id is its last 8 bytes.
        let derived = LangsmithRun {
            run_id: 0x00f0_67aa_0ba9_02b7,
            ..run
        };
        assert_eq!(
            format!("{:016x}", derived.otel_parent().span_id()),
            "00f067aa0ba902b7"
        );
    }
}
