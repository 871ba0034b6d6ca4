//! Differential test against tshark: for every capture we can find (the shared corpus
//! and our own fixtures), the TCP conversations we report must be the ones
//! `tshark -q -z conv,tcp` reports, with the same frame counts.
//!
//! Every HTTP message and TLS server name tshark decodes must be decoded too; on a
//! fixture whose expected file has `known_decoder_gap` the differences are reported
//! instead of failing. On the fixtures recorded with their clients' key log
//! (`NAME.keys`, or inside the pcapng), every certificate, alert and inner HTTP
//! request and status tshark decrypts we decrypt too (`--keylog`).
//!
//! tshark's table is per address/port pair (a conversation); we report connections
//! the way Zeek does, so refused attempts retried on the same port are separate
//! connections. Connections are therefore summed per pair before comparing.

use crate::common::*;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::process::Command;

pub(crate) fn tshark_available() -> bool {
    let ok = Command::new("tshark")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        // CI installs tshark (.ci/run); there a missing oracle is a failure, not a skip.
        assert!(
            std::env::var_os("CI").is_none(),
            "tshark is required in CI for the differential tests"
        );
        eprintln!("SKIPPED: tshark not installed (apt-get install tshark)");
    }
    ok
}

fn endpoint(s: &str) -> SocketAddr {
    let (ip, port) = s.rsplit_once(':').expect("ip:port");
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    SocketAddr::new(
        ip.parse::<IpAddr>().expect("ip"),
        port.parse().expect("port"),
    )
}

fn pair(a: SocketAddr, b: SocketAddr) -> (SocketAddr, SocketAddr) {
    if a <= b { (a, b) } else { (b, a) }
}

/// Conversation → total frames, from `tshark -z conv,tcp`.
fn tshark_conversations(path: &Path) -> BTreeMap<(SocketAddr, SocketAddr), u64> {
    let out = Command::new("tshark")
        .args(["-n", "-q", "-z", "conv,tcp", "-r"])
        .arg(path)
        .output()
        .expect("run tshark");
    assert!(out.status.success(), "tshark failed on {}", path.display());
    let text = String::from_utf8_lossy(&out.stdout);
    let mut m = BTreeMap::new();
    for line in text.lines().filter(|l| l.contains("<->")) {
        let t: Vec<&str> = line.split_whitespace().collect();
        // A <-> B  frames bytes unit  frames bytes unit  frames bytes unit  start duration
        let total_frames: u64 = t[9].parse().expect("frames");
        *m.entry(pair(endpoint(t[0]), endpoint(t[2]))).or_default() += total_frames;
    }
    m
}

fn our_conversations(path: &Path) -> BTreeMap<(SocketAddr, SocketAddr), u64> {
    let v = analyze_json(path);
    let mut m = BTreeMap::new();
    for f in flows(&v).iter().filter(|f| f["transport"] == "tcp") {
        let k = pair(
            endpoint(f["client"].as_str().unwrap()),
            endpoint(f["server"].as_str().unwrap()),
        );
        let n = f["packets"]["client"].as_u64().unwrap() + f["packets"]["server"].as_u64().unwrap();
        *m.entry(k).or_default() += n;
    }
    m
}

#[test]
fn tcp_conversations_match_tshark() {
    if !tshark_available() {
        return;
    }
    let mut checked = 0;
    for cap in corpus_captures().into_iter().chain(fixture_captures()) {
        let name = cap.display().to_string();
        let ours = our_conversations(&cap);
        let theirs = tshark_conversations(&cap);
        assert_eq!(ours, theirs, "conversations differ from tshark on {name}");
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} captures checked");
}

/// HTTP requests (method, target), response codes and TLS server names tshark decodes.
fn tshark_app_facts(path: &Path) -> (Vec<(String, String)>, Vec<u64>, Vec<String>) {
    let out = Command::new("tshark")
        .args(["-n", "-T", "fields", "-E", "separator=|"])
        .args([
            "-e",
            "http.request.method",
            "-e",
            "http.request.uri",
            "-e",
            "http.response.code",
        ])
        .args(["-e", "tls.handshake.extensions_server_name"])
        // An ICMP error quotes the start of the segment it answers, and tshark
        // dissects that quote as HTTP or TLS too: only messages on the wire count.
        .args([
            "-Y",
            "(http.request || http.response || tls.handshake.type == 1) && !icmp && !icmpv6",
            "-r",
        ])
        .arg(path)
        .output()
        .expect("run tshark");
    let (mut reqs, mut codes, mut snis) = (Vec::new(), Vec::new(), Vec::new());
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split('|').collect();
        if f.len() < 4 {
            continue;
        }
        // A frame can complete several pipelined messages: tshark joins them with ','.
        let methods: Vec<&str> = f[0].split(',').filter(|s| !s.is_empty()).collect();
        let uris: Vec<&str> = f[1].split(',').collect();
        for (i, m) in methods.iter().enumerate() {
            reqs.push((m.to_string(), uris.get(i).unwrap_or(&"").to_string()));
        }
        codes.extend(f[2].split(',').filter_map(|c| c.parse::<u64>().ok()));
        snis.extend(
            f[3].split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        );
    }
    (reqs, codes, snis)
}

#[test]
fn decoded_http_and_tls_facts_include_everything_tshark_decodes() {
    if !tshark_available() {
        return;
    }
    let (mut checked, mut facts) = (0, 0);
    for cap in corpus_captures().into_iter().chain(fixture_captures()) {
        let name = cap.display().to_string();
        let (reqs, codes, snis) = tshark_app_facts(&cap);
        facts += reqs.len() + codes.len() + snis.len();
        let v = analyze_json(&cap);
        let http: Vec<&serde_json::Value> = flows(&v)
            .iter()
            .filter_map(|f| f["http"].as_array())
            .flatten()
            .collect();
        let mut ours_reqs: Vec<(String, String)> = http
            .iter()
            .filter_map(|h| {
                Some((
                    h["method"].as_str()?.to_string(),
                    h["target"].as_str()?.to_string(),
                ))
            })
            .collect();
        let mut ours_codes: Vec<u64> = http.iter().filter_map(|h| h["status"].as_u64()).collect();
        let ours_snis: Vec<String> = flows(&v)
            .iter()
            .filter_map(|f| f["tls"]["sni"].as_str().map(str::to_string))
            .collect();
        let mut missed = Vec::new();
        // tshark only dissects HTTP on its registered ports, we on any port: every
        // message tshark decodes must be one of ours (as a multiset).
        for r in &reqs {
            let pos = ours_reqs
                .iter()
                .position(|o| o.0 == r.0 && (o.1 == r.1 || o.1.starts_with(&format!("{} ", r.1))));
            match pos {
                Some(p) => {
                    ours_reqs.swap_remove(p);
                }
                None => missed.push(format!("tshark decodes request {r:?}, we do not")),
            }
        }
        for c in &codes {
            match ours_codes.iter().position(|o| o == c) {
                Some(p) => {
                    ours_codes.swap_remove(p);
                }
                None => missed.push(format!("tshark decodes status {c}, we do not")),
            }
        }
        for s in &snis {
            if !ours_snis.contains(s) {
                missed.push(format!("tshark decodes SNI {s}, we do not ({ours_snis:?})"));
            }
        }
        if !missed.is_empty() {
            match known_decoder_gap(&cap) {
                Some(why) => eprintln!("known decoder gap {name} ({why}): {missed:?}"),
                None => panic!("{name}: {}", missed.join("; ")),
            }
        }
        checked += 1;
    }
    eprintln!("compared {facts} tshark facts over {checked} captures");
    assert!(
        checked >= 20 && facts >= 50,
        "too little compared: {facts} facts in {checked} captures"
    );
}

/// The key log beside a fixture (`NAME.keys` for `NAME.pcap`), the TLS captures the
/// lab recorded with their clients' secrets.
fn key_log_of(cap: &Path) -> Option<std::path::PathBuf> {
    let k = cap.with_extension("keys");
    k.exists().then_some(k)
}

/// Facts tshark decodes once it decrypts TLS: certificates (SHA-256 of the DER),
/// alerts (frame, code), HTTP/1.x and HTTP/2 requests (method, target) and statuses.
type Decrypted = (
    Vec<String>,
    Vec<(u64, u64)>,
    Vec<(String, String)>,
    Vec<u64>,
);

fn tshark_decrypted(cap: &Path, keys: Option<&Path>) -> Decrypted {
    use sha2::{Digest, Sha256};
    let mut cmd = Command::new("tshark");
    cmd.args(["-n", "-T", "fields", "-E", "separator=|"]);
    if let Some(k) = keys {
        cmd.arg("-o")
            .arg(format!("tls.keylog_file:{}", k.display()));
    }
    cmd.args(["-e", "frame.number", "-e", "tls.handshake.certificate"])
        .args(["-e", "tls.alert_message.desc", "-e", "http.request.method"])
        .args(["-e", "http.request.uri", "-e", "http.response.code"])
        .args(["-e", "http2.headers.method", "-e", "http2.headers.path"])
        .args(["-e", "http2.headers.status"])
        .args([
            "-Y",
            "tls.handshake.certificate || tls.alert_message || http.request || http.response \
             || http2.headers.method || http2.headers.status",
            "-r",
        ])
        .arg(cap);
    let out = cmd.output().expect("run tshark");
    let mut d: Decrypted = Default::default();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split('|').collect();
        if f.len() < 9 {
            continue;
        }
        let frame: u64 = f[0].parse().unwrap();
        for der in f[1].split(',').filter(|s| !s.is_empty()) {
            let bytes: Vec<u8> = (0..der.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&der[i..i + 2], 16).unwrap())
                .collect();
            let sha: String = Sha256::digest(&bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            d.0.push(sha);
        }
        d.1.extend(
            f[2].split(',')
                .filter_map(|c| c.parse().ok())
                .map(|c| (frame, c)),
        );
        // HTTP/1.x fields, then HTTP/2's (one request per stream in a record).
        for (m, u, c) in [(3, 4, 5), (6, 7, 8)] {
            let methods: Vec<&str> = f[m].split(',').filter(|s| !s.is_empty()).collect();
            let uris: Vec<&str> = f[u].split(',').collect();
            for (i, m) in methods.iter().enumerate() {
                d.2.push((m.to_string(), uris.get(i).unwrap_or(&"").to_string()));
            }
            d.3.extend(f[c].split(',').filter_map(|c| c.parse::<u64>().ok()));
        }
    }
    d
}

#[test]
fn decrypted_tls_facts_include_everything_tshark_decrypts() {
    if !tshark_available() {
        return;
    }
    let mut checked = 0;
    for cap in fixture_captures() {
        let bytes = std::fs::read(&cap).unwrap();
        let embedded = bytes.windows(4).any(|w| w == b"KSLT" || w == b"TLSK");
        let keys = key_log_of(&cap);
        if keys.is_none() && !embedded {
            continue;
        }
        let name = cap.display().to_string();
        let (certs, alerts, reqs, codes) = tshark_decrypted(&cap, keys.as_deref());
        assert!(
            !certs.is_empty() && !codes.is_empty(),
            "{name}: tshark decrypted nothing"
        );
        let mut args = vec!["analyze", "--format", "json"];
        let k = keys.as_ref().map(|k| k.to_str().unwrap().to_string());
        if let Some(k) = &k {
            args.extend(["--keylog", k.as_str()]);
        }
        args.push(cap.to_str().unwrap());
        let v: serde_json::Value = serde_json::from_str(&run(&args).stdout).unwrap();
        let tls: Vec<&serde_json::Value> = flows(&v).iter().map(|f| &f["tls"]).collect();
        let our_certs: Vec<&str> = tls
            .iter()
            .filter_map(|t| t["certificates"].as_array())
            .flatten()
            .filter_map(|c| c["sha256"].as_str())
            .collect();
        let our_alerts: Vec<(u64, u64)> = tls
            .iter()
            .filter_map(|t| t["alerts"].as_array())
            .flatten()
            .filter_map(|a| Some((a["frame"].as_u64()?, a["code"].as_u64()?)))
            .collect();
        let http: Vec<&serde_json::Value> = flows(&v)
            .iter()
            .filter_map(|f| f["http"].as_array())
            .flatten()
            .collect();
        let mut missed = Vec::new();
        for c in &certs {
            if !our_certs.contains(&c.as_str()) {
                missed.push(format!("certificate sha256 {c}"));
            }
        }
        for a in &alerts {
            if !our_alerts.contains(a) {
                missed.push(format!("alert {a:?} (frame, code)"));
            }
        }
        let mut ours_reqs: Vec<(&str, &str)> = http
            .iter()
            .filter_map(|h| Some((h["method"].as_str()?, h["target"].as_str()?)))
            .collect();
        for (m, u) in &reqs {
            match ours_reqs.iter().position(|o| o.0 == m && o.1 == u) {
                Some(p) => {
                    ours_reqs.swap_remove(p);
                }
                None => missed.push(format!("request {m} {u}")),
            }
        }
        let mut ours_codes: Vec<u64> = http.iter().filter_map(|h| h["status"].as_u64()).collect();
        for c in &codes {
            match ours_codes.iter().position(|o| o == c) {
                Some(p) => {
                    ours_codes.swap_remove(p);
                }
                None => missed.push(format!("status {c}")),
            }
        }
        assert!(
            missed.is_empty(),
            "{name}: tshark decrypts, we do not: {missed:?}"
        );
        checked += 1;
    }
    assert!(checked >= 3, "only {checked} captures with key logs");
}
