//! TLS for OTLP export: which roots a destination trusts, and the certificate it presents.
//!
//! rustls on the ring provider: it builds from a few C and assembly files in seconds,
//! where aws-lc-rs compiles a large C library (and wants cmake on some platforms) for no
//! gain to an exporter that makes a handful of connections. The roots are the platform's
//! (rustls-native-certs reads the system store), with Mozilla's bundled roots
//! (webpki-roots) when the platform has none (a scratch or distroless container); a
//! private CA (`OTEL_EXPORTER_OTLP_CERTIFICATE`) replaces both, as the specification's
//! "the trusted certificate" says and other SDKs do. Every file is read and checked when
//! `init()` runs, so a bad one is an error there, not a failing export later.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::RootCertStore;

use super::config_error::ConfigError;
use super::target::TlsFiles;

/// What a destination's TLS is made of, loaded and checked.
pub(crate) struct Material {
    roots: RootCertStore,
    identity: Option<Identity>,
}

/// A client certificate chain and its key.
struct Identity {
    certificate_pem: Vec<u8>,
    key_pem: Vec<u8>,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

fn tls_error(source: &str, path: &Path, reason: impl Into<String>) -> ConfigError {
    ConfigError::Tls {
        source: source.to_owned(),
        path: path.to_owned(),
        reason: reason.into(),
    }
}

fn read(source: &str, path: &Path) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|e| tls_error(source, path, format!("cannot be read: {e}")))
}

fn certificates(
    source: &str,
    path: &Path,
    pem: &[u8],
) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let certificates = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| tls_error(source, path, format!("is not PEM: {e}")))?;
    if certificates.is_empty() {
        return Err(tls_error(
            source,
            path,
            "holds no certificate: write the path of a PEM file with -----BEGIN CERTIFICATE-----",
        ));
    }
    Ok(certificates)
}

/// The platform's roots, or Mozilla's when the platform has none; read once per process.
fn default_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut roots = RootCertStore::empty();
        let native = rustls_native_certs::load_native_certs();
        let (added, _ignored) = roots.add_parsable_certificates(native.certs);
        if added == 0 {
            log::debug!(
                "traced: no usable certificate in the platform's trust store; using Mozilla's roots"
            );
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        roots
    })
}

fn identity(files: &TlsFiles) -> Result<Option<Identity>, ConfigError> {
    let (certificate, key) =
        match (&files.client_certificate, &files.client_key) {
            (None, None) => return Ok(None),
            (Some(certificate), Some(key)) => (certificate, key),
            (Some((path, source)), None) => {
                return Err(tls_error(
                    source,
                    path,
                    "a client certificate needs its key: set OTEL_EXPORTER_OTLP_CLIENT_KEY too",
                ))
            }
            (None, Some((path, source))) => return Err(tls_error(
                source,
                path,
                "a client key needs its certificate: set OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE too",
            )),
        };
    let (certificate_path, certificate_source) = certificate;
    let (key_path, key_source) = key;
    let certificate_pem = read(certificate_source, certificate_path)?;
    let chain = certificates(certificate_source, certificate_path, &certificate_pem)?;
    let key_pem = read(key_source, key_path)?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        tls_error(
            key_source,
            key_path,
            format!("holds no PEM private key (PKCS#8, PKCS#1 or SEC1): {e}"),
        )
    })?;
    let signing = rustls::crypto::ring::sign::any_supported_type(&key)
        .map_err(|e| tls_error(key_source, key_path, format!("is not a usable key: {e}")))?;
    let certified = rustls::sign::CertifiedKey::new(chain.clone(), signing);
    if let Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) =
        certified.keys_match()
    {
        return Err(tls_error(
            key_source,
            key_path,
            format!(
                "does not match the client certificate in {}",
                certificate_path.display()
            ),
        ));
    }
    Ok(Some(Identity {
        certificate_pem,
        key_pem,
        chain,
        key,
    }))
}

impl Material {
    /// Reads and checks the files of one destination.
    pub(crate) fn load(files: &TlsFiles) -> Result<Self, ConfigError> {
        let roots = match &files.ca {
            None => default_roots().clone(),
            Some((path, source)) => {
                let pem = read(source, path)?;
                let mut roots = RootCertStore::empty();
                for certificate in certificates(source, path, &pem)? {
                    roots.add(certificate).map_err(|e| {
                        tls_error(source, path, format!("is not a usable CA certificate: {e}"))
                    })?;
                }
                roots
            }
        };
        Ok(Self {
            roots,
            identity: identity(files)?,
        })
    }

    /// The rustls configuration of the OTLP/HTTP client.
    pub(crate) fn rustls(&self) -> Result<rustls::ClientConfig, rustls::Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(self.roots.clone());
        // (ALPN is set by the connector, to HTTP/1.1.)
        match &self.identity {
            Some(identity) => {
                builder.with_client_auth_cert(identity.chain.clone(), identity.key.clone_key())
            }
            None => Ok(builder.with_no_client_auth()),
        }
    }

    /// The tonic configuration of the OTLP/gRPC channel.
    pub(crate) fn tonic(&self) -> tonic::transport::ClientTlsConfig {
        let mut config = tonic::transport::ClientTlsConfig::new()
            .trust_anchors(self.roots.roots.iter().cloned());
        if let Some(identity) = &self.identity {
            config = config.identity(tonic::transport::Identity::from_pem(
                &identity.certificate_pem,
                &identity.key_pem,
            ));
        }
        config
    }
}
