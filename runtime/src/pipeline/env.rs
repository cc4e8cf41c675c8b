//! Reading the standard environment: `OTEL_*`, `LANGFUSE_*`, `LANGSMITH_*` (and the
//! `LANGCHAIN_*` names LangSmith's SDK still reads), `TRACED_*`.

use std::time::Duration;

use super::config::{Config, SamplerConfig};
use super::config_error::{validate_endpoint, ConfigError};
use super::target::{Compression, Protocol, Target, TlsFiles};

/// A variable's value, trimmed; `None` when unset or empty (the specification treats an
/// empty value as unset).
fn value(lookup: &impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    lookup(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn list(variable: &'static str, text: &str) -> Result<Vec<(String, String)>, ConfigError> {
    let mut pairs = Vec::new();
    for member in text.split(',').map(str::trim).filter(|m| !m.is_empty()) {
        let Some((key, value)) = member.split_once('=') else {
            return Err(ConfigError::InvalidList {
                variable,
                member: member.to_owned(),
            });
        };
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s.trim())
                .decode_utf8_lossy()
                .into_owned()
        };
        if key.trim().is_empty() {
            return Err(ConfigError::InvalidList {
                variable,
                member: member.to_owned(),
            });
        }
        pairs.push((decode(key), decode(value)));
    }
    Ok(pairs)
}

fn sampler(lookup: &impl Fn(&str) -> Option<String>) -> Result<Option<SamplerConfig>, ConfigError> {
    let Some(name) = lookup("OTEL_TRACES_SAMPLER").filter(|s| !s.trim().is_empty()) else {
        return Ok(None);
    };
    let ratio = || -> Result<f64, ConfigError> {
        match lookup("OTEL_TRACES_SAMPLER_ARG").filter(|s| !s.trim().is_empty()) {
            None => Ok(1.0),
            Some(arg) => match arg.trim().parse::<f64>() {
                Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
                _ => Err(ConfigError::InvalidSamplerArg(arg)),
            },
        }
    };
    let parent = |inner| SamplerConfig::ParentBased(Box::new(inner));
    Ok(Some(match name.trim() {
        "always_on" => SamplerConfig::AlwaysOn,
        "always_off" => SamplerConfig::AlwaysOff,
        "traceidratio" => SamplerConfig::TraceIdRatio(ratio()?),
        "parentbased_always_on" => parent(SamplerConfig::AlwaysOn),
        "parentbased_always_off" => parent(SamplerConfig::AlwaysOff),
        "parentbased_traceidratio" => parent(SamplerConfig::TraceIdRatio(ratio()?)),
        other => return Err(ConfigError::UnknownSampler(other.to_owned())),
    }))
}

/// The OTLP target the `OTEL_EXPORTER_OTLP_*` variables name, if any.
fn otlp(lookup: &impl Fn(&str) -> Option<String>) -> Result<Option<Target>, ConfigError> {
    let get = |name: &str| value(lookup, name);
    let protocol = match get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        .or_else(|| get("OTEL_EXPORTER_OTLP_PROTOCOL"))
    {
        Some(p) => p.parse::<Protocol>()?,
        None => Protocol::HttpProtobuf,
    };
    let endpoint = if let Some(traces) = get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
        validate_endpoint("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &traces)?;
        traces
    } else if let Some(base) = get("OTEL_EXPORTER_OTLP_ENDPOINT") {
        validate_endpoint("OTEL_EXPORTER_OTLP_ENDPOINT", &base)?;
        match protocol {
            Protocol::Grpc => base,
            // For HTTP the signal's path is appended to the base endpoint.
            _ => format!("{}/v1/traces", base.trim_end_matches('/')),
        }
    } else {
        return Ok(None);
    };
    let mut headers = match get("OTEL_EXPORTER_OTLP_HEADERS") {
        Some(text) => list("OTEL_EXPORTER_OTLP_HEADERS", &text)?,
        None => Vec::new(),
    };
    if let Some(text) = get("OTEL_EXPORTER_OTLP_TRACES_HEADERS") {
        headers.extend(list("OTEL_EXPORTER_OTLP_TRACES_HEADERS", &text)?);
    }
    // Each setting in its `_TRACES_` form wins over the general one.
    let either = |general: &'static str, traces: &'static str| {
        get(traces)
            .map(|value| (value, traces))
            .or_else(|| get(general).map(|value| (value, general)))
    };
    let file =
        |general, traces| either(general, traces).map(|(v, from)| (v.into(), from.to_owned()));
    let tls = TlsFiles {
        ca: file(
            "OTEL_EXPORTER_OTLP_CERTIFICATE",
            "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
        ),
        client_certificate: file(
            "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
            "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
        ),
        client_key: file(
            "OTEL_EXPORTER_OTLP_CLIENT_KEY",
            "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY",
        ),
    };
    let compression = match either(
        "OTEL_EXPORTER_OTLP_COMPRESSION",
        "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
    ) {
        Some((text, _)) => text.parse::<Compression>()?,
        None => Compression::None,
    };
    Ok(Some(Target::Otlp {
        endpoint,
        protocol,
        headers,
        tls,
        compression,
    }))
}

/// `OTEL_EXPORTER_OTLP_(TRACES_)TIMEOUT`, in milliseconds (0: no limit).
fn timeout(lookup: &impl Fn(&str) -> Option<String>) -> Result<Option<Duration>, ConfigError> {
    for variable in [
        "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
        "OTEL_EXPORTER_OTLP_TIMEOUT",
    ] {
        let Some(text) = value(lookup, variable) else {
            continue;
        };
        let millis = text
            .parse::<u64>()
            .map_err(|_| ConfigError::InvalidNumber {
                variable,
                value: text.clone(),
            })?;
        // "0" means no limit; a day stands for that, so every wait stays bounded.
        let millis = if millis == 0 { 86_400_000 } else { millis };
        return Ok(Some(Duration::from_millis(millis)));
    }
    Ok(None)
}

/// The LangSmith destination, if an API key is set (and tracing not turned off).
fn langsmith(lookup: &impl Fn(&str) -> Option<String>) -> Result<Option<Target>, ConfigError> {
    let get = |name: &str| value(lookup, name);
    // LangSmith's SDK: each LANGSMITH_* name wins over its older LANGCHAIN_* one.
    let either = |name: &str| {
        get(&format!("LANGSMITH_{name}")).or_else(|| get(&format!("LANGCHAIN_{name}")))
    };
    let Some(key) = either("API_KEY") else {
        return Ok(None);
    };
    let off = ["LANGSMITH_TRACING", "LANGCHAIN_TRACING_V2"]
        .iter()
        .filter_map(|name| get(name))
        .next()
        .is_some_and(|v| v.eq_ignore_ascii_case("false"));
    if off {
        return Ok(None);
    }
    let endpoint =
        either("ENDPOINT").unwrap_or_else(|| super::hosted::LANGSMITH_DEFAULT_ENDPOINT.to_owned());
    validate_endpoint("LANGSMITH_ENDPOINT", &endpoint)?;
    let project = either("PROJECT");
    Ok(Some(Target::langsmith(&endpoint, &key, project.as_deref())))
}

/// The Langfuse settings, if any; an error if only some are there.
fn langfuse(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<Option<(String, String, String)>, ConfigError> {
    let get = |name: &str| value(lookup, name);
    let host = get("LANGFUSE_HOST").or_else(|| get("LANGFUSE_BASE_URL"));
    let public = get("LANGFUSE_PUBLIC_KEY");
    let secret = get("LANGFUSE_SECRET_KEY");
    match (host, public, secret) {
        (None, None, None) => Ok(None),
        (Some(host), Some(public), Some(secret)) => {
            validate_endpoint("LANGFUSE_HOST", &host)?;
            Ok(Some((host, public, secret)))
        }
        (host, public, secret) => {
            let mut missing = Vec::new();
            if host.is_none() {
                missing.push("LANGFUSE_HOST");
            }
            if public.is_none() {
                missing.push("LANGFUSE_PUBLIC_KEY");
            }
            if secret.is_none() {
                missing.push("LANGFUSE_SECRET_KEY");
            }
            Err(ConfigError::IncompleteLangfuse { missing })
        }
    }
}

impl Config {
    /// The configuration the process environment describes (see the crate README for the
    /// variables). Misconfiguration is an error here, never a panic or silence.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`Config::from_env`] over any source of variables.
    ///
    /// ```
    /// use traced::{Config, Target};
    ///
    /// let vars = [("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")];
    /// let config = Config::from_lookup(|name| {
    ///     vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    /// })
    /// .unwrap();
    /// assert!(matches!(config.target(), Target::Otlp { endpoint, .. } if endpoint == "http://collector:4318/v1/traces"));
    /// ```
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        config_from(lookup)
    }
}

fn config_from(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
    let mut config = Config::new();
    let traced_dir = lookup(crate::export::TRACED_DIR).filter(|d| !d.is_empty());
    if let Some(dir) = &traced_dir {
        config = config.embedded(dir);
    }
    if let Some(text) = lookup("OTEL_RESOURCE_ATTRIBUTES").filter(|s| !s.trim().is_empty()) {
        for (key, value) in list("OTEL_RESOURCE_ATTRIBUTES", &text)? {
            if key == "service.name" {
                config.service_name = Some(value);
            } else {
                config.resource_attributes.push((key, value));
            }
        }
    }
    if let Some(name) = lookup("OTEL_SERVICE_NAME")
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
    {
        config.service_name = Some(name);
    }
    if let Some(sampler) = sampler(&lookup)? {
        config.sampler = sampler;
    }
    if let Some(timeout) = timeout(&lookup)? {
        config.export_timeout = timeout;
    }
    if let Some(text) = lookup("TRACED_BLOCKING") {
        config.blocking = matches!(
            text.trim().to_ascii_lowercase().as_str(),
            "true" | "1" | "on" | "yes"
        );
    }
    if let Some(url) = value(&lookup, "TRACED_BLOB_URL") {
        config.blob_store = Some(url);
    }
    if let Some(text) = lookup("TRACED_NOTICES") {
        config.notices = !matches!(
            text.trim().to_ascii_lowercase().as_str(),
            "off" | "false" | "0" | "no"
        );
    }
    // Every destination the environment names, each checked (half a Langfuse
    // configuration is an error even when an OTLP endpoint is set too): the OTLP
    // endpoint, Langfuse, LangSmith; and, when TRACED_DIR is set as well, a copy in the
    // embedded store.
    let langfuse =
        langfuse(&lookup)?.map(|(host, public, secret)| Target::langfuse(&host, &public, &secret));
    let remote: Vec<Target> = [otlp(&lookup)?, langfuse, langsmith(&lookup)?]
        .into_iter()
        .flatten()
        .collect();
    let mut remote = remote.into_iter();
    if let Some(main) = remote.next() {
        config.target = main;
        config.also.extend(remote);
        if let Some(dir) = traced_dir {
            config.also.push(Target::embedded(dir));
        }
    }
    if lookup("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) {
        config.target = Target::Disabled;
        config.also.clear();
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        config_from(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    fn target(vars: &[(&str, &str)]) -> Target {
        from(vars)
            .map(|c| c.target)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn nothing_set_is_the_embedded_store() {
        assert!(matches!(target(&[]), Target::Embedded { .. }));
        assert_eq!(
            target(&[("TRACED_DIR", "/tmp/x")]),
            Target::Embedded {
                dir: "/tmp/x".into()
            }
        );
    }

    #[test]
    fn endpoints_and_protocols() {
        let http = target(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318/")]);
        assert_eq!(
            http,
            Target::otlp("http://c:4318/v1/traces", Protocol::HttpProtobuf)
        );
        let grpc = target(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ]);
        assert!(
            matches!(grpc, Target::Otlp { endpoint, protocol: Protocol::Grpc, .. } if endpoint == "http://c:4317")
        );
        let traces = target(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://ignored:1"),
            (
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "https://c/custom/path",
            ),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json"),
        ]);
        assert!(
            matches!(traces, Target::Otlp { endpoint, protocol: Protocol::HttpJson, .. } if endpoint == "https://c/custom/path")
        );
    }

    #[test]
    fn headers_are_decoded() {
        let t = target(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "api-key=a%20b, x=1"),
        ]);
        let Target::Otlp { headers, .. } = t else {
            panic!("otlp")
        };
        assert_eq!(
            headers,
            [
                ("api-key".to_owned(), "a b".to_owned()),
                ("x".to_owned(), "1".to_owned())
            ]
        );
    }

    #[test]
    fn langfuse_means_otlp_http_with_basic_auth() {
        let t = target(&[
            ("LANGFUSE_BASE_URL", "http://lf:3000/"),
            ("LANGFUSE_PUBLIC_KEY", "pk"),
            ("LANGFUSE_SECRET_KEY", "sk"),
        ]);
        let Target::Otlp {
            endpoint,
            protocol,
            headers,
            ..
        } = t
        else {
            panic!("otlp")
        };
        assert_eq!(endpoint, "http://lf:3000/api/public/otel/v1/traces");
        assert_eq!(protocol, Protocol::HttpProtobuf);
        assert_eq!(
            headers[0],
            ("Authorization".to_owned(), "Basic cGs6c2s=".to_owned())
        );
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(header("x-langfuse-public-key"), Some("pk"));
        assert_eq!(header("x-langfuse-sdk-name"), Some("traced-rust"));
        assert_eq!(header("x-langfuse-ingestion-version"), Some("4"));
    }

    #[test]
    fn misconfiguration_is_a_clear_error() {
        let err =
            |vars: &[(&str, &str)]| from(vars).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4317")]).contains("scheme"));
        assert!(err(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://c")]).contains("ftp"));
        assert!(err(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "thrift")
        ])
        .contains("thrift"));
        assert!(err(&[
            ("LANGFUSE_HOST", "http://lf"),
            ("LANGFUSE_PUBLIC_KEY", "pk")
        ])
        .contains("LANGFUSE_SECRET_KEY"));
        assert!(err(&[("OTEL_TRACES_SAMPLER", "sometimes")]).contains("sometimes"));
        assert!(err(&[
            ("OTEL_TRACES_SAMPLER", "traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "2")
        ])
        .contains("ratio"));
        assert!(err(&[("OTEL_RESOURCE_ATTRIBUTES", "novalue")]).contains("novalue"));
    }

    #[test]
    fn service_sampler_resource_and_disabled() {
        let c = from(&[
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "service.name=from-attrs,deployment.environment=dev",
            ),
            ("OTEL_SERVICE_NAME", "from-name"),
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.service_name.as_deref(), Some("from-name"));
        assert_eq!(
            c.resource_attributes,
            [("deployment.environment".to_owned(), "dev".to_owned())]
        );
        assert_eq!(
            c.sampler,
            SamplerConfig::ParentBased(Box::new(SamplerConfig::TraceIdRatio(0.25)))
        );
        assert_eq!(
            target(&[
                ("OTEL_SDK_DISABLED", "TRUE"),
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c")
            ]),
            Target::Disabled
        );
        assert!(matches!(
            target(&[("OTEL_SDK_DISABLED", "false")]),
            Target::Embedded { .. }
        ));
    }

    #[test]
    fn tls_compression_and_timeout_variables() {
        let c = from(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://c:4318"),
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/general/ca.pem"),
            ("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "/traces/ca.pem"),
            ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "/c.pem"),
            ("OTEL_EXPORTER_OTLP_CLIENT_KEY", "/k.pem"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        let Target::Otlp {
            tls, compression, ..
        } = &c.target
        else {
            panic!("otlp")
        };
        assert_eq!(tls.ca(), Some(std::path::Path::new("/traces/ca.pem")));
        assert_eq!(
            tls.ca.as_ref().map(|(_, from)| from.as_str()),
            Some("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE")
        );
        assert!(tls.client_certificate.is_some() && tls.client_key.is_some());
        assert_eq!(*compression, Compression::Gzip);
        assert_eq!(c.export_timeout, Duration::from_millis(2500));
        let err =
            |vars: &[(&str, &str)]| from(vars).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "brotli")
        ])
        .contains("brotli"));
        assert!(
            err(&[("OTEL_EXPORTER_OTLP_TIMEOUT", "10s")]).contains("OTEL_EXPORTER_OTLP_TIMEOUT")
        );
    }

    #[test]
    fn the_object_store_of_large_values() {
        let config =
            from(&[("TRACED_BLOB_URL", " s3://bucket/prefix ")]).expect("valid environment");
        assert_eq!(config.blob_store.as_deref(), Some("s3://bucket/prefix"));
        let config = from(&[("TRACED_BLOB_URL", "")]).expect("valid environment");
        assert_eq!(config.blob_store, None, "an empty variable is not set");
    }

    #[test]
    fn langsmith_with_its_fallbacks() {
        let t = target(&[
            ("LANGCHAIN_API_KEY", "old"),
            ("LANGSMITH_API_KEY", "lsv2"),
            ("LANGCHAIN_PROJECT", "proj"),
        ]);
        let Target::Otlp {
            endpoint, headers, ..
        } = t
        else {
            panic!("otlp")
        };
        assert_eq!(endpoint, "https://api.smith.langchain.com/otel/v1/traces");
        assert_eq!(
            headers,
            [
                ("x-api-key".to_owned(), "lsv2".to_owned()),
                ("Langsmith-Project".to_owned(), "proj".to_owned())
            ]
        );
        let eu = target(&[
            ("LANGSMITH_API_KEY", "k"),
            ("LANGSMITH_ENDPOINT", "https://eu.api.smith.langchain.com/"),
        ]);
        assert_eq!(
            eu.to_string(),
            "OTLP http/protobuf to https://eu.api.smith.langchain.com/otel/v1/traces"
        );
        assert!(matches!(
            target(&[("LANGSMITH_API_KEY", "k"), ("LANGSMITH_TRACING", "false")]),
            Target::Embedded { .. }
        ));
    }

    #[test]
    fn several_destinations_and_the_embedded_copy() {
        let c = from(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://phoenix:6006"),
            ("LANGFUSE_HOST", "https://cloud.langfuse.com"),
            ("LANGFUSE_PUBLIC_KEY", "pk"),
            ("LANGFUSE_SECRET_KEY", "sk"),
            ("LANGSMITH_API_KEY", "k"),
            ("TRACED_DIR", "/tmp/copy"),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        let all: Vec<String> = c.targets().map(ToString::to_string).collect();
        assert_eq!(
            all,
            [
                "OTLP http/protobuf to http://phoenix:6006/v1/traces",
                "OTLP http/protobuf to https://cloud.langfuse.com/api/public/otel/v1/traces",
                "OTLP http/protobuf to https://api.smith.langchain.com/otel/v1/traces",
                "the embedded store in /tmp/copy",
            ]
        );
        let disabled = from(&[("OTEL_SDK_DISABLED", "true"), ("LANGSMITH_API_KEY", "k")])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(disabled.targets().collect::<Vec<_>>(), [&Target::Disabled]);
    }
}
