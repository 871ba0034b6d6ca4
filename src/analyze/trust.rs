//! Would a trust store accept a presented chain? Policy over the certificates the TLS
//! decoder kept (their DER), checked with `rustls-webpki`: signatures up to an anchor
//! of the store, validity at capture time, the server-auth usage and the name (SNI).
//!
//! Three stores are asked: Mozilla's public roots (`webpki-roots`: what Node's bundled
//! store and Python's certifi carry), the machine's system store (`--system-store`)
//! and a bundle the user names (`--ca-file`). "The OS trusts it but Node does not" is
//! the commonest form of the SSL-inspection failure (guide section 3).

use crate::protocols::x509::CertInfo;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, TrustAnchor, UnixTime};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Where the machine's system store usually lives (Debian/Ubuntu, RHEL/Fedora,
/// openSUSE, Alpine/macOS/BSD), first found wins.
pub const SYSTEM_STORE_PATHS: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// A named set of trust anchors read from a PEM bundle.
#[derive(Clone)]
pub struct Bundle {
    /// How the report names it: the file name as given (`corporate-ca.pem`).
    pub name: String,
    pub path: String,
    anchors: Arc<Vec<TrustAnchor<'static>>>,
}

impl std::fmt::Debug for Bundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bundle({}, {} anchors)", self.path, self.anchors.len())
    }
}

/// Why a bundle could not be used.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("{path}: {reason}")]
    Read { path: String, reason: String },
    #[error("{path}: no certificate in it")]
    Empty { path: String },
    #[error("no system CA store found (looked for {0})")]
    NoSystemStore(String),
}

/// `path` made absolute where it exists, as text: so the `export
/// NODE_EXTRA_CA_CERTS=...` remedies work from any directory.
fn absolute(path: &Path) -> String {
    std::fs::canonicalize(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

impl Bundle {
    /// Reads every certificate of a PEM file as a trust anchor.
    pub fn from_pem_file(path: &Path) -> Result<Bundle, BundleError> {
        let bytes = std::fs::read(path).map_err(|e| BundleError::Read {
            path: absolute(path),
            reason: e.to_string(),
        })?;
        Bundle::from_pem_bytes(path, &bytes)
    }

    /// Like [`from_pem_file`](Self::from_pem_file), with the file's bytes already
    /// read.
    pub fn from_pem_bytes(path: &Path, pem: &[u8]) -> Result<Bundle, BundleError> {
        let p = absolute(path);
        let name = path
            .file_name()
            .map_or_else(|| p.clone(), |n| n.to_string_lossy().into_owned());
        Bundle::from_pem(&name, &p, pem)
    }

    pub fn from_pem(name: &str, path: &str, pem: &[u8]) -> Result<Bundle, BundleError> {
        let mut anchors = Vec::new();
        for der in CertificateDer::pem_slice_iter(pem) {
            let der = der.map_err(|e| BundleError::Read {
                path: path.to_string(),
                reason: format!("bad PEM: {e}"),
            })?;
            // A certificate webpki cannot use as an anchor (bad DER) is skipped, as
            // OpenSSL skips it in a CA bundle.
            if let Ok(a) = webpki::anchor_from_trusted_cert(&der) {
                anchors.push(a.to_owned());
            }
        }
        if anchors.is_empty() {
            return Err(BundleError::Empty {
                path: path.to_string(),
            });
        }
        Ok(Bundle {
            name: name.to_string(),
            path: path.to_string(),
            anchors: Arc::new(anchors),
        })
    }

    /// The machine's system store: the first of [`SYSTEM_STORE_PATHS`] that exists.
    pub fn system() -> Result<Bundle, BundleError> {
        for p in SYSTEM_STORE_PATHS {
            let path = Path::new(p);
            if path.exists() {
                let mut b = Bundle::from_pem_file(path)?;
                b.name = "the system store".to_string();
                return Ok(b);
            }
        }
        Err(BundleError::NoSystemStore(SYSTEM_STORE_PATHS.join(", ")))
    }

    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }
}

/// One store's answer for one chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Which store: `mozilla`, `system` or `ca_file`.
    pub store: &'static str,
    /// The file the store was read from (absent for Mozilla's built-in roots).
    pub path: Option<String>,
    pub trusted: bool,
    /// Why not, in words (absent when trusted).
    pub reason: Option<String>,
}

/// Checks `chain` (leaf first, as presented) for `sni` at `at_unix` against `anchors`.
/// `Err` says why it would be refused; `None` when there is nothing to check (no DER).
fn check(
    chain: &[CertInfo],
    sni: Option<&str>,
    at_unix: i64,
    anchors: &[TrustAnchor<'_>],
) -> Option<Result<(), String>> {
    let leaf = CertificateDer::from(chain.first()?.der.as_ref()?.0.as_slice());
    let inter: Vec<CertificateDer<'_>> = chain
        .iter()
        .skip(1)
        .filter_map(|c| c.der.as_ref().map(|d| CertificateDer::from(d.0.as_slice())))
        .collect();
    let ee = match webpki::EndEntityCert::try_from(&leaf) {
        Ok(e) => e,
        Err(e) => return Some(Err(format!("the certificate cannot be read ({e})"))),
    };
    let time = UnixTime::since_unix_epoch(Duration::from_secs(u64::try_from(at_unix).ok()?));
    if let Err(e) = ee.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        anchors,
        &inter,
        time,
        webpki::KeyUsage::server_auth(),
        None,
        None,
    ) {
        return Some(Err(describe(&e)));
    }
    if let Some(name) = sni
        && let Ok(n) = ServerName::try_from(name)
        && ee.verify_is_valid_for_subject_name(&n).is_err()
    {
        return Some(Err(format!(
            "the certificate is not valid for the name {name}"
        )));
    }
    Some(Ok(()))
}

/// webpki's error in words a user acts on.
fn describe(e: &webpki::Error) -> String {
    use webpki::Error as E;
    match e {
        E::UnknownIssuer => {
            "unknown issuer: no certificate in the store issued this chain".to_string()
        }
        E::CertExpired { .. } => "a certificate had expired at capture time".to_string(),
        E::CertNotValidYet { .. } => "a certificate was not yet valid at capture time".to_string(),
        E::InvalidSignatureForPublicKey => "bad signature: the store holds a CA of that name, \
             but not the key that signed this chain; a re-generated or different CA"
            .to_string(),
        E::CertNotValidForName(_) => "the certificate is not valid for that name".to_string(),
        E::RequiredEkuNotFoundContext(_) => {
            "the certificate is not for TLS servers: extended key usage".to_string()
        }
        E::CaUsedAsEndEntity => "the server presented a CA certificate as its own".to_string(),
        other => format!("verification failed: {other}"),
    }
}

/// Asks Mozilla's roots, and the system store and CA file when given.
pub fn verdicts(
    chain: &[CertInfo],
    sni: Option<&str>,
    at_unix: i64,
    system: Option<&Bundle>,
    ca_file: Option<&Bundle>,
) -> Vec<Verdict> {
    let mut out = Vec::new();
    let mut ask = |store: &'static str, path: Option<String>, anchors: &[TrustAnchor<'_>]| {
        if let Some(r) = check(chain, sni, at_unix, anchors) {
            out.push(Verdict {
                store,
                path,
                trusted: r.is_ok(),
                reason: r.err(),
            });
        }
    };
    ask("mozilla", None, webpki_roots::TLS_SERVER_ROOTS);
    if let Some(b) = system {
        ask("system", Some(b.path.clone()), &b.anchors);
    }
    if let Some(b) = ca_file {
        ask("ca_file", Some(b.path.clone()), &b.anchors);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn empty_or_bad_bundles_are_errors() {
        assert!(matches!(
            Bundle::from_pem("x", "x.pem", b"not a pem"),
            Err(BundleError::Empty { .. })
        ));
        assert!(Bundle::from_pem_file(Path::new("/nonexistent/ca.pem")).is_err());
    }

    #[test]
    fn no_der_no_verdict() {
        assert!(verdicts(&[], Some("a.example"), 0, None, None).is_empty());
    }
}
