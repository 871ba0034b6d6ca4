//! `--keylog`: TLS decrypted with the key logs the lab's clients wrote
//! (fixtures/lab/scenarios/keylog.sh), and what goes wrong with the wrong key log:
//! the inspecting CA named on TLS 1.3, the provider's statuses inside the tunnel as
//! the usual findings, a reason per flow when not decrypted, and no key material in
//! any output.

use crate::common::*;
use serde_json::Value;
use std::path::Path;

fn path(name: &str) -> String {
    fixture_file(name).to_str().unwrap().to_string()
}

fn json_with(args: &[&str]) -> (Value, Run) {
    let mut a = vec!["analyze", "--format", "json"];
    a.extend_from_slice(args);
    let r = run(&a);
    assert!(r.code <= 1, "exit {}: {}", r.code, r.stderr);
    (serde_json::from_str(&r.stdout).unwrap(), r)
}

fn tls_flows(v: &Value) -> Vec<&Value> {
    flows(v).iter().filter(|f| !f["tls"].is_null()).collect()
}

fn statuses(v: &Value) -> Vec<(String, u64, bool)> {
    flows(v)
        .iter()
        .filter_map(|f| f["http"].as_array())
        .flatten()
        .filter(|h| h["method"] != "CONNECT")
        .map(|h| {
            (
                h["target"].as_str().unwrap_or("").to_string(),
                h["status"].as_u64().unwrap_or(0),
                h["decrypted"] == true,
            )
        })
        .collect()
}

fn kinds(v: &Value) -> Vec<(String, String)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_string(),
                f["title"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn inspected_tls13_tunnel_names_the_ca_and_shows_the_providers_answers() {
    let cap = path("kl-mitm-tls13.pcap");
    let keys = path("kl-mitm-tls13.keys");
    let (v, _) = json_with(&["--keylog", &keys, &cap]);
    let tls = tls_flows(&v);
    assert_eq!(tls.len(), 5);
    for f in &tls {
        let t = &f["tls"];
        assert_eq!(t["version"], "TLSv1.3");
        assert_eq!(t["decryption"]["decrypted"], true, "{t}");
        let leaf = &t["certificates"][0];
        assert_eq!(leaf["subject"], "CN=api.anthropic.com");
        assert!(
            leaf["issuer"]
                .as_str()
                .unwrap()
                .contains("Acme Corp SSL Inspection CA"),
            "{leaf}"
        );
    }
    // The clients without the corporate CA refused it; their alert was in clear, and
    // their own records cannot be read (they logged only the server's secret).
    let refused: Vec<&&Value> = tls
        .iter()
        .filter(|f| f["tls"]["outcome"] == "client_alert")
        .collect();
    assert_eq!(refused.len(), 2);
    assert!(
        refused
            .iter()
            .all(|f| f["tls"]["alerts"][0]["description"] == "unknown_ca")
    );
    // Inside the trusted tunnel: the provider's 401 (over HTTP/1.1, then over
    // HTTP/2) and 429.
    let st = statuses(&v);
    let unauthorized = st
        .iter()
        .filter(|s| s.0 == "/v1/messages" && s.1 == 401 && s.2);
    assert_eq!(unauthorized.count(), 2, "{st:?}");
    assert!(
        st.contains(&("/v1/messages?ratelimit".into(), 429, true)),
        "{st:?}"
    );
    let k = kinds(&v);
    let has = |kind: &str, text: &str| k.iter().any(|(id, t)| id == kind && t.contains(text));
    assert!(
        has("api_key_rejected", "api.anthropic.com"),
        "the 401 names the provider, not the proxy: {k:?}"
    );
    assert!(has("rate_limited", "api.anthropic.com"), "{k:?}");
    assert!(has("tls_inspection_detected", "api.anthropic.com"), "{k:?}");
    let text = serde_json::to_string(&v["findings"]).unwrap();
    assert!(text.contains("Acme Corp SSL Inspection CA"));
    assert!(text.contains("decrypted with the key log"));
}

#[test]
fn tls12_and_tls13_with_each_cipher_through_squid() {
    let cap = path("kl-squid.pcapng");
    let keys = path("kl-squid.keys");
    let (v, _) = json_with(&["--keylog", &keys, &cap]);
    let mut ciphers = Vec::new();
    for f in tls_flows(&v) {
        let t = &f["tls"];
        assert_eq!(t["decryption"]["decrypted"], true, "{t}");
        assert!(t["decryption"]["problem"].is_null(), "{t}");
        assert_eq!(t["certificates"].as_array().unwrap().len(), 3, "{t}");
        ciphers.push(t["cipher"].as_str().unwrap().to_string());
    }
    ciphers.sort();
    ciphers.dedup();
    assert_eq!(
        ciphers,
        [
            "TLS_AES_128_GCM_SHA256",
            "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        ]
    );
    let mut codes: Vec<u64> = statuses(&v).iter().map(|s| s.1).collect();
    codes.sort();
    assert_eq!(codes, [200, 200, 401, 401, 401, 429, 429]);
    assert!(statuses(&v).iter().all(|s| s.2));
}

#[test]
fn http2_inside_the_inspected_tunnel_gives_the_usual_findings() {
    let (v, r) = json_with(&["--keylog", &path("kl-h2.keys"), &path("kl-h2.pcap")]);
    // Three streams on one TLS 1.3 connection (the header table carried over from
    // one to the next), and one over TLS 1.2.
    let mut st = statuses(&v);
    st.sort();
    let want = [
        ("/v1/messages", 200),
        ("/v1/messages", 401),
        ("/v1/messages?ratelimit", 429),
        ("/v1/messages?ratelimit", 429),
    ];
    let got: Vec<(&str, u64)> = st.iter().map(|s| (s.0.as_str(), s.1)).collect();
    assert_eq!(got, want);
    assert!(st.iter().all(|s| s.2), "all read inside TLS");
    let http: Vec<&Value> = flows(&v)
        .iter()
        .filter_map(|f| f["http"].as_array())
        .flatten()
        .filter(|h| h["decrypted"] == true)
        .collect();
    for h in &http {
        assert_eq!(h["version"], "2", "{h}");
        assert_eq!(h["host"], "api.anthropic.com", "{h}");
    }
    let limited: Vec<&&Value> = http.iter().filter(|h| h["status"] == 429).collect();
    assert!(limited.iter().all(|h| h["retry_after"] == "30"));
    let k = kinds(&v);
    let has = |kind: &str, text: &str| k.iter().any(|(id, t)| id == kind && t.contains(text));
    assert!(has("api_key_rejected", "api.anthropic.com"), "{k:?}");
    assert!(has("rate_limited", "api.anthropic.com"), "{k:?}");
    // The 401's evidence: its request and the frame of the record that carried the
    // response's HEADERS (where tshark shows `:status: 401`).
    let rejected = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "api_key_rejected")
        .unwrap();
    let e = &rejected["evidence"][0];
    assert_eq!(e["frames"], serde_json::json!([38, 42]), "{e}");
    let seen = e["seen"].as_str().unwrap();
    assert!(seen.contains("HTTP/2 401: invalid x-api-key"), "{seen}");
    assert!(seen.contains("decrypted with the key log"), "{seen}");
    assert!(r.stderr.is_empty(), "{}", r.stderr);
}

#[test]
fn what_http2_holds_inside_tls_is_charged_to_the_buffer_caps() {
    // The server's frames and error bodies held inside the decrypted tunnel count
    // against --stream-buffer like any decoder's bytes: past it they are given up,
    // with a note and `partial`, and nothing is concluded from the answers not read.
    let keys = path("kl-h2.keys");
    let cap = path("kl-h2.pcap");
    let (v, _) = json_with(&["--keylog", &keys, "--stream-buffer", "100", &cap]);
    assert_eq!(v["input"]["partial"], true);
    let given_up: Vec<&Value> = tls_flows(&v)
        .into_iter()
        .filter(|f| {
            f["notes"].as_array().is_some_and(|n| {
                n.iter().any(|n| {
                    let n = n.as_str().unwrap_or("");
                    n.contains("h2:") && n.contains("buffer cap")
                })
            })
        })
        .collect();
    assert!(!given_up.is_empty(), "{v}");
    assert!(
        given_up
            .iter()
            .all(|f| f["cap_hits"]["server"].as_u64() > Some(0))
    );
    let k = kinds(&v);
    assert!(!k.iter().any(|(id, _)| id == "request_unanswered"), "{k:?}");
    // Within the default caps nothing is given up.
    let (v, _) = json_with(&["--keylog", &keys, &cap]);
    assert_eq!(v["input"]["partial"], false);
}

#[test]
fn keys_inside_the_pcapng_decrypt_as_the_key_log_file_does() {
    // editcap --inject-secrets put the same key log in a Decryption Secrets Block:
    // read without --keylog, the inspected TLS 1.3 tunnel gives the same findings
    // (the inspecting CA named, the provider's 401 and 429 inside) and statuses.
    let (with_file, _) = json_with(&[
        "--keylog",
        &path("kl-mitm-tls13.keys"),
        &path("kl-mitm-tls13.pcap"),
    ]);
    let (inside, r) = json_with(&[&path("kl-mitm-tls13-dsb.pcapng")]);
    assert_eq!(inside["findings"], with_file["findings"]);
    assert_eq!(statuses(&inside), statuses(&with_file));
    assert!(statuses(&inside).iter().any(|s| s.1 == 429 && s.2));
    let (plain, _) = json_with(&[&path("kl-mitm-tls13.pcap")]);
    assert_ne!(
        plain["findings"], inside["findings"],
        "the key log made no difference"
    );
    assert!(r.stderr.is_empty(), "{}", r.stderr);
}

#[test]
fn http2_streams_past_the_facts_budget_are_diagnosed() {
    // With no fact kept, the decrypted HTTP/2 streams are counted, not listed, and
    // their 401 and 429 still give the findings the full budget gives.
    let keys = path("kl-h2.keys");
    let cap = path("kl-h2.pcap");
    let (full, _) = json_with(&["--keylog", &keys, &cap]);
    let (none, r) = json_with(&["--keylog", &keys, "--max-facts", "0", &cap]);
    assert!(statuses(&none).is_empty(), "{:?}", statuses(&none));
    let not_kept: u64 = flows(&none)
        .iter()
        .map(|f| f["facts_not_kept"].as_u64().unwrap_or(0))
        .sum();
    assert!(not_kept >= 4, "{not_kept}");
    assert_eq!(kinds(&none), kinds(&full));
    assert_eq!(r.code, 1);
}

/// `cap` (pcap) without the packet of frame `drop`, written in `dir`.
fn without_frame(cap: &str, drop: usize, dir: &Path) -> String {
    let b = std::fs::read(cap).unwrap();
    let mut out = b[..24].to_vec();
    let (mut at, mut n) = (24, 0);
    while at + 16 <= b.len() {
        let len = u32::from_le_bytes(b[at + 8..at + 12].try_into().unwrap()) as usize;
        n += 1;
        if n != drop {
            out.extend(&b[at..at + 16 + len]);
        }
        at += 16 + len;
    }
    let p = dir.join("cut.pcap");
    std::fs::write(&p, out).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn a_record_lost_inside_http2_stops_that_sides_headers_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    // Frame 31 carries the record with the server's first HEADERS (:status 200):
    // without it, the header table of the server's later answers is unknown.
    let cap = without_frame(&path("kl-h2.pcap"), 31, dir.path());
    let (v, _) = json_with(&["--keylog", &path("kl-h2.keys"), &cap]);
    let first = tls_flows(&v)[0];
    let notes = first["notes"].as_array().unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n.as_str().unwrap().contains("header compression")),
        "{notes:?}"
    );
    let problem = first["tls"]["decryption"]["problem"].as_str().unwrap();
    assert!(problem.contains("lost in a gap"), "{problem}");
    // The three requests are still read; no status of that connection is guessed.
    let st = statuses(&v);
    assert_eq!(st.len(), 4, "{st:?}");
    assert_eq!(st.iter().filter(|s| s.1 == 0).count(), 3, "{st:?}");
    assert!(st.contains(&("/v1/messages?ratelimit".into(), 429, true)));
}

#[test]
fn without_keylog_nothing_says_decrypted() {
    for cap in ["kl-mitm-tls13.pcap", "kl-squid.pcapng", "kl-h2.pcap"] {
        let r = run(&["analyze", "--format", "json", &path(cap)]);
        assert!(!r.stdout.contains("\"decryption\""), "{cap}");
        assert!(!r.stdout.contains("\"decrypted\""), "{cap}");
        assert!(statuses(&serde_json::from_str(&r.stdout).unwrap()).is_empty());
    }
}

/// The findings and flows with the facts decryption adds taken out.
fn without_decryption(mut v: Value) -> Value {
    for f in v["flows"].as_array_mut().unwrap() {
        if let Some(t) = f["tls"].as_object_mut() {
            t.remove("decryption");
        }
    }
    v.as_object_mut().unwrap().remove("input");
    v
}

#[test]
fn wrong_key_log_says_why_per_flow_and_changes_nothing_else() {
    let cap = path("kl-squid.pcapng");
    let (plain, _) = json_with(&[&cap]);
    // The key log of another capture: no session matches.
    let (v, r) = json_with(&["--keylog", &path("kl-mitm-tls13.keys"), &cap]);
    for f in tls_flows(&v) {
        let d = &f["tls"]["decryption"];
        assert_eq!(d["decrypted"], false);
        assert_eq!(d["problem"], "no key for this client random in the key log");
    }
    assert_eq!(without_decryption(v), without_decryption(plain.clone()));
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    // The table says it too.
    let t = run(&[
        "analyze",
        "--flows",
        "0",
        "--keylog",
        &path("kl-mitm-tls13.keys"),
        &cap,
    ]);
    assert!(
        t.stdout
            .contains("not decrypted: no key for this client random in the key log"),
        "{}",
        t.stdout
    );
}

#[test]
fn damaged_key_logs_give_notes_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let cap = path("kl-squid.pcapng");
    let (plain, _) = json_with(&[&cap]);
    let text = std::fs::read_to_string(fixture_file("kl-squid.keys")).unwrap();
    // Truncated in the middle of a line: the sessions before the cut decrypt, the cut
    // line is counted as malformed, the sessions after it have no key.
    let third = text
        .match_indices("SERVER_TRAFFIC_SECRET_0")
        .nth(2)
        .unwrap()
        .0;
    let cut = third + 100;
    let truncated = dir.path().join("truncated.keys");
    std::fs::write(&truncated, &text[..cut]).unwrap();
    let (v, r) = json_with(&["--keylog", truncated.to_str().unwrap(), &cap]);
    assert!(
        r.stderr.contains("1 line(s) not in the key log format"),
        "{}",
        r.stderr
    );
    let states: Vec<bool> = tls_flows(&v)
        .iter()
        .map(|f| f["tls"]["decryption"]["decrypted"] == true)
        .collect();
    assert!(
        states.contains(&true) && states.contains(&false),
        "{states:?}"
    );
    // Right sessions, wrong secrets: the records do not open.
    let flipped: String = text
        .lines()
        .map(|l| {
            let mut parts: Vec<String> = l.split(' ').map(str::to_string).collect();
            if let Some(s) = parts.get_mut(2) {
                *s = s.chars().rev().collect();
            }
            parts.join(" ") + "\n"
        })
        .collect();
    let wrong = dir.path().join("wrong.keys");
    std::fs::write(&wrong, flipped).unwrap();
    let (v, _) = json_with(&["--keylog", wrong.to_str().unwrap(), &cap]);
    for f in tls_flows(&v) {
        let d = &f["tls"]["decryption"];
        assert_eq!(d["decrypted"], false, "{d}");
        assert!(
            d["problem"]
                .as_str()
                .unwrap()
                .contains("secrets do not decrypt the"),
            "{d}"
        );
    }
    assert_eq!(
        without_decryption(v)["findings"],
        without_decryption(plain)["findings"]
    );
    // Garbage and an empty file.
    let junk = dir.path().join("junk.keys");
    std::fs::write(&junk, b"\xff\xfe not a key log\nCLIENT_RANDOM zz\n").unwrap();
    let r = run(&["analyze", "--keylog", junk.to_str().unwrap(), &cap]);
    assert!(r.stderr.contains("2 line(s) not in the key log format"));
    assert!(r.stderr.contains("no TLS secrets in it"));
    // A missing file is a usage error naming the option.
    let r = run(&["analyze", "--keylog", "/nonexistent/k.keys", &cap]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("--keylog /nonexistent/k.keys"),
        "{}",
        r.stderr
    );
}

/// Every secret of a key log, as the hex it is written in.
fn secrets_of(keys: &Path) -> Vec<String> {
    std::fs::read_to_string(keys)
        .unwrap()
        .lines()
        .filter_map(|l| l.split(' ').nth(2).map(str::to_lowercase))
        .collect()
}

#[test]
fn no_key_material_or_decrypted_credential_in_any_output() {
    let dir = tempfile::tempdir().unwrap();
    for (cap, keys) in [
        ("kl-mitm-tls13.pcap", "kl-mitm-tls13.keys"),
        ("kl-squid.pcapng", "kl-squid.keys"),
        ("kl-h2.pcap", "kl-h2.keys"),
    ] {
        let (cap, keys) = (path(cap), path(keys));
        let secrets = secrets_of(Path::new(&keys));
        assert!(secrets.len() >= 6);
        let export = dir.path().join("certs");
        let export = export.to_str().unwrap();
        let mut outputs = Vec::new();
        for extra in [
            &["--format", "json"][..],
            &["--flows", "0", "--export-certs", export][..],
            // Finished flows through the spill file.
            &["--format", "json", "--flow-memory", "0"][..],
        ] {
            let mut args = vec!["analyze", "--keylog", &keys];
            args.extend_from_slice(extra);
            args.push(&cap);
            let r = run(&args);
            outputs.push(r.stdout.to_lowercase() + &r.stderr.to_lowercase());
        }
        assert_eq!(
            outputs[0].replace(char::is_whitespace, ""),
            outputs[2].replace(char::is_whitespace, ""),
            "the spill file keeps what decryption found"
        );
        for out in &outputs {
            for s in &secrets {
                assert!(!out.contains(&s[..16]), "key material in the output");
            }
            // The API keys and proxy password sent inside the tunnels are masked.
            for canary in [
                "sk-ant-fake-lab-key-0000000000000000",
                "sk-ant-fake-revoked-key-2222222222222222",
                "corp-pass-2024",
            ] {
                assert!(!out.contains(canary), "{canary} in the output");
            }
        }
    }
}

#[test]
fn export_certs_writes_the_inspecting_ca_chain_of_tls13() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let cap = path("kl-mitm-tls13.pcap");
    let r = run(&["analyze", "--export-certs", d, &cap]);
    assert!(r.stdout.contains("No certificate chain to export"));
    let r = run(&[
        "analyze",
        "--keylog",
        &path("kl-mitm-tls13.keys"),
        "--export-certs",
        d,
        &cap,
    ]);
    assert!(
        r.stdout
            .contains("issued by \"CN=Acme Corp SSL Inspection CA"),
        "{}",
        r.stdout
    );
    let pems: Vec<_> = std::fs::read_dir(d).unwrap().collect();
    assert_eq!(pems.len(), 1);
}

#[test]
fn with_keys_the_inspecting_chain_is_confirmed_not_inferred() {
    let cap = path("kl-mitm-tls13.pcap");
    let texts = |v: &Value| -> Vec<String> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["id"].as_str().unwrap().starts_with("tls_"))
            .flat_map(|f| f["evidence"].as_array().unwrap().iter())
            .map(|e| e["seen"].as_str().unwrap().to_string())
            .collect()
    };
    let (with, _) = json_with(&["--keylog", &path("kl-mitm-tls13.keys"), &cap]);
    let confirmed = texts(&with);
    assert!(
        confirmed
            .iter()
            .any(|t| t.contains("confirmed, not inferred")),
        "{confirmed:?}"
    );
    // Without keys the TLS 1.3 chain is not seen: nothing claims it was.
    let (without, _) = json_with(&[&cap]);
    assert!(
        texts(&without)
            .iter()
            .all(|t| !t.contains("confirmed, not inferred"))
    );
}

/// The blocks of a little-endian pcapng file, in file order.
fn pcapng_blocks(b: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 12 <= b.len() {
        let len = u32::from_le_bytes(b[at + 4..at + 8].try_into().unwrap()) as usize;
        out.push(&b[at..at + len]);
        at += len;
    }
    assert_eq!(at, b.len());
    out
}

fn block_type(b: &[u8]) -> u32 {
    u32::from_le_bytes(b[..4].try_into().unwrap())
}

#[test]
fn a_secrets_block_mid_file_applies_from_the_next_packet_whatever_the_threads() {
    // The Decryption Secrets Block that editcap --inject-secrets put at the start,
    // moved right before the first ClientHello (the tunnel it opens must decrypt as
    // if the keys came first), then right after it (too late for that tunnel, in time
    // for the others): the same analysis on one thread and on two.
    let original = std::fs::read(fixture_file("kl-mitm-tls13-dsb.pcapng")).unwrap();
    let blocks = pcapng_blocks(&original);
    let dsb = blocks.iter().position(|b| block_type(b) == 10).unwrap();
    let rest: Vec<&[u8]> = blocks
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != dsb)
        .map(|(_, b)| *b)
        .collect();
    // An enhanced packet block's data starts at byte 28; a ClientHello record starts
    // 16 03 xx, its length, then handshake type 1.
    let hello = rest
        .iter()
        .position(|b| {
            block_type(b) == 6
                && b[28..]
                    .windows(6)
                    .any(|w| w[0] == 0x16 && w[1] == 0x03 && w[5] == 0x01)
        })
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (at_start, _) = json_with(&[&path("kl-mitm-tls13-dsb.pcapng")]);
    for (name, at) in [("before-hello", hello), ("after-hello", hello + 1)] {
        let mut bytes = Vec::new();
        for (i, b) in rest.iter().enumerate() {
            if i == at {
                bytes.extend_from_slice(blocks[dsb]);
            }
            bytes.extend_from_slice(b);
        }
        let cap = dir.path().join(format!("{name}.pcapng"));
        std::fs::write(&cap, &bytes).unwrap();
        let cap = cap.to_str().unwrap();
        let (one, _) = json_with(&["--threads", "1", cap]);
        let (two, _) = json_with(&["--threads", "2", cap]);
        assert_eq!(one["findings"], two["findings"], "{name}");
        assert_eq!(one["flows"], two["flows"], "{name}");
        let decrypted = |v: &Value| {
            tls_flows(v)
                .iter()
                .filter(|f| f["tls"]["decryption"]["decrypted"] == true)
                .count()
        };
        let (n, all) = (decrypted(&one), decrypted(&at_start));
        if name == "before-hello" {
            assert_eq!(n, all);
            assert_eq!(one["findings"], at_start["findings"]);
            assert_eq!(statuses(&one), statuses(&at_start));
            assert!(statuses(&one).iter().any(|s| s.1 == 429 && s.2));
        } else {
            assert!(n > 0 && n + 1 == all, "{n} of {all} tunnels decrypted");
        }
    }
}
