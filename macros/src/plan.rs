//! What the wrapper of one function will be, decided and checked before any token is
//! written (thiserror's order: parse, then check, then expand): which arguments are
//! captured, which one carries the request headers, the function's shape and the type
//! its output is recorded as. Every misuse is found here; `expand` only writes tokens.

use syn::spanned::Spanned;
use syn::{Ident, ItemFn, Type};

use crate::bindings::{argument_bindings, header_carrier};
use crate::options::Options;
use crate::shape::{result_type, shape_of, Shape};

/// The checked plan of one traced function.
pub(crate) struct Plan {
    pub(crate) options: Options,
    pub(crate) item: ItemFn,
    /// The argument whose headers `extract` reads (never captured).
    pub(crate) carrier: Option<Ident>,
    /// The arguments captured as `input.value` (before `skip`, which `expand` applies).
    pub(crate) captured: Vec<Ident>,
    pub(crate) shape: Shape,
    /// What the output is recorded as: the returned type, a future's output, a stream's
    /// item (when it can be named).
    pub(crate) result: Option<Type>,
}

impl Plan {
    pub(crate) fn new(options: Options, item: ItemFn) -> syn::Result<Self> {
        if let Some(constness) = &item.sig.constness {
            return Err(syn::Error::new(
                constness.span(),
                "#[traced] cannot go on a `const fn`: a span is made at run time; remove `const`, \
                 or trace the function that calls this one",
            ));
        }
        let bindings = argument_bindings(&item.sig);
        for skipped in &options.skip {
            if skipped != "self" && !bindings.iter().any(|name| name == skipped) {
                let known = bindings
                    .iter()
                    .map(|name| format!("`{name}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let known = if known.is_empty() {
                    "none".to_owned()
                } else {
                    known
                };
                return Err(syn::Error::new(
                    skipped.span(),
                    format!(
                        "`{skipped}` is not an argument of `{}`, so it cannot be skipped; its arguments are {known}",
                        item.sig.ident
                    ),
                ));
            }
        }

        let carrier = match &options.extract {
            None => None,
            Some((_, Some(named))) => {
                if !bindings.iter().any(|name| name == named) {
                    return Err(syn::Error::new(
                        named.span(),
                        format!("`{named}` is not an argument of `{}`; `extract = arg` names the argument that carries the request headers", item.sig.ident),
                    ));
                }
                Some(named.clone())
            }
            Some((keyword, None)) => Some(header_carrier(&item.sig).ok_or_else(|| {
                syn::Error::new(
                    keyword.span(),
                    "`extract` found no argument carrying request headers: add one of type `http::HeaderMap`, \
                     `http::Request<B>` or `http::request::Parts` (axum: `headers: HeaderMap`), or name your own \
                     with `extract = arg` (its type implements `traced::HeaderCarrier`)",
                )
            })?),
        };
        // Request headers are never captured whole (they hold credentials). An argument
        // that `parent = arg` consumes is the span's parent already, and is gone before
        // capture.
        let consumed_by_parent = options.parent.as_ref().and_then(|(_, expr)| match expr {
            syn::Expr::Path(path) => path.path.get_ident().cloned(),
            _ => None,
        });
        let captured: Vec<Ident> = bindings
            .iter()
            .filter(|name| {
                Some(*name) != carrier.as_ref() && Some(*name) != consumed_by_parent.as_ref()
            })
            .cloned()
            .collect();
        let shape = shape_of(&item.sig, options.stream.as_ref(), options.reduce.as_ref())?;
        let result = result_type(&item.sig, shape);
        Ok(Self {
            options,
            item,
            carrier,
            captured,
            shape,
            result,
        })
    }
}
