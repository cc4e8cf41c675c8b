#[traced::traced]
fn count(words: &[&str]) -> usize {
    let total: u32 = words.len();
    total
}

fn main() {}
