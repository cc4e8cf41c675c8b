#[traced::traced(extract = body)]
fn handler(body: String) {
    let _ = body;
}

fn main() {}
