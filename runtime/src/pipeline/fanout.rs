//! Several destinations at once: each batch goes to every destination, each with its own
//! counts. A destination's exporter returns at once (OTLP sends run on their own runtime
//! and spool when the collector is down or slow), so one that is slow or dead never
//! delays or loses another's spans; one that panics loses only its own copy, counted.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt as _;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

use super::custom::BoxedExporter;
use super::stats::Counters;

/// One destination's exporter and counts.
#[derive(Debug)]
pub(crate) struct Member {
    pub(crate) exporter: BoxedExporter,
    pub(crate) counters: Arc<Counters>,
}

#[derive(Debug)]
pub(crate) struct FanOut {
    members: Vec<Member>,
}

impl FanOut {
    pub(crate) fn new(members: Vec<Member>) -> Self {
        Self { members }
    }
}

impl SpanExporter for FanOut {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let mut failed = None;
        let last = self.members.len().saturating_sub(1);
        let mut batch = Some(batch);
        for (index, member) in self.members.iter().enumerate() {
            // The last destination takes the batch itself; the others a copy.
            let copy = if index == last {
                batch.take().unwrap_or_default()
            } else {
                batch.clone().unwrap_or_default()
            };
            let n = copy.len();
            match AssertUnwindSafe(member.exporter.export(copy))
                .catch_unwind()
                .await
            {
                Ok(Ok(())) => {}
                Ok(Err(error)) => failed = Some(error),
                Err(_) => {
                    Counters::add(&member.counters.lost, n);
                    log::warn!("traced: a span exporter panicked; its copy of the batch is lost");
                    failed = Some(OTelSdkError::InternalFailure("exporter panicked".into()));
                }
            }
        }
        failed.map_or(Ok(()), Err)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let mut result = Ok(());
        for member in &self.members {
            let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
                member.exporter.shutdown_with_timeout(timeout)
            }));
            match outcome {
                Ok(Ok(())) => {}
                Ok(Err(error)) => result = Err(error),
                Err(_) => log::warn!("traced: a span exporter panicked in shutdown"),
            }
        }
        result
    }

    fn force_flush(&self) -> OTelSdkResult {
        let mut result = Ok(());
        for member in &self.members {
            if let Err(error) = member.exporter.force_flush() {
                result = Err(error);
            }
        }
        result
    }

    fn set_resource(&mut self, resource: &Resource) {
        for member in &mut self.members {
            member.exporter.set_resource(resource);
        }
    }
}
