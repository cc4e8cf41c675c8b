//! OTLP/HTTP through an HTTP proxy, as a service behind a corporate proxy reaches a hosted
//! backend: `HTTPS_PROXY` (with credentials in its URL) is honoured with a `CONNECT`
//! tunnel, TLS runs end to end through it, and `NO_PROXY` bypasses it. One test: the
//! proxy variables are the process's.

use std::time::Duration;

use traced::{traced, Config, Protocol};
use traced_tests::proxy::connect_proxy;
use traced_tests::tls::{self, Serve};

#[traced(name = "through the proxy")]
fn work() -> u8 {
    1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_export_goes_through_the_proxy_and_no_proxy_bypasses_it() {
    let dir = std::env::temp_dir().join(format!("traced-proxy-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let pki = tls::pki(&dir);
    let receiver = tls::https("127.0.0.1:0".parse().expect("addr"), &Serve::server(&pki))
        .await
        .expect("TLS receiver");
    let proxy = connect_proxy("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("proxy");
    let endpoint = format!("https://127.0.0.1:{}/v1/traces", receiver.addr.port());
    let init = |spool: &str| {
        Config::new()
            .service_name("proxied")
            .otlp(endpoint.clone(), Protocol::HttpProtobuf)
            .ca_certificate(&pki.ca)
            .spool_dir(dir.join(spool))
            .notices(false)
            .init()
            .expect("valid config")
    };

    // SAFETY of the test: no other test runs in this process.
    std::env::set_var(
        "HTTPS_PROXY",
        format!("http://ada:s3cret@127.0.0.1:{}", proxy.addr.port()),
    );
    std::env::set_var("NO_PROXY", "");
    let guard = init("through");
    work();
    let stats = tokio::task::spawn_blocking(move || guard.shutdown())
        .await
        .expect("shutdown");
    assert_eq!((stats.exported, stats.dropped), (1, 0), "{stats:?}");
    receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(receiver.inbox.spans().len(), 1);
    let connects = proxy.connects.lock().map(|c| c.clone()).unwrap_or_default();
    assert!(!connects.is_empty(), "the export went through the proxy");
    assert_eq!(connects[0].0, format!("127.0.0.1:{}", receiver.addr.port()));
    // base64("ada:s3cret")
    assert_eq!(connects[0].1.as_deref(), Some("Basic YWRhOnMzY3JldA=="));

    // NO_PROXY names the host: straight to the receiver.
    std::env::set_var("NO_PROXY", "127.0.0.1");
    let before = connects.len();
    let guard = init("direct");
    work();
    let stats = tokio::task::spawn_blocking(move || guard.shutdown())
        .await
        .expect("shutdown");
    assert_eq!(stats.exported, 1, "{stats:?}");
    receiver.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(receiver.inbox.spans().len(), 2);
    let after = proxy.connects.lock().map(|c| c.len()).unwrap_or_default();
    assert_eq!(after, before, "NO_PROXY bypassed the proxy");
    std::env::remove_var("HTTPS_PROXY");
    std::env::remove_var("NO_PROXY");
}
