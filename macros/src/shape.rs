//! What kind of function the attribute is on, which decides how the span follows it.

use syn::visit::Visit;
use syn::{
    GenericArgument, Ident, Path, PathArguments, ReturnType, Signature, Type, TypeParamBound,
};

/// How a call runs, and so how long its span lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// A plain function: the span covers the body.
    Sync,
    /// `async fn`: the span covers the future, current only while it is polled.
    Async,
    /// `fn ... -> impl Future`: the span covers the body that makes the future, then the
    /// future's execution.
    ImplFuture,
    /// `fn ... -> Pin<Box<dyn Future ...>>` (what `#[async_trait]` writes): as `ImplFuture`,
    /// boxed again.
    BoxedFuture,
    /// A function returning a stream (`impl Stream`, `Pin<Box<dyn Stream>>`, or with the
    /// `stream` option a `BoxStream`): the span lives until the stream ends or is dropped.
    Stream {
        /// An `async fn` whose future gives the stream.
        is_async: bool,
        /// The stream is handed back boxed (`Pin<Box<dyn Stream>>`, `BoxStream`).
        boxed: bool,
        /// The stream comes in the `Ok` of a `Result` (`Result<impl Stream, E>`, as LLM
        /// clients return theirs): an `Err` is recorded and ends the span at once.
        fallible: bool,
    },
}

/// `T` of `Result<T, E>` (any path ending in `Result` with two type arguments).
fn ok_type(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else { return None };
    let segment = path.path.segments.last()?;
    if segment.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &segment.arguments else {
        return None;
    };
    let mut types = args.args.iter().filter_map(|arg| match arg {
        GenericArgument::Type(ty) => Some(ty),
        _ => None,
    });
    let ok = types.next()?;
    types.next().is_some().then_some(ok)
}

/// The shape of the function, checked against the `stream` and `reduce` options.
pub(crate) fn shape_of(
    sig: &Signature,
    stream_option: Option<&Ident>,
    reduce: Option<&Path>,
) -> syn::Result<Shape> {
    let is_async = sig.asyncness.is_some();
    let stream_kind = |ty: &Type| {
        if is_impl_trait_of(ty, "Stream") {
            Some(false)
        } else if is_boxed_dyn(ty, "Stream") || (stream_option.is_some() && is_named_stream(ty)) {
            Some(true)
        } else {
            None
        }
    };
    let stream = match &sig.output {
        ReturnType::Type(_, ty) => match stream_kind(ty) {
            Some(boxed) => Some((boxed, false)),
            None => ok_type(ty).and_then(stream_kind).map(|boxed| (boxed, true)),
        },
        ReturnType::Default => None,
    };
    if let Some((boxed, fallible)) = stream {
        return Ok(Shape::Stream {
            is_async,
            boxed,
            fallible,
        });
    }
    if let Some(keyword) = stream_option {
        return Err(syn::Error::new(
            keyword.span(),
            "`stream` needs a return type that is a stream it can wrap: `impl Stream<Item = T>`, \
             `Pin<Box<dyn Stream<Item = T> + ...>>` or a `BoxStream<'_, T>` / `LocalBoxStream<'_, T>`",
        ));
    }
    if let Some(reduce) = reduce {
        return Err(syn::Error::new_spanned(
            reduce,
            "`reduce` applies to a function that returns a stream; this one does not \
             (if it returns a stream type such as `BoxStream`, add the `stream` option)",
        ));
    }
    if is_async {
        return Ok(Shape::Async);
    }
    Ok(match &sig.output {
        ReturnType::Type(_, ty) if is_impl_trait_of(ty, "Future") => Shape::ImplFuture,
        ReturnType::Type(_, ty) if is_boxed_dyn(ty, "Future") => Shape::BoxedFuture,
        _ => Shape::Sync,
    })
}

fn bounds_name<'a>(mut bounds: impl Iterator<Item = &'a TypeParamBound>, name: &str) -> bool {
    bounds.any(|bound| match bound {
        TypeParamBound::Trait(trait_bound) => trait_bound
            .path
            .segments
            .last()
            .is_some_and(|segment| segment.ident == name),
        _ => false,
    })
}

/// `impl Name<...> + ...`.
fn is_impl_trait_of(ty: &Type, name: &str) -> bool {
    match ty {
        Type::ImplTrait(imp) => bounds_name(imp.bounds.iter(), name),
        Type::Paren(paren) => is_impl_trait_of(&paren.elem, name),
        _ => false,
    }
}

/// `Pin<Box<dyn Name<...> + ...>>`, by any path to `Pin` and `Box`.
fn is_boxed_dyn(ty: &Type, name: &str) -> bool {
    let Some(boxed) = single_generic(ty, "Pin") else {
        return false;
    };
    let Some(inner) = single_generic(boxed, "Box") else {
        return false;
    };
    matches!(inner, Type::TraitObject(object) if bounds_name(object.bounds.iter(), name))
}

/// A boxed stream named by an alias such as `BoxStream<'a, T>`, `LocalBoxStream<'a, T>`,
/// or one without parameters (async-openai's `ChatCompletionResponseStream`).
fn is_named_stream(ty: &Type) -> bool {
    let Type::Path(path) = ty else { return false };
    path.path.segments.last().is_some_and(|segment| {
        segment.ident.to_string().ends_with("Stream")
            && matches!(
                segment.arguments,
                PathArguments::AngleBracketed(_) | PathArguments::None
            )
    })
}

/// The type argument of `Name<T>` (the last path segment named `name`).
fn single_generic<'a>(ty: &'a Type, name: &str) -> Option<&'a Type> {
    let Type::Path(path) = ty else { return None };
    let segment = path.path.segments.last()?;
    if segment.ident != name {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &segment.arguments else {
        return None;
    };
    args.args.iter().find_map(|arg| match arg {
        GenericArgument::Type(ty) => Some(ty),
        _ => None,
    })
}

/// Whether a type mentions `impl Trait` anywhere, which cannot be written in a `let`.
pub(crate) fn mentions_impl_trait(ty: &Type) -> bool {
    struct Finder(bool);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_type_impl_trait(&mut self, _: &'ast syn::TypeImplTrait) {
            self.0 = true;
        }
    }
    let mut finder = Finder(false);
    finder.visit_type(ty);
    finder.0
}

/// The type a call's result has, when the signature says it in a form that can be
/// written down again: the return type, or the `Output` of a returned future. The
/// closure that records the result is annotated with it, so the capture rules are chosen
/// for the declared type even where the body leaves it to inference.
pub(crate) fn result_type(sig: &Signature, shape: Shape) -> Option<Type> {
    let declared = match &sig.output {
        ReturnType::Default => return Some(syn::parse_quote!(())),
        ReturnType::Type(_, ty) => &**ty,
    };
    let result = match shape {
        Shape::Sync | Shape::Async => Some(declared.clone()),
        Shape::ImplFuture | Shape::BoxedFuture => associated_type(declared, "Future", "Output"),
        Shape::Stream { fallible, .. } => {
            let declared = if fallible {
                ok_type(declared)?
            } else {
                declared
            };
            associated_type(declared, "Stream", "Item").or_else(|| {
                // `BoxStream<'a, T>`: the last type argument.
                let Type::Path(path) = declared else {
                    return None;
                };
                let PathArguments::AngleBracketed(args) = &path.path.segments.last()?.arguments
                else {
                    return None;
                };
                args.args.iter().rev().find_map(|arg| match arg {
                    GenericArgument::Type(ty) => Some(ty.clone()),
                    _ => None,
                })
            })
        }
    };
    result.filter(|ty| !mentions_impl_trait(ty))
}

/// `X` of `impl Trait<Assoc = X>` or `Pin<Box<dyn Trait<Assoc = X>>>`.
fn associated_type(declared: &Type, trait_name: &str, assoc: &str) -> Option<Type> {
    let declared = match declared {
        Type::Paren(paren) => &*paren.elem,
        other => other,
    };
    match declared {
        Type::ImplTrait(imp) => bound_assoc(imp.bounds.iter(), trait_name, assoc),
        _ => single_generic(declared, "Pin")
            .and_then(|boxed| single_generic(boxed, "Box"))
            .and_then(|inner| match inner {
                Type::TraitObject(object) => bound_assoc(object.bounds.iter(), trait_name, assoc),
                _ => None,
            }),
    }
}

/// `X` of a `Trait<Assoc = X>` bound.
fn bound_assoc<'a>(
    mut bounds: impl Iterator<Item = &'a TypeParamBound>,
    trait_name: &str,
    assoc: &str,
) -> Option<Type> {
    bounds.find_map(|bound| {
        let TypeParamBound::Trait(trait_bound) = bound else {
            return None;
        };
        let segment = trait_bound.path.segments.last()?;
        if segment.ident != trait_name {
            return None;
        }
        let PathArguments::AngleBracketed(args) = &segment.arguments else {
            return None;
        };
        args.args.iter().find_map(|arg| match arg {
            GenericArgument::AssocType(binding) if binding.ident == assoc => {
                Some(binding.ty.clone())
            }
            _ => None,
        })
    })
}
