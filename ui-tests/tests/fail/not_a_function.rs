#[traced::traced]
struct Config;

fn main() {}
