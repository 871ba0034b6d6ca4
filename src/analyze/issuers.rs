//! What a presented chain's issuers say about TLS interception: a product or a
//! corporate CA named in an issuer (the catalogue), and whether the chain ends at a
//! public root. Read by the capture's context, the SSL-inspection rule and the report.

use crate::protocols::tls::TlsFacts;
use crate::protocols::x509::CertInfo;
use rustc_hash::FxHashMap;
use std::cell::RefCell;

/// Words in a certificate issuer that name an inspection product or a private CA.
const INSPECTION_ISSUERS: &[(&str, &str)] = &[
    ("zscaler", "Zscaler"),
    ("netskope", "Netskope"),
    ("palo alto", "Palo Alto Networks"),
    ("paloalto", "Palo Alto Networks"),
    ("fortinet", "Fortinet FortiGate"),
    ("fortigate", "Fortinet FortiGate"),
    ("blue coat", "Blue Coat / Symantec ProxySG"),
    ("bluecoat", "Blue Coat / Symantec ProxySG"),
    ("proxysg", "Blue Coat / Symantec ProxySG"),
    ("cisco umbrella", "Cisco"),
    ("cisco", "Cisco"),
    ("sophos", "Sophos"),
    ("check point", "Check Point"),
    ("checkpoint", "Check Point"),
    ("forcepoint", "Forcepoint"),
    ("websense", "Forcepoint"),
    ("mcafee", "McAfee / Skyhigh"),
    ("skyhigh", "McAfee / Skyhigh"),
    ("kaspersky", "Kaspersky"),
    ("eset", "ESET"),
    ("avast", "Avast / AVG"),
    ("avg ", "Avast / AVG"),
    ("bitdefender", "Bitdefender"),
    ("mitmproxy", "mitmproxy"),
    ("fiddler", "Fiddler"),
    ("do_not_trust", "Fiddler"),
    ("charles proxy", "Charles"),
    ("portswigger", "Burp Suite"),
    ("burp", "Burp Suite"),
    ("ssl inspection", "an SSL inspection proxy"),
    ("tls inspection", "a TLS inspection proxy"),
    ("ssl-inspection", "an SSL inspection proxy"),
    ("decryption", "a decrypting proxy"),
    ("intercept", "an intercepting proxy"),
];

/// The product an issuer names, if any.
pub fn inspection_product(issuer: &str) -> Option<&'static str> {
    let low = issuer.to_ascii_lowercase();
    INSPECTION_ISSUERS
        .iter()
        .find(|(w, _)| low.contains(w))
        .map(|(_, p)| *p)
        .or_else(|| {
            // "Corp ... CA" style private roots: whole words of the common name, so
            // "Microsoft Corporation" does not match.
            let name = cn(&low);
            let words: Vec<&str> = name
                .split(|c: char| !c.is_ascii_alphanumeric())
                .filter(|w| !w.is_empty())
                .collect();
            let corp = words
                .iter()
                .any(|w| matches!(*w, "corp" | "corporate" | "enterprise"));
            let ca = words.iter().any(|w| matches!(*w, "ca" | "root"));
            (corp && ca).then_some("a corporate CA")
        })
}

/// Common name of a distinguished name, or the whole name.
pub fn cn(dn: &str) -> &str {
    dn.split(',')
        .find_map(|p| {
            let p = p.trim();
            p.strip_prefix("CN=").or_else(|| p.strip_prefix("cn="))
        })
        .unwrap_or(dn)
}

/// Organisations of public CAs (lower case), current or past members of the web PKI.
const PUBLIC_CA_ORGS: &[&str] = &[
    "digicert",
    "comodo",
    "sectigo",
    "usertrust",
    "addtrust",
    "verisign",
    "geotrust",
    "thawte",
    "symantec corporation",
    "globalsign",
    "entrust",
    "internet security research group",
    "let's encrypt",
    "amazon",
    "google trust services",
    "microsoft corporation",
    "baltimore",
    "starfield",
    "godaddy",
    "go daddy",
    "identrust",
    "quovadis",
    "certum",
    "unizeto",
    "buypass",
    "ssl corporation",
    "actalis",
    "harica",
    "t-systems",
    "swisssign",
    "cybertrust",
    "equifax",
    "network solutions",
    "trustwave",
    "secom",
    "izenpe",
    "camerfirma",
    "firmaprofesional",
];

/// Answers remembered per analysed capture, at most this many (then forgotten all at
/// once): chains by fingerprint, and the longer issuer names.
const REMEMBERED: usize = 4_096;
const REMEMBERED_ISSUERS: usize = 256;

/// Which chains end at a public root, remembered: asked for every TLS flow, twice, and
/// a capture presents few distinct chains, so the answer for each top certificate is
/// kept (by fingerprint), and the product each issuer names (by issuer). One per
/// analysed capture, in the rules' context.
#[derive(Debug, Default)]
pub struct PublicRoots {
    known: RefCell<FxHashMap<String, Option<bool>>>,
    products: RefCell<FxHashMap<String, Option<&'static str>>>,
}

impl PublicRoots {
    /// Whether the presented chain ends at one of Mozilla's public roots (what Node's
    /// bundled store and Python's certifi carry): its top certificate is issued by a
    /// root's subject. `None` when it cannot be told: no DER kept, or only a leaf was
    /// sent (its issuer is then an intermediate we do not ship).
    pub fn chains_to_public_root(&self, certs: &[CertInfo]) -> Option<bool> {
        let top = certs.last()?;
        if certs.len() < 2 && !top.self_signed {
            return None;
        }
        if let Some(known) = self.known.borrow().get(&top.sha256).copied() {
            return known;
        }
        let answer = top_is_public(top);
        let mut k = self.known.borrow_mut();
        if k.len() >= REMEMBERED {
            k.clear();
        }
        k.insert(top.sha256.clone(), answer);
        answer
    }

    /// [`inspection_product`] of `issuer`, remembered.
    fn product(&self, issuer: &str) -> Option<&'static str> {
        if let Some(known) = self.products.borrow().get(issuer).copied() {
            return known;
        }
        let answer = inspection_product(issuer);
        let mut p = self.products.borrow_mut();
        if p.len() >= REMEMBERED_ISSUERS {
            p.clear();
        }
        p.insert(issuer.to_string(), answer);
        answer
    }

    /// The certificate that names the interceptor, if the chain has one: an issuer
    /// from the catalog of inspection products, or a chain that does not end at a
    /// public root.
    pub fn inspecting_cert<'t>(&self, t: &'t TlsFacts) -> Option<(&'t CertInfo, &'static str)> {
        self.inspecting_in(&t.certificates)
    }

    /// [`inspecting_cert`](Self::inspecting_cert) of a chain, leaf first.
    pub fn inspecting_in<'t>(
        &self,
        certificates: &'t [CertInfo],
    ) -> Option<(&'t CertInfo, &'static str)> {
        certificates
            .iter()
            .find_map(|c| self.product(&c.issuer).map(|p| (c, p)))
            .or_else(|| {
                (self.chains_to_public_root(certificates) == Some(false))
                    .then(|| {
                        certificates
                            .last()
                            .map(|c| (c, "a private CA (not a public root)"))
                    })
                    .flatten()
            })
    }
}

/// Whether the top certificate of a chain was issued by a public CA.
fn top_is_public(top: &CertInfo) -> Option<bool> {
    // Roots leave Mozilla's store over the years (AddTrust, VeriSign, old DigiCert
    // roots); a chain from a public CA's organisation is public, whatever year the
    // capture is from.
    let org = top
        .issuer
        .split(',')
        .filter_map(|p| p.trim().strip_prefix("O="))
        .collect::<String>()
        .to_ascii_lowercase();
    if PUBLIC_CA_ORGS.iter().any(|o| org.contains(o)) {
        return Some(true);
    }
    let der = top.der.as_ref()?;
    let (_, c) = x509_parser::parse_x509_certificate(&der.0).ok()?;
    let issuer = c.tbs_certificate.issuer.as_raw();
    Some(webpki_roots::TLS_SERVER_ROOTS.iter().any(|a| {
        let subject: &[u8] = a.subject.as_ref();
        // webpki keeps the Name's contents, without the outer SEQUENCE header.
        issuer == subject || (issuer.ends_with(subject) && issuer.len() - subject.len() <= 4)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_catalog() {
        assert_eq!(
            inspection_product("CN=Zscaler Intermediate Root CA (zscaler.net),O=Zscaler Inc."),
            Some("Zscaler")
        );
        assert!(inspection_product("CN=Acme Corp SSL Inspection CA,O=Acme Corp").is_some());
        assert_eq!(
            inspection_product("CN=Contoso Corp Root CA,O=Contoso"),
            Some("a corporate CA")
        );
        assert_eq!(
            inspection_product("CN=Microsoft Azure TLS Issuing CA 05,O=Microsoft Corporation,C=US"),
            None
        );
        assert_eq!(inspection_product("CN=R11,O=Let's Encrypt,C=US"), None);
    }

    #[test]
    fn public_roots_are_known() {
        assert!(!webpki_roots::TLS_SERVER_ROOTS.is_empty());
        assert_eq!(PublicRoots::default().chains_to_public_root(&[]), None);
    }
}
