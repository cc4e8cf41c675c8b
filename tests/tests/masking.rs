//! Secrets never leave the process by default: values whose argument name or key looks
//! like a secret are masked, wherever they are nested, whichever capture rule applies.

use std::collections::BTreeMap;

use serde::Serialize;
use traced::{traced, REDACTED};
use traced_tests::{attr_str, in_trace, input_json};

#[derive(Serialize)]
struct Provider {
    name: &'static str,
    #[serde(rename = "apiKey")]
    api_key: &'static str,
    limits: Limits,
}

#[derive(Serialize)]
struct Limits {
    max_tokens: u32,
    client_secret: &'static str,
}

#[derive(Debug)]
#[allow(dead_code)] // read through Debug
struct Login {
    user: &'static str,
    password: &'static str,
}

#[traced(fields(api_key = "sk-field", user.id = "ada"))]
fn call_llm(
    prompt: &str,
    openai_api_key: &str,
    provider: &Provider,
    login: &Login,
    headers_like: BTreeMap<&'static str, &'static str>,
) -> BTreeMap<&'static str, &'static str> {
    traced::current_span().set_attribute("x-api-key", "sk-attribute");
    let _ = (openai_api_key, provider, login, headers_like);
    BTreeMap::from([("answer", "42"), ("session_token", "sk-output")])
}

#[test]
fn secrets_are_masked_in_inputs_fields_attributes_and_outputs() {
    let provider = Provider {
        name: "openai",
        api_key: "sk-nested",
        limits: Limits {
            max_tokens: 256,
            client_secret: "sk-deep",
        },
    };
    let login = Login {
        user: "ada",
        password: "hunter2",
    };
    let headers = BTreeMap::from([("Authorization", "Bearer sk-map"), ("accept", "json")]);
    let (_, trace) = in_trace(|| call_llm("hello", "sk-arg", &provider, &login, headers));
    let span = trace.span("call_llm");
    let input = input_json(span);
    assert_eq!(input["prompt"], "hello");
    assert_eq!(input["openai_api_key"], REDACTED);
    assert_eq!(input["provider"]["name"], "openai");
    assert_eq!(input["provider"]["apiKey"], REDACTED);
    assert_eq!(
        input["provider"]["limits"]["max_tokens"], 256,
        "token counts are not secrets"
    );
    assert_eq!(input["provider"]["limits"]["client_secret"], REDACTED);
    assert_eq!(
        input["login"],
        r#"Login { user: "ada", password: "[REDACTED]" }"#
    );
    assert_eq!(input["headers_like"]["Authorization"], REDACTED);
    assert_eq!(input["headers_like"]["accept"], "json");
    assert_eq!(attr_str(span, "api_key").as_deref(), Some(REDACTED));
    assert_eq!(attr_str(span, "user.id").as_deref(), Some("ada"));
    assert_eq!(attr_str(span, "x-api-key").as_deref(), Some(REDACTED));
    let output: serde_json::Value =
        serde_json::from_str(&attr_str(span, "output.value").unwrap_or_default()).expect("JSON");
    assert_eq!(output["answer"], "42");
    assert_eq!(output["session_token"], REDACTED);
    let everything = format!("{:?}", span.attributes);
    for secret in [
        "sk-arg",
        "sk-nested",
        "sk-deep",
        "hunter2",
        "sk-map",
        "sk-field",
        "sk-attribute",
        "sk-output",
    ] {
        assert!(
            !everything.contains(secret),
            "{secret} leaked: {everything}"
        );
    }
}

#[traced]
fn reply(text: &str) -> String {
    format!("the password is {text}")
}

#[test]
fn text_content_is_not_rewritten() {
    // Prose that mentions a secret word is content, not a key: it is kept as it is.
    let (_, trace) = in_trace(|| reply("swordfish"));
    assert_eq!(
        attr_str(trace.span("reply"), "output.value").as_deref(),
        Some("the password is swordfish")
    );
}

#[traced]
fn with_request(request: http::Request<()>, headers: http::HeaderMap) -> usize {
    request.headers().len() + headers.len()
}

#[test]
fn request_headers_are_never_captured_whole() {
    let mut headers = http::HeaderMap::new();
    headers.insert("authorization", "Bearer sk-header".parse().expect("value"));
    headers.insert("cookie", "session=sk-cookie".parse().expect("value"));
    headers.insert("x-api-key", "sk-custom".parse().expect("value"));
    headers.insert("content-type", "application/json".parse().expect("value"));
    let request = http::Request::builder()
        .method("POST")
        .uri("/v1/chat?debug=1")
        .header("proxy-authorization", "Basic sk-proxy")
        .header("set-cookie", "a=sk-set")
        .header("user-agent", "tests")
        .body(())
        .expect("request");
    let (_, trace) = in_trace(|| with_request(request, headers));
    let span = trace.span("with_request");
    let input = input_json(span);
    assert_eq!(input["headers"]["content-type"], "application/json");
    assert_eq!(input["headers"]["x-api-key"], REDACTED);
    assert!(input["headers"].get("authorization").is_none(), "{input}");
    assert!(input["headers"].get("cookie").is_none(), "{input}");
    assert_eq!(input["request"]["method"], "POST");
    assert_eq!(input["request"]["uri"], "/v1/chat?debug=1");
    assert_eq!(input["request"]["headers"]["user-agent"], "tests");
    assert!(
        input["request"]["headers"]
            .get("proxy-authorization")
            .is_none(),
        "{input}"
    );
    assert!(
        input["request"]["headers"].get("set-cookie").is_none(),
        "{input}"
    );
    let everything = format!("{:?}", span.attributes);
    for secret in ["sk-header", "sk-cookie", "sk-custom", "sk-proxy", "sk-set"] {
        assert!(!everything.contains(secret), "{secret} leaked");
    }
}
