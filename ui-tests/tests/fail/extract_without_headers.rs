#[traced::traced(extract)]
async fn handler(body: String) -> usize {
    body.len()
}

fn main() {}
