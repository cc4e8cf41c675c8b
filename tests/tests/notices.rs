//! What the user is told on stderr when no `log` logger is installed: an export failure
//! once per kind (not once per failed batch), and nothing at all for a panic that capture
//! contained. Each case runs in a child process of this test binary, whose stderr the
//! parent reads.

use std::process::Command;
use std::time::Duration;

use serde::{Serialize, Serializer};
use traced::{traced, Config, Protocol};

const CHILD: &str = "TRACED_NOTICES_CHILD";

/// Runs the test `name` of this binary in a child process with `CHILD` set; its stderr.
fn stderr_of(name: &str) -> String {
    let output = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", name, "--nocapture", "--test-threads", "1"])
        .env(CHILD, "1")
        .env_remove("RUST_LOG")
        .output()
        .expect("child test");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[traced(name = "notice work")]
fn work(i: u32) -> u32 {
    i
}

#[test]
fn a_failing_destination_is_told_once_per_kind() {
    if std::env::var_os(CHILD).is_none() {
        let stderr = stderr_of("a_failing_destination_is_told_once_per_kind");
        let told: Vec<&str> = stderr
            .lines()
            .filter(|line| line.starts_with("traced: export to"))
            .collect();
        assert_eq!(told.len(), 1, "{stderr}");
        assert!(told[0].contains("connection refused"), "{}", told[0]);
        return;
    }
    let spool = std::env::temp_dir().join(format!("traced-notices-{}", std::process::id()));
    let dead = traced_tests::receiver::unused_addr();
    let guard = Config::new()
        .otlp(format!("http://{dead}/v1/traces"), Protocol::HttpProtobuf)
        .spool_dir(&spool)
        .scheduled_delay(Duration::from_millis(10))
        .retry_backoff(Duration::from_millis(10), Duration::from_millis(20))
        .init()
        .expect("valid config");
    for i in 0..3 {
        work(i);
        guard.flush();
        std::thread::sleep(Duration::from_millis(50));
    }
    let stats = guard.shutdown();
    assert_eq!(stats.dropped, 0);
    let _ = std::fs::remove_dir_all(&spool);
}

struct Explodes;
impl Serialize for Explodes {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        panic!("a contained explosion")
    }
}

#[traced(name = "notice capture")]
fn takes(value: &Explodes) -> u8 {
    let _ = value;
    5
}

#[test]
fn a_contained_panic_is_not_printed() {
    if std::env::var_os(CHILD).is_none() {
        let stderr = stderr_of("a_contained_panic_is_not_printed");
        assert!(!stderr.contains("a contained explosion"), "{stderr}");
        assert!(stderr.contains("a panic of the program's own"), "{stderr}");
        return;
    }
    let exporter = opentelemetry_sdk::trace::InMemorySpanExporter::default();
    let guard = Config::new()
        .exporter(exporter.clone())
        .init()
        .expect("valid config");
    assert_eq!(takes(&Explodes), 5);
    // Any other panic still reaches the hook that was there before.
    let caught = std::panic::catch_unwind(|| panic!("a panic of the program's own"));
    assert!(caught.is_err());
    guard.flush();
    let spans = exporter.get_finished_spans().expect("spans");
    assert!(spans.iter().any(|s| s.name == "notice capture"));
    guard.shutdown();
}
