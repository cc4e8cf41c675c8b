//! Where spans go: the destinations, their transport (protocol, TLS files, compression)
//! and the hosted backends' shapes of them.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use base64::Engine as _;

use super::config_error::ConfigError;

/// The path of the Langfuse OTLP endpoint under its host.
pub const LANGFUSE_OTLP_PATH: &str = "/api/public/otel/v1/traces";

/// The path of the LangSmith OTLP endpoint under its API URL.
pub const LANGSMITH_OTLP_PATH: &str = "/otel/v1/traces";

/// How spans are sent to an OTLP endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// OTLP over gRPC (`grpc`).
    Grpc,
    /// OTLP over HTTP with protobuf bodies (`http/protobuf`, the default).
    HttpProtobuf,
    /// OTLP over HTTP with JSON bodies (`http/json`).
    HttpJson,
}

impl FromStr for Protocol {
    type Err = ConfigError;

    fn from_str(text: &str) -> Result<Self, ConfigError> {
        match text.trim() {
            "grpc" => Ok(Self::Grpc),
            "http/protobuf" => Ok(Self::HttpProtobuf),
            "http/json" => Ok(Self::HttpJson),
            other => Err(ConfigError::UnknownProtocol(other.to_owned())),
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Grpc => "grpc",
            Self::HttpProtobuf => "http/protobuf",
            Self::HttpJson => "http/json",
        })
    }
}

/// Where spans go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// The embedded store: JSON lines under a directory (the default).
    Embedded {
        /// The directory (`$TRACED_DIR`, or `./traces`).
        dir: PathBuf,
    },
    /// An OTLP endpoint: an OpenTelemetry Collector, Phoenix, Jaeger, Langfuse, ...
    Otlp {
        /// The full URL spans are sent to (for HTTP, with its `/v1/traces` path).
        endpoint: String,
        /// gRPC or HTTP.
        protocol: Protocol,
        /// Extra headers (or gRPC metadata), e.g. authentication.
        headers: Vec<(String, String)>,
        /// The CA to trust and the client certificate, for `https://` endpoints.
        tls: TlsFiles,
        /// How request bodies are compressed.
        compression: Compression,
    },
    /// An exporter given in code ([`Config::exporter`](crate::Config::exporter)).
    Custom,
    /// Nothing is recorded (`OTEL_SDK_DISABLED=true`).
    Disabled,
}

/// How OTLP request bodies are compressed (`OTEL_EXPORTER_OTLP_COMPRESSION`).
///
/// ```
/// use traced::Compression;
/// assert_eq!("gzip".parse::<Compression>().ok(), Some(Compression::Gzip));
/// assert!("brotli".parse::<Compression>().is_err());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Compression {
    /// Not compressed (the default).
    #[default]
    None,
    /// gzip (needs the `gzip` feature, on by default).
    Gzip,
}

impl FromStr for Compression {
    type Err = ConfigError;

    fn from_str(text: &str) -> Result<Self, ConfigError> {
        match text.trim() {
            "" | "none" => Ok(Self::None),
            "gzip" => Ok(Self::Gzip),
            other => Err(ConfigError::UnknownCompression(other.to_owned())),
        }
    }
}

/// The files of an OTLP destination's TLS: a private CA to trust instead of the
/// platform's roots, and a client certificate with its key (mutual TLS). Each path comes
/// with where it was set (a variable, or a `Config` call), which errors name.
///
/// ```
/// let tls = traced::TlsFiles::default().ca_certificate("ca.pem");
/// assert_eq!(tls.ca().map(|p| p.to_str()), Some(Some("ca.pem")));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsFiles {
    pub(crate) ca: Option<(PathBuf, String)>,
    pub(crate) client_certificate: Option<(PathBuf, String)>,
    pub(crate) client_key: Option<(PathBuf, String)>,
}

impl TlsFiles {
    /// Trust only the CA certificates (PEM) in `path` for this destination.
    pub fn ca_certificate(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca = Some((path.into(), "Config::ca_certificate".into()));
        self
    }

    /// Present this client certificate chain (PEM) and its private key (PEM: PKCS#8,
    /// PKCS#1 or SEC1) to the server.
    ///
    /// ```
    /// let tls = traced::TlsFiles::default().client_certificate("client.pem", "client-key.pem");
    /// assert!(!tls.is_empty());
    /// ```
    pub fn client_certificate(
        mut self,
        certificate: impl Into<PathBuf>,
        key: impl Into<PathBuf>,
    ) -> Self {
        self.client_certificate = Some((certificate.into(), "Config::client_certificate".into()));
        self.client_key = Some((key.into(), "Config::client_certificate (key)".into()));
        self
    }

    /// The private CA file, if one is set.
    pub fn ca(&self) -> Option<&std::path::Path> {
        self.ca.as_ref().map(|(path, _)| path.as_path())
    }

    /// Whether any file is set.
    pub fn is_empty(&self) -> bool {
        self.ca.is_none() && self.client_certificate.is_none() && self.client_key.is_none()
    }
}

impl Target {
    /// An OTLP endpoint (for HTTP, the full URL with `/v1/traces`), with no headers, the
    /// platform's roots for `https://`, and no compression.
    ///
    /// ```
    /// let target = traced::Target::otlp("http://127.0.0.1:4318/v1/traces", traced::Protocol::HttpProtobuf);
    /// assert_eq!(target.to_string(), "OTLP http/protobuf to http://127.0.0.1:4318/v1/traces");
    /// ```
    pub fn otlp(endpoint: impl Into<String>, protocol: Protocol) -> Self {
        Self::Otlp {
            endpoint: endpoint.into(),
            protocol,
            headers: Vec::new(),
            tls: TlsFiles::default(),
            compression: Compression::None,
        }
    }

    /// Langfuse: OTLP/HTTP to `{host}/api/public/otel/v1/traces` with Basic authentication
    /// by the project's keys, and the headers Langfuse's own SDK sends.
    ///
    /// ```
    /// let target = traced::Target::langfuse("https://cloud.langfuse.com", "pk-lf-1", "sk-lf-2");
    /// assert_eq!(target.to_string(), "OTLP http/protobuf to https://cloud.langfuse.com/api/public/otel/v1/traces");
    /// ```
    pub fn langfuse(host: &str, public_key: &str, secret_key: &str) -> Self {
        let endpoint = format!("{}{LANGFUSE_OTLP_PATH}", host.trim_end_matches('/'));
        let token =
            base64::engine::general_purpose::STANDARD.encode(format!("{public_key}:{secret_key}"));
        let mut target = Self::otlp(endpoint, Protocol::HttpProtobuf);
        if let Self::Otlp { headers, .. } = &mut target {
            headers.push(("Authorization".into(), format!("Basic {token}")));
            headers.extend(super::hosted::langfuse_headers(public_key));
        }
        target
    }

    /// LangSmith: OTLP/HTTP to `{endpoint}/otel/v1/traces` with the API key in `x-api-key`
    /// and the project, if given, in `Langsmith-Project`.
    ///
    /// ```
    /// let target = traced::Target::langsmith("https://api.smith.langchain.com", "lsv2_key", Some("checkout"));
    /// let traced::Target::Otlp { endpoint, headers, .. } = &target else { unreachable!() };
    /// assert_eq!(endpoint, "https://api.smith.langchain.com/otel/v1/traces");
    /// assert!(headers.contains(&("Langsmith-Project".to_owned(), "checkout".to_owned())));
    /// ```
    pub fn langsmith(endpoint: &str, api_key: &str, project: Option<&str>) -> Self {
        let endpoint = format!("{}{LANGSMITH_OTLP_PATH}", endpoint.trim_end_matches('/'));
        let mut target = Self::otlp(endpoint, Protocol::HttpProtobuf);
        if let Self::Otlp { headers, .. } = &mut target {
            headers.push(("x-api-key".into(), api_key.into()));
            if let Some(project) = project {
                headers.push(("Langsmith-Project".into(), project.into()));
            }
        }
        target
    }

    /// Whether this is a LangSmith destination (OTLP to LangSmith's `/otel/v1/traces`
    /// with an `x-api-key`).
    ///
    /// ```
    /// assert!(traced::Target::langsmith("https://api.smith.langchain.com", "k", None).is_langsmith());
    /// ```
    pub fn is_langsmith(&self) -> bool {
        match self {
            Self::Otlp {
                endpoint, headers, ..
            } => {
                endpoint.ends_with(LANGSMITH_OTLP_PATH)
                    && headers.iter().any(|(name, _)| name == "x-api-key")
            }
            _ => false,
        }
    }

    /// The embedded store under `dir`.
    ///
    /// ```
    /// assert_eq!(traced::Target::embedded("traces").to_string(), "the embedded store in traces");
    /// ```
    pub fn embedded(dir: impl Into<PathBuf>) -> Self {
        Self::Embedded { dir: dir.into() }
    }
}

/// Where spans go, in words.
///
/// ```
/// let target = traced::Target::Embedded { dir: "traces".into() };
/// assert_eq!(target.to_string(), "the embedded store in traces");
/// ```
impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Embedded { dir } => write!(f, "the embedded store in {}", dir.display()),
            Self::Otlp {
                endpoint, protocol, ..
            } => write!(f, "OTLP {protocol} to {endpoint}"),
            Self::Custom => f.write_str("the exporter given to Config::exporter"),
            Self::Disabled => f.write_str("nowhere (disabled)"),
        }
    }
}
