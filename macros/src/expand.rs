//! Generating the traced function: the user's signature token for token, and a body that
//! starts the span, captures the inputs, runs the user's block, and records the result.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{AttrStyle, Ident, ItemFn, ReturnType};

use crate::options::Options;
use crate::plan::Plan;
use crate::shape::{mentions_impl_trait, Shape};

pub(crate) fn expand(plan: Plan) -> TokenStream {
    let Plan {
        options,
        item,
        carrier,
        captured: bindings_to_capture,
        shape,
        result,
    } = plan;
    let krate = options
        .krate
        .as_ref()
        .map_or_else(|| quote!(::traced), ToTokens::to_token_stream);
    let private = quote!(#krate::__private);
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = &item;
    let (outer_attrs, inner_attrs): (Vec<_>, Vec<_>) = attrs
        .iter()
        .partition(|attr| matches!(attr.style, AttrStyle::Outer));

    let call_site = call_site(&options, &item, &private);
    // The common case (under the current span) names no parent: nothing to build or
    // drop on the unsampled path.
    let parent = if options.root {
        quote!(#private::Parent::Root)
    } else if let Some(carrier) = &carrier {
        let untrusted = options.untrusted.as_ref().map(|_| quote!(.untrusted()));
        quote!(#private::Parent::Remote(::core::option::Option::Some(#private::extract(&#carrier) #untrusted)))
    } else if let Some((_, expr)) = &options.parent {
        let into = quote_spanned!(expr.span()=> #private::IntoParent::into_parent(#expr));
        let untrusted = options
            .untrusted
            .as_ref()
            .map(|_| quote!(.map(#private::Extracted::untrusted)));
        quote!(#private::Parent::Remote(#into #untrusted))
    } else {
        quote!()
    };
    let start = if parent.is_empty() {
        quote!(#private::Call::start(&__TRACED_CALL_SITE))
    } else {
        quote!(#private::Call::start_under(&__TRACED_CALL_SITE, #parent))
    };
    let record_input = record_input(&options, &bindings_to_capture, &private);
    let record_output = record_output(&options, result.clone(), &private);

    // A function that returns `()` has no output and no error to record: its call just
    // ends (the recording path of a returned value costs an empty span about 10 %).
    let returns_unit = matches!(shape, Shape::Sync | Shape::Async) && is_unit(&sig.output);
    let body = match shape {
        Shape::Sync | Shape::ImplFuture | Shape::BoxedFuture => {
            let fake_return = fake_return_edge(&sig.output, matches!(shape, Shape::ImplFuture));
            let run = quote_spanned!(block.span()=>
                __traced_call.run(move || { #fake_return #block })
            );
            match shape {
                Shape::Sync if returns_unit => quote! {
                    let __traced_output = #run;
                    __traced_call.end_returned();
                    __traced_output
                },
                Shape::Sync => quote! {
                    let __traced_output = #run;
                    __traced_call.finish(&__traced_output, #record_output);
                    __traced_output
                },
                Shape::ImplFuture => quote! {
                    let __traced_future = #run;
                    #private::Instrumented::new(__traced_call, __traced_future, #record_output)
                },
                _ => quote! {
                    let __traced_future = #run;
                    #private::Box::pin(#private::Instrumented::new(
                        __traced_call,
                        __traced_future,
                        #record_output,
                    ))
                },
            }
        }
        Shape::Async => {
            let fake_return = fake_return_edge(&sig.output, false);
            let future = quote_spanned!(block.span()=> async move { #fake_return #block });
            if returns_unit {
                quote! {
                    #private::Instrumented::returning_unit(__traced_call, #future).await
                }
            } else {
                quote! {
                    #private::Instrumented::new(__traced_call, #future, #record_output).await
                }
            }
        }
        Shape::Stream {
            is_async,
            boxed,
            fallible,
        } => {
            let accumulate = accumulate_item(&options, result, &private);
            let fake_return = fake_return_edge(&sig.output, !boxed);
            let make = if is_async {
                quote_spanned!(block.span()=>
                    __traced_call.run_future(async move { #fake_return #block }).await
                )
            } else {
                quote_spanned!(block.span()=> __traced_call.run(move || { #fake_return #block }))
            };
            let wrapped = quote! {
                #private::TracedStream::new(__traced_call, __traced_started, __traced_stream, #accumulate)
            };
            let wrapped = if boxed {
                quote!(#private::Box::pin(#wrapped))
            } else {
                wrapped
            };
            if fallible {
                // `Result<stream, E>`: the stream is traced; an `Err` is the call's error.
                quote! {
                    match #make {
                        ::core::result::Result::Ok(__traced_stream) => ::core::result::Result::Ok(#wrapped),
                        ::core::result::Result::Err(__traced_error) => {
                            __traced_call.finish(
                                &__traced_error,
                                |__traced_recorder: &mut #private::Outcome, __traced_error| {
                                    #[allow(unused_imports)]
                                    use #private::{
                                        ErrorAsRef as _, ErrorAsRefSendSync as _, ErrorDebug as _,
                                        ErrorDisplay as _, ErrorStd as _, ErrorTypeName as _,
                                    };
                                    __traced_recorder.error(
                                        (&&&&&&#private::ErrorProbe(__traced_error)).__traced_error(),
                                    )
                                },
                            );
                            ::core::result::Result::Err(__traced_error)
                        }
                    }
                }
            } else {
                quote! {
                    let __traced_stream = #make;
                    #wrapped
                }
            }
        }
    };
    // An `async fn` moves the call into its future at once: mutable only to record the
    // arguments.
    let mutability = match shape {
        Shape::Async if record_input.is_empty() => quote!(),
        _ => quote!(mut),
    };
    let started = match shape {
        Shape::Stream { .. } => quote!(let __traced_started = #private::Instant::now();),
        _ => quote!(),
    };

    quote! {
        #(#outer_attrs)*
        #vis #sig {
            #(#inner_attrs)*
            #call_site
            #started
            let #mutability __traced_call = #start;
            #record_input
            #body
        }
    }
}

/// The `static` describing the function: name, code location, observation type.
fn call_site(options: &Options, item: &ItemFn, private: &TokenStream) -> TokenStream {
    let ident = &item.sig.ident;
    let function = ident.unraw_string();
    let name = options
        .name
        .as_ref()
        .map_or_else(|| function.clone(), syn::LitStr::value);
    let kind = options
        .as_type
        .clone()
        .unwrap_or_else(|| Ident::new("Span", ident.span()));
    let line = quote_spanned!(ident.span()=> ::core::line!());
    quote! {
        static __TRACED_CALL_SITE: #private::CallSite = #private::CallSite {
            name: #name,
            function: ::core::concat!(::core::module_path!(), "::", #function),
            file: ::core::file!(),
            line: #line,
            kind: #private::ObservationType::#kind,
            args: #private::ArgVerdicts::new(),
        };
    }
}

/// Captures the arguments and evaluates `fields(...)`, only when the span records.
fn record_input(options: &Options, bindings: &[Ident], private: &TokenStream) -> TokenStream {
    let captured: Vec<&Ident> = if options.capture_input && !options.skip_all {
        bindings
            .iter()
            .filter(|name| !options.skip.iter().any(|skipped| skipped == *name))
            .collect()
    } else {
        Vec::new()
    };
    // Each group of probe traits is brought into scope only where it is used: every
    // trait in scope is one more candidate for the compiler to try at each method call.
    let inputs = (!captured.is_empty()).then(|| {
        // Identifiers need no JSON escaping: the key is written whole at compile time.
        let names = captured
            .iter()
            .map(|name| format!("\"{}\":", name.unraw_string()));
        let indexes = 0..captured.len();
        quote! {
            #[allow(unused_imports)]
            use #private::{
                CaptureDebug as _, CaptureOwn as _, CaptureSerialize as _, CaptureTypeName as _,
            };
            let mut __traced_input = __traced_call.input();
            #( (&&&&#private::Capture(&#captured)).__traced_capture(
                __traced_input.site_key(&__TRACED_CALL_SITE, #indexes, #names)
            ); )*
            __traced_call.record_input(__traced_input);
        }
    });
    let fields = options.fields.iter().map(|field| {
        let key = &field.key;
        let value = &field.value;
        quote_spanned! {value.span()=>
            __traced_call.record_field(#key, (&&&&#private::FieldProbe(&(#value))).__traced_field());
        }
    });
    let fields = (!options.fields.is_empty()).then(|| {
        quote! {
            #[allow(unused_imports)]
            use #private::{
                FieldDebug as _, FieldNative as _, FieldSerialize as _, FieldTypeName as _,
            };
            #(#fields)*
        }
    });
    if inputs.is_none() && fields.is_none() {
        return quote!();
    }
    quote! {
        if __traced_call.is_recording() {
            { #inputs }
            { #fields }
        }
    }
}

/// A `match` on a value that may be a `Result`: `on_value` runs for a plain value or an
/// `Ok` (bound to `__traced_value`, one arm for both), `on_error` for an `Err`, given the expression of its
/// report (type, Display, whole `source()` chain).
fn split_result(
    subject: TokenStream,
    on_value: TokenStream,
    on_error: impl FnOnce(TokenStream) -> TokenStream,
    private: &TokenStream,
) -> TokenStream {
    let on_error = on_error(quote!((&&&&&&#private::ErrorProbe(__traced_error)).__traced_error()));
    quote! {
        #[allow(unused_imports)]
        use #private::{
            ErrorAsRef as _, ErrorAsRefSendSync as _, ErrorDebug as _, ErrorDisplay as _,
            ErrorStd as _, ErrorTypeName as _, SplitResult as _,
        };
        match (&&#private::ResultProbe(#subject)).__traced_split() {
            #private::Split::Output(__traced_value) => { #on_value; }
            #private::Split::Err(__traced_error) => { #on_error; }
        }
    }
}

/// The closure that records a returned value: the output, or the error of an `Err`.
fn record_output(
    options: &Options,
    result: Option<syn::Type>,
    private: &TokenStream,
) -> TokenStream {
    let capture = if options.capture_output {
        quote! {
            #[allow(unused_imports)]
            use #private::{
                CaptureDebug as _, CaptureOwn as _, CaptureSerialize as _, CaptureTypeName as _,
            };
            (&&&&#private::Capture(__traced_value)).__traced_capture(__traced_recorder.output())
        }
    } else {
        quote!(let _ = __traced_value;)
    };
    let returned_type = result.map(|ty| quote!(: &#ty));
    let body = split_result(
        quote!(__traced_returned),
        capture,
        |report| quote!(__traced_recorder.error(#report)),
        private,
    );
    quote! {
        |__traced_recorder: &mut #private::Outcome, __traced_returned #returned_type| { #body }
    }
}

/// The closure that adds one stream item to the recorded output: the `reduce` function,
/// or the rules (`Accumulate`, text, JSON, Debug, type name; `Err` items as errors).
fn accumulate_item(
    options: &Options,
    item: Option<syn::Type>,
    private: &TokenStream,
) -> TokenStream {
    let item_type = item.map(|ty| quote!(: &#ty));
    if let Some(reduce) = &options.reduce {
        let call = quote_spanned!(reduce.span()=> #reduce(__traced_output, __traced_item));
        return quote! {
            |__traced_output: &mut #private::StreamOutput, __traced_item #item_type| { #call }
        };
    }
    let add = if options.capture_output {
        quote! {
            #[allow(unused_imports)]
            use #private::{
                ChunkAccumulate as _, ChunkDebug as _, ChunkSerialize as _, ChunkText as _,
                ChunkTypeName as _,
            };
            (&&&&&#private::ChunkProbe(__traced_value)).__traced_chunk(__traced_output)
        }
    } else {
        quote!(let _ = __traced_value;)
    };
    let body = split_result(
        quote!(__traced_item),
        add,
        |report| quote!(__traced_output.record_error_report(#report)),
        private,
    );
    quote! {
        |__traced_output: &mut #private::StreamOutput, __traced_item #item_type| { #body }
    }
}

/// A `return` of the declared type placed before the user's block, so the block is
/// checked against that type and a type error points at the user's own line, not at the
/// generated code. Left out where the type cannot be written in a `let`.
/// Whether a function's declared return type is `()` (written or left out).
fn is_unit(output: &ReturnType) -> bool {
    match output {
        ReturnType::Default => true,
        ReturnType::Type(_, ty) => {
            matches!(&**ty, syn::Type::Tuple(tuple) if tuple.elems.is_empty())
        }
    }
}

fn fake_return_edge(output: &ReturnType, is_impl_future: bool) -> TokenStream {
    let ReturnType::Type(_, ty) = output else {
        return quote!();
    };
    if is_impl_future || mentions_impl_trait(ty) {
        return quote!();
    }
    // The name carries the return type's span too: the `return` expression then points
    // at the user's signature as a whole (a name made at the call site would drag the
    // note about the inferred return type onto the `#[traced]` attribute).
    let fake = Ident::new("__traced_fake_return", ty.span());
    quote_spanned! {ty.span()=>
        #[allow(
            unknown_lints,
            unreachable_code,
            clippy::diverging_sub_expression,
            clippy::let_unit_value,
            clippy::unreachable,
            clippy::let_with_type_underscore,
            clippy::empty_loop,
            clippy::needless_return
        )]
        if false {
            let #fake: #ty = loop {};
            return #fake;
        }
    }
}

trait UnrawString {
    fn unraw_string(&self) -> String;
}

impl UnrawString for Ident {
    fn unraw_string(&self) -> String {
        syn::ext::IdentExt::unraw(self).to_string()
    }
}
