//! Runs the trybuild cases. Refresh the snapshots after a deliberate change to a
//! message with `TRYBUILD=overwrite cargo test -p traced-ui-tests`, and review the diff.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/pass/*.rs");
    cases.compile_fail("tests/fail/*.rs");
}
