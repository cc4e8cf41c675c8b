//! A certificate authority made at test time (rcgen), and OTLP receivers behind TLS on
//! 127.0.0.1: HTTP (axum over tokio-rustls) and gRPC (tonic's own TLS), optionally
//! requiring a client certificate signed by the CA.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::receiver::{otlp_router, Inbox, Receiver};

/// PEM files under one directory.
#[derive(Clone, Debug)]
pub struct Pki {
    /// The CA that signed the certificates below.
    pub ca: PathBuf,
    /// Another CA, which signed none of them.
    pub other_ca: PathBuf,
    /// The server's certificate, for `localhost` and `127.0.0.1`, and its key.
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    /// A server certificate for `otlp.invalid` only (a wrong host name for 127.0.0.1).
    pub wrong_name_cert: PathBuf,
    pub wrong_name_key: PathBuf,
    /// A server certificate for 127.0.0.1 that expired in 2020.
    pub expired_cert: PathBuf,
    pub expired_key: PathBuf,
    /// A client certificate signed by the CA, and its key.
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    /// A key that belongs to no certificate here.
    pub stray_key: PathBuf,
}

fn ca(name: &str) -> (CertificateParams, KeyPair, String) {
    let key = KeyPair::generate().expect("CA key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let pem = params.self_signed(&key).expect("CA certificate").pem();
    (params, key, pem)
}

fn leaf(
    names: &[&str],
    issuer: &Issuer<'_, KeyPair>,
    client: bool,
    expired: bool,
) -> (String, String) {
    let key = KeyPair::generate().expect("leaf key");
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let mut params = CertificateParams::new(names).expect("leaf params");
    params
        .distinguished_name
        .push(DnType::CommonName, "traced test");
    params.extended_key_usages = vec![if client {
        ExtendedKeyUsagePurpose::ClientAuth
    } else {
        ExtendedKeyUsagePurpose::ServerAuth
    }];
    if expired {
        params.not_before = rcgen::date_time_ymd(2019, 1, 1);
        params.not_after = rcgen::date_time_ymd(2020, 1, 1);
    }
    let cert = params.signed_by(&key, issuer).expect("leaf certificate");
    (cert.pem(), key.serialize_pem())
}

fn write(dir: &Path, name: &str, pem: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, pem).expect("write a PEM file");
    path
}

/// Makes the CA, its certificates and keys under `dir` (created).
pub fn pki(dir: &Path) -> Pki {
    std::fs::create_dir_all(dir).expect("PKI dir");
    let (ca_params, ca_key, ca_pem) = ca("traced test CA");
    let (_, _, other_pem) = ca("some other CA");
    let issuer = Issuer::new(ca_params, ca_key);
    let (server, server_key) = leaf(&["localhost", "127.0.0.1"], &issuer, false, false);
    let (wrong, wrong_key) = leaf(&["otlp.invalid"], &issuer, false, false);
    let (expired, expired_key) = leaf(&["localhost", "127.0.0.1"], &issuer, false, true);
    let (client, client_key) = leaf(&["client.traced.test"], &issuer, true, false);
    let stray = KeyPair::generate().expect("stray key").serialize_pem();
    Pki {
        ca: write(dir, "ca.pem", &ca_pem),
        other_ca: write(dir, "other-ca.pem", &other_pem),
        server_cert: write(dir, "server.pem", &server),
        server_key: write(dir, "server-key.pem", &server_key),
        wrong_name_cert: write(dir, "wrong-name.pem", &wrong),
        wrong_name_key: write(dir, "wrong-name-key.pem", &wrong_key),
        expired_cert: write(dir, "expired.pem", &expired),
        expired_key: write(dir, "expired-key.pem", &expired_key),
        client_cert: write(dir, "client.pem", &client),
        client_key: write(dir, "client-key.pem", &client_key),
        stray_key: write(dir, "stray-key.pem", &stray),
    }
}

/// Which certificate a receiver shows, and whether it asks for the client's.
#[derive(Clone, Debug)]
pub struct Serve {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// Require a client certificate signed by this CA.
    pub client_ca: Option<PathBuf>,
}

impl Serve {
    /// The good server certificate of `pki`, no client certificate asked.
    pub fn server(pki: &Pki) -> Self {
        Self {
            cert: pki.server_cert.clone(),
            key: pki.server_key.clone(),
            client_ca: None,
        }
    }
}

fn rustls_server(serve: &Serve) -> Arc<rustls::ServerConfig> {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&serve.cert)
        .expect("server cert")
        .collect::<Result<_, _>>()
        .expect("server cert PEM");
    let key = PrivateKeyDer::from_pem_file(&serve.key).expect("server key");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("protocol versions");
    let builder = match &serve.client_ca {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_file_iter(ca).expect("client CA") {
                roots.add(cert.expect("client CA PEM")).expect("client CA");
            }
            let verifier =
                rustls::server::WebPkiClientVerifier::builder_with_provider(roots.into(), provider)
                    .build()
                    .expect("client verifier");
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .expect("server certificate and key");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// Starts an OTLP/HTTP receiver behind TLS on `addr` (`/v1/traces`, Langfuse's and
/// LangSmith's paths).
pub async fn https(addr: SocketAddr, serve: &Serve) -> std::io::Result<Receiver> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let inbox = Inbox::default();
    let router = otlp_router(inbox.clone());
    let acceptor = tokio_rustls::TlsAcceptor::from(rustls_server(serve));
    let (stop, mut stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = &mut stopped => return,
            };
            let Ok((tcp, _)) = accepted else { continue };
            let acceptor = acceptor.clone();
            let router = router.clone();
            tokio::spawn(async move {
                // A client the server refuses (no client certificate, an unknown CA)
                // fails here; the client sees the TLS alert.
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = hyper_util::service::TowerToHyperService::new(router);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    Ok(Receiver::new(addr, inbox, stop))
}

/// Starts an OTLP/gRPC receiver behind TLS on `addr`.
pub async fn grpcs(addr: SocketAddr, serve: &Serve) -> std::io::Result<Receiver> {
    use tonic::transport::{Certificate, Identity, ServerTlsConfig};
    let cert = std::fs::read(&serve.cert)?;
    let key = std::fs::read(&serve.key)?;
    let mut tls = ServerTlsConfig::new().identity(Identity::from_pem(cert, key));
    if let Some(ca) = &serve.client_ca {
        tls = tls.client_ca_root(Certificate::from_pem(std::fs::read(ca)?));
    }
    crate::receiver::grpc_with(addr, Some(tls)).await
}
