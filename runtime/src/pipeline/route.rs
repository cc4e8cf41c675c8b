//! The tracer `traced::init()` installed, kept where the span path can reach it without
//! the global provider's lock, allocation and dynamic dispatch.
//!
//! `opentelemetry::global::tracer_with_scope` takes a read lock, clones an `Arc` and boxes
//! a tracer on every call, and the boxed tracer boxes every span again: a third of the
//! cost of a span. When `init()` built the pipeline we know its tracer, so we keep it
//! here: each thread caches it, and a generation counter tells the threads when `init()`
//! ran again or its guard shut the pipeline down. Without `init()` (a user-installed SDK
//! provider) the global provider is used, as before.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use super::RecordingTracer;

/// What the span path does.
#[derive(Clone, Debug)]
pub(crate) enum Route {
    /// Through `opentelemetry::global` (no pipeline of ours is installed).
    Global,
    /// Through the tracer of our pipeline.
    Ours(Arc<RecordingTracer>),
    /// Our pipeline records nothing (`AlwaysOff`, `OTEL_SDK_DISABLED`): no span at all.
    Off,
}

static GENERATION: AtomicU64 = AtomicU64::new(0);
/// Set while our pipeline records nothing, so that case is one load on the span path.
static OFF: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static SLOT: RwLock<Option<Route>> = RwLock::new(None);

thread_local! {
    static CACHED: RefCell<(u64, Route)> = const { RefCell::new((0, Route::Global)) };
}

/// Installs the route of a new pipeline (`None` when its guard shuts it down); returns
/// its generation, for [`uninstall`].
pub(crate) fn install(route: Option<Route>) -> u64 {
    let mut slot = SLOT
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    OFF.store(matches!(route, Some(Route::Off)), Ordering::Release);
    *slot = route;
    GENERATION.fetch_add(1, Ordering::AcqRel) + 1
}

/// Takes the route of `generation` away, unless a later `init()` installed another:
/// dropping the guard of an earlier pipeline must not stop the current one. Whether it
/// was taken away.
pub(crate) fn uninstall(generation: u64) -> bool {
    let mut slot = SLOT
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if GENERATION.load(Ordering::Acquire) != generation {
        return false;
    }
    OFF.store(false, Ordering::Release);
    *slot = None;
    GENERATION.fetch_add(1, Ordering::AcqRel);
    true
}

/// Whether our pipeline records nothing: no span is to be made at all.
#[inline]
pub(crate) fn is_off() -> bool {
    OFF.load(Ordering::Acquire)
}

/// Runs `f` with the route for a span starting now (borrowed from this thread's cache:
/// no reference count is touched on the span path).
#[inline]
pub(crate) fn with_route<R>(f: impl FnOnce(&Route) -> R) -> R {
    if CACHED.try_with(|_| ()).is_err() {
        // This thread's locals are being torn down (a traced call in a thread-local's
        // destructor): OpenTelemetry's context, touched right after this slot by every
        // span, may be gone too, and reading it would panic. No span for such a call.
        return f(&Route::Off);
    }
    let generation = GENERATION.load(Ordering::Acquire);
    if generation == 0 {
        return f(&Route::Global); // init() never ran
    }
    CACHED.with(|cached| {
        if cached.borrow().0 != generation {
            let current = SLOT.read().ok().and_then(|slot| slot.clone());
            *cached.borrow_mut() = (generation, current.unwrap_or(Route::Global));
        }
        let cached = cached.borrow();
        f(&cached.1)
    })
}
