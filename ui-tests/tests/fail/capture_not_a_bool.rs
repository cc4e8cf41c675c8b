#[traced::traced(capture_input = "no")]
fn f() {}

fn main() {}
