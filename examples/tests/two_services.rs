//! The main example, run as a user runs it: two processes, one trace, drawn as a tree
//! with node A-1 (server B) under node A (server A).

use std::process::Command;

#[test]
fn two_services_print_one_trace_with_node_a_1_under_node_a() {
    let dir = std::env::temp_dir().join(format!("traced-two-services-test-{}", std::process::id()));
    let output = Command::new(env!("CARGO_BIN_EXE_two_services"))
        .env("TRACED_DIR", &dir)
        .output()
        .expect("the example runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // Each tree line is "service  <indent>name  duration".
    let lines: Vec<(&str, usize, &str)> = stdout
        .lines()
        .filter_map(|line| {
            let (service, rest) = line.split_once("  ")?;
            if !service.starts_with("server-") {
                return None;
            }
            let name_start = rest.len() - rest.trim_start().len();
            let name = rest.trim_start().split("  ").next()?;
            Some((service.trim(), name_start, name))
        })
        .collect();
    let find = |name: &str| {
        lines
            .iter()
            .position(|(_, _, n)| *n == name)
            .unwrap_or_else(|| panic!("{name} missing in:\n{stdout}"))
    };
    let (node_a, node_a_1, sub_task, node_b) = (
        find("node A"),
        find("node A-1"),
        find("node A-1 sub-task"),
        find("node B"),
    );
    assert_eq!(lines[node_a].0, "server-a");
    assert_eq!(lines[node_a_1].0, "server-b");
    assert_eq!(lines[sub_task].0, "server-b");
    assert_eq!(node_a_1, node_a + 1, "node A-1 right under node A");
    assert!(lines[node_a_1].1 > lines[node_a].1, "deeper than node A");
    assert!(
        lines[sub_task].1 > lines[node_a_1].1,
        "sub-task deeper than node A-1"
    );
    assert_eq!(
        lines[node_b].1, lines[node_a].1,
        "node B a sibling of node A"
    );
    assert!(stdout.starts_with("server B on 127.0.0.1:"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}
