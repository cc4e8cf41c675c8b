//! How the span path, `flush` and `shutdown` reach the export thread, and how it tells
//! them it is done: one mutex-guarded state and two condition variables.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// How the span path and `flush`/`shutdown` reach the export thread.
#[derive(Debug, Default)]
pub(super) struct Signal {
    state: Mutex<State>,
    /// The export thread waits on this.
    work: Condvar,
    /// Flushes wait on this.
    done: Condvar,
}

#[derive(Debug, Default)]
struct State {
    woken: bool,
    /// The export thread is blocked waiting for work (else it will look before it waits).
    waiting: bool,
    flush_requested: u64,
    flush_done: u64,
    shutdown: bool,
    /// The export thread has exited: nothing will be flushed any more.
    stopped: bool,
}

/// What the export thread was asked to do.
pub(super) struct Work {
    pub(super) flush: u64,
    pub(super) shutdown: bool,
}

impl Signal {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A batch is waiting.
    pub(super) fn wake(&self) {
        let mut state = self.state();
        if !state.woken {
            state.woken = true;
            // A notification is a system call (and, to a sleeping thread on another core,
            // an interrupt): only made when the export thread is actually waiting.
            if state.waiting {
                self.work.notify_one();
            }
        }
    }

    /// Asks for everything ended so far to be exported, and waits for it (at most
    /// `timeout`). False if it did not happen in time.
    pub(super) fn flush(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.state();
        if state.stopped {
            return true;
        }
        state.flush_requested += 1;
        let target = state.flush_requested;
        self.work.notify_one();
        wait_until(&self.done, state, deadline, |state| {
            state.flush_done >= target || state.stopped
        })
        .1
    }

    /// Asks the export thread to export what is left and stop.
    pub(super) fn shutdown(&self) {
        self.state().shutdown = true;
        self.work.notify_one();
    }

    /// Waits until woken, asked to flush or shut down, or `delay` has passed.
    pub(super) fn wait(&self, delay: Duration) -> Work {
        let mut state = self.state();
        state.waiting = true;
        let (mut state, _) = wait_until(&self.work, state, Instant::now() + delay, |s| {
            s.woken || s.flush_requested != s.flush_done || s.shutdown
        });
        state.waiting = false;
        state.woken = false;
        Work {
            flush: state.flush_requested,
            shutdown: state.shutdown,
        }
    }

    pub(super) fn flushed(&self, up_to: u64) {
        let mut state = self.state();
        state.flush_done = state.flush_done.max(up_to);
        self.done.notify_all();
    }

    /// Waits until the export thread has exited, at most `timeout`; false if it has not.
    pub(super) fn wait_stopped(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        wait_until(&self.done, self.state(), deadline, |state| state.stopped).1
    }

    pub(super) fn stopped(&self) {
        self.state().stopped = true;
        self.done.notify_all();
    }
}

/// Waits on `condvar` until `ready` holds or `deadline` passes; true if it holds.
fn wait_until<'a>(
    condvar: &Condvar,
    mut state: MutexGuard<'a, State>,
    deadline: Instant,
    ready: impl Fn(&State) -> bool,
) -> (MutexGuard<'a, State>, bool) {
    while !ready(&state) {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return (state, false);
        }
        state = condvar
            .wait_timeout(state, left)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
    (state, true)
}
