//! Turning arguments, outputs, errors and fields into span attributes, by the rules of
//! the design: JSON for `Serialize`, else Debug text, else the type name.

mod bounded;
mod http;
mod json_text;
mod primitive;
mod probe;
mod room;
mod sink;

pub(crate) use bounded::{write_json, Written};
#[doc(hidden)]
pub use http::NEVER_CAPTURED_HEADERS;
#[doc(hidden)]
pub use probe::*;
#[doc(hidden)]
pub use sink::{InputObject, OutputValue, ValueSink};
