use futures::stream::{self, Stream};

fn keep_text(output: &mut traced::StreamOutput, item: &String) {
    output.push_text(item);
}

#[traced::traced(reduce = keep_text)]
fn numbers() -> impl Stream<Item = u8> {
    stream::iter([1, 2])
}

fn main() {}
