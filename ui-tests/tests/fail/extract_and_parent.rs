#[traced::traced(extract, parent = None::<traced::TraceContext>)]
fn handler(headers: http::HeaderMap) {
    let _ = headers;
}

fn main() {}
