//! The protocol decoders on the real captures of `../shared/corpus` (Zeek's and JA4's
//! test suites), read through the library pipeline as `analyze` reads them: HTTP
//! proxy dialogues, TLS handshakes, fingerprints and certificates, DNS, and that the
//! credentials in these captures stay out of the facts' JSON and `Debug` output.
//! Frame numbers are Wireshark's.

use crate::common;

use trafficdoc::flow::record::{FlowSummary, Transport};
use trafficdoc::flow::table::TableConfig;
use trafficdoc::model::FrameNo;
use trafficdoc::protocols::AppFacts;
use trafficdoc::protocols::dns::DnsTransaction;
use trafficdoc::protocols::tls::{TlsFacts, alert_name, cipher_name, version_name};
use trafficdoc::report::json::schema::App;

/// The flows of a corpus capture, in order of their first frame.
fn flows(rel: &str) -> Vec<FlowSummary> {
    let path = common::corpus_file(rel);
    let analysis = common::analyze_file(&path, TableConfig::default())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut flows: Vec<FlowSummary> = analysis.flows.iter().collect();
    flows.sort_by_key(FlowSummary::report_key);
    flows
}

/// The application facts of each TCP connection, in order of first frame.
fn facts(rel: &str) -> Vec<AppFacts> {
    flows(rel)
        .into_iter()
        .filter(|f| f.transport == Transport::Tcp)
        .map(|f| f.app)
        .collect()
}

/// The first TCP connection that carried HTTP.
fn first_http(rel: &str) -> AppFacts {
    facts(rel)
        .into_iter()
        .find(|f| !f.http.is_empty())
        .unwrap_or_else(|| panic!("{rel}: no HTTP connection"))
}

/// (client port, TLS facts) of the TCP connections that carried TLS.
fn tls_flows(rel: &str) -> Vec<(u16, TlsFacts)> {
    flows(rel)
        .into_iter()
        .filter(|f| f.transport == Transport::Tcp)
        .filter_map(|f| f.app.tls.map(|t| (f.client.port(), *t)))
        .collect()
}

/// The DNS transactions of every UDP flow.
fn udp_dns(rel: &str) -> Vec<DnsTransaction> {
    flows(rel)
        .into_iter()
        .filter(|f| f.transport == Transport::Udp)
        .flat_map(|f| f.app.dns)
        .collect()
}

#[test]
fn ja4_browsers_x509() {
    let flows = tls_flows("ja4/browsers-x509.pcapng");
    let with_sni: Vec<_> = flows.iter().filter(|(_, t)| t.sni.is_some()).collect();
    assert!(!with_sni.is_empty(), "{flows:?}");
    for (_, t) in &with_sni {
        assert_eq!(
            t.ja4.as_deref(),
            Some("t13d1516h2_8daaf6152771_e5627efa2ab1")
        );
    }
    let snis: Vec<_> = with_sni.iter().filter_map(|(_, t)| t.sni.clone()).collect();
    for want in [
        "edge.microsoft.com",
        "nym1-ib.adnxs.com",
        "lptag.liveperson.net",
    ] {
        assert!(
            snis.iter().any(|s| **s == *want),
            "{want} missing in {snis:?}"
        );
    }
}

#[test]
fn ja4_ipv6_tls12_cloudflare() {
    let flows = tls_flows("ja4/ipv6.pcapng");
    let t = &flows.first().expect("one TLS flow").1;
    assert_eq!(
        t.ja4.as_deref(),
        Some("t12d4605h2_85626a9a5f7f_aaf95bb78ec9")
    );
    assert_eq!(t.sni.as_deref(), Some("www.cloudflare.com"));
    assert_eq!(t.version.map(version_name).as_deref(), Some("TLSv1.2"));
    assert_eq!(
        t.cipher.map(cipher_name).as_deref(),
        Some("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256")
    );
    assert_eq!(t.certificates.len(), 2);
}

#[test]
fn ja4_socks_tls10() {
    let flows = tls_flows("ja4/socks-https-example.pcap");
    let hellos: Vec<_> = flows.iter().filter(|(_, t)| t.ja4.is_some()).collect();
    assert_eq!(hellos.len(), 3, "{flows:?}");
    for (_, t) in hellos {
        assert_eq!(
            t.ja4.as_deref(),
            Some("t10d230100_6a57a6f57151_000000000000")
        );
        assert_eq!(t.sni.as_deref(), Some("www.example.com"));
        assert_eq!(t.certificates.len(), 2);
    }
}

#[test]
fn https_connect_tunnel() {
    let all = facts("ja4/https-connect.pcap");
    let f = all.first().expect("a TCP connection");
    let ex = &f.http[0];
    assert_eq!(ex.method.as_deref(), Some("CONNECT"));
    assert_eq!(ex.target.as_deref(), Some("ts01-b.cloudsink.net:443"));
    assert_eq!(ex.status, Some(200));
    assert_eq!(
        (ex.request_frame, ex.response_frame),
        (Some(FrameNo(4)), Some(FrameNo(6)))
    );
    let t = f.tls.as_ref().expect("tls in tunnel");
    assert!(f.tls_in_tunnel);
    assert_eq!(t.sni, None);
    assert_eq!(t.client_hello_frame, Some(FrameNo(8)));
    assert_eq!(t.server_hello_frame, Some(FrameNo(10)));
    assert_eq!(t.certificate_frame, Some(FrameNo(13)));
    assert_eq!(t.version.map(version_name).as_deref(), Some("TLSv1.2"));
}

#[test]
fn zeek_connect_with_smtp() {
    let all = facts("zeek/http/connect-with-smtp.pcap");
    let ex = &all.first().expect("a TCP connection").http[0];
    // Zeek's uri too: the client sent a stray " /" before the version.
    assert_eq!(ex.target.as_deref(), Some("mailin03.sul.t-online.de:25 /"));
    assert_eq!(
        (ex.status, ex.reason.as_deref()),
        (Some(200), Some("Connection established"))
    );
    assert_eq!(
        (ex.request_frame, ex.response_frame),
        (Some(FrameNo(4)), Some(FrameNo(6)))
    );
    assert_eq!(ex.version.as_deref(), Some("1.0"));
}

#[test]
fn zeek_connect_with_header() {
    let f = first_http("zeek/http/connect-with-header.pcap");
    let ex = &f.http[0];
    assert_eq!(ex.target.as_deref(), Some("secure.newegg.com:443"));
    assert_eq!(ex.proxy_connection.as_deref(), Some("keep-alive"));
    let t = f.tls.as_ref().expect("tls in tunnel");
    assert_eq!(t.sni.as_deref(), Some("secure.newegg.com"));
    assert_eq!(t.client_hello_frame, Some(FrameNo(9)));
}

#[test]
fn zeek_proxy_absolute_form() {
    let f = first_http("zeek/http/proxy.pcap");
    let ex = &f.http[0];
    assert_eq!(ex.target.as_deref(), Some("HTTP://bro.org/"));
    assert_eq!(ex.status, Some(200));
    // tshark shows the response at frame 22, where the body ends; the status line
    // is in frame 6.
    assert_eq!(ex.response_frame, Some(FrameNo(6)));
    assert_eq!(ex.server.as_deref(), Some("Apache/2.4.6 (Fedora)"));
}

#[test]
fn zeek_basic_auth_with_colon_keeps_only_the_user() {
    let f = first_http("zeek/http/basic-auth-with-colon.pcap");
    let ex = &f.http[0];
    assert_eq!(ex.credentials[0].user.as_deref(), Some("test"));
    assert_eq!(ex.status, Some(200));
    let json = serde_json::to_string(&App::from(&f)).unwrap();
    let dbg = format!("{f:?}");
    for out in [json, dbg] {
        assert!(
            !out.contains("1:34") && !out.contains("dGVzdDoxOjM0"),
            "{out}"
        );
    }
}

#[test]
fn cookies_never_leak() {
    let all = facts("ja4/http1-with-cookies.pcapng");
    assert!(all.iter().any(|f| !f.http.is_empty()), "no HTTP connection");
    for f in all {
        let out = format!("{f:?}{}", serde_json::to_string(&App::from(&f)).unwrap());
        assert!(!out.contains("choco") && !out.contains("strawberry"));
        if let Some(ex) = f.http.first() {
            assert!(ex.has_cookie);
        }
    }
}

#[test]
fn zeek_tls_handshake_failure() {
    let flows = tls_flows("zeek/tls/tls-1.2-handshake-failure.pcap");
    let (_, t) = flows.first().expect("a TLS flow");
    assert_eq!(t.history, "Cl");
    assert_eq!(t.version, None);
    assert!(!t.established);
    assert_eq!(
        t.alerts[0].description.map(alert_name).as_deref(),
        Some("handshake_failure")
    );
    assert_eq!(t.alerts[0].frame, FrameNo(6));
}

#[test]
fn zeek_tls13_kyber_established() {
    let flows = tls_flows("zeek/tls/chrome-1250-tls-x25519-kyber.pcap");
    let (_, t) = flows.first().expect("a TLS flow");
    assert_eq!(t.history, "CsiI");
    assert_eq!(t.version.map(version_name).as_deref(), Some("TLSv1.3"));
    assert_eq!(t.sni.as_deref(), Some("lh3.google.com"));
    assert_eq!(
        t.cipher.map(cipher_name).as_deref(),
        Some("TLS_AES_128_GCM_SHA256")
    );
    assert!(t.established);
}

#[test]
fn zeek_tls_expired_certificate() {
    let flows = tls_flows("zeek/tls/tls-expired-cert.pcap");
    assert!(!flows.is_empty());
    let spidh = flows
        .iter()
        .find_map(|(_, t)| {
            t.certificates
                .first()
                .filter(|c| c.subject.contains("spidh"))
        })
        .expect("spidh certificate");
    assert_eq!(
        spidh.subject,
        "CN=www.spidh.org,OU=COMODO SSL,OU=Domain Control Validated"
    );
    assert_eq!(spidh.not_after, "2014-03-04T23:59:59Z");
    for (_, t) in &flows {
        assert_eq!(t.version.map(version_name).as_deref(), Some("TLSv1.0"));
        assert!(t.established, "{t:?}");
    }
}

#[test]
fn zeek_openjdk_tls13_alpn() {
    let flows = tls_flows("zeek/tls/openjdk-25.0.2-zeek.org.pcap");
    let (_, t) = flows.first().expect("a TLS flow");
    assert_eq!(t.sni.as_deref(), Some("zeek.org"));
    assert_eq!(
        t.alpn.iter().map(|a| &**a).collect::<Vec<_>>(),
        vec!["h2", "http/1.1"]
    );
    assert_eq!(t.server_hello_frame, Some(FrameNo(6)));
    assert_eq!(t.version.map(version_name).as_deref(), Some("TLSv1.3"));
}

#[test]
fn dns_wikipedia_nxdomain() {
    let txs = udp_dns("zeek/wikipedia.pcap");
    let nx: Vec<_> = txs
        .iter()
        .filter(|t| t.query.as_deref() == Some("upload.wikimedia.org.ncsa.uiuc.edu"))
        .collect();
    assert_eq!(nx.len(), 4, "{txs:?}");
    for t in nx {
        assert_eq!(t.rcode.as_deref(), Some("NXDOMAIN"));
        assert_eq!(t.qtype.as_deref(), Some("AAAA"));
        assert_eq!(t.server.unwrap().ip().to_string(), "141.142.2.2");
    }
    let ok = txs
        .iter()
        .filter(|t| t.query.as_deref() == Some("upload.wikimedia.org"))
        .filter(|t| t.rcode.as_deref() == Some("NOERROR"))
        .count();
    assert_eq!(ok, 8);
}

#[test]
fn every_corpus_capture_decodes_without_panic() {
    let captures = common::corpus_captures();
    assert!(!captures.is_empty(), "no capture in ../shared/corpus");
    for path in captures {
        // A file that is no readable capture is an error result, not a panic.
        let _ = common::analyze_file(&path, TableConfig::default());
    }
}
