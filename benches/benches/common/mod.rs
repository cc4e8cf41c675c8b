//! What the bench binaries share: an exporter that discards and counts, and an SDK
//! provider exporting into it through the SDK's batch processor.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider, ShouldSample, SpanData, SpanExporter,
};

/// Discards spans, counting them.
#[derive(Debug, Clone, Default)]
pub struct CountingSink(Arc<AtomicU64>);

impl CountingSink {
    #[allow(dead_code)] // not every bench reads the count
    pub fn count(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl SpanExporter for CountingSink {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.0.fetch_add(batch.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}

/// An SDK provider exporting through a batch processor whose queue holds `queue` spans.
pub fn batch_provider(
    sampler: impl ShouldSample + 'static,
    queue: usize,
) -> (SdkTracerProvider, CountingSink) {
    let sink = CountingSink::default();
    let processor = BatchSpanProcessor::builder(sink.clone())
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_max_queue_size(queue)
                .build(),
        )
        .build();
    let provider = SdkTracerProvider::builder()
        .with_sampler(sampler)
        .with_span_processor(processor)
        .build();
    (provider, sink)
}
