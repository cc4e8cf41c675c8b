//! What carries request headers: `http::HeaderMap`, `http::Request<B>`,
//! `http::request::Parts` (axum's `Request` is an `http::Request`), or your own type.

use http::HeaderMap;

/// A value that carries the headers of a request, for `#[traced(extract)]`,
/// `#[traced(parent = ...)]` and [`extract`](crate::extract).
///
/// Implement it for your own request type to name it with `#[traced(extract = arg)]`.
///
/// ```
/// use http::HeaderMap;
/// use traced::HeaderCarrier;
///
/// struct Incoming {
///     headers: HeaderMap,
///     body: Vec<u8>,
/// }
///
/// impl HeaderCarrier for Incoming {
///     fn headers(&self) -> &HeaderMap {
///         &self.headers
///     }
/// }
///
/// let incoming = Incoming { headers: HeaderMap::new(), body: vec![] };
/// assert!(traced::extract(&incoming).remote_parent().is_none());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not carry request headers",
    label = "not a `HeaderMap`, `http::Request` or `http::request::Parts`",
    note = "implement `traced::HeaderCarrier` for it, or name another argument with `extract = arg`"
)]
pub trait HeaderCarrier {
    /// The request's headers.
    fn headers(&self) -> &HeaderMap;
}

impl HeaderCarrier for HeaderMap {
    fn headers(&self) -> &HeaderMap {
        self
    }
}

impl<B> HeaderCarrier for http::Request<B> {
    fn headers(&self) -> &HeaderMap {
        http::Request::headers(self)
    }
}

impl HeaderCarrier for http::request::Parts {
    fn headers(&self) -> &HeaderMap {
        &self.headers
    }
}

impl<T: HeaderCarrier + ?Sized> HeaderCarrier for &T {
    fn headers(&self) -> &HeaderMap {
        (**self).headers()
    }
}

impl<T: HeaderCarrier + ?Sized> HeaderCarrier for &mut T {
    fn headers(&self) -> &HeaderMap {
        (**self).headers()
    }
}

impl<T: HeaderCarrier + ?Sized> HeaderCarrier for Box<T> {
    fn headers(&self) -> &HeaderMap {
        (**self).headers()
    }
}
