//! X.509 certificates from the TLS Certificate message (TLS ≤ 1.2), via `x509-parser`.
//!
//! Called by `tls` for each DER certificate of the server's (or client's) chain.
//! States what an SSL-inspection diagnosis needs: subject and issuer as RFC 4514
//! strings (`CN=Acme Corp SSL Inspection CA,O=Acme Corp`), SANs, validity, serial,
//! SHA-256 fingerprint, self-signed and CA flags. Whether the issuer is trusted is a
//! rule's decision, not this module's. The DER is kept (bounded, not serialized) so
//! the CLI can export PEM.

use sha2::{Digest, Sha256};
use x509_parser::extensions::GeneralName;
use x509_parser::x509::X509Name;

/// Largest certificate DER kept for export.
pub const MAX_DER_BYTES: usize = 16 * 1024;

/// One certificate's facts, shared: the same chain is presented on every connection
/// to a server (or by an inspecting proxy to every host), so every flow that saw it
/// holds the one copy [`CertCache::parse`] hands out, and cloning is a reference count.
#[derive(Clone, Debug, PartialEq)]
pub struct CertInfo(std::sync::Arc<CertData>);

impl CertInfo {
    pub fn new(data: CertData) -> Self {
        CertInfo(std::sync::Arc::new(data))
    }

    /// Tells shared copies apart: equal for clones of one copy, different for two live
    /// copies (even of equal certificates). `FlowStore` keeps each copy once by it.
    pub fn shared_id(&self) -> usize {
        std::sync::Arc::as_ptr(&self.0) as usize
    }
}

impl std::ops::Deref for CertInfo {
    type Target = CertData;
    fn deref(&self) -> &CertData {
        &self.0
    }
}

/// Facts of one certificate.
#[derive(Clone, Debug, PartialEq)]
pub struct CertData {
    pub subject: String,
    pub issuer: String,
    pub san: Vec<String>,
    /// RFC 3339 UTC, e.g. `2014-03-04T23:59:59Z`.
    pub not_before: String,
    pub not_after: String,
    /// Unix seconds (for rules comparing with the capture time).
    pub not_before_unix: i64,
    pub not_after_unix: i64,
    /// Serial number, lower-case hex.
    pub serial: String,
    /// SHA-256 of the DER, lower-case hex (what `openssl x509 -fingerprint -sha256` shows).
    pub sha256: String,
    /// Subject and issuer names are identical.
    pub self_signed: bool,
    /// basicConstraints cA is true.
    pub is_ca: bool,
    /// The DER, if not larger than [`MAX_DER_BYTES`]; for `--export-certs`.
    pub der: Option<Der>,
}

/// Certificate DER bytes; `Debug` shows only the length.
#[derive(Clone, PartialEq, Eq)]
pub struct Der(pub Vec<u8>);

impl std::fmt::Debug for Der {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Der({} bytes)", self.0.len())
    }
}

/// Distinct certificates a [`CertCache`] remembers.
const MAX_REMEMBERED: usize = 16 * 1024;

/// Certificates parsed so far in one analysis (part of its
/// [`DecodeCtx`](super::DecodeCtx)), so a chain presented again (on every connection
/// to a server, or by an inspecting proxy) is parsed and hashed once.
#[derive(Clone, Debug, Default)]
pub struct CertCache {
    seen: rustc_hash::FxHashMap<u64, CertInfo>,
}

impl CertCache {
    /// Parses one DER certificate, like [`parse_der`].
    ///
    /// The facts are a function of the bytes alone: a certificate seen before (same
    /// DER, compared byte for byte) comes back as the same shared copy without being
    /// parsed again, which also makes every flow that saw it share one copy.
    pub fn parse(&mut self, der: &[u8]) -> Result<CertInfo, String> {
        use std::hash::{BuildHasher, BuildHasherDefault};
        let key = BuildHasherDefault::<rustc_hash::FxHasher>::default().hash_one(der);
        let seen = self
            .seen
            .get(&key)
            .filter(|c| c.der.as_ref().is_some_and(|d| d.0 == der));
        if let Some(c) = seen {
            return Ok(c.clone());
        }
        let c = parse_der(der)?;
        if c.der.is_some() && self.seen.len() < MAX_REMEMBERED {
            self.seen.insert(key, c.clone());
        }
        Ok(c)
    }
}

/// Parses one DER certificate. `Err` carries a short reason for a decode note.
pub fn parse_der(der: &[u8]) -> Result<CertInfo, String> {
    let (_, cert) =
        x509_parser::parse_x509_certificate(der).map_err(|e| format!("bad certificate: {e}"))?;
    let mut san = Vec::new();
    if let Ok(Some(ext)) = cert.subject_alternative_name() {
        for name in ext.value.general_names.iter().take(256) {
            match name {
                GeneralName::DNSName(s) => san.push(format!("DNS:{s}")),
                GeneralName::IPAddress(b) => san.push(format!("IP:{}", ip_text(b))),
                GeneralName::RFC822Name(s) => san.push(format!("email:{s}")),
                GeneralName::URI(s) => san.push(format!("URI:{s}")),
                _ => {}
            }
        }
    }
    let is_ca = matches!(cert.basic_constraints(), Ok(Some(bc)) if bc.value.ca);
    let validity = cert.validity();
    let nb = validity.not_before.timestamp();
    let na = validity.not_after.timestamp();
    Ok(CertInfo::new(CertData {
        subject: rfc4514(cert.subject()),
        issuer: rfc4514(cert.issuer()),
        san,
        not_before: rfc3339(nb),
        not_after: rfc3339(na),
        not_before_unix: nb,
        not_after_unix: na,
        serial: hex(cert.raw_serial()),
        sha256: hex(&Sha256::digest(der)),
        self_signed: cert.subject().as_raw() == cert.issuer().as_raw(),
        is_ca,
        der: (der.len() <= MAX_DER_BYTES).then(|| Der(der.to_vec())),
    }))
}

/// Lower-case hex of `bytes` (fingerprints, serials, JA3/JA4 hashes): one allocation,
/// not one formatted string per byte.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

fn ip_text(b: &[u8]) -> String {
    match b.len() {
        4 => {
            let a: [u8; 4] = [b[0], b[1], b[2], b[3]];
            std::net::Ipv4Addr::from(a).to_string()
        }
        16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(b);
            std::net::Ipv6Addr::from(a).to_string()
        }
        _ => hex(b),
    }
}

fn short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "STREET",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.5" => "serialNumber",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        "1.2.840.113549.1.9.1" => "emailAddress",
        _ => return None,
    })
}

/// RFC 4514 string: RDNs most specific first, `,` between RDNs, `+` inside one.
pub fn rfc4514(name: &X509Name<'_>) -> String {
    let rdns: Vec<String> = name
        .iter_rdn()
        .map(|rdn| {
            rdn.iter()
                .map(|atv| {
                    let oid = atv.attr_type().to_id_string();
                    let key = short_name(&oid).map_or(oid.clone(), str::to_string);
                    let value = match atv.as_str() {
                        Ok(s) => escape(s),
                        Err(_) => match std::str::from_utf8(atv.as_slice()) {
                            // BMPString/UniversalString and friends: best effort.
                            Ok(s) => escape(s),
                            Err(_) => format!("#{}", hex(atv.as_slice())),
                        },
                    };
                    format!("{key}={value}")
                })
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect();
    rdns.into_iter().rev().collect::<Vec<_>>().join(",")
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.chars().enumerate() {
        let edge = i == 0 && (c == ' ' || c == '#');
        if matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';') || edge {
            out.push('\\');
        }
        if c.is_control() {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

/// Unix seconds as RFC 3339 UTC (proleptic Gregorian, Howard Hinnant's algorithm).
pub fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lower_case_two_digits_per_byte() {
        assert_eq!(hex(&[]), "");
        assert_eq!(hex(&[0x00, 0xab, 0x0f, 0xf0, 0xff]), "00ab0ff0ff");
    }

    #[test]
    fn a_certificate_seen_again_is_the_same_shared_copy() {
        let cert = rcgen::generate_simple_self_signed(vec!["a.example".to_string()])
            .unwrap_or_else(|e| panic!("{e}"));
        let der = cert.cert.der().to_vec();
        let mut cache = CertCache::default();
        let a = cache.parse(&der).unwrap_or_else(|e| panic!("{e}"));
        let b = cache.parse(&der).unwrap_or_else(|e| panic!("{e}"));
        assert!(std::sync::Arc::ptr_eq(&a.0, &b.0));
        assert_eq!(a.subject, "CN=rcgen self signed cert");
        // One byte different (the signature's last byte): parsed on its own.
        let mut other = der.clone();
        if let Some(last) = other.last_mut() {
            *last ^= 1;
        }
        let c = cache.parse(&other).unwrap_or_else(|e| panic!("{e}"));
        assert!(!std::sync::Arc::ptr_eq(&a.0, &c.0));
        assert_ne!(a.sha256, c.sha256);
    }

    #[test]
    fn rfc3339_known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_393_977_599), "2014-03-04T23:59:59Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn garbage_der_is_an_error() {
        assert!(parse_der(b"\x30\x82\xff\xff junk").is_err());
        assert!(parse_der(&[]).is_err());
    }

    #[test]
    fn escape_specials() {
        assert_eq!(escape("Acme, Inc"), "Acme\\, Inc");
    }
}
