#[traced::traced]
async fn answer() -> String {
    42
}

fn main() {}
