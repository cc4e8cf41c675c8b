//! What every span of one `#[traced]` function shares, known at compile time (the call
//! site), and the instrumentation scope of every span traced makes: a leaf that the call
//! path and the recording path both read, and that depends on neither.

use std::sync::atomic::{AtomicU64, Ordering};
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
    /// Which of the captured arguments have secret names.
    pub args: ArgVerdicts,
}

/// Whether each of a site's first 16 captured arguments has a secret name, under one set
/// of secret names: decided once per site, not on every call (the check of a name took
/// about 140 instructions a call, more than writing the value).
///
/// One word: the generation of the names (32 bits), which arguments are decided (16),
/// which of those are secrets (16). A word of another generation is stale: the secret
/// names changed (`init()` again), and the arguments are decided anew.
#[doc(hidden)]
#[derive(Debug)]
pub struct ArgVerdicts(AtomicU64);

impl ArgVerdicts {
    /// The arguments kept: more are decided on every call.
    const KEPT: usize = 16;

    /// Nothing decided yet.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        Self(AtomicU64::new(0))
    }

    /// Whether argument `index` has a secret name under names of `generation`, if known.
    #[inline]
    pub(crate) fn get(&self, generation: u32, index: usize) -> Option<bool> {
        if index >= Self::KEPT {
            return None;
        }
        let word = self.0.load(Ordering::Relaxed);
        let decided = (word >> 16) & 0xffff;
        ((word >> 32) as u32 == generation && decided & (1 << index) != 0)
            .then_some(word & (1 << index) != 0)
    }

    /// Keeps the verdict of argument `index` under names of `generation`.
    pub(crate) fn set(&self, generation: u32, index: usize, secret: bool) {
        if index >= Self::KEPT {
            return;
        }
        let bits = (1u64 << (16 + index)) | (u64::from(secret) << index);
        // Any thread may decide any argument: a verdict only depends on the name and the
        // generation, so racing writers agree, and the update keeps every bit already set.
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |word| {
                Some(if (word >> 32) as u32 == generation {
                    word | bits
                } else {
                    (u64::from(generation) << 32) | bits
                })
            });
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_are_kept_per_generation_of_names() {
        let verdicts = ArgVerdicts::new();
        assert_eq!(verdicts.get(1, 0), None, "nothing decided");
        verdicts.set(1, 0, true);
        verdicts.set(1, 3, false);
        assert_eq!(verdicts.get(1, 0), Some(true));
        assert_eq!(verdicts.get(1, 3), Some(false));
        assert_eq!(verdicts.get(1, 1), None);
        assert_eq!(verdicts.get(2, 0), None, "other names: decided anew");
        verdicts.set(2, 1, true);
        assert_eq!(verdicts.get(2, 1), Some(true));
        assert_eq!(verdicts.get(1, 0), None, "the old generation is gone");
        verdicts.set(2, 16, true);
        assert_eq!(
            verdicts.get(2, 16),
            None,
            "past 16 arguments: decided each call"
        );
    }
}
