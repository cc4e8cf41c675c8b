//! Nothing lost: with the collector down, batches are spooled to disk; when it comes
//! back, every span arrives exactly once — sent by the same run, or by the next start.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use traced::{traced, Config, Protocol};
use traced_tests::receiver::{self, Receiver};

#[traced]
fn unit_of_work(i: u32) -> u32 {
    step(i) + step(i + 1)
}

#[traced]
fn step(i: u32) -> u32 {
    i * 2
}

fn config(addr: std::net::SocketAddr, spool: &PathBuf) -> Config {
    Config::new()
        .service_name("outage-test")
        .otlp(format!("http://{addr}"), Protocol::Grpc)
        .spool_dir(spool)
        .scheduled_delay(Duration::from_millis(20))
        .retry_backoff(Duration::from_millis(100), Duration::from_millis(400))
        .export_timeout(Duration::from_secs(2))
}

fn assert_exactly_once(receiver: &Receiver, n: usize) {
    let spans = receiver.inbox.spans();
    let unique: HashSet<&str> = spans.iter().map(|s| s.span_id.as_str()).collect();
    assert_eq!(unique.len(), n, "every span arrived");
    assert_eq!(spans.len(), n, "no span arrived twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_span_arrives_once_after_an_outage_and_after_a_restart() {
    let addr = receiver::unused_addr();
    let spool = std::env::temp_dir().join(format!("traced-outage-spool-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&spool);

    // 1. The collector is down while 100 units (300 spans) are produced.
    let guard = config(addr, &spool).init().expect("valid config");
    for i in 0..100 {
        unit_of_work(i);
    }
    guard.flush();
    let stats = guard.stats();
    assert_eq!(stats.ended, 300);
    assert_eq!(stats.spooled, 300, "{stats:?}");

    // 2. It comes back: the spool drains, each span exactly once.
    let receiver = receiver::grpc(addr)
        .await
        .expect("receiver on the same port");
    receiver.wait_for(300, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_millis(500)).await; // room for a duplicate to show
    assert_exactly_once(&receiver, 300);
    let stats = tokio::task::spawn_blocking(move || guard.shutdown())
        .await
        .expect("shutdown");
    assert_eq!(
        (stats.resent, stats.dropped, stats.pending_on_disk),
        (300, 0, 0),
        "{stats:?}"
    );
    drop(receiver);

    // 3. Down again; this run ends with 30 spans still on disk.
    let guard = config(addr, &spool).init().expect("valid config");
    for i in 0..10 {
        unit_of_work(i);
    }
    let stats = tokio::task::spawn_blocking(move || guard.shutdown())
        .await
        .expect("shutdown");
    assert_eq!(
        (stats.spooled, stats.pending_on_disk, stats.dropped),
        (30, 30, 0),
        "{stats:?}"
    );

    // 4. The next start sends them, once the collector is up.
    let receiver = receiver::grpc(addr).await.expect("receiver");
    let guard = config(addr, &spool).init().expect("valid config");
    receiver.wait_for(30, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_exactly_once(&receiver, 30);
    let stats = tokio::task::spawn_blocking(move || guard.shutdown())
        .await
        .expect("shutdown");
    assert_eq!(
        (stats.resent, stats.pending_on_disk, stats.dropped),
        (30, 0, 0),
        "{stats:?}"
    );
    let _ = std::fs::remove_dir_all(&spool);
}
