//! Where spans go. The embedded default keeps them on local disk as newline-delimited
//! JSON (OTLP field names, one span per line); the `traced-viewer` crate reads them back
//! and draws them as trees and as a page, so a program traced with no backend at all can
//! still be looked at.

mod file;
mod null;
mod record;

pub use crate::time::rfc3339;
pub use file::{default_dir, FileExporter, TRACED_DIR};
pub(crate) use null::file_safe;
pub use null::NullExporter;
pub use record::{
    AnyValue, ArrayValue, Attribute, EventRecord, LinkRecord, Resource, Scope, SpanRecord,
    StatusRecord,
};

pub(crate) use record::resource_attributes;
