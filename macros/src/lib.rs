//! The `#[traced]` attribute. Use it through the `traced` crate (`use traced::traced;`),
//! which documents its options and holds everything it generates calls to.
//!
//! The crate parses (`options`), then checks and decides what the wrapper will be
//! (`plan`, with `bindings` and `shape`), then writes it (`expand`, which only writes
//! tokens); it has no runtime logic of its own.

mod bindings;
mod expand;
mod options;
mod plan;
mod shape;

use proc_macro::TokenStream;
use quote::ToTokens;
use syn::{ItemFn, TraitItemFn};

/// Traces every call of the function it is on. See the `traced` crate for the options.
#[proc_macro_attribute]
pub fn traced(args: TokenStream, item: TokenStream) -> TokenStream {
    let function: ItemFn = match syn::parse(item.clone()) {
        Ok(function) => function,
        Err(error) => return not_a_function(item, error),
    };
    let options = match syn::parse::<options::Options>(args) {
        Ok(options) => options,
        Err(error) => return with_original(error, &function),
    };
    match plan::Plan::new(options, function.clone()) {
        Ok(plan) => expand::expand(plan).into(),
        Err(error) => with_original(error, &function),
    }
}

/// The error and the function unchanged, so the error is the only one the user sees.
fn with_original(error: syn::Error, function: &ItemFn) -> TokenStream {
    let mut tokens = error.to_compile_error();
    function.to_tokens(&mut tokens);
    tokens.into()
}

/// A function whose body does not parse (the user is in the middle of typing it): its
/// attributes, visibility and signature, then a braced body taken as it is.
struct FunctionWithBrokenBody;

impl syn::parse::Parse for FunctionWithBrokenBody {
    fn parse(input: syn::parse::ParseStream<'_>) -> syn::Result<Self> {
        input.call(syn::Attribute::parse_outer)?;
        input.parse::<syn::Visibility>()?;
        input.parse::<syn::Signature>()?;
        let body;
        syn::braced!(body in input);
        body.parse::<proc_macro2::TokenStream>()?;
        if !input.is_empty() {
            return Err(input.error("not a function"));
        }
        Ok(Self)
    }
}

fn not_a_function(item: TokenStream, error: syn::Error) -> TokenStream {
    let item2: proc_macro2::TokenStream = item.into();
    // A syntax error inside the body of a function: give the function back untouched, so
    // the compiler reports that error where it is (and an IDE keeps working), rather
    // than ours about where #[traced] goes.
    if syn::parse2::<FunctionWithBrokenBody>(item2.clone()).is_ok() {
        return item2.into();
    }
    let message = match syn::parse2::<TraitItemFn>(item2.clone()) {
        Ok(declaration) if declaration.default.is_none() => syn::Error::new_spanned(
            &declaration.sig,
            "#[traced] needs a function body: put it on the method in each `impl`, not on the trait's declaration",
        ),
        _ => syn::Error::new(error.span(), "#[traced] goes on a function (`fn` or `async fn`)"),
    };
    let mut tokens = message.to_compile_error();
    tokens.extend(item2);
    tokens.into()
}
