//! `traced::log::install`: every record of the `log` crate still reaches the program's
//! own logger, and the ones at `INFO` and above are also events on the current traced
//! span.

use std::sync::{Arc, Mutex};

use traced::traced;
use traced_tests::{attr_str, in_trace};

/// The program's own logger: keeps what it is given.
#[derive(Clone, Default)]
struct Kept(Arc<Mutex<Vec<String>>>);

impl log::Log for Kept {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Debug
    }

    fn log(&self, record: &log::Record<'_>) {
        if let Ok(mut kept) = self.0.lock() {
            kept.push(format!("{} {}", record.level(), record.args()));
        }
    }

    fn flush(&self) {}
}

#[traced]
fn charge(amount: u32) -> u32 {
    log::info!("charging {amount}");
    log::debug!("debug: logged, not recorded");
    log::error!("card declined");
    amount
}

#[test]
fn records_are_forwarded_and_recorded_on_the_current_span() {
    traced_tests::exporter();
    let kept = Kept::default();
    traced::log::install(kept.clone(), log::LevelFilter::Debug).expect("the only logger");
    let (_, trace) = in_trace(|| charge(7));
    log::warn!("outside any span: logged only");

    let span = trace.span("charge");
    let events = traced_tests::event_levels(span);
    assert_eq!(
        events,
        [
            ("INFO".to_owned(), "charging 7".to_owned()),
            ("ERROR".to_owned(), "card declined".to_owned())
        ]
    );
    assert_eq!(
        attr_str(span, "langfuse.observation.level").as_deref(),
        Some("ERROR")
    );
    let kept = kept.0.lock().expect("kept").clone();
    assert_eq!(
        kept,
        [
            "INFO charging 7",
            "DEBUG debug: logged, not recorded",
            "ERROR card declined",
            "WARN outside any span: logged only"
        ]
    );
}
