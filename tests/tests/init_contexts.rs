//! `init()` never panics, whoever calls it: plain `main`, `#[tokio::main]` on either
//! runtime flavour, `spawn_blocking`, another runtime's worker, a second time, after an
//! earlier guard shut down — with an `https://` gRPC endpoint (the case that used to
//! panic), and with an exporter that fails to build. Each test holds one lock: `init()`
//! installs the process's pipeline.

use opentelemetry_sdk::trace::InMemorySpanExporter;
use traced::{traced, Config, Guard, InitError, Protocol};

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// For a test outside any runtime.
fn lock() -> tokio::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.blocking_lock()
}

/// For an async test.
async fn lock_async() -> tokio::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().await
}

#[traced(name = "context work")]
fn work() -> u8 {
    7
}

/// What a user with a hosted gRPC backend writes (nothing listens: export just fails).
fn grpc_over_tls() -> Result<Guard, InitError> {
    let spool = std::env::temp_dir().join(format!("traced-ctx-spool-{}", std::process::id()));
    let addr = traced_tests::receiver::unused_addr();
    let endpoint = format!("https://127.0.0.1:{}", addr.port());
    Config::from_lookup(|name| match name {
        "OTEL_EXPORTER_OTLP_ENDPOINT" => Some(endpoint.clone()),
        "OTEL_EXPORTER_OTLP_PROTOCOL" => Some("grpc".into()),
        "TRACED_NOTICES" => Some("off".into()),
        _ => None,
    })?
    .spool_dir(spool)
    .init()
}

/// An exporter that cannot be built (a `-bin` gRPC metadata key needs binary values).
fn failing_build() -> Result<Guard, InitError> {
    Config::new()
        .otlp("http://127.0.0.1:1", Protocol::Grpc)
        .header("x-token-bin", "not base64 bytes")
        .init()
}

fn check(result: Result<Guard, InitError>) {
    match result {
        Ok(guard) => {
            work();
            drop(guard);
        }
        Err(error) => assert!(!error.to_string().is_empty()),
    }
}

#[test]
fn from_plain_main() {
    let _one = lock();
    check(grpc_over_tls());
    let error = failing_build().map(drop).expect_err("cannot build");
    assert!(error.to_string().contains("x-token-bin"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_tokio_main_multi_thread() {
    let _one = lock_async().await;
    check(grpc_over_tls());
    check(failing_build());
}

#[tokio::test(flavor = "current_thread")]
async fn from_tokio_main_current_thread() {
    let _one = lock_async().await;
    check(grpc_over_tls());
    check(failing_build());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_spawn_blocking_and_another_runtimes_worker() {
    let _one = lock_async().await;
    tokio::task::spawn_blocking(|| {
        check(grpc_over_tls());
        check(failing_build());
    })
    .await
    .expect("no panic in spawn_blocking");
    let other = std::thread::spawn(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("another runtime");
        runtime.block_on(async {
            tokio::spawn(async {
                check(grpc_over_tls());
                check(failing_build());
            })
            .await
        })
    });
    other
        .join()
        .expect("no panic on the other runtime's thread")
        .expect("no panic in its worker");
}

#[test]
fn twice_and_after_a_shutdown() {
    let _one = lock();
    let first = InMemorySpanExporter::default();
    let second = InMemorySpanExporter::default();
    let guard_1 = Config::new()
        .exporter(first.clone())
        .init()
        .expect("first init");
    let guard_2 = Config::new()
        .exporter(second.clone())
        .init()
        .expect("second init");
    // Dropping the earlier guard leaves the later pipeline in place.
    drop(guard_1);
    work();
    guard_2.flush();
    assert_eq!(second.get_finished_spans().map(|s| s.len()).unwrap_or(0), 1);
    assert!(first.get_finished_spans().unwrap_or_default().is_empty());
    let stats = guard_2.shutdown();
    assert_eq!((stats.ended, stats.exported), (1, 1));

    // After a shutdown, a new init() records again.
    let third = InMemorySpanExporter::default();
    let guard_3 = Config::new()
        .exporter(third.clone())
        .init()
        .expect("init after a shutdown");
    work();
    guard_3.flush();
    assert_eq!(third.get_finished_spans().map(|s| s.len()).unwrap_or(0), 1);
    let stats = guard_3.shutdown();
    assert_eq!(stats.exported, 1);
}
