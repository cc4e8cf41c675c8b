//! `langsmith-trace` (LangSmith's dotted order): the input is the header's text.
//!
//! Checks: no panic (nor in the error's message); an accepted order's trace id and run id
//! are not nil; the order it keeps parses again to the same run; and the OpenTelemetry
//! parent it maps to is valid.
#![no_main]

use libfuzzer_sys::fuzz_target;
use traced::propagation::langsmith::parse_dotted_order;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let run = match parse_dotted_order(&text) {
        Ok(run) => run,
        Err(error) => {
            let _ = error.to_string();
            return;
        }
    };
    assert!(run.trace_id != 0 && run.run_id != 0);
    let again = parse_dotted_order(&run.dotted_order).expect("accepted once, accepted again");
    assert_eq!(again, run);
    let parent = run.otel_parent();
    assert!(parent.is_valid() && parent.is_remote());
});
