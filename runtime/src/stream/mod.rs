//! Tracing a function that returns a stream (a streamed LLM reply): the span lives until
//! the stream ends or is dropped, and records the accumulated output and the totals.

mod output;
mod probe;
mod traced_stream;

pub use output::{
    set_stream_output_limit, stream_output_limit, Accumulate, StreamOutput,
    DEFAULT_STREAM_OUTPUT_LIMIT,
};
#[doc(hidden)]
pub use probe::*;
#[doc(hidden)]
pub use traced_stream::TracedStream;
