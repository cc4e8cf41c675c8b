#[traced::traced(as_type = "llm")]
fn f() {}

fn main() {}
