//! What kind of function the attribute is on, which decides how the span follows it.

use syn::visit::Visit;
use syn::{GenericArgument, PathArguments, ReturnType, Signature, Type, TypeParamBound};

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
}

pub(crate) fn shape_of(sig: &Signature) -> Shape {
    if sig.asyncness.is_some() {
        return Shape::Async;
    }
    match &sig.output {
        ReturnType::Type(_, ty) if is_impl_future(ty) => Shape::ImplFuture,
        ReturnType::Type(_, ty) if is_boxed_future(ty) => Shape::BoxedFuture,
        _ => Shape::Sync,
    }
}

fn bounds_name_future<'a>(mut bounds: impl Iterator<Item = &'a TypeParamBound>) -> bool {
    bounds.any(|bound| match bound {
        TypeParamBound::Trait(trait_bound) => trait_bound
            .path
            .segments
            .last()
            .is_some_and(|segment| segment.ident == "Future"),
        _ => false,
    })
}

fn is_impl_future(ty: &Type) -> bool {
    match ty {
        Type::ImplTrait(imp) => bounds_name_future(imp.bounds.iter()),
        Type::Paren(paren) => is_impl_future(&paren.elem),
        _ => false,
    }
}

/// `Pin<Box<dyn Future<Output = T> + ...>>`, by any path to `Pin` and `Box`.
fn is_boxed_future(ty: &Type) -> bool {
    let Some(boxed) = single_generic(ty, "Pin") else {
        return false;
    };
    let Some(inner) = single_generic(boxed, "Box") else {
        return false;
    };
    matches!(inner, Type::TraitObject(object) if bounds_name_future(object.bounds.iter()))
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
        Shape::ImplFuture => match declared {
            Type::ImplTrait(imp) => future_output(imp.bounds.iter()),
            Type::Paren(paren) => match &*paren.elem {
                Type::ImplTrait(imp) => future_output(imp.bounds.iter()),
                _ => None,
            },
            _ => None,
        },
        Shape::BoxedFuture => single_generic(declared, "Pin")
            .and_then(|boxed| single_generic(boxed, "Box"))
            .and_then(|inner| match inner {
                Type::TraitObject(object) => future_output(object.bounds.iter()),
                _ => None,
            }),
    };
    result.filter(|ty| !mentions_impl_trait(ty))
}

/// `X` of a `Future<Output = X>` bound.
fn future_output<'a>(mut bounds: impl Iterator<Item = &'a TypeParamBound>) -> Option<Type> {
    bounds.find_map(|bound| {
        let TypeParamBound::Trait(trait_bound) = bound else {
            return None;
        };
        let segment = trait_bound.path.segments.last()?;
        if segment.ident != "Future" {
            return None;
        }
        let PathArguments::AngleBracketed(args) = &segment.arguments else {
            return None;
        };
        args.args.iter().find_map(|arg| match arg {
            GenericArgument::AssocType(assoc) if assoc.ident == "Output" => Some(assoc.ty.clone()),
            _ => None,
        })
    })
}
