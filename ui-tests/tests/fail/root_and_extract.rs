#[traced::traced(root, extract)]
fn handler(headers: http::HeaderMap) {
    let _ = headers;
}

fn main() {}
