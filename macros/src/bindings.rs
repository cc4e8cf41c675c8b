//! The names an argument list binds, which are what `input.value` is keyed by.

use syn::{FnArg, Ident, Pat, Signature, Type};

/// Every name bound by the (non-`self`) arguments, in order. A destructured argument
/// contributes each of its bindings; `_` contributes none.
pub(crate) fn argument_bindings(sig: &Signature) -> Vec<Ident> {
    let mut names = Vec::new();
    for arg in &sig.inputs {
        if let FnArg::Typed(typed) = arg {
            collect(&typed.pat, &mut names);
        }
    }
    names
}

fn collect(pat: &Pat, names: &mut Vec<Ident>) {
    match pat {
        Pat::Ident(binding) => {
            if binding.ident != "self" {
                names.push(binding.ident.clone());
            }
            if let Some((_, sub)) = &binding.subpat {
                collect(sub, names);
            }
        }
        Pat::Tuple(tuple) => tuple.elems.iter().for_each(|p| collect(p, names)),
        Pat::TupleStruct(tuple) => tuple.elems.iter().for_each(|p| collect(p, names)),
        Pat::Struct(record) => record.fields.iter().for_each(|f| collect(&f.pat, names)),
        Pat::Slice(slice) => slice.elems.iter().for_each(|p| collect(p, names)),
        Pat::Reference(reference) => collect(&reference.pat, names),
        Pat::Paren(paren) => collect(&paren.pat, names),
        Pat::Type(typed) => collect(&typed.pat, names),
        Pat::Or(or) => {
            if let Some(first) = or.cases.first() {
                collect(first, names);
            }
        }
        _ => {}
    }
}

/// The argument that carries request headers, by its type: `HeaderMap`, `Request<B>`
/// (also axum's `Request`) or `Parts`, owned or borrowed.
pub(crate) fn header_carrier(sig: &Signature) -> Option<Ident> {
    sig.inputs.iter().find_map(|arg| {
        let FnArg::Typed(typed) = arg else {
            return None;
        };
        let Pat::Ident(binding) = &*typed.pat else {
            return None;
        };
        let mut ty = &*typed.ty;
        while let Type::Reference(reference) = ty {
            ty = &reference.elem;
        }
        let Type::Path(path) = ty else { return None };
        let last = path.path.segments.last()?;
        ["HeaderMap", "Request", "Parts"]
            .iter()
            .any(|name| last.ident == name)
            .then(|| binding.ident.clone())
    })
}
