//! What the protocol decoders report through the real CLI, checked against the
//! expected facts shipped with the shared corpus (MANIFEST.md, the JA4 reference
//! outputs, Zeek's logs) — and that no credential from those captures is ever printed.

use crate::common::*;
use serde_json::Value;

#[test]
fn connect_tunnel_and_the_tls_inside_it() {
    let v = analyze_json(&corpus_file("ja4/https-connect.pcap"));
    let f = &flows(&v)[0];
    let h = &f["http"][0];
    assert_eq!(h["method"], "CONNECT");
    assert_eq!(h["target"], "ts01-b.cloudsink.net:443");
    assert_eq!(h["status"], 200);
    assert_eq!(
        (h["request_frame"].as_u64(), h["response_frame"].as_u64()),
        (Some(4), Some(6))
    );
    let t = &f["tls"];
    assert_eq!(t["client_hello_frame"], 8);
    assert_eq!(t["server_hello_frame"], 10);
    assert_eq!(t["certificate_frame"], 13);
    assert_eq!(t["version"], "TLSv1.2");
    assert!(t["sni"].is_null(), "this ClientHello carries no SNI");
    assert!(
        t["certificates"][0]["issuer"]
            .as_str()
            .unwrap()
            .contains("DigiCert")
    );
}

#[test]
fn ja4_matches_the_reference_implementation() {
    for (cap, expected) in [
        ("ja4/browsers-x509.pcapng", "ja4/browsers-x509.pcapng.json"),
        ("ja4/ipv6.pcapng", "ja4/ipv6.pcapng.json"),
        (
            "ja4/socks-https-example.pcap",
            "ja4/socks-https-example.pcap.json",
        ),
    ] {
        let want: Value =
            serde_json::from_str(&std::fs::read_to_string(corpus_file(expected)).unwrap()).unwrap();
        let want: Vec<(String, String)> = want
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| {
                Some((
                    r["domain"].as_str()?.to_string(),
                    r["JA4.1"].as_str()?.to_string(),
                ))
            })
            .collect();
        assert!(!want.is_empty());
        let v = analyze_json(&corpus_file(cap));
        let got: Vec<(String, String)> = flows(&v)
            .iter()
            .filter_map(|f| {
                Some((
                    f["tls"]["sni"].as_str()?.to_string(),
                    f["tls"]["ja4"].as_str()?.to_string(),
                ))
            })
            .collect();
        assert_eq!(got, want, "{cap}");
    }
}

#[test]
fn tls_alert_names_sender_and_frame() {
    let v = analyze_json(&corpus_file("zeek/tls/tls-1.2-handshake-failure.pcap"));
    let t = &flows(&v)[0]["tls"];
    assert_eq!(t["history"], "Cl");
    assert_eq!(t["established"], false);
    let a = &t["alerts"][0];
    assert_eq!(
        (
            a["from"].as_str(),
            a["description"].as_str(),
            a["frame"].as_u64()
        ),
        (Some("server"), Some("handshake_failure"), Some(6))
    );
}

#[test]
fn tls13_established_handshake() {
    let v = analyze_json(&corpus_file("zeek/tls/chrome-1250-tls-x25519-kyber.pcap"));
    let t = &flows(&v)[0]["tls"];
    assert_eq!(t["version"], "TLSv1.3");
    assert_eq!(t["sni"], "lh3.google.com");
    assert_eq!(t["history"], "CsiI");
    assert_eq!(t["established"], true);
}

#[test]
fn dns_nxdomain_for_the_search_suffix() {
    let v = analyze_json(&corpus_file("zeek/wikipedia.pcap"));
    let dns: Vec<&Value> = flows(&v)
        .iter()
        .filter_map(|f| f["dns"].as_array())
        .flatten()
        .collect();
    let nx: Vec<&&Value> = dns.iter().filter(|d| d["rcode"] == "NXDOMAIN").collect();
    assert_eq!(nx.len(), 4);
    assert!(
        nx.iter()
            .all(|d| d["query"] == "upload.wikimedia.org.ncsa.uiuc.edu" && d["qtype"] == "AAAA")
    );
    let ok = dns
        .iter()
        .filter(|d| d["query"] == "upload.wikimedia.org" && d["rcode"] == "NOERROR")
        .count();
    assert_eq!(ok, 8);
}

/// Every output format of a capture, as text.
fn all_outputs(path: &str) -> String {
    let mut s = String::new();
    for fmt in ["table", "json"] {
        let r = run(&["analyze", "--format", fmt, path]);
        s.push_str(&r.stdout);
        s.push_str(&r.stderr);
    }
    s
}

#[test]
fn credentials_in_corpus_captures_are_never_printed() {
    use base64::Engine;
    // The canaries are really in the capture bytes (MANIFEST.md says so) ...
    let basic = corpus_file("zeek/http/basic-auth-with-colon.pcap");
    let raw = std::fs::read(&basic).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode("test:1:34");
    assert!(raw.windows(b64.len()).any(|w| w == b64.as_bytes()));
    // ... and nowhere in what we print, in any encoding; the user name is.
    let out = all_outputs(basic.to_str().unwrap());
    assert!(out.contains("test"), "user name should be shown");
    for needle in [b64.as_str(), "1:34", "MTozNA", "test%3A1%3A34"] {
        assert!(!out.contains(needle), "secret {needle:?} leaked");
    }
    let cookies = corpus_file("ja4/http1-with-cookies.pcapng");
    let raw = std::fs::read(&cookies).unwrap();
    assert!(raw.windows(5).any(|w| w == b"choco"));
    let out = all_outputs(cookies.to_str().unwrap());
    for needle in ["choco", "strawberry", "yummy_cookie=", "tasty_cookie="] {
        assert!(!out.contains(needle), "cookie {needle:?} leaked");
    }
}
