//! Autoref specialisation for stream items: the macro calls `__traced_chunk` on
//! `&&&&&ChunkProbe(&item)` and the most specific rule the item's type satisfies wins:
//! [`Accumulate`], then text, then JSON, then Debug text, then the type name.

use std::fmt::Debug;

use serde::Serialize;

use super::output::{Accumulate, StreamOutput, TextChunk};
use crate::capture::ValueSink;

/// A borrowed stream item.
#[doc(hidden)]
pub struct ChunkProbe<'a, T: ?Sized>(pub &'a T);

macro_rules! chunk_rule {
    ($trait:ident, $receiver:ty, [$($bound:tt)*], |$item:ident, $output:ident| $body:expr) => {
        #[doc(hidden)]
        pub trait $trait {
            fn __traced_chunk(&self, output: &mut StreamOutput);
        }
        impl<T: ?Sized $($bound)*> $trait for $receiver {
            #[inline]
            fn __traced_chunk(&self, $output: &mut StreamOutput) {
                let $item = self.0;
                $body
            }
        }
    };
}

chunk_rule!(ChunkAccumulate, &&&&ChunkProbe<'_, T>, [+ Accumulate], |item, output| item.accumulate(output));
chunk_rule!(ChunkText, &&&ChunkProbe<'_, T>, [+ TextChunk], |item, output| item.push_to(output));
chunk_rule!(ChunkSerialize, &&ChunkProbe<'_, T>, [+ Serialize], |item, output| output.serialize(item));
chunk_rule!(ChunkDebug, &ChunkProbe<'_, T>, [+ Debug], |item, output| output.debug(item));
chunk_rule!(ChunkTypeName, ChunkProbe<'_, T>, [], |item, output| {
    let _ = item;
    output.type_name(std::any::type_name::<T>())
});
