//! `traced::Config::from_lookup`, the parser of `OTEL_*`, `LANGFUSE_*` and `TRACED_*`
//! variables: the input is lines of `NAME=value` (the last line of a name wins); a line
//! `*=value` answers every name no other line sets, so variables added later are fuzzed
//! too.
//!
//! Checks: it returns `Ok` or `Err`, never panics, and both can be displayed; the same
//! variables give the same answer twice.
#![no_main]

use libfuzzer_sys::fuzz_target;
use traced::Config;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut vars: Vec<(&str, &str)> = Vec::new();
    let mut fallback = None;
    for line in text.split('\n') {
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        if name == "*" {
            fallback = Some(value);
        } else {
            vars.push((name, value));
        }
    }
    let lookup = |name: &str| {
        vars.iter()
            .rev()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| *v)
            .or(fallback)
            .map(str::to_owned)
    };
    let first = Config::from_lookup(lookup);
    match &first {
        Ok(config) => {
            let _ = config.target().to_string();
            let _ = format!("{config:?}");
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
    let second = Config::from_lookup(lookup);
    assert_eq!(
        first
            .as_ref()
            .map(|c| format!("{:?}", c.target()))
            .map_err(ToString::to_string),
        second
            .as_ref()
            .map(|c| format!("{:?}", c.target()))
            .map_err(ToString::to_string)
    );
});
