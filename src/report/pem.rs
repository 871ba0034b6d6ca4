//! `--export-certs DIR`: the certificate chains servers presented, as PEM files a user
//! can hand to IT or install (guide section 3, steps 1-3).
//!
//! One file per distinct chain (`<host>-<sha256 prefix of the leaf>.pem`, leaf first,
//! as presented) and one per CA certificate sent on the wire
//! (`ca-<common name>-<sha256 prefix>.pem`), each certificate preceded by comment
//! lines with its subject, issuer, validity and SHA-256 fingerprint (OpenSSL, Node and
//! Python skip text outside the BEGIN/END lines).

use crate::analyze::chains::Chain;
use crate::protocols::x509::CertInfo;
use base64::Engine as _;
use std::io;
use std::path::{Path, PathBuf};

/// A file written, and what it holds.
#[derive(Debug)]
pub struct Written {
    pub path: PathBuf,
    pub about: String,
}

/// Letters, digits, `.` and `-` kept; anything else becomes `_` (no path separators,
/// no leading dot).
fn safe(name: &str) -> String {
    let s: String = name
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let s = s.trim_start_matches('.').to_string();
    if s.is_empty() { "cert".to_string() } else { s }
}

/// `AB:CD:...`, as `openssl x509 -fingerprint -sha256` prints it.
fn colon_hex(hex: &str) -> String {
    hex.as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).to_ascii_uppercase())
        .collect::<Vec<_>>()
        .join(":")
}

/// One certificate as commented PEM; `None` when its DER was not kept.
pub fn cert_pem(c: &CertInfo) -> Option<String> {
    let der = c.der.as_ref()?;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&der.0);
    let mut s = String::new();
    s.push_str(&format!("# Subject: {}\n", c.subject));
    s.push_str(&format!("# Issuer:  {}\n", c.issuer));
    s.push_str(&format!(
        "# Validity: {} to {}\n",
        c.not_before, c.not_after
    ));
    s.push_str(&format!(
        "# SHA-256 Fingerprint: {}\n",
        colon_hex(&c.sha256)
    ));
    s.push_str("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        s.push_str(&String::from_utf8_lossy(line));
        s.push('\n');
    }
    s.push_str("-----END CERTIFICATE-----\n");
    Some(s)
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

/// Writes every chain and every on-the-wire CA certificate into `dir` (created if
/// missing). Returns the files written, in order.
pub fn export(chains: &[Chain], dir: &Path) -> io::Result<Vec<Written>> {
    let mut out = Vec::new();
    if chains
        .iter()
        .all(|c| c.certs.iter().all(|x| x.der.is_none()))
    {
        return Ok(out);
    }
    std::fs::create_dir_all(dir)?;
    let mut cas: Vec<&CertInfo> = Vec::new();
    for ch in chains {
        let pems: Vec<String> = ch.certs.iter().filter_map(cert_pem).collect();
        if pems.is_empty() {
            continue;
        }
        let leaf_sha = ch.sha256.first().map_or("", String::as_str);
        let path = dir.join(format!("{}-{}.pem", safe(&ch.host), short(leaf_sha)));
        let mut text = format!(
            "# Certificate chain presented for {} (flows {}), leaf first\n",
            ch.host,
            ch.flows
                .iter()
                .map(|f| format!("#{f}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        for p in &pems {
            text.push_str(p);
        }
        std::fs::write(&path, text)?;
        out.push(Written {
            path,
            about: format!(
                "chain for {} ({} certificate{}, issued by \"{}\")",
                ch.host,
                pems.len(),
                if pems.len() == 1 { "" } else { "s" },
                ch.issuer
            ),
        });
        for c in ch.certs.iter().skip(1).filter(|c| c.is_ca) {
            if !cas.iter().any(|x| x.sha256 == c.sha256) {
                cas.push(c);
            }
        }
    }
    for c in cas {
        let Some(pem) = cert_pem(c) else { continue };
        let cn = crate::analyze::issuers::cn(&c.subject);
        let path = dir.join(format!("ca-{}-{}.pem", safe(cn), short(&c.sha256)));
        std::fs::write(&path, pem)?;
        out.push(Written {
            path,
            about: format!("CA certificate \"{}\"", c.subject),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_safe() {
        assert_eq!(safe("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe("api.anthropic.com"), "api.anthropic.com");
        assert_eq!(safe(""), "cert");
        assert_eq!(colon_hex("ab01"), "AB:01");
    }
}
