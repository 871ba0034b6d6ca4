//! Certificate trust, export and the many-hosts SSL-inspection rule on synthetic
//! captures whose chains are made here (rcgen): a private "Globex" CA re-signs three
//! public hosts, as an inspecting proxy would. The real s3-* fixtures cover Acme's CA
//! (`fixtures/captures/s3-acme-corp-ca.pem`) in `fixture_trust` below.

use clap::Parser;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use serde_json::Value;
use std::path::{Path, PathBuf};
use trafficdoc::analyze::trust::Bundle;
use trafficdoc::analyze::{self, Config, Finding, FindingKind, Severity};
use trafficdoc::cli::{self, Cli};
use trafficdoc::flow::table::TableConfig;
use trafficdoc::pipeline;

use crate::common::synth::Pcap;

const CLIENT: [u8; 4] = [10, 0, 0, 2];
const PROXY: [u8; 4] = [10, 0, 0, 1];
const HOSTS: [&str; 3] = ["api.example.com", "www.example.org", "cdn.example.net"];

fn record(ct: u8, body: &[u8]) -> Vec<u8> {
    let mut r = vec![ct, 3, 3];
    r.extend((body.len() as u16).to_be_bytes());
    r.extend(body);
    r
}

fn hs(t: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![t];
    m.extend(&(body.len() as u32).to_be_bytes()[1..]);
    m.extend(body);
    m
}

fn ext(t: u16, data: &[u8]) -> Vec<u8> {
    let mut e = t.to_be_bytes().to_vec();
    e.extend((data.len() as u16).to_be_bytes());
    e.extend(data);
    e
}

/// A TLS 1.2 ClientHello with SNI `name`.
pub(crate) fn client_hello(name: &str) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend([7; 32]);
    b.push(0);
    b.extend(4u16.to_be_bytes());
    b.extend([0xc0, 0x2f, 0xc0, 0x30]);
    b.extend([1, 0]);
    let mut sni = ((name.len() + 3) as u16).to_be_bytes().to_vec();
    sni.push(0);
    sni.extend((name.len() as u16).to_be_bytes());
    sni.extend(name.as_bytes());
    let mut exts = ext(0x0000, &sni);
    exts.extend(ext(0x000d, &[0, 4, 0x04, 0x03, 0x08, 0x04]));
    b.extend((exts.len() as u16).to_be_bytes());
    b.extend(exts);
    record(22, &hs(1, &b))
}

/// ServerHello, Certificate (`chain`, leaf first) and ServerHelloDone.
fn server_flight(chain: &[Vec<u8>]) -> Vec<u8> {
    let mut sh = vec![3, 3];
    sh.extend([9; 32]);
    sh.push(0);
    sh.extend([0xc0, 0x2f, 0]);
    let exts = ext(0xff01, &[0]);
    sh.extend((exts.len() as u16).to_be_bytes());
    sh.extend(exts);
    let mut list: Vec<u8> = Vec::new();
    for der in chain {
        list.extend(&(der.len() as u32).to_be_bytes()[1..]);
        list.extend(der);
    }
    let mut cert = (list.len() as u32).to_be_bytes()[1..].to_vec();
    cert.extend(list);
    let mut out = record(22, &hs(2, &sh));
    out.extend(record(22, &hs(11, &cert)));
    out.extend(record(22, &hs(14, &[])));
    out
}

/// CONNECT, 200, then a TLS 1.2 handshake that completes and one request each way.
fn intercepted(p: &mut Pcap, port: u16, host: &str, chain: &[Vec<u8>]) {
    let connect = format!("CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n");
    let mut client_finish = record(20, &[1]);
    client_finish.extend(record(22, &[0x55; 40]));
    let mut server_finish = record(20, &[1]);
    server_finish.extend(record(22, &[0x66; 40]));
    p.connection(
        (CLIENT, port),
        (PROXY, 8080),
        &[
            (true, connect.into_bytes()),
            (
                false,
                b"HTTP/1.1 200 Connection established\r\n\r\n".to_vec(),
            ),
            (true, client_hello(host)),
            (false, server_flight(chain)),
            (true, client_finish),
            (false, server_finish),
            (true, record(23, &[0x77; 64])),
            (false, record(23, &[0x88; 200])),
        ],
    );
}

struct Pki {
    ca_pem: String,
    ca_der: Vec<u8>,
    leaves: Vec<Vec<u8>>,
}

fn ca_params(cn: &str) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.distinguished_name
        .push(DnType::OrganizationName, "Globex");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p
}

/// A private CA named `cn` and a leaf it signed for each of `HOSTS`.
fn pki(cn: &str) -> Pki {
    let ca = CertifiedIssuer::self_signed(ca_params(cn), KeyPair::generate().unwrap()).unwrap();
    let leaves = HOSTS
        .iter()
        .map(|h| {
            let mut p = CertificateParams::new(vec![h.to_string()]).unwrap();
            p.distinguished_name.push(DnType::CommonName, *h);
            p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
            let key = KeyPair::generate().unwrap();
            p.signed_by(&key, &ca).unwrap().der().to_vec()
        })
        .collect();
    Pki {
        ca_pem: ca.pem(),
        ca_der: ca.der().to_vec(),
        leaves,
    }
}

/// Three intercepted hosts; with `send_ca` the CA certificate follows each leaf.
fn capture(pki: &Pki, send_ca: bool) -> Vec<u8> {
    let mut p = Pcap::new();
    for (i, host) in HOSTS.iter().enumerate() {
        let mut chain = vec![pki.leaves[i].clone()];
        if send_ca {
            chain.push(pki.ca_der.clone());
        }
        intercepted(&mut p, 40000 + i as u16, host, &chain);
    }
    p.bytes
}

fn findings(bytes: &[u8], cfg: &Config) -> Vec<Finding> {
    let c = pipeline::analyze_reader(
        "synthetic.pcap",
        std::io::Cursor::new(bytes.to_vec()),
        TableConfig::default(),
        &mut |_| {},
    )
    .unwrap();
    analyze::analyze(&[c], cfg)
}

fn one(f: &[Finding], kind: FindingKind) -> &Finding {
    f.iter().find(|x| x.kind == kind).unwrap_or_else(|| {
        panic!(
            "no {kind} in {:#?}",
            f.iter().map(|x| x.kind).collect::<Vec<_>>()
        )
    })
}

fn write_temp(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn run_cli(args: &[&str]) -> (u8, String, String) {
    let mut argv = vec!["trafficdoc"];
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(argv).unwrap();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = cli::run(cli, &mut out, &mut err).unwrap();
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

#[test]
fn many_hosts_minted_by_one_private_issuer_is_inspection() {
    let pki = pki("Globex Gateway Root");
    // Leaf only on the wire: nothing but the pattern across hosts says "inspection".
    let f = findings(&capture(&pki, false), &Config::default());
    let m = one(&f, FindingKind::TlsInspectionManyHosts);
    assert_eq!(m.severity, Severity::Warning, "handshakes completed");
    assert_eq!(m.guide_section, Some(3));
    assert_eq!(m.evidence.len(), 3);
    for h in HOSTS {
        assert!(m.explanation.contains(h), "{}", m.explanation);
        assert!(m.evidence.iter().any(|e| e.seen.starts_with(h)), "{h}");
    }
    assert!(m.title.contains("Globex Gateway Root"), "{}", m.title);
    // Two hosts are not enough.
    let mut p = Pcap::new();
    for i in 0..2 {
        intercepted(
            &mut p,
            41000 + i,
            HOSTS[i as usize],
            &[pki.leaves[i as usize].clone()],
        );
    }
    let f = findings(&p.bytes, &Config::default());
    assert!(
        f.iter()
            .all(|x| x.kind != FindingKind::TlsInspectionManyHosts),
        "{f:#?}"
    );
}

#[test]
fn ca_file_that_trusts_the_chain_is_named_in_the_finding() {
    let pki = pki("Globex Gateway Root");
    let dir = tempfile::tempdir().unwrap();
    let pcap = write_temp(dir.path(), "x.pcap", &capture(&pki, true));
    let ca = write_temp(dir.path(), "corporate-ca.pem", pki.ca_pem.as_bytes());
    let (code, out, err) = run_cli(&[
        "analyze",
        "--format",
        "json",
        "--ca-file",
        ca.to_str().unwrap(),
        pcap.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let chains = v["summary"]["chains"].as_array().unwrap();
    assert_eq!(chains.len(), 3);
    for ch in chains {
        let by = ch["trusted_by"].as_array().unwrap();
        let store = |s: &str| by.iter().find(|x| x["store"] == s).unwrap().clone();
        assert_eq!(store("mozilla")["trusted"], false, "{ch}");
        assert!(
            store("mozilla")["reason"]
                .as_str()
                .unwrap()
                .contains("unknown issuer")
        );
        assert_eq!(store("ca_file")["trusted"], true, "{ch}");
    }
    let insp = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "tls_inspection_detected")
        .unwrap();
    assert!(
        insp["explanation"]
            .as_str()
            .unwrap()
            .contains("Your corporate-ca.pem would trust this chain: point NODE_EXTRA_CA_CERTS"),
        "{insp}"
    );
    assert!(
        insp["remedy"][0]
            .as_str()
            .unwrap()
            .contains(&format!("export NODE_EXTRA_CA_CERTS={}", ca.display()))
    );
}

#[test]
fn ca_file_with_another_key_of_the_same_name_does_not_trust() {
    let pki_wire = pki("Globex Gateway Root");
    let other = pki("Globex Gateway Root");
    let dir = tempfile::tempdir().unwrap();
    let pcap = write_temp(dir.path(), "x.pcap", &capture(&pki_wire, false));
    let ca = write_temp(dir.path(), "old-ca.pem", other.ca_pem.as_bytes());
    let (_, out, _) = run_cli(&[
        "analyze",
        "--ca-file",
        ca.to_str().unwrap(),
        pcap.to_str().unwrap(),
    ]);
    let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("Your old-ca.pem would not trust this chain: bad signature"),
        "{out}"
    );
}

#[test]
fn system_store_trusts_but_mozilla_does_not() {
    let pki = pki("Globex Gateway Root");
    let cfg = Config {
        system_store: Some(
            Bundle::from_pem(
                "system",
                "/etc/ssl/certs/ca-certificates.crt",
                pki.ca_pem.as_bytes(),
            )
            .unwrap(),
        ),
        ..Config::default()
    };
    let f = findings(&capture(&pki, true), &cfg);
    let insp = one(&f, FindingKind::TlsInspectionDetected);
    assert!(
        insp.explanation.contains(
            "This machine's system store (/etc/ssl/certs/ca-certificates.crt) trusts the \
             inspection CA but Mozilla's roots"
        ),
        "{}",
        insp.explanation
    );
    assert!(insp.remedy[0].contains("NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt"));
    assert!(insp.remedy[0].contains("REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt"));
    let ev = &insp.evidence[0].seen;
    assert!(
        ev.contains("system store (/etc/ssl/certs/ca-certificates.crt): trusted"),
        "{ev}"
    );
    assert!(
        ev.contains("Mozilla's roots (Node, certifi): not trusted"),
        "{ev}"
    );
}

#[test]
fn export_certs_writes_chains_and_the_ca() {
    let pki = pki("Globex Gateway Root");
    let dir = tempfile::tempdir().unwrap();
    let pcap = write_temp(dir.path(), "x.pcap", &capture(&pki, true));
    let out_dir = dir.path().join("certs");
    let (code, out, err) = run_cli(&[
        "analyze",
        "--export-certs",
        out_dir.to_str().unwrap(),
        pcap.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let mut names: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 4, "{names:?}");
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("ca-Globex_Gateway_Root-"))
    );
    for h in HOSTS {
        let n = names
            .iter()
            .find(|n| n.starts_with(&format!("{h}-")))
            .unwrap();
        assert!(out.contains(n.as_str()), "{out}");
        let text = std::fs::read_to_string(out_dir.join(n)).unwrap();
        assert!(text.contains(&format!("# Subject: CN={h}")), "{text}");
        assert!(
            text.contains("# Issuer:  O=Globex,CN=Globex Gateway Root"),
            "{text}"
        );
        assert!(text.contains("# Validity: "), "{text}");
        assert!(text.contains("# SHA-256 Fingerprint: "), "{text}");
        // The PEM reads back as the certificates sent, leaf first.
        use rustls_pki_types::CertificateDer;
        use rustls_pki_types::pem::PemObject;
        let ders: Vec<Vec<u8>> = CertificateDer::pem_slice_iter(text.as_bytes())
            .map(|d| d.unwrap().to_vec())
            .collect();
        assert_eq!(ders.len(), 2);
        assert_eq!(ders[1], pki.ca_der);
    }
    assert!(out.contains("Certificates written to"), "{out}");
}

/// The lab's Acme CA, committed beside the captures it signed.
fn acme_ca() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/captures/s3-acme-corp-ca.pem")
}

fn fixture(name: &str) -> String {
    crate::common::fixture_file(name)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn fixture_trust_acme_ca_would_trust_the_intercepted_chain() {
    let ca = acme_ca();
    for cap in [
        "s3-ssl-inspection-trusted.pcap",
        "s3-ssl-inspection-untrusted-curl-tls12.pcap",
        "s3-ssl-inspection-untrusted-python-tls12.pcapng",
    ] {
        let (_, out, err) = run_cli(&[
            "analyze",
            "--format",
            "json",
            "--ca-file",
            ca.to_str().unwrap(),
            &fixture(cap),
        ]);
        let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{cap}: {e} {err}"));
        let chains = v["summary"]["chains"].as_array().unwrap();
        assert!(!chains.is_empty(), "{cap}");
        for ch in chains {
            assert_eq!(ch["host"], "api.anthropic.com");
            let by = ch["trusted_by"].as_array().unwrap();
            let ok = |s: &str| by.iter().find(|x| x["store"] == s).unwrap()["trusted"].clone();
            assert_eq!(ok("mozilla"), false, "{cap}: {ch}");
            assert_eq!(ok("ca_file"), true, "{cap}: {ch}");
        }
        let s3: Vec<&Value> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["guide_section"] == 3)
            .collect();
        assert!(
            s3.iter().any(|f| f["explanation"]
                .as_str()
                .unwrap()
                .contains("Your s3-acme-corp-ca.pem would trust this chain")),
            "{cap}: {s3:#?}"
        );
    }
}

#[test]
fn fixture_tls13_refusal_without_a_chain_gives_no_verdict() {
    // TLS 1.3 hides the certificate; the capture has no chain at all, so the
    // verdict cannot be given and the finding does not pretend one.
    let (_, out, _) = run_cli(&[
        "analyze",
        "--ca-file",
        acme_ca().to_str().unwrap(),
        &fixture("s3-ssl-inspection-untrusted-curl-tls13.pcap"),
    ]);
    assert!(!out.contains("would trust this chain"), "{out}");
    assert!(out.contains("tls_certificate_rejected"), "{out}");
}

#[test]
fn fixture_export_certs_from_the_wire() {
    let cap = fixture("s3-ssl-inspection-trusted.pcap");
    let (_, out, _) = run_cli(&["analyze", "--format", "json", &cap]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let sha = v["summary"]["chains"][0]["sha256"][0]
        .as_str()
        .unwrap()
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    let (_, out, _) = run_cli(&[
        "analyze",
        "--export-certs",
        dir.path().to_str().unwrap(),
        &cap,
    ]);
    // mitmproxy sends only the leaf: one chain file, no CA file.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        vec![format!("api.anthropic.com-{}.pem", &sha[..12])],
        "{out}"
    );
    let text = std::fs::read_to_string(dir.path().join(&names[0])).unwrap();
    let colon: Vec<String> = sha
        .as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).to_ascii_uppercase())
        .collect();
    assert!(text.contains(&format!("# SHA-256 Fingerprint: {}", colon.join(":"))));
    assert!(
        text.contains("# Issuer:  CN=Acme Corp SSL Inspection CA"),
        "{text}"
    );
    // openssl agrees on the fingerprint, when it is installed.
    if let Ok(o) = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(dir.path().join(&names[0]))
        .output()
    {
        let line = String::from_utf8_lossy(&o.stdout).to_ascii_uppercase();
        assert!(line.contains(&colon.join(":")), "{line}");
    }
}

#[test]
fn unreadable_ca_file_is_a_usage_error() {
    let (code, _, err) = run_cli(&[
        "analyze",
        "--ca-file",
        "/nonexistent/ca.pem",
        &fixture("healthy-control.pcap"),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/ca.pem"), "{err}");
}
