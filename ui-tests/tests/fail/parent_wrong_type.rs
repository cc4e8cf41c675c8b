#[traced::traced(parent = 42)]
fn handler() {}

fn main() {}
