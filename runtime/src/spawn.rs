//! Carrying the current span into work that runs elsewhere: a spawned task, a future
//! polled later.

use std::future::Future;

use opentelemetry::context::{FutureExt as _, WithContext};
use opentelemetry::Context;

/// Ties a future to the span that is current now, so whatever it traces while it runs
/// (wherever it is polled) is a child of that span.
///
/// ```
/// use traced::FutureExt;
///
/// let future = async { traced::current_span_id() }.in_current_span();
/// assert_eq!(futures::executor::block_on(future), None);
/// ```
pub trait FutureExt: Future + Sized {
    /// The future, polled with the current span (and context) of the moment of this call.
    fn in_current_span(self) -> WithContext<Self> {
        self.with_context(Context::current())
    }
}

impl<F: Future> FutureExt for F {}

/// `tokio::spawn`, with the spawned task a child of the current span.
///
/// A plain `tokio::spawn` starts the task with no current span, so what it traces starts
/// new traces; `traced::spawn` keeps it in the caller's trace.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let handle = traced::spawn(async { 1 + 1 });
/// assert_eq!(handle.await.unwrap(), 2);
/// # }
/// ```
#[cfg(feature = "tokio")]
pub fn spawn<F>(future: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(future.in_current_span())
}
