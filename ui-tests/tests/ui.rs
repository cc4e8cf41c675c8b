//! Runs the trybuild cases. Refresh the snapshots after a deliberate change to a
//! message with `TRYBUILD=overwrite cargo test -p traced-ui-tests`, review the diff, and
//! write the compiler's version into `tests/fail/TOOLCHAIN`.
//!
//! The `pass` cases run with any compiler. The `compile_fail` snapshots hold the exact
//! text of rustc's diagnostics, which changes between compiler releases without anything
//! being wrong with ours: they are compared only with the compiler they were recorded
//! with (`tests/fail/TOOLCHAIN`), and another compiler says so and skips them.

use std::process::Command;

/// The `rustc x.y.z` the snapshots were recorded with, if it is the one running.
fn snapshot_compiler_matches() -> Result<(), String> {
    let recorded = std::fs::read_to_string("tests/fail/TOOLCHAIN")
        .map_err(|e| format!("tests/fail/TOOLCHAIN: {e}"))?;
    let recorded = recorded.trim();
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let output = Command::new(&rustc)
        .arg("--version")
        .output()
        .map_err(|e| format!("{rustc} --version: {e}"))?;
    let running = String::from_utf8_lossy(&output.stdout);
    let running = running.split_whitespace().nth(1).unwrap_or_default();
    if running == recorded {
        Ok(())
    } else {
        Err(format!(
            "the compile_fail snapshots were recorded with rustc {recorded}, this is rustc {running}"
        ))
    }
}

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/pass/*.rs");
    match snapshot_compiler_matches() {
        Ok(()) => cases.compile_fail("tests/fail/*.rs"),
        Err(why) => eprintln!("ui: compile_fail cases skipped: {why}"),
    }
}
