#[traced::traced(name = plan_trip)]
fn f() {}

fn main() {}
