//! Reading the standard environment: `OTEL_*` and `LANGFUSE_*`.

use super::config::{validate_endpoint, Config, ConfigError, Protocol, SamplerConfig, Target};

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
    let get = |name: &str| {
        lookup(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
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
    Ok(Some(Target::Otlp {
        endpoint,
        protocol,
        headers,
    }))
}

/// The Langfuse settings, if any; an error if only some are there.
fn langfuse(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<Option<(String, String, String)>, ConfigError> {
    let get = |name: &str| {
        lookup(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
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

pub(super) fn config_from(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
    let mut config = Config::new();
    if let Some(dir) = lookup(crate::export::TRACED_DIR).filter(|d| !d.is_empty()) {
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
    // Both are checked, so half a Langfuse configuration is an error even when an OTLP
    // endpoint is also set; the standard OTLP variables win when both are complete.
    let langfuse = langfuse(&lookup)?;
    if let Some(target) = otlp(&lookup)? {
        config.target = target;
    } else if let Some((host, public, secret)) = langfuse {
        config = config.langfuse(&host, &public, &secret);
    }
    if lookup("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) {
        config.target = Target::Disabled;
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
            Target::Otlp {
                endpoint: "http://c:4318/v1/traces".into(),
                protocol: Protocol::HttpProtobuf,
                headers: vec![]
            }
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
        } = t
        else {
            panic!("otlp")
        };
        assert_eq!(endpoint, "http://lf:3000/api/public/otel/v1/traces");
        assert_eq!(protocol, Protocol::HttpProtobuf);
        assert_eq!(
            headers,
            [("Authorization".to_owned(), "Basic cGs6c2s=".to_owned())]
        );
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
}
