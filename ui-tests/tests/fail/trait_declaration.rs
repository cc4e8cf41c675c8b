trait Tool {
    #[traced::traced]
    fn call(&self) -> u8;
}

fn main() {}
