#[traced::traced(fields(user.id))]
fn f() {}

fn main() {}
