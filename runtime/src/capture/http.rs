//! Capturing HTTP requests and headers safely: never whole. `Authorization`, `Cookie`,
//! `Set-Cookie` and `Proxy-Authorization` are left out entirely, and the value of any
//! other header whose name looks like a secret (`X-Api-Key`) is masked.

use http::HeaderMap;

use super::OwnCapture;
use serde::ser::{Serialize, SerializeMap, Serializer};

/// Headers never captured, not even masked.
pub const NEVER_CAPTURED_HEADERS: &[&str] = &[
    "authorization",
    "cookie",
    "set-cookie",
    "proxy-authorization",
];

/// The safe view of a header map.
pub(crate) struct SafeHeaders<'a>(pub(crate) &'a HeaderMap);

impl Serialize for SafeHeaders<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let policy = crate::redact::policy();
        let mut map = serializer.serialize_map(None)?;
        for name in self.0.keys() {
            let key = name.as_str();
            if NEVER_CAPTURED_HEADERS.contains(&key) {
                continue;
            }
            if policy.is_secret(key) {
                map.serialize_entry(key, crate::redact::REDACTED)?;
                continue;
            }
            let values: Vec<String> = self
                .0
                .get_all(name)
                .iter()
                .map(|v| {
                    v.to_str()
                        .map_or_else(|_| "<not text>".to_owned(), str::to_owned)
                })
                .collect();
            map.serialize_entry(key, &values.join(", "))?;
        }
        map.end()
    }
}

/// The safe view of a request: method, URI and safe headers; the body is not captured.
pub(crate) struct SafeRequest<'a> {
    pub(crate) method: &'a http::Method,
    pub(crate) uri: &'a http::Uri,
    pub(crate) headers: &'a HeaderMap,
}

impl Serialize for SafeRequest<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("method", self.method.as_str())?;
        map.serialize_entry("uri", &safe_uri(self.uri, &crate::redact::policy()))?;
        map.serialize_entry("headers", &SafeHeaders(self.headers))?;
        map.end()
    }
}

/// The URI with the value of every query parameter whose name looks like a secret
/// (`?api_key=...`, `&access_token=...`) masked, as header values are.
pub(crate) fn safe_uri(uri: &http::Uri, policy: &crate::redact::Policy) -> String {
    let text = uri.to_string();
    let Some((before, query)) = text.split_once('?') else {
        return text;
    };
    let (query, fragment) = match query.split_once('#') {
        Some((query, fragment)) => (query, Some(fragment)),
        None => (query, None),
    };
    let mut out = String::with_capacity(text.len());
    out.push_str(before);
    out.push('?');
    for (i, pair) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        let (name, _) = pair.split_once('=').unwrap_or((pair, ""));
        let decoded = percent_encoding::percent_decode_str(&name.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned();
        if policy.is_secret(&decoded) {
            out.push_str(name);
            out.push('=');
            out.push_str(crate::redact::REDACTED);
        } else {
            out.push_str(pair);
        }
    }
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

impl OwnCapture for HeaderMap {
    fn capture_with<S: super::ValueSink>(&self, sink: &mut S) {
        sink.serialize(&SafeHeaders(self));
    }
}

impl<B> OwnCapture for http::Request<B> {
    fn capture_with<S: super::ValueSink>(&self, sink: &mut S) {
        sink.serialize(&SafeRequest {
            method: self.method(),
            uri: self.uri(),
            headers: self.headers(),
        });
    }
}

impl OwnCapture for http::request::Parts {
    fn capture_with<S: super::ValueSink>(&self, sink: &mut S) {
        sink.serialize(&SafeRequest {
            method: &self.method,
            uri: &self.uri,
            headers: &self.headers,
        });
    }
}

impl<T: OwnCapture + ?Sized> OwnCapture for &T {
    fn capture_with<S: super::ValueSink>(&self, sink: &mut S) {
        (**self).capture_with(sink);
    }
}

impl<T: OwnCapture + ?Sized> OwnCapture for &mut T {
    fn capture_with<S: super::ValueSink>(&self, sink: &mut S) {
        (**self).capture_with(sink);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_query_parameters_are_masked() {
        let policy = crate::redact::Policy::new(crate::redact::DEFAULT_SECRET_NAMES, 1024);
        let uri: http::Uri =
            "https://api.example.com/v1/chat?model=x&api_key=sk-123&access%5Ftoken=t&q=a+b"
                .parse()
                .expect("uri");
        assert_eq!(
            safe_uri(&uri, &policy),
            "https://api.example.com/v1/chat?model=x&api_key=[REDACTED]&access%5Ftoken=[REDACTED]&q=a+b"
        );
        let plain: http::Uri = "/path?page=2".parse().expect("uri");
        assert_eq!(safe_uri(&plain, &policy), "/path?page=2");
    }
}
