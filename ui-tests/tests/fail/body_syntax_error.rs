// A syntax error inside the body: the compiler's own error, at the error, and not one
// about where #[traced] goes.
#[traced::traced]
fn half_typed(words: &[&str]) -> usize {
    let total = words.len() +;
    total
}

fn main() {}
