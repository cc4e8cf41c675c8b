//! What is wrong with a configuration, said so that the user knows what to write instead.

use std::fmt;
use std::path::PathBuf;

/// A configuration that cannot work, found by [`Config::from_env`](crate::Config::from_env) or `init()`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// An endpoint that is not an `http://` or `https://` URL with a host.
    InvalidEndpoint {
        /// Where it came from (an environment variable, or `Config`).
        source: String,
        /// The value.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A protocol other than `grpc`, `http/protobuf`, `http/json`.
    UnknownProtocol(String),
    /// Some of the Langfuse settings but not all.
    IncompleteLangfuse {
        /// The variables that are missing.
        missing: Vec<&'static str>,
    },
    /// An unknown `OTEL_TRACES_SAMPLER`.
    UnknownSampler(String),
    /// An `OTEL_TRACES_SAMPLER_ARG` that is not a ratio between 0 and 1.
    InvalidSamplerArg(String),
    /// `OTEL_EXPORTER_OTLP_HEADERS` or `OTEL_RESOURCE_ATTRIBUTES` not `key=value,...`.
    InvalidList {
        /// The variable.
        variable: &'static str,
        /// The bad member.
        member: String,
    },
    /// A header that HTTP (or gRPC metadata) cannot carry.
    InvalidHeader {
        /// The header's name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A compression other than `gzip` or `none`.
    UnknownCompression(String),
    /// A number that is not one (`OTEL_EXPORTER_OTLP_TIMEOUT`).
    InvalidNumber {
        /// The variable.
        variable: &'static str,
        /// The value.
        value: String,
    },
    /// A certificate or key file that cannot be used.
    Tls {
        /// Where the path was set (a variable, or a `Config` call).
        source: String,
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Something this build of traced leaves out (`https://` without the `tls` feature,
    /// gzip without the `gzip` feature).
    NotBuilt {
        /// Where it was asked for.
        source: String,
        /// What was asked for.
        what: String,
        /// The cargo feature that brings it.
        feature: &'static str,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidEndpoint { source, value, reason } => {
                write!(f, "{source} = {value:?} is not a usable endpoint: {reason}")
            }
            Self::UnknownProtocol(p) => write!(
                f,
                "unknown OTLP protocol {p:?}: use \"grpc\", \"http/protobuf\" or \"http/json\""
            ),
            Self::IncompleteLangfuse { missing } => write!(
                f,
                "Langfuse is half configured: {} missing (set LANGFUSE_HOST, LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY together)",
                missing.join(", ")
            ),
            Self::UnknownSampler(s) => write!(
                f,
                "unknown OTEL_TRACES_SAMPLER {s:?}: use always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio"
            ),
            Self::InvalidSamplerArg(a) => {
                write!(f, "OTEL_TRACES_SAMPLER_ARG {a:?} is not a ratio between 0 and 1")
            }
            Self::InvalidList { variable, member } => {
                write!(f, "{variable} has {member:?}, which is not key=value")
            }
            Self::InvalidHeader { name, reason } => {
                write!(f, "header {name:?} cannot be sent: {reason}")
            }
            Self::UnknownCompression(c) => {
                write!(f, "unknown OTLP compression {c:?}: use \"gzip\" or \"none\"")
            }
            Self::InvalidNumber { variable, value } => write!(
                f,
                "{variable} = {value:?} is not a whole number of milliseconds (write e.g. 10000)"
            ),
            Self::Tls {
                source,
                path,
                reason,
            } => write!(f, "{source} = {}: {reason}", path.display()),
            Self::NotBuilt {
                source,
                what,
                feature,
            } => write!(
                f,
                "{source} asks for {what}, but traced was built without its `{feature}` feature: \
                 enable it (`traced = {{ features = [\"{feature}\"] }}`; it is on by default) or change {source}"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

/// An endpoint must be an `http://` or `https://` URL with a host.
pub(crate) fn validate_endpoint(source: &str, value: &str) -> Result<(), ConfigError> {
    let invalid = |reason: &str| ConfigError::InvalidEndpoint {
        source: source.to_owned(),
        value: value.to_owned(),
        reason: reason.to_owned(),
    };
    let uri: http::Uri = value
        .parse()
        .map_err(|e: http::uri::InvalidUri| invalid(&e.to_string()))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        Some(other) => {
            return Err(invalid(&format!(
                "the scheme is {other:?}, not http or https"
            )))
        }
        None => return Err(invalid("no scheme: write http://host:port")),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(invalid("no host"));
    }
    Ok(())
}
