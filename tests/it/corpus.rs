//! Replays the real captures of `../shared/corpus` (Zeek's and JA4's test suites) and
//! checks connections and states against the facts in its MANIFEST.md.

use crate::common::*;
use serde_json::Value;

/// (client, server, state, history) of the TCP flows.
fn tcp_flows(v: &Value) -> Vec<(String, String, String, String)> {
    flows(v)
        .iter()
        .filter(|f| f["transport"] == "tcp")
        .map(|f| {
            (
                f["client"].as_str().unwrap().to_string(),
                f["server"].as_str().unwrap().to_string(),
                f["state"].as_str().unwrap().to_string(),
                f["history"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn only_flow(v: &Value) -> &Value {
    let f = flows(v);
    assert_eq!(f.len(), 1, "expected exactly one flow: {f:#?}");
    &f[0]
}

#[test]
fn connect_with_smtp_is_one_closed_proxy_tunnel() {
    let v = analyze_json(&corpus_file("zeek/http/connect-with-smtp.pcap"));
    let f = only_flow(&v);
    assert_eq!(f["client"], "79.26.245.236:3378");
    assert_eq!(f["server"], "254.228.86.79:8240");
    assert_eq!(f["state"], "SF");
    assert_eq!(f["history"], "ShADadtTfF");
    assert_eq!(f["packets"]["client"], 14);
    assert_eq!(f["packets"]["server"], 16);
    assert_eq!(f["first_frame"], 1);
    assert_eq!(f["last_frame"], 30);
}

#[test]
fn connect_with_header_over_ipv6_null_loopback() {
    let v = analyze_json(&corpus_file("zeek/http/connect-with-header.pcap"));
    assert_eq!(v["input"]["link_types"][0], "NULL");
    let f = only_flow(&v);
    assert_eq!(f["client"], "[::1]:52522");
    assert_eq!(f["server"], "[::1]:80");
    assert_eq!(f["state"], "S1");
    assert_eq!(f["history"], "ShAaDd");
    assert_eq!(
        (
            f["packets"]["client"].as_u64(),
            f["packets"]["server"].as_u64()
        ),
        (Some(29), Some(29))
    );
    assert_eq!(f["bytes"]["client"], 3644);
    assert_eq!(f["bytes"]["server"], 55499);
}

#[test]
fn pop3_refused_attempts_are_separate_rejected_connections() {
    let v = analyze_json(&corpus_file("zeek/pop3/pop3.pcap"));
    let t = tcp_flows(&v);
    assert_eq!(t.len(), 11);
    let rej: Vec<_> = t.iter().filter(|f| f.2 == "REJ").collect();
    assert_eq!(rej.len(), 6);
    assert!(rej.iter().all(|f| f.3 == "Sr"));
    assert_eq!(
        rej.iter()
            .filter(|f| f.0 == "192.168.0.4:26242" && f.1 == "212.227.15.188:110")
            .count(),
        3
    );
    assert_eq!(
        rej.iter()
            .filter(|f| f.0 == "192.168.0.4:26245" && f.1 == "212.227.15.171:110")
            .count(),
        3
    );
    let sf: Vec<_> = t.iter().filter(|f| f.2 == "SF").collect();
    assert_eq!(sf.len(), 5);
    assert!(
        sf.iter()
            .all(|f| f.1 == "212.227.15.166:110" && f.3 == "ShAdDafF")
    );
    // The RSTs are frames 2, 4, 6, 8, 10, 12 and each names the server as sender.
    let rst_frames: Vec<u64> = flows(&v)
        .iter()
        .filter(|f| f["state"] == "REJ")
        .map(|f| {
            assert_eq!(f["rst"]["from"], "server");
            f["rst"]["frame"].as_u64().unwrap()
        })
        .collect();
    assert_eq!(rst_frames, vec![2, 4, 6, 8, 10, 12]);
}

#[test]
fn syn_then_rst_is_rstos0() {
    let v = analyze_json(&corpus_file("zeek/tcp/syn-then-rst.pcap"));
    let f = only_flow(&v);
    assert_eq!(f["client"], "1.1.1.1:13131");
    assert_eq!(f["state"], "RSTOS0");
    assert_eq!(f["history"], "SR");
    assert_eq!(f["rst"]["frame"], 2);
    assert_eq!(f["rst"]["from"], "client");
}

#[test]
fn wikipedia_connection_states_match_zeek() {
    let v = analyze_json(&corpus_file("zeek/wikipedia.pcap"));
    let count = |transport: &str, state: &str| {
        flows(&v)
            .iter()
            .filter(|f| f["transport"] == transport && f["state"] == state)
            .count()
    };
    assert_eq!(count("tcp", "S1"), 8);
    assert_eq!(count("tcp", "OTH"), 2);
    assert_eq!(count("udp", "SF"), 14);
    assert_eq!(count("udp", "S0"), 10);
    assert_eq!(flows(&v).len(), 34);
}

#[test]
fn pcapng_with_two_interfaces() {
    let v = analyze_json(&corpus_file("zeek/pcapng-multi-interface.pcapng"));
    assert_eq!(v["input"]["files"][0]["format"], "pcapng");
    let f = flows(&v);
    let got: Vec<(&str, &str, &str)> = f
        .iter()
        .map(|f| {
            (
                f["client"].as_str().unwrap(),
                f["state"].as_str().unwrap(),
                f["history"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("172.17.0.2:36343", "SF", "Dd"),
            ("10.0.0.4:56351", "SF", "Dd"),
            ("10.0.0.4:56352", "SF", "Dd"),
        ]
    );
    assert!(
        f.iter()
            .all(|f| f["server"] == "1.1.1.1:53" && f["transport"] == "udp")
    );
}

#[test]
fn linux_cooked_v2_capture_from_any_interface() {
    let v = analyze_json(&corpus_file("zeek/tls/openjdk-25.0.2-zeek.org.pcap"));
    assert_eq!(v["input"]["link_types"][0], "LINUX_SLL2");
    let f = only_flow(&v);
    assert!(f["client"].as_str().unwrap().starts_with("192.168.64.6:"));
    assert_eq!(f["server"], "192.0.78.150:443");
    assert_eq!(f["syn_retransmissions"], 0);
    assert_eq!(f["first_frame"], 1);
    assert_eq!(f["last_frame"], 6);
}

#[test]
fn raw_ipv4_link_type() {
    let v = analyze_json(&corpus_file("zeek/http/basic-auth-with-colon.pcap"));
    // LINKTYPE_IPV4 (228): raw IPv4, no link header.
    assert_eq!(v["input"]["link_types"][0], "IPV4");
    let f = only_flow(&v);
    assert_eq!(f["client"], "172.24.133.205:43090");
    assert_eq!(f["server"], "172.24.133.205:8000");
    assert_eq!(f["state"], "SF");
}

#[test]
fn pcap_named_pcapng_is_detected_by_magic() {
    let v = analyze_json(&corpus_file("ja4/ipv6.pcapng"));
    assert_eq!(v["input"]["files"][0]["format"], "pcap");
    let f = only_flow(&v);
    assert_eq!(f["client"], "[2001:4998:ef83:14:8000::100d]:64034");
    assert_eq!(f["server"], "[2606:4700::6811:d209]:443");
}

#[test]
fn single_flow_captures_name_the_right_endpoints() {
    for (file, client, server) in [
        (
            "zeek/http/proxy.pcap",
            "192.168.56.1:52679",
            "192.168.56.101:80",
        ),
        (
            "ja4/https-connect.pcap",
            "10.11.12.13:54723",
            "10.9.8.7:8080",
        ),
        (
            "ja4/http1-with-cookies.pcapng",
            "127.0.0.1:61256",
            "127.0.0.1:8000",
        ),
        (
            "zeek/tls/tls-1.2-handshake-failure.pcap",
            "192.168.4.149:53525",
            "74.125.239.37:443",
        ),
        (
            "zeek/tls/chrome-1250-tls-x25519-kyber.pcap",
            "0.0.51.217:13783",
            "142.250.200.14:443",
        ),
        (
            "zeek/http/http-inner-transfer-encoding-ossfuzz.pcap",
            "10.0.0.1:51650",
            "10.0.0.2:80",
        ),
    ] {
        let v = analyze_json(&corpus_file(file));
        let f = only_flow(&v);
        assert_eq!(
            (f["client"].as_str(), f["server"].as_str()),
            (Some(client), Some(server)),
            "{file}"
        );
    }
}

#[test]
fn multi_flow_tls_captures() {
    let v = analyze_json(&corpus_file("zeek/tls/tls-expired-cert.pcap"));
    let servers: Vec<&str> = flows(&v)
        .iter()
        .map(|f| f["server"].as_str().unwrap())
        .collect();
    assert_eq!(servers, vec!["87.98.220.10:443", "122.1.240.204:443"]);
    let v = analyze_json(&corpus_file("ja4/browsers-x509.pcapng"));
    let servers: Vec<&str> = flows(&v)
        .iter()
        .map(|f| f["server"].as_str().unwrap())
        .collect();
    assert_eq!(
        servers,
        vec![
            "13.107.21.239:443",
            "68.67.160.117:443",
            "103.42.133.15:443"
        ]
    );
    let v = analyze_json(&corpus_file("ja4/socks-https-example.pcap"));
    assert_eq!(flows(&v).len(), 3);
    assert!(
        flows(&v)
            .iter()
            .all(|f| f["server"] == "10.180.156.249:1080" && f["state"] == "SF")
    );
}

#[test]
fn headers_only_capture_keeps_every_decodable_packet() {
    // Every frame is cut by the snap length; the SYN's TCP header itself is cut, so 23
    // of 24 frames reach TCP, and the cut payload is not reported as loss.
    let v = analyze_json(&corpus_file("zeek/tcp/truncated-header.pcap"));
    let input = &v["input"]["files"][0];
    assert_eq!(input["packets"], 24);
    assert_eq!(input["decode"]["tcp_packets"], 23);
    assert_eq!(input["decode"]["snaplen_cut"], 24);
    let f = only_flow(&v);
    assert_eq!(f["client"], "201.186.157.67:60827");
    assert_eq!(f["server"], "128.3.26.249:25");
    assert_eq!(f["gaps"]["client"], 0);
    assert_eq!(f["gaps"]["server"], 0);
}

#[test]
fn one_byte_snaplen_frame_is_noted_not_fatal() {
    let r = run(&[
        "analyze",
        corpus_file("zeek/trunc/trunc-hdr.pcap").to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("1 frame(s) too short or malformed"),
        "{}",
        r.stdout
    );
    let v = analyze_json(&corpus_file("zeek/trunc/trunc-hdr.pcap"));
    assert_eq!(v["input"]["files"][0]["decode"]["undecodable"], 1);
    assert!(flows(&v).is_empty());
}

#[test]
fn empty_capture_reads_as_zero_packets() {
    let r = run(&["analyze", corpus_file("zeek/empty.pcap").to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("0 packets"), "{}", r.stdout);
    assert!(r.stdout.contains("no TCP or UDP traffic"), "{}", r.stdout);
}

#[test]
fn every_corpus_capture_yields_valid_versioned_json() {
    let caps = corpus_captures();
    assert!(caps.len() >= 20, "corpus looks incomplete: {caps:?}");
    for c in caps {
        let v = analyze_json(&c);
        assert_eq!(v["schema_version"], 1);
        for f in flows(&v) {
            let first = f["first_frame"].as_u64().unwrap();
            let last = f["last_frame"].as_u64().unwrap();
            assert!(
                first >= 1 && first <= last,
                "{}: bad frames {first}-{last}",
                c.display()
            );
            let filter = f["display_filter"].as_str().unwrap();
            assert!(
                filter.contains(&format!("frame.number>={first}")),
                "{filter}"
            );
        }
    }
}
