//! Compile-pass and compile-fail cases of `#[traced]`, run by `tests/ui.rs` with
//! trybuild. The pass cases compile every supported shape of function with warnings
//! denied; each fail case has the diagnostic it must produce in its `.stderr`.
