#[traced::traced(extract = request)]
fn handler(headers: http::HeaderMap) {
    let _ = headers;
}

fn main() {}
