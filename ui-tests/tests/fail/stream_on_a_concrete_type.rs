#[traced::traced(stream)]
fn numbers() -> Vec<u8> {
    vec![1]
}

fn main() {}
