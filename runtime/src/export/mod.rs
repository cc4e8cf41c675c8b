//! Where spans go. The embedded default keeps them on local disk as newline-delimited
//! JSON (OTLP field names, one span per line) and draws them as trees, so a program
//! traced with no backend at all can still be looked at.

mod file;
mod html;
mod null;
mod read;
mod record;
mod tree;

pub use file::{default_dir, FileExporter, TRACED_DIR};
pub use html::render_html;
pub(crate) use null::file_safe;
pub use null::NullExporter;
pub use read::{read_store, Store};
pub use record::{
    AnyValue, ArrayValue, Attribute, EventRecord, LinkRecord, Resource, Scope, SpanRecord,
    StatusRecord,
};
pub use tree::{render_trace, render_traces};

pub(crate) use record::resource_attributes;
