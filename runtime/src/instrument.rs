//! A future that carries its call's span: current only while polled, ended when the
//! future completes, panics, or is dropped unfinished.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use pin_project_lite::pin_project;

use crate::call::{Call, Outcome};

pin_project! {
    /// The future returned by a traced `async fn` or `impl Future` function.
    #[doc(hidden)]
    #[derive(Debug)]
    pub struct Instrumented<F, C> {
        #[pin]
        future: F,
        call: Call,
        record_output: Option<C>,
    }
}

impl<F, C> Instrumented<F, C>
where
    F: Future,
    C: FnOnce(&mut Outcome, &F::Output),
{
    pub fn new(call: Call, future: F, record_output: C) -> Self {
        Self {
            future,
            call,
            record_output: Some(record_output),
        }
    }
}

impl<F> Instrumented<F, fn(&mut Outcome, &())>
where
    F: Future<Output = ()>,
{
    /// For an `async fn` that returns `()`: nothing to record, the call just ends.
    pub fn returning_unit(call: Call, future: F) -> Self {
        Self {
            future,
            call,
            record_output: None,
        }
    }
}

impl<F, C> Future for Instrumented<F, C>
where
    F: Future,
    C: FnOnce(&mut Outcome, &F::Output),
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = self.project();
        let future = this.future;
        let polled = this.call.run(|| future.poll(task));
        if let Poll::Ready(output) = &polled {
            match this.record_output.take() {
                Some(record) => this.call.finish(output, record),
                // Returns `()` (or polled again after it completed: the call ended then).
                None => this.call.end_returned(),
            }
        }
        polled
    }
}
