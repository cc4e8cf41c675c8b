//! `traced::Config` → OTLP over HTTP (protobuf and JSON), and the Langfuse path with its
//! Basic authentication, against an in-process receiver on 127.0.0.1.

use std::time::Duration;

use traced::{traced, Config, Protocol};
use traced_tests::receiver;

#[traced(name = "work", as_type = "tool")]
fn work(tag: &str) -> String {
    tag.to_uppercase()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_protobuf_then_langfuse() {
    let spool = std::env::temp_dir().join(format!("traced-http-spool-{}", std::process::id()));
    let receiver = receiver::http("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("receiver");

    // Plain OTLP/HTTP with a header.
    let guard = Config::new()
        .service_name("http-service")
        .otlp(
            format!("http://{}/v1/traces", receiver.addr),
            Protocol::HttpProtobuf,
        )
        .header("x-team", "llm")
        .spool_dir(&spool)
        .init()
        .expect("valid config");
    work("first");
    guard.flush();
    receiver.wait_for(1, Duration::from_secs(20)).await;
    let stats = tokio::task::spawn_blocking(move || guard.shutdown())
        .await
        .expect("shutdown");
    assert_eq!((stats.ended, stats.exported, stats.dropped), (1, 1, 0));
    let spans = receiver.inbox.spans();
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].name, "work");
    assert_eq!(spans[0].service, "http-service");
    assert!(spans[0]
        .attributes
        .iter()
        .any(|(k, v)| k == "output.value" && v == "FIRST"));
    assert!(receiver.inbox.headers()[0]
        .iter()
        .any(|(k, v)| k == "x-team" && v == "llm"));

    // Langfuse: OTLP/HTTP to {host}/api/public/otel/v1/traces with Basic auth.
    let guard = Config::new()
        .service_name("langfuse-service")
        .langfuse(
            &format!("http://{}/", receiver.addr),
            "pk-lf-test",
            "sk-lf-test",
        )
        .spool_dir(&spool)
        .init()
        .expect("valid config");
    work("second");
    guard.flush();
    receiver.wait_for(2, Duration::from_secs(20)).await;
    let stats = tokio::task::spawn_blocking(move || guard.shutdown())
        .await
        .expect("shutdown");
    assert_eq!((stats.exported, stats.dropped), (1, 0));
    let headers = receiver.inbox.headers();
    let auth = headers[1]
        .iter()
        .find(|(k, _)| k == "authorization")
        .map(|(_, v)| v.as_str());
    // base64("pk-lf-test:sk-lf-test")
    assert_eq!(auth, Some("Basic cGstbGYtdGVzdDpzay1sZi10ZXN0"));
    assert_eq!(receiver.inbox.spans()[1].service, "langfuse-service");
}

#[test]
fn misconfiguration_is_an_error_from_init_not_a_panic() {
    let error = Config::new()
        .otlp("127.0.0.1:4318", Protocol::HttpProtobuf)
        .init()
        .expect_err("no scheme");
    assert!(error.to_string().contains("scheme"), "{error}");
    let error = Config::from_lookup(|name| match name {
        "LANGFUSE_HOST" => Some("http://lf".into()),
        "LANGFUSE_SECRET_KEY" => Some("sk".into()),
        _ => None,
    })
    .expect_err("half of Langfuse");
    assert!(error.to_string().contains("LANGFUSE_PUBLIC_KEY"), "{error}");
}
