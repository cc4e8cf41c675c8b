//! What every span of one `#[traced]` function shares, known at compile time (the call
//! site), and the instrumentation scope of every span traced makes: a leaf that the call
//! path and the recording path both read, and that depends on neither.

use std::sync::LazyLock;

use opentelemetry::{InstrumentationScope, KeyValue};

use crate::attributes as attr;
use crate::observation::ObservationType;

/// What the macro knows about a traced function at compile time, kept in a `static`.
#[doc(hidden)]
#[derive(Debug)]
pub struct CallSite {
    /// The span name.
    pub name: &'static str,
    /// `module::path::function`.
    pub function: &'static str,
    pub file: &'static str,
    pub line: u32,
    pub kind: ObservationType,
}

impl CallSite {
    /// How many attributes [`CallSite::attributes`] gives.
    pub(crate) fn attribute_count(&self) -> usize {
        if self.kind == ObservationType::Span {
            4
        } else {
            5
        }
    }

    /// The attributes every span of this site starts with.
    pub(crate) fn attributes(&'static self) -> Vec<KeyValue> {
        self.attributes_then(Vec::new(), 0)
    }

    /// This site's attributes followed by `more`, in one vector of the right size (with
    /// room for `then` more).
    pub(crate) fn attributes_then(
        &'static self,
        more: Vec<KeyValue>,
        then: usize,
    ) -> Vec<KeyValue> {
        let mut attributes = Vec::with_capacity(self.attribute_count() + more.len() + then);
        attributes.push(KeyValue::new(attr::CODE_FUNCTION_NAME, self.function));
        attributes.push(KeyValue::new(attr::CODE_FILE_PATH, self.file));
        attributes.push(KeyValue::new(attr::CODE_LINE_NUMBER, i64::from(self.line)));
        attributes.push(KeyValue::new(
            attr::OPENINFERENCE_SPAN_KIND,
            self.kind.openinference_kind(),
        ));
        if self.kind != ObservationType::Span {
            // `span` is Langfuse's default type: said only when it is something else.
            attributes.push(KeyValue::new(
                attr::LANGFUSE_OBSERVATION_TYPE,
                self.kind.langfuse_type(),
            ));
        }
        debug_assert_eq!(attributes.len(), self.attribute_count());
        if !more.is_empty() {
            attributes.extend(more);
        }
        attributes
    }
}

/// The instrumentation scope of every span `traced` makes.
pub(crate) static SCOPE: LazyLock<InstrumentationScope> = LazyLock::new(|| {
    InstrumentationScope::builder("traced")
        .with_version(env!("CARGO_PKG_VERSION"))
        .build()
});
