//! `traced::Config` → OTLP over gRPC, against an in-process receiver on 127.0.0.1.

use std::time::Duration;

use traced::{traced, Config, Protocol};
use traced_tests::receiver;

#[traced(name = "node A-1")]
async fn child(n: u32) -> u32 {
    n + 1
}

#[traced(name = "node A")]
async fn parent(n: u32) -> u32 {
    child(n).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_arrive_over_grpc_with_their_tree_service_and_metadata() {
    let receiver = receiver::grpc("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("receiver");
    let guard = Config::new()
        .service_name("grpc-service")
        .otlp(format!("http://{}", receiver.addr), Protocol::Grpc)
        .header("x-api-key", "secret-1")
        .spool_dir(std::env::temp_dir().join(format!("traced-grpc-spool-{}", std::process::id())))
        .init()
        .expect("valid config");
    assert_eq!(parent(41).await, 42);
    guard.flush();
    receiver.wait_for(2, Duration::from_secs(20)).await;
    let spans = receiver.inbox.spans();
    let a = spans
        .iter()
        .find(|s| s.name == "node A")
        .expect("node A received");
    let a1 = spans
        .iter()
        .find(|s| s.name == "node A-1")
        .expect("node A-1 received");
    assert_eq!(a1.parent_span_id, a.span_id);
    assert_eq!(a1.trace_id, a.trace_id);
    assert_eq!(a.service, "grpc-service");
    assert!(a
        .attributes
        .iter()
        .any(|(k, v)| k == "input.value" && v == r#"{"n":41}"#));
    let metadata = receiver.inbox.headers();
    assert!(metadata
        .iter()
        .all(|h| h.iter().any(|(k, v)| k == "x-api-key" && v == "secret-1")));
    let stats = tokio::task::spawn_blocking(move || guard.shutdown())
        .await
        .expect("shutdown");
    assert_eq!(stats.ended, 2);
    assert_eq!(stats.exported, 2);
    assert_eq!(stats.dropped, 0);
}
