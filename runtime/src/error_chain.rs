//! Describing an error for a span: its type, its Display, and its whole `source()` chain.

use std::error::Error;
use std::fmt::Write;

/// What the span records of an error.
#[doc(hidden)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorReport {
    /// `exception.type`.
    pub type_name: &'static str,
    /// The error's own Display: the span status description.
    pub display: String,
    /// The Display followed by every `source()`, joined with `: ` — `exception.message`.
    pub message: String,
}

/// How many `source()` levels are followed at most, against cyclic or endless chains.
const MAX_CHAIN: usize = 32;

/// An error's Display followed by every `source()`, joined with `: ` (at most
/// [`MAX_CHAIN`] sources, against cyclic or endless chains).
pub(crate) fn render_chain(error: &(dyn Error + '_)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    let mut depth = 0;
    while let Some(cause) = source {
        if depth == MAX_CHAIN {
            message.push_str(": ...");
            break;
        }
        let _ = write!(message, ": {cause}");
        source = cause.source();
        depth += 1;
    }
    message
}

impl ErrorReport {
    /// The report of an error and its chain of sources, bounded to the attribute limit; a
    /// `Display` that panics is contained and reported as such.
    pub fn from_error(type_name: &'static str, error: &(dyn Error + '_)) -> Self {
        Self::contained(type_name, "Display", || Self::chain(type_name, error))
    }

    /// The report of an error known by its `Display` or `Debug` text only (`what` says
    /// which), made by `text`; contained and bounded like [`ErrorReport::from_error`].
    pub fn from_text_of(
        type_name: &'static str,
        what: &'static str,
        text: impl FnOnce() -> String,
    ) -> Self {
        Self::contained(type_name, what, || {
            let text = text();
            Self {
                type_name,
                display: text.clone(),
                message: text,
            }
        })
    }

    fn contained(type_name: &'static str, what: &str, make: impl FnOnce() -> Self) -> Self {
        let report = crate::contain::contained(make).unwrap_or_else(|message| {
            Self::from_text(
                type_name,
                format!("<{}>", crate::contain::failure(what, type_name, &message)),
            )
        });
        report.bounded()
    }

    /// Both texts cut to the attribute limit.
    fn bounded(self) -> Self {
        let max = crate::redact::policy().max_bytes;
        if self.display.len() <= max && self.message.len() <= max {
            return self;
        }
        Self {
            type_name: self.type_name,
            display: crate::bounded::cut(&self.display, max),
            message: crate::bounded::cut(&self.message, max),
        }
    }

    fn chain(type_name: &'static str, error: &(dyn Error + '_)) -> Self {
        Self {
            type_name,
            display: error.to_string(),
            message: render_chain(error),
        }
    }

    /// The report of an error that is only text (no `source()` to follow).
    pub fn from_text(type_name: &'static str, text: String) -> Self {
        Self {
            type_name,
            display: text.clone(),
            message: text,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);
    impl fmt::Display for Layer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }
    impl Error for Layer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            self.1.as_deref().map(|e| e as _)
        }
    }

    #[test]
    fn message_holds_the_whole_chain() {
        let err = Layer(
            "top",
            Some(Box::new(Layer("mid", Some(Box::new(Layer("root", None)))))),
        );
        let report = ErrorReport::from_error("Layer", &err);
        assert_eq!(report.display, "top");
        assert_eq!(report.message, "top: mid: root");
    }
}
