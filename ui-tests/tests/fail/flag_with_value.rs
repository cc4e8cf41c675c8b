#[traced::traced(root = true)]
fn f() {}

fn main() {}
