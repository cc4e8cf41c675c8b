//! Parsing `#[traced(...)]`: every option at most once, each misuse a compile error at
//! the offending token that says what to write instead.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, Lit, LitBool, LitStr, Path, Token};

/// The observation types `as_type` accepts, with the `ObservationType` variant of each.
pub(crate) const OBSERVATION_TYPES: &[(&str, &str)] = &[
    ("span", "Span"),
    ("generation", "Generation"),
    ("tool", "Tool"),
    ("agent", "Agent"),
    ("chain", "Chain"),
    ("retriever", "Retriever"),
    ("embedding", "Embedding"),
    ("evaluator", "Evaluator"),
    ("guardrail", "Guardrail"),
];

const KNOWN_OPTIONS: &str = "`name = \"...\"`, `as_type = \"...\"`, `skip(a, b)`, `skip_all`, \
`capture_input = false`, `capture_output = false`, `fields(key = expr, ...)`, `root`, `extract`, `extract = arg`, `parent = expr`, `untrusted`, `stream`, `reduce = path`, `crate = path`";

/// The options of one `#[traced(...)]`.
#[derive(Default)]
pub(crate) struct Options {
    pub(crate) name: Option<LitStr>,
    /// The `ObservationType` variant.
    pub(crate) as_type: Option<Ident>,
    pub(crate) skip: Vec<Ident>,
    pub(crate) skip_all: bool,
    pub(crate) capture_input: bool,
    pub(crate) capture_output: bool,
    pub(crate) fields: Vec<Field>,
    pub(crate) root: bool,
    /// The `stream` keyword, where given.
    pub(crate) stream: Option<Ident>,
    pub(crate) reduce: Option<Path>,
    /// `extract` (the keyword, and the argument when named).
    pub(crate) extract: Option<(Ident, Option<Ident>)>,
    pub(crate) parent: Option<(Ident, Expr)>,
    /// The `untrusted` keyword, where given.
    pub(crate) untrusted: Option<Ident>,
    pub(crate) krate: Option<Path>,
}

/// One `key = expr` of `fields(...)`.
pub(crate) struct Field {
    pub(crate) key: LitStr,
    pub(crate) value: Expr,
}

impl Parse for Options {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut options = Options {
            capture_input: true,
            capture_output: true,
            ..Options::default()
        };
        let mut seen: Vec<String> = Vec::new();
        while !input.is_empty() {
            let key = Ident::parse_any(input)?;
            let key_name = key.to_string();
            if seen.contains(&key_name) {
                return Err(syn::Error::new(
                    key.span(),
                    format!("duplicate option `{key_name}`: give each option once"),
                ));
            }
            seen.push(key_name.clone());
            match key_name.as_str() {
                "name" => {
                    options.name = Some(parse_value::<LitStr>(
                        input,
                        &key,
                        "a string, e.g. `name = \"plan trip\"`",
                    )?)
                }
                "as_type" => options.as_type = Some(parse_as_type(input, &key)?),
                "skip" => options.skip = parse_skip(input, &key)?,
                "skip_all" => options.skip_all = parse_flag(input, &key)?,
                "capture_input" => options.capture_input = parse_bool(input, &key)?,
                "capture_output" => options.capture_output = parse_bool(input, &key)?,
                "fields" => options.fields = parse_fields(input, &key)?,
                "root" => options.root = parse_flag(input, &key)?,
                "untrusted" => {
                    parse_flag(input, &key)?;
                    options.untrusted = Some(key.clone());
                }
                "stream" => {
                    parse_flag(input, &key)?;
                    options.stream = Some(key.clone());
                }
                "extract" => {
                    let named = if input.peek(Token![=]) {
                        input.parse::<Token![=]>()?;
                        Some(Ident::parse_any(input).map_err(|_| {
                            syn::Error::new(input.span(), "`extract = ...` names an argument, e.g. `extract = request`")
                        })?)
                    } else {
                        None
                    };
                    options.extract = Some((key.clone(), named));
                }
                "parent" => {
                    if !input.peek(Token![=]) {
                        return Err(syn::Error::new(key.span(), "`parent` needs a value: `parent = expr` (a `traced::TraceContext`, an `Option` of one, or headers)"));
                    }
                    input.parse::<Token![=]>()?;
                    options.parent = Some((key.clone(), input.parse()?));
                }
                "reduce" => options.reduce = Some(parse_value::<Path>(input, &key, "the path of a function `fn(&mut traced::StreamOutput, &Item)`, e.g. `reduce = join_deltas`")?),
                "crate" => {
                    options.krate = Some(parse_value::<Path>(
                        input,
                        &key,
                        "a path, e.g. `crate = my_crate::traced`",
                    )?)
                }
                _ => return Err(syn::Error::new(
                    key.span(),
                    format!(
                        "unknown option `{key_name}` of #[traced]; the options are {KNOWN_OPTIONS}"
                    ),
                )),
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        if let (Some((extract, _)), Some(_)) = (&options.extract, &options.parent) {
            return Err(syn::Error::new(
                extract.span(),
                "`extract` and `parent` both choose the parent; keep one",
            ));
        }
        if let Some(untrusted) = &options.untrusted {
            if options.extract.is_none() && options.parent.is_none() {
                return Err(syn::Error::new(
                    untrusted.span(),
                    "`untrusted` applies to a context received from outside: use it with `extract` or `parent = ...`",
                ));
            }
        }
        if options.root {
            if let Some(keyword) = options
                .extract
                .as_ref()
                .map(|(k, _)| k)
                .or(options.parent.as_ref().map(|(k, _)| k))
            {
                return Err(syn::Error::new(
                    keyword.span(),
                    format!("`root` starts a new trace, so `{keyword}` would be ignored; keep one"),
                ));
            }
        }
        Ok(options)
    }
}

/// `key = <T>`, with an error that says what was expected.
fn parse_value<T: Parse>(input: ParseStream<'_>, key: &Ident, expected: &str) -> syn::Result<T> {
    if !input.peek(Token![=]) {
        return Err(syn::Error::new(
            key.span(),
            format!("`{key}` needs a value: {expected}"),
        ));
    }
    input.parse::<Token![=]>()?;
    let value: Expr = input.parse()?;
    syn::parse2::<T>(quote::ToTokens::into_token_stream(&value))
        .map_err(|_| syn::Error::new_spanned(&value, format!("`{key}` expects {expected}")))
}

fn parse_bool(input: ParseStream<'_>, key: &Ident) -> syn::Result<bool> {
    let expected = format!("`true` or `false`, e.g. `{key} = false`");
    let value: Lit = parse_value(input, key, &expected)?;
    match value {
        Lit::Bool(LitBool { value, .. }) => Ok(value),
        other => Err(syn::Error::new(
            other.span(),
            format!("`{key}` expects {expected}"),
        )),
    }
}

/// An option that takes no value (`root`, `skip_all`).
fn parse_flag(input: ParseStream<'_>, key: &Ident) -> syn::Result<bool> {
    if input.peek(Token![=]) || input.peek(syn::token::Paren) {
        return Err(syn::Error::new(
            input.span(),
            format!("`{key}` takes no value: write `{key}` alone"),
        ));
    }
    Ok(true)
}

fn parse_as_type(input: ParseStream<'_>, key: &Ident) -> syn::Result<Ident> {
    let choices = OBSERVATION_TYPES
        .iter()
        .map(|(name, _)| format!("\"{name}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let lit: LitStr = parse_value(input, key, &format!("a string, one of {choices}"))?;
    let wanted = lit.value();
    OBSERVATION_TYPES
        .iter()
        .find(|(name, _)| *name == wanted)
        .map(|(_, variant)| Ident::new(variant, lit.span()))
        .ok_or_else(|| {
            syn::Error::new(
                lit.span(),
                format!("unknown `as_type` \"{wanted}\"; write one of {choices}"),
            )
        })
}

fn parse_skip(input: ParseStream<'_>, key: &Ident) -> syn::Result<Vec<Ident>> {
    if !input.peek(syn::token::Paren) {
        return Err(syn::Error::new(
            key.span(),
            "`skip` lists argument names in parentheses: write `skip(a, b)`, or `skip_all`",
        ));
    }
    let content;
    syn::parenthesized!(content in input);
    let names = Punctuated::<Ident, Token![,]>::parse_terminated_with(&content, Ident::parse_any)?;
    Ok(names.into_iter().collect())
}

fn parse_fields(input: ParseStream<'_>, key: &Ident) -> syn::Result<Vec<Field>> {
    if !input.peek(syn::token::Paren) {
        return Err(syn::Error::new(
            key.span(),
            "`fields` lists attributes in parentheses: write `fields(user.id = id, \"my key\" = value)`",
        ));
    }
    let content;
    syn::parenthesized!(content in input);
    let fields = Punctuated::<Field, Token![,]>::parse_terminated(&content)?;
    let mut seen: Vec<String> = Vec::new();
    for field in &fields {
        let name = field.key.value();
        if seen.contains(&name) {
            return Err(syn::Error::new(
                field.key.span(),
                format!("duplicate field `{name}`: give each field once"),
            ));
        }
        seen.push(name);
    }
    Ok(fields.into_iter().collect())
}

impl Parse for Field {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let key = if input.peek(LitStr) {
            input.parse::<LitStr>()?
        } else {
            // A dotted name: `user.id`, `gen_ai.request.model`.
            let first = Ident::parse_any(input)?;
            let span: Span = first.span();
            let mut name = first.unraw().to_string();
            while input.peek(Token![.]) {
                input.parse::<Token![.]>()?;
                name.push('.');
                name.push_str(&Ident::parse_any(input)?.unraw().to_string());
            }
            LitStr::new(&name, span)
        };
        if !input.peek(Token![=]) {
            return Err(syn::Error::new(
                key.span(),
                format!(
                    "field `{}` needs a value: write `{} = expression`",
                    key.value(),
                    key.value()
                ),
            ));
        }
        input.parse::<Token![=]>()?;
        Ok(Field {
            key,
            value: input.parse()?,
        })
    }
}
