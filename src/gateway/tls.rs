//! TLS configuration: the gateway's server side (mutual TLS for copiers) and
//! the client side used by the simulated copier. rustls on ring only.
//!
//! Rule: a client certificate, when presented, must chain to the store-network
//! CA or the handshake fails; a connection without one may reach only the
//! public endpoints (the copier API answers `copier_certificate_required`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::server::{ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read PEM from {0}: {1}")]
    Pem(String, rustls_pki_types::pem::Error),
    #[error("{0} holds no certificate")]
    Empty(String),
    #[error("tls: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("client verifier: {0}")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
}

/// The one crypto provider kofu uses.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// All certificates in a PEM file.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let name = path.display().to_string();
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| TlsError::Pem(name.clone(), e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem(name.clone(), e))?;
    if certs.is_empty() {
        return Err(TlsError::Empty(name));
    }
    Ok(certs)
}

/// Every certificate in the PEM files `paths`, as DER, in order (the card
/// CAs and intermediates of the configuration).
pub fn load_cert_ders(paths: &[PathBuf]) -> Result<Vec<Vec<u8>>, TlsError> {
    let mut ders = Vec::new();
    for path in paths {
        ders.extend(load_certs(path)?.into_iter().map(|c| c.to_vec()));
    }
    Ok(ders)
}

/// The verifier of user-authentication certificates the configuration
/// names: the card CAs, then the smartphone CAs with their policy, then the
/// intermediates. Its [`CardVerifier::anchor_ders`] are the anchors, in the
/// order the revocation service and `kofu crl import` must take them.
///
/// [`CardVerifier::anchor_ders`]: crate::gateway::pki::CardVerifier::anchor_ders
pub fn card_verifier(
    files: &crate::gateway::config::TlsFiles,
) -> Result<crate::gateway::pki::CardVerifier, String> {
    let cards = load_cert_ders(&files.card_ca).map_err(|e| e.to_string())?;
    let phones = load_cert_ders(&files.smartphone_ca).map_err(|e| e.to_string())?;
    let intermediates = load_cert_ders(&files.card_intermediates).map_err(|e| e.to_string())?;
    crate::gateway::pki::CardVerifier::new(&cards)
        .and_then(|v| v.with_smartphone_anchors(&phones, &files.smartphone_policy))
        .and_then(|v| v.with_intermediates(&intermediates))
        .map_err(|e| e.to_string())
}

/// The private key in a PEM file (PKCS#8, SEC1 or PKCS#1).
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| TlsError::Pem(path.display().to_string(), e))
}

fn roots(ca: &Path) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for cert in load_certs(ca)? {
        roots.add(cert)?;
    }
    Ok(roots)
}

/// The gateway's own certificate and key, read again from their files on
/// [`ServerCertificate::reload`] (SIGHUP): a renewed certificate is served
/// from the next handshake on, without a restart. A reload that fails
/// (a missing file, a key that does not match) keeps the one in use.
#[derive(Debug)]
pub struct ServerCertificate {
    cert: PathBuf,
    key: PathBuf,
    current: std::sync::RwLock<Arc<CertifiedKey>>,
}

impl ServerCertificate {
    pub fn load(cert: &Path, key: &Path) -> Result<Arc<ServerCertificate>, TlsError> {
        Ok(Arc::new(ServerCertificate {
            cert: cert.to_owned(),
            key: key.to_owned(),
            current: std::sync::RwLock::new(Arc::new(Self::read(cert, key)?)),
        }))
    }

    fn read(cert: &Path, key: &Path) -> Result<CertifiedKey, TlsError> {
        Ok(CertifiedKey::from_der(
            load_certs(cert)?,
            load_key(key)?,
            &provider(),
        )?)
    }

    /// Reads the files again; the certificate in use stays on error.
    pub fn reload(&self) -> Result<(), TlsError> {
        let fresh = Arc::new(Self::read(&self.cert, &self.key)?);
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = fresh;
        Ok(())
    }

    /// The certificate served now (its DER), for tests and the expiry gauge.
    pub fn current_der(&self) -> Vec<u8> {
        let current = self.current.read().unwrap_or_else(|e| e.into_inner());
        current.cert.first().map(|c| c.to_vec()).unwrap_or_default()
    }
}

impl ResolvesServerCert for ServerCertificate {
    fn resolve(&self, _: rustls::server::ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        )
    }
}

/// TLS 1.3 and 1.2, with ring's suites: AEAD only (AES-GCM and
/// ChaCha20-Poly1305; rustls has no CBC or RC4 suites) and ECDHE key
/// exchange, so every connection has forward secrecy.
fn server_builder(
    verifier: Arc<dyn rustls::server::danger::ClientCertVerifier>,
    certificate: Arc<ServerCertificate>,
) -> Result<Arc<ServerConfig>, TlsError> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_client_cert_verifier(verifier)
        .with_cert_resolver(certificate);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The copier listener's TLS server: its certificate, and copier client
/// certificates verified against the store-network CA. With
/// `public_elsewhere` (a `public_listen` is configured) a client certificate
/// is required at the handshake; otherwise a client without one may reach
/// only the public endpoints.
pub fn server_config(
    certificate: Arc<ServerCertificate>,
    copier_ca: &Path,
    public_elsewhere: bool,
) -> Result<Arc<ServerConfig>, TlsError> {
    let builder =
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots(copier_ca)?), provider());
    let verifier = if public_elsewhere {
        builder.build()?
    } else {
        builder.allow_unauthenticated().build()?
    };
    server_builder(verifier, certificate)
}

/// The public listener's TLS server: no client certificate is asked for.
pub fn public_server_config(
    certificate: Arc<ServerCertificate>,
) -> Result<Arc<ServerConfig>, TlsError> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_cert_resolver(certificate);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The administration listener's TLS server: a client certificate issued by
/// the operator CA is required at the handshake (no anonymous connection
/// gets further), and copier certificates are not accepted.
pub fn admin_server_config(
    certificate: Arc<ServerCertificate>,
    operator_ca: &Path,
) -> Result<Arc<ServerConfig>, TlsError> {
    let verifier =
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots(operator_ca)?), provider())
            .build()?;
    server_builder(verifier, certificate)
}

/// A copier's TLS client: trusts `server_ca`, presents `identity` if given.
pub fn client_config(
    server_ca: &Path,
    identity: Option<(&Path, &Path)>,
) -> Result<Arc<ClientConfig>, TlsError> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots(server_ca)?);
    let mut config = match identity {
        Some((cert, key)) => builder.with_client_auth_cert(load_certs(cert)?, load_key(key)?)?,
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Publishes when each configured certificate expires
/// ([`crate::gateway::series::CERTIFICATE_NOT_AFTER`]): the server's own, the
/// copier CA, the operator CA, the card CAs and the smartphone CAs (the earliest of each file's
/// certificates). A file that does not read is left out; starting fails on
/// it anyway.
pub fn publish_expiries(files: &crate::gateway::config::TlsFiles) {
    let mut sets: Vec<(&'static str, Vec<&Path>)> = vec![
        ("server", vec![files.server_cert.as_path()]),
        ("copier_ca", vec![files.copier_ca.as_path()]),
        (
            "card_ca",
            files.card_ca.iter().map(PathBuf::as_path).collect(),
        ),
    ];
    if let Some(operator) = &files.operator_ca {
        sets.push(("operator_ca", vec![operator.as_path()]));
    }
    if !files.smartphone_ca.is_empty() {
        sets.push((
            "smartphone_ca",
            files.smartphone_ca.iter().map(PathBuf::as_path).collect(),
        ));
    }
    for (name, paths) in sets {
        let earliest = paths
            .iter()
            .filter_map(|p| load_certs(p).ok())
            .flatten()
            .filter_map(|der| {
                x509_parser::parse_x509_certificate(&der)
                    .ok()
                    .map(|(_, c)| c.validity().not_after.timestamp())
            })
            .min();
        if let Some(at) = earliest {
            metrics::gauge!(crate::gateway::series::CERTIFICATE_NOT_AFTER, "certificate" => name)
                .set(at as f64);
        }
    }
}
