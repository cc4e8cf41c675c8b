//! Export where users run it: OTLP over TLS (HTTP and gRPC) with a CA made at test time,
//! mutual TLS, the failures a user must be told about (unknown CA, wrong host name,
//! expired certificate, 401 with the backend's message), several destinations at once,
//! gzip, and the headers of the hosted backends — all through the public API, against
//! receivers on 127.0.0.1.

use std::path::{Path, PathBuf};
use std::time::Duration;

use traced::{traced, Compression, Config, FailureKind, Guard, Protocol, Target};
use traced_tests::receiver::{self, Receiver};
use traced_tests::tls::{self, Serve};

#[traced(name = "tls work")]
fn work(i: u32) -> u32 {
    i + 1
}

/// `init()` installs the process's pipeline: one test at a time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// For a test outside any runtime.
fn lock() -> tokio::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.blocking_lock()
}

/// For an async test.
async fn lock_async() -> tokio::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().await
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("traced-tls-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn any_port() -> std::net::SocketAddr {
    "127.0.0.1:0".parse().expect("addr")
}

/// A configuration that retries fast, with its spool under `dir`.
fn config(dir: &Path) -> Config {
    Config::new()
        .service_name("tls-test")
        .spool_dir(dir.join("spool"))
        .scheduled_delay(Duration::from_millis(20))
        .retry_backoff(Duration::from_millis(100), Duration::from_millis(400))
        .export_timeout(Duration::from_secs(5))
        .notices(false)
}

fn endpoint(receiver: &Receiver, protocol: Protocol) -> String {
    match protocol {
        Protocol::Grpc => format!("https://127.0.0.1:{}", receiver.addr.port()),
        _ => format!("https://127.0.0.1:{}/v1/traces", receiver.addr.port()),
    }
}

async fn receiver_for(protocol: Protocol, serve: &Serve) -> Receiver {
    match protocol {
        Protocol::Grpc => tls::grpcs(any_port(), serve).await,
        _ => tls::https(any_port(), serve).await,
    }
    .expect("TLS receiver")
}

async fn shutdown(guard: Guard) -> traced::ExportStats {
    tokio::task::spawn_blocking(move || guard.shutdown())
        .await
        .expect("shutdown")
}

/// Records `n` spans and waits until the pipeline handed them over.
async fn produce(guard: &Guard, n: u32) {
    for i in 0..n {
        work(i);
    }
    let flushed = tokio::task::block_in_place(|| {
        guard.flush();
        guard.stats()
    });
    assert_eq!(flushed.ended, u64::from(n), "{flushed:?}");
}

async fn spans_arrive_with_a_private_ca(protocol: Protocol) {
    let dir = temp(&format!("ok-{protocol}").replace('/', "-"));
    let pki = tls::pki(&dir);
    let receiver = receiver_for(protocol, &Serve::server(&pki)).await;
    let guard = config(&dir)
        .otlp(endpoint(&receiver, protocol), protocol)
        .ca_certificate(&pki.ca)
        .init()
        .expect("valid TLS config");
    produce(&guard, 3).await;
    receiver.wait_for(3, Duration::from_secs(20)).await;
    assert!(guard.last_error().is_none(), "{:?}", guard.last_error());
    let stats = shutdown(guard).await;
    assert_eq!((stats.exported, stats.spooled, stats.dropped), (3, 0, 0));
    assert_eq!(receiver.inbox.spans().len(), 3);
    assert!(receiver.inbox.spans().iter().all(|s| s.name == "tls work"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_http_protobuf_with_a_private_ca() {
    let _one = lock_async().await;
    spans_arrive_with_a_private_ca(Protocol::HttpProtobuf).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_grpc_with_a_private_ca() {
    let _one = lock_async().await;
    spans_arrive_with_a_private_ca(Protocol::Grpc).await;
}

/// With client certificates required, spans arrive only when the client presents one.
async fn mutual_tls(protocol: Protocol) {
    let dir = temp(&format!("mtls-{protocol}").replace('/', "-"));
    let pki = tls::pki(&dir);
    let serve = Serve {
        client_ca: Some(pki.ca.clone()),
        ..Serve::server(&pki)
    };
    let receiver = receiver_for(protocol, &serve).await;

    let without = config(&dir)
        .otlp(endpoint(&receiver, protocol), protocol)
        .ca_certificate(&pki.ca)
        .init()
        .expect("valid config");
    produce(&without, 2).await;
    let failure = without.last_error().expect("the server refused the client");
    assert_eq!(failure.kind, FailureKind::Tls, "{failure}");
    let stats = shutdown(without).await;
    assert_eq!((stats.exported, stats.spooled), (0, 2), "{stats:?}");
    assert!(receiver.inbox.spans().is_empty());

    // The next start presents the certificate: its own spans and the spooled ones arrive.
    let with = config(&dir)
        .otlp(endpoint(&receiver, protocol), protocol)
        .ca_certificate(&pki.ca)
        .client_certificate(&pki.client_cert, &pki.client_key)
        .init()
        .expect("valid mTLS config");
    produce(&with, 1).await;
    receiver.wait_for(3, Duration::from_secs(30)).await;
    let stats = shutdown(with).await;
    assert_eq!(receiver.inbox.spans().len(), 3);
    assert_eq!(
        (stats.exported, stats.resent, stats.dropped),
        (1, 2, 0),
        "{stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_over_http() {
    let _one = lock_async().await;
    mutual_tls(Protocol::HttpProtobuf).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_over_grpc() {
    let _one = lock_async().await;
    mutual_tls(Protocol::Grpc).await;
}

/// A server the client must not trust: the failure is reported with its reason, the
/// spans are spooled, and the next start with the right CA delivers them.
async fn refused_certificate(protocol: Protocol, cert: &str, expected: &[&str]) {
    let dir = temp(&format!("bad-{cert}-{protocol}").replace('/', "-"));
    let pki = tls::pki(&dir);
    let (serve, ca) = match cert {
        "unknown CA" => (Serve::server(&pki), pki.other_ca.clone()),
        "wrong name" => (
            Serve {
                cert: pki.wrong_name_cert.clone(),
                key: pki.wrong_name_key.clone(),
                client_ca: None,
            },
            pki.ca.clone(),
        ),
        _ => (
            Serve {
                cert: pki.expired_cert.clone(),
                key: pki.expired_key.clone(),
                client_ca: None,
            },
            pki.ca.clone(),
        ),
    };
    let bad = receiver_for(protocol, &serve).await;
    let guard = config(&dir)
        .otlp(endpoint(&bad, protocol), protocol)
        .ca_certificate(&ca)
        .init()
        .expect("valid config");
    produce(&guard, 2).await;
    let failure = guard.last_error().expect("reported");
    assert_eq!(failure.kind, FailureKind::Tls, "{failure}");
    assert!(
        expected.iter().any(|word| failure.reason.contains(word)),
        "{cert}: {failure}"
    );
    let destinations = guard.destinations();
    assert!(destinations[0].failing);
    let stats = shutdown(guard).await;
    assert_eq!((stats.spooled, stats.dropped), (2, 0), "{stats:?}");
    assert_eq!(stats.pending_on_disk, 2);
    assert!(bad.inbox.spans().is_empty());

    let good = receiver_for(protocol, &Serve::server(&pki)).await;
    let guard = config(&dir)
        .otlp(endpoint(&good, protocol), protocol)
        .ca_certificate(&pki.ca)
        .init()
        .expect("valid config");
    good.wait_for(2, Duration::from_secs(30)).await;
    let stats = shutdown(guard).await;
    assert_eq!(good.inbox.spans().len(), 2, "spooled spans delivered");
    assert_eq!((stats.resent, stats.pending_on_disk), (2, 0), "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_ca_over_http() {
    let _one = lock_async().await;
    refused_certificate(Protocol::HttpProtobuf, "unknown CA", &["UnknownIssuer"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_ca_over_grpc() {
    let _one = lock_async().await;
    refused_certificate(Protocol::Grpc, "unknown CA", &["UnknownIssuer"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_host_name_over_http() {
    let _one = lock_async().await;
    refused_certificate(
        Protocol::HttpProtobuf,
        "wrong name",
        &["not valid for name"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_certificate_over_grpc() {
    let _one = lock_async().await;
    refused_certificate(Protocol::Grpc, "expired", &["expired", "Expired"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthorized_is_reported_with_the_backends_message_and_not_hammered() {
    let _one = lock_async().await;
    let dir = temp("401");
    let refusing = receiver::http_answering(
        any_port(),
        http::StatusCode::UNAUTHORIZED,
        "{\"message\":\"Invalid credentials. Confirm that you've configured the correct host.\"}",
    )
    .await
    .expect("receiver");
    let guard = config(&dir)
        // the first resend waits 10 ms; an auth failure must wait the longest backoff
        .retry_backoff(Duration::from_millis(10), Duration::from_secs(60))
        .langfuse(&format!("http://{}", refusing.addr), "pk-lf-1", "sk-lf-bad")
        .init()
        .expect("valid config");
    produce(&guard, 2).await;
    let failure = guard.last_error().expect("reported");
    assert_eq!(failure.kind, FailureKind::Unauthorized);
    assert_eq!(failure.status, Some(401));
    assert!(failure.reason.contains("Invalid credentials"), "{failure}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // One send, and at most one resend of the spool: not one every few milliseconds.
    assert!(
        refusing.inbox.requests() <= 2,
        "{}",
        refusing.inbox.requests()
    );
    let stats = shutdown(guard).await;
    assert_eq!((stats.spooled, stats.dropped), (2, 0), "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collector_that_never_answers_is_a_timeout() {
    let _one = lock_async().await;
    let dir = temp("silent");
    let silent = receiver::silent(any_port()).await.expect("listener");
    let guard = config(&dir)
        .export_timeout(Duration::from_millis(500))
        .otlp(
            format!("http://{}/v1/traces", silent.addr),
            Protocol::HttpProtobuf,
        )
        .init()
        .expect("valid config");
    produce(&guard, 1).await;
    let failure = guard.last_error().expect("reported");
    assert_eq!(failure.kind, FailureKind::Timeout, "{failure}");
    let stats = shutdown(guard).await;
    assert_eq!((stats.spooled, stats.dropped), (1, 0), "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_destinations_one_dead() {
    let _one = lock_async().await;
    let dir = temp("two");
    let live = receiver::http(any_port()).await.expect("live receiver");
    let dead_addr = receiver::unused_addr();
    let guard = config(&dir)
        .otlp(
            format!("http://{}/v1/traces", live.addr),
            Protocol::HttpProtobuf,
        )
        .also(Target::otlp(format!("http://{dead_addr}"), Protocol::Grpc))
        .also_embedded(dir.join("copy"))
        .init()
        .expect("valid config");
    produce(&guard, 5).await;
    // The live one has every span at once; the dead one spooled them.
    assert_eq!(live.inbox.spans().len(), 5);
    let destinations = guard.destinations();
    assert_eq!(destinations.len(), 3);
    assert_eq!(destinations[0].exported, 5, "{destinations:?}");
    assert_eq!(destinations[1].spooled, 5, "{destinations:?}");
    assert_eq!(
        destinations[1].last_error.as_ref().map(|f| f.kind),
        Some(FailureKind::Refused)
    );
    assert_eq!(destinations[2].exported, 5, "the embedded copy");
    // It comes back: it receives every span from its spool.
    let back = receiver::grpc(dead_addr).await.expect("same port");
    back.wait_for(5, Duration::from_secs(30)).await;
    assert_eq!(back.inbox.spans().len(), 5);
    let stats = shutdown(guard).await;
    assert_eq!(stats.ended, 5);
    assert_eq!(stats.dropped, 0);
    assert_eq!(stats.exported, 10, "the live destination and the copy");
    assert_eq!((stats.spooled, stats.resent), (5, 5), "{stats:?}");
    let copy = std::fs::read_dir(dir.join("copy"))
        .expect("the copy's files")
        .count();
    assert_eq!(copy, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_and_the_hosted_backends_headers() {
    let _one = lock_async().await;
    let dir = temp("hosted");
    let receiver = receiver::http(any_port()).await.expect("receiver");
    let base = format!("http://{}", receiver.addr);
    let guard = config(&dir)
        .langsmith(&base, "lsv2_pt_key", Some("checkout"))
        .compression(Compression::Gzip)
        .also(Target::langfuse(&base, "pk-lf-1", "sk-lf-2"))
        .init()
        .expect("valid config");
    produce(&guard, 1).await;
    receiver.wait_for(2, Duration::from_secs(20)).await;
    let stats = shutdown(guard).await;
    assert_eq!((stats.exported, stats.dropped), (2, 0), "{stats:?}");
    let headers = receiver.inbox.headers();
    let has = |name: &str, value: &str| {
        headers
            .iter()
            .any(|h| h.iter().any(|(k, v)| k == name && v == value))
    };
    assert!(has("x-api-key", "lsv2_pt_key"));
    assert!(has("langsmith-project", "checkout"));
    assert!(has("content-encoding", "gzip"));
    assert!(has("x-langfuse-public-key", "pk-lf-1"));
    assert!(has("x-langfuse-sdk-name", "traced-rust"));
    assert!(has("x-langfuse-ingestion-version", "4"));
}

#[test]
fn bad_tls_files_and_headers_are_errors_from_init() {
    let _one = lock();
    let dir = temp("bad-files");
    let pki = tls::pki(&dir);
    let not_pem = dir.join("not.pem");
    std::fs::write(&not_pem, "hello").expect("write");
    let vars = |extra: Vec<(&'static str, String)>| {
        move |name: &str| {
            let mut all = vec![(
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "https://127.0.0.1:1".to_owned(),
            )];
            all.extend(extra.clone());
            all.into_iter().find(|(k, _)| *k == name).map(|(_, v)| v)
        }
    };
    let error = |extra: Vec<(&'static str, String)>| {
        Config::from_lookup(vars(extra))
            .map(|c| c.spool_dir(dir.join("spool")))
            .map_err(traced::InitError::from)
            .and_then(Config::init)
            .map(drop)
            .expect_err("a bad file is an error")
            .to_string()
    };
    let missing = error(vec![(
        "OTEL_EXPORTER_OTLP_CERTIFICATE",
        dir.join("nope.pem").display().to_string(),
    )]);
    assert!(
        missing.contains("OTEL_EXPORTER_OTLP_CERTIFICATE") && missing.contains("cannot be read"),
        "{missing}"
    );
    let garbage = error(vec![(
        "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
        not_pem.display().to_string(),
    )]);
    assert!(
        garbage.contains("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE")
            && garbage.contains("no certificate"),
        "{garbage}"
    );
    let mismatch = error(vec![
        (
            "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
            pki.client_cert.display().to_string(),
        ),
        (
            "OTEL_EXPORTER_OTLP_CLIENT_KEY",
            pki.stray_key.display().to_string(),
        ),
    ]);
    assert!(mismatch.contains("does not match"), "{mismatch}");
    let half = error(vec![(
        "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
        pki.client_cert.display().to_string(),
    )]);
    assert!(half.contains("OTEL_EXPORTER_OTLP_CLIENT_KEY"), "{half}");
    let header = Config::new()
        .otlp("http://127.0.0.1:1/v1/traces", Protocol::HttpProtobuf)
        .header("x-key", "line\nbreak")
        .init()
        .map(drop)
        .expect_err("a header with a newline")
        .to_string();
    assert!(header.contains("x-key"), "{header}");
}
