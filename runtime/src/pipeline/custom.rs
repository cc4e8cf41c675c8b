//! An exporter given in code, kept type-erased so `Config` stays one type.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

type ExportFuture<'a> = Pin<Box<dyn Future<Output = OTelSdkResult> + Send + 'a>>;

/// `SpanExporter` is not object safe (its `export` returns `impl Future`); this is.
trait DynExporter: Send + Sync + fmt::Debug {
    fn export_boxed(&self, batch: Vec<SpanData>) -> ExportFuture<'_>;
    fn shutdown_dyn(&self, timeout: Duration) -> OTelSdkResult;
    fn force_flush_dyn(&self) -> OTelSdkResult;
    fn set_resource_dyn(&mut self, resource: &Resource);
}

impl<E: SpanExporter> DynExporter for E {
    fn export_boxed(&self, batch: Vec<SpanData>) -> ExportFuture<'_> {
        Box::pin(self.export(batch))
    }
    fn shutdown_dyn(&self, timeout: Duration) -> OTelSdkResult {
        self.shutdown_with_timeout(timeout)
    }
    fn force_flush_dyn(&self) -> OTelSdkResult {
        self.force_flush()
    }
    fn set_resource_dyn(&mut self, resource: &Resource) {
        self.set_resource(resource);
    }
}

/// The exporter until `init()` takes it (a `Config` may be cloned; one clone gets it).
#[derive(Clone)]
pub(crate) struct SharedExporter(Arc<Mutex<Option<BoxedExporter>>>);

impl fmt::Debug for SharedExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SharedExporter")
    }
}

impl SharedExporter {
    pub(crate) fn new<E: SpanExporter + 'static>(exporter: E) -> Self {
        Self(Arc::new(Mutex::new(Some(BoxedExporter::new(exporter)))))
    }

    pub(crate) fn take(&self) -> Option<BoxedExporter> {
        self.0.lock().ok().and_then(|mut slot| slot.take())
    }
}

#[derive(Debug)]
pub(crate) struct BoxedExporter(Box<dyn DynExporter>);

impl BoxedExporter {
    pub(crate) fn new<E: SpanExporter + 'static>(exporter: E) -> Self {
        Self(Box::new(exporter))
    }
}

impl SpanExporter for BoxedExporter {
    fn export(&self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        self.0.export_boxed(batch)
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_dyn(timeout)
    }
    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush_dyn()
    }
    fn set_resource(&mut self, resource: &Resource) {
        self.0.set_resource_dyn(resource);
    }
}

/// The error when the same `Config` with an exporter is initialised twice.
pub(crate) fn already_taken() -> OTelSdkError {
    OTelSdkError::InternalFailure("the exporter was already taken by an earlier init()".into())
}
