#[traced::traced(untrusted)]
fn handler(body: String) {
    let _ = body;
}

fn main() {}
