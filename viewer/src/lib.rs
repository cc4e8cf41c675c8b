//! The viewer of traced's embedded store: it reads the newline-delimited JSON that
//! `traced::export::FileExporter` writes (`./traces` or `$TRACED_DIR`) and draws its
//! traces as indented trees for the terminal or as one self-contained HTML page with a
//! waterfall per trace. The `traced` command (`cargo run -p traced-viewer -- view`) is
//! built on it.
//!
//! ```
//! let dir = std::env::temp_dir().join(format!("traced-viewer-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! std::fs::write(
//!     dir.join("api-1.jsonl"),
//!     r#"{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"api"}}]},"scope":{"name":"traced"},"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7","name":"answer","kind":1,"startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000012500000"}"#,
//! )
//! .unwrap();
//! let store = traced_viewer::read_store(&dir).unwrap();
//! let tree = traced_viewer::render_traces(&store.spans);
//! assert!(tree.contains("answer"));
//! ```

mod html;
mod read;
mod tree;

pub use html::render_html;
pub use read::{read_store, Store};
pub use tree::{render_trace, render_traces};
