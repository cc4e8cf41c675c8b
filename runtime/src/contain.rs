//! Capture is contained: a panic in code traced runs on the user's behalf — a value's
//! `Serialize`, `Debug` or `Display`, a `reduce` function, an `Accumulate` impl, a `mask`
//! function — is caught and recorded as a capture failure, and the traced call goes on
//! exactly as it would without `#[traced]`.
//!
//! The panic hook would still print such a panic, as if the program had failed: the first
//! contained call installs a hook that stays quiet for panics caught here and hands every
//! other panic to the hook that was there before (the default one, or the program's own).
//! A program that sets its own hook afterwards replaces ours; then contained panics are
//! printed again, and nothing else changes.

use std::any::Any;
use std::borrow::Cow;
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    /// How many contained calls are running on this thread.
    static CONTAINING: Cell<u32> = const { Cell::new(0) };
}

static QUIET_HOOK: Once = Once::new();

fn install_quiet_hook() {
    // `set_hook` panics on a thread that is panicking: then the panic is just printed.
    if std::thread::panicking() {
        return;
    }
    QUIET_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let contained = CONTAINING.try_with(Cell::get).unwrap_or(0) > 0;
            if !contained {
                previous(info);
            }
        }));
    });
}

/// The text of a panic payload (`panic!("...")` gives a `&str` or a `String`).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> Cow<'static, str> {
    if let Some(text) = payload.downcast_ref::<&'static str>() {
        Cow::Borrowed(text)
    } else if let Some(text) = payload.downcast_ref::<String>() {
        Cow::Owned(text.clone())
    } else {
        Cow::Borrowed("Box<dyn Any>")
    }
}

/// Runs `f`; a panic in it is caught and returned as what it said, bounded.
pub(crate) fn contained<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    install_quiet_hook();
    let _ = CONTAINING.try_with(|c| c.set(c.get() + 1));
    let result = catch_unwind(AssertUnwindSafe(f));
    let _ = CONTAINING.try_with(|c| c.set(c.get().saturating_sub(1)));
    result.map_err(|payload| crate::bounded::cut(&panic_message(&*payload), 1024))
}

/// The text recorded for a capture that panicked.
pub(crate) fn failure(what: &str, type_name: &str, message: &str) -> String {
    format!("{what} of {type_name} panicked: {message}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_caught_with_its_message() {
        assert_eq!(contained(|| 2 + 2), Ok(4));
        let caught = contained(|| -> u8 { panic!("boom {}", 7) });
        assert_eq!(caught, Err("boom 7".to_owned()));
        // The counter is back to zero: a later panic is not silenced.
        assert_eq!(CONTAINING.with(Cell::get), 0);
    }
}
