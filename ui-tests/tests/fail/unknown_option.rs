#[traced::traced(nmae = "typo")]
fn f() {}

fn main() {}
