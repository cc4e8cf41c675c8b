#[traced::traced(skip = a)]
fn f(a: u8) {
    let _ = a;
}

fn main() {}
