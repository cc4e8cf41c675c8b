//! `traced`, the viewer of the embedded trace store.
//!
//! ```text
//! traced view [DIR] [--trace ID] [--html FILE]
//! ```
//!
//! Draws the traces under `DIR` (default `$TRACED_DIR`, or `./traces`) as trees in the
//! terminal, or writes them as one self-contained HTML waterfall page.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use traced::export::default_dir;
use traced_viewer::{read_store, render_html, render_trace, render_traces};

const USAGE: &str = "\
traced: look at the traces in the embedded store

Usage:
  traced view [DIR] [--trace ID] [--html FILE]
  traced help

  DIR           the store (default: $TRACED_DIR, or ./traces)
  --trace ID    only the trace with this id (32 hex digits)
  --html FILE   write a self-contained HTML waterfall page to FILE instead of
                drawing trees in the terminal
";

/// What the command line asks for.
#[derive(Debug, PartialEq)]
enum Command {
    Help,
    View {
        dir: Option<PathBuf>,
        trace: Option<String>,
        html: Option<PathBuf>,
    },
}

fn parse(args: &[OsString]) -> Result<Command, String> {
    let mut args = args.iter();
    match args.next().and_then(|a| a.to_str()) {
        Some("help" | "--help" | "-h") => return Ok(Command::Help),
        Some("view") => {}
        Some(other) => return Err(format!("unknown command `{other}`")),
        None => return Err("no command given".to_owned()),
    }
    let (mut dir, mut trace, mut html) = (None, None, None);
    while let Some(arg) = args.next() {
        let text = arg.to_str().unwrap_or("");
        let (flag, inline) = match text.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(OsString::from(value))),
            _ => (text, None),
        };
        match flag {
            "--help" | "-h" => return Ok(Command::Help),
            "--trace" | "--html" => {
                let value = match inline.or_else(|| args.next().cloned()) {
                    Some(value) if !value.is_empty() => value,
                    _ => return Err(format!("{flag} needs a value")),
                };
                if flag == "--trace" {
                    let id = value
                        .into_string()
                        .map_err(|_| "the trace id is not valid text".to_owned())?;
                    if trace.replace(id.trim().to_ascii_lowercase()).is_some() {
                        return Err("--trace given twice".to_owned());
                    }
                } else if html.replace(PathBuf::from(value)).is_some() {
                    return Err("--html given twice".to_owned());
                }
            }
            _ if text.starts_with('-') && text.len() > 1 => {
                return Err(format!("unknown option `{text}`"));
            }
            _ => {
                if dir.replace(PathBuf::from(arg)).is_some() {
                    return Err("more than one directory given".to_owned());
                }
            }
        }
    }
    Ok(Command::View { dir, trace, html })
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    match parse(&args) {
        Ok(Command::Help) => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Ok(Command::View { dir, trace, html }) => {
            view(dir.unwrap_or_else(default_dir), trace.as_deref(), html)
        }
        Err(message) => {
            eprintln!("traced: {message}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn view(dir: PathBuf, trace: Option<&str>, html: Option<PathBuf>) -> ExitCode {
    let store = match read_store(&dir) {
        Ok(store) => store,
        Err(error) => {
            eprintln!("traced: cannot read {}: {error}", dir.display());
            return ExitCode::FAILURE;
        }
    };
    if store.skipped_lines > 0 {
        eprintln!(
            "traced: skipped {} line{} of {} that {} not a span",
            store.skipped_lines,
            if store.skipped_lines == 1 { "" } else { "s" },
            dir.display(),
            if store.skipped_lines == 1 {
                "was"
            } else {
                "were"
            },
        );
    }
    let spans: Vec<_> = match trace {
        Some(id) => {
            let spans: Vec<_> = store
                .spans
                .into_iter()
                .filter(|s| s.trace_id == id)
                .collect();
            if spans.is_empty() {
                eprintln!("traced: no trace {id} in {}", dir.display());
                return ExitCode::FAILURE;
            }
            spans
        }
        None => store.spans,
    };
    if let Some(path) = html {
        if let Err(error) = std::fs::write(&path, render_html(&spans)) {
            eprintln!("traced: cannot write {}: {error}", path.display());
            return ExitCode::FAILURE;
        }
        println!("{}", path.display());
        return ExitCode::SUCCESS;
    }
    if spans.is_empty() {
        eprintln!("traced: no traces in {}", dir.display());
    }
    match trace {
        Some(id) => print!("{}", render_trace(&spans, id)),
        None => print!("{}", render_traces(&spans)),
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn parses_the_view_command() {
        assert_eq!(parse(&args(&["--help"])), Ok(Command::Help));
        assert_eq!(parse(&args(&["view", "-h"])), Ok(Command::Help));
        assert_eq!(
            parse(&args(&["view"])),
            Ok(Command::View {
                dir: None,
                trace: None,
                html: None
            })
        );
        assert_eq!(
            parse(&args(&["view", "d", "--trace", "AB", "--html=p.html"])),
            Ok(Command::View {
                dir: Some("d".into()),
                trace: Some("ab".into()),
                html: Some("p.html".into())
            })
        );
        for bad in [
            &[][..],
            &["show"],
            &["view", "--trace"],
            &["view", "--bogus"],
            &["view", "a", "b"],
            &["view", "--html", "x", "--html", "y"],
        ] {
            assert!(parse(&args(bad)).is_err(), "{bad:?}");
        }
    }
}
