#[traced::traced(skip(promt))]
fn ask(prompt: &str, model: &str) {
    let _ = (prompt, model);
}

fn main() {}
