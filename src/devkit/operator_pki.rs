//! The demo's operator PKI, generated with rcgen: an operator CA and
//! operator client certificates carrying their roles (see
//! `gateway::pki::operators`). Never production keys.

use crate::devkit::demo_pki::pem;
use crate::gateway::pki::operators::{OPERATOR_CA_FILE, ROLE_JLIS, ROLE_URI_PREFIX};
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, SanType,
};
use time::{Duration, OffsetDateTime};

/// File stems `ensure_files` writes (`<stem>.pem`, and `.key` for operators).
pub const JLIS_OPERATOR_STEM: &str = "operator-jlis";
/// A demo municipality operator (role `municipality:139998`), who may not
/// send certificate events.
pub const MUNICIPALITY_OPERATOR_STEM: &str = "operator-municipality";
/// The operator of a second, new municipality (role `municipality:139980`,
/// みなと町, which does not exist until it onboards itself).
pub const NEW_MUNICIPALITY_OPERATOR_STEM: &str = "operator-minato";
/// The code of that second municipality.
pub const NEW_MUNICIPALITY_CODE: &str = "139980";
/// A certificate naming two municipalities: refused everywhere, since a
/// municipality's operator acts for exactly one.
pub const TWO_MUNICIPALITIES_OPERATOR_STEM: &str = "operator-two-municipalities";

#[derive(Debug, thiserror::Error)]
pub enum OperatorPkiError {
    #[error("generating the operator PKI: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
}

/// An operator CA and operator certificates (DER, with PKCS#8 keys).
pub struct OperatorPki {
    pub ca_cert_der: Vec<u8>,
    ca: rcgen::Issuer<'static, KeyPair>,
}

/// An operator's client certificate and key.
pub struct OperatorCertificate {
    pub cert_der: Vec<u8>,
    pub key_pkcs8_der: Vec<u8>,
}

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(OffsetDateTime::now_utc().unix_timestamp())
        .expect("the current time is representable")
}

impl OperatorPki {
    /// A new operator CA (ECDSA P-256, path length 0).
    ///
    /// # Errors
    /// Key generation or signing failure.
    pub fn generate() -> Result<OperatorPki, OperatorPkiError> {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CountryName, "JP");
        dn.push(DnType::OrganizationName, "kofu demo");
        dn.push(DnType::CommonName, "kofu demo operator CA");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.not_before = now() - Duration::days(1);
        params.not_after = now() + Duration::days(20 * 365);
        let cert = params.self_signed(&key)?;
        Ok(OperatorPki {
            ca_cert_der: cert.der().to_vec(),
            ca: rcgen::Issuer::new(params, key),
        })
    }

    /// An operator client certificate: CN `name`, EKU clientAuth, one
    /// `urn:kofu:role:<role>` subjectAltName per role.
    ///
    /// # Errors
    /// Key generation or signing failure, or a role that is not a valid URI.
    pub fn issue_operator(
        &self,
        name: &str,
        roles: &[&str],
    ) -> Result<OperatorCertificate, OperatorPkiError> {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, name);
        params.distinguished_name = dn;
        params.subject_alt_names = roles
            .iter()
            .map(|role| {
                Ok(SanType::URI(
                    format!("{ROLE_URI_PREFIX}{role}").as_str().try_into()?,
                ))
            })
            .collect::<Result<_, rcgen::Error>>()?;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.use_authority_key_identifier_extension = true;
        params.not_before = now() - Duration::days(1);
        params.not_after = now() + Duration::days(2 * 365);
        let cert = params.signed_by(&key, &self.ca)?;
        Ok(OperatorCertificate {
            cert_der: cert.der().to_vec(),
            key_pkcs8_der: key.serialize_der(),
        })
    }

    /// Makes sure `dir` holds `operator-ca.pem`, the J-LIS operator's
    /// `operator-jlis.pem`/`.key` and a municipality operator's
    /// `operator-municipality.pem`/`.key`; generates them all when any is
    /// missing (the CA key is not kept: issue further operators from a
    /// fresh CA).
    ///
    /// # Errors
    /// I/O, key generation or signing failure.
    pub fn ensure_files(dir: &Path) -> Result<(), OperatorPkiError> {
        let files = [
            dir.join(OPERATOR_CA_FILE),
            dir.join(format!("{JLIS_OPERATOR_STEM}.pem")),
            dir.join(format!("{JLIS_OPERATOR_STEM}.key")),
            dir.join(format!("{MUNICIPALITY_OPERATOR_STEM}.pem")),
            dir.join(format!("{MUNICIPALITY_OPERATOR_STEM}.key")),
            dir.join(format!("{NEW_MUNICIPALITY_OPERATOR_STEM}.pem")),
            dir.join(format!("{NEW_MUNICIPALITY_OPERATOR_STEM}.key")),
            dir.join(format!("{TWO_MUNICIPALITIES_OPERATOR_STEM}.pem")),
            dir.join(format!("{TWO_MUNICIPALITIES_OPERATOR_STEM}.key")),
        ];
        if files.iter().all(|f| f.is_file()) {
            return Ok(());
        }
        let pki = OperatorPki::generate()?;
        let jlis = pki.issue_operator("demo J-LIS operator", &[ROLE_JLIS])?;
        std::fs::create_dir_all(dir).map_err(|e| OperatorPkiError::Io(dir.to_owned(), e))?;
        let municipal =
            pki.issue_operator("demo municipality operator", &["municipality:139998"])?;
        write(&files[2], &pem("PRIVATE KEY", &jlis.key_pkcs8_der), true)?;
        write(&files[1], &pem("CERTIFICATE", &jlis.cert_der), false)?;
        write(
            &files[4],
            &pem("PRIVATE KEY", &municipal.key_pkcs8_der),
            true,
        )?;
        write(&files[3], &pem("CERTIFICATE", &municipal.cert_der), false)?;
        let new_municipal = pki.issue_operator(
            "demo operator of a new municipality",
            &[&format!("municipality:{NEW_MUNICIPALITY_CODE}")],
        )?;
        write(
            &files[6],
            &pem("PRIVATE KEY", &new_municipal.key_pkcs8_der),
            true,
        )?;
        write(
            &files[5],
            &pem("CERTIFICATE", &new_municipal.cert_der),
            false,
        )?;
        let two = pki.issue_operator(
            "demo operator naming two municipalities",
            &[
                "municipality:139998",
                &format!("municipality:{NEW_MUNICIPALITY_CODE}"),
            ],
        )?;
        write(&files[8], &pem("PRIVATE KEY", &two.key_pkcs8_der), true)?;
        write(&files[7], &pem("CERTIFICATE", &two.cert_der), false)?;
        write(&files[0], &pem("CERTIFICATE", &pki.ca_cert_der), false)?;
        Ok(())
    }
}

fn write(path: &Path, contents: &str, secret: bool) -> Result<(), OperatorPkiError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mode = if secret { 0o600 } else { 0o644 };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
        .map_err(|e| OperatorPkiError::Io(path.to_owned(), e))?;
    file.write_all(contents.as_bytes())
        .map_err(|e| OperatorPkiError::Io(path.to_owned(), e))
}
