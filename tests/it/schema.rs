//! The JSON report's schema (`src/report/json/schema.rs`): the keys of the document,
//! of a flow and of the objects in them, in order, as listed here. A change of these
//! lists is a change of the schema (`schema_version`): make it on purpose. Also: the
//! lines of `capture --format ndjson` are the same schema types, tagged with `type`.

use crate::common;
use serde_json::Value;
use trafficdoc::flow::table::TableConfig;
use trafficdoc::report::json::schema::{Finding, Flow};
use trafficdoc::report::{self, Format, Report};

/// Keys in order; `?` marks keys left out when empty or absent.
const TOP: &[&str] = &[
    "schema_version",
    "tool",
    "input",
    "summary",
    "findings",
    "flows",
];
const TOOL: &[&str] = &["name", "version"];
const INPUT: &[&str] = &[
    "files",
    "packets",
    "bytes",
    "link_types",
    "time_span",
    "truncated",
    "partial",
];
const FILE: &[&str] = &[
    "path",
    "format",
    "link_types",
    "packets",
    "bytes",
    "file_bytes",
    "first_ts",
    "last_ts",
    "truncated",
    "decode",
    "limits",
    "?capture_stats",
    "?parts",
];
const LIMITS: &[&str] = &[
    "flows_evicted",
    "partial_flows",
    "buffer_cap_hits",
    "flows_summarized",
    "facts_not_kept",
    "?summarized",
];
const SUMMARY: &[&str] = &["layers", "first_failure", "latency", "chains"];
const LAYER: &[&str] = &["name", "status", "findings"];
const LATENCY: &[&str] = &[
    "?tcp_to_proxy",
    "?connect",
    "?tls_hello",
    "?first_byte",
    "?slowest_flow",
];
const CHAIN: &[&str] = &[
    "host",
    "flows",
    "?frame",
    "subject",
    "issuer",
    "sha256",
    "established",
    "trusted_by",
];
const VERDICT: &[&str] = &["store", "?path", "trusted", "?reason"];
const FINDING: &[&str] = &[
    "id",
    "severity",
    "guide_section",
    "title",
    "explanation",
    "flows",
    "evidence",
    "?evidence_omitted",
    "remedy",
];
const EVIDENCE: &[&str] = &["?flow", "frames", "?at", "seen", "?display_filter"];
const FLOW: &[&str] = &[
    "id",
    "file",
    "transport",
    "client",
    "server",
    "state",
    "state_meaning",
    "history",
    "start",
    "end",
    "duration",
    "first_frame",
    "last_frame",
    "packets",
    "bytes",
    "wire_bytes",
    "rtt",
    "syn_retransmissions",
    "retransmissions",
    "gaps",
    "gap_bytes",
    "snaplen_cut_bytes",
    "partial",
    "cap_hits",
    "evicted",
    "?facts_not_kept",
    "rst",
    "icmp_unreachable",
    "display_filter",
    // The application facts, flattened into the flow.
    "protocol",
    "?http",
    "?tls",
    "?dns",
    "?socks",
    "?tls_in_tunnel",
    "?notes",
];
const HTTP: &[&str] = &[
    "?method",
    "?target",
    "?version",
    "?host",
    "?user_agent",
    "?request_frame",
    "?credentials",
    "?api_key",
    "?has_cookie",
    "?proxy_connection",
    "?request_cut",
    "?status",
    "?reason",
    "?response_version",
    "?response_frame",
    "?response_cut",
    "?response_end_frame",
    "?response_time",
    "?interim",
    "?challenges",
    "?retry_after",
    "?via",
    "?server",
    "?x_squid_error",
    "?content_type",
    "?content_length",
    "?error_message",
    "?tunnel",
    "?decrypted",
];
const TLS: &[&str] = &[
    "?version",
    "?client_version",
    "?supported_versions",
    "?sni",
    "?alpn",
    "?server_alpn",
    "?cipher_suites",
    "?extensions",
    "?cipher",
    "?ja4",
    "?ja4_r",
    "?ja3",
    "?ja3s",
    "?hello_retry_request",
    "?client_hello_frame",
    "?server_hello_frame",
    "?certificate_frame",
    "?certificates",
    "?client_certificates",
    "?alerts",
    "history",
    "established",
    "outcome",
    "?client_first_encrypted_len",
    "?decryption",
];
const TLS_DECRYPTION: &[&str] = &["decrypted", "records", "?problem"];
const CERTIFICATE: &[&str] = &[
    "subject",
    "issuer",
    "?san",
    "not_before",
    "not_after",
    "not_before_unix",
    "not_after_unix",
    "serial",
    "sha256",
    "self_signed",
    "is_ca",
];
const DNS: &[&str] = &[
    "?client",
    "?server",
    "transport",
    "id",
    "?query",
    "?qtype",
    "?query_frame",
    "?response_frame",
    "?rcode",
    "?answers",
    "?response_time",
    "answered",
    "?truncated",
];

/// Checks that `v` is an object whose keys are `spec`'s, in its order, none missing
/// but the `?` ones.
fn keys(what: &str, v: &Value, spec: &[&str]) {
    let obj = v
        .as_object()
        .unwrap_or_else(|| panic!("{what}: not an object: {v}"));
    let got: Vec<&str> = obj.keys().map(String::as_str).collect();
    let mut at = 0;
    for s in spec {
        let (name, optional) = match s.strip_prefix('?') {
            Some(n) => (n, true),
            None => (*s, false),
        };
        if got.get(at) == Some(&name) {
            at += 1;
        } else {
            assert!(
                optional,
                "{what}: `{name}` missing or out of order in {got:?}"
            );
        }
    }
    assert_eq!(
        at,
        got.len(),
        "{what}: keys not in the schema list: {got:?}"
    );
}

fn items<'a>(v: &'a Value, key: &str) -> &'a Vec<Value> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("`{key}` not an array"))
}

#[test]
fn report_keys_are_the_listed_schema() {
    let path = common::fixture_captures()
        .into_iter()
        .find(|p| p.ends_with("s3-ssl-inspection-trusted.pcap"))
        .expect("fixture");
    let captures = vec![common::analyze_file(&path, TableConfig::default()).unwrap()];
    let (findings, summary) = trafficdoc::analyze::diagnose(&captures, &Default::default());
    let r = Report {
        captures: &captures,
        findings: &findings,
        summary: &summary,
    };
    let mut out = Vec::new();
    report::write(Format::Json, &r, &mut out).unwrap();
    let doc: Value = serde_json::from_slice(&out).unwrap();

    keys("report", &doc, TOP);
    keys("tool", &doc["tool"], TOOL);
    keys("input", &doc["input"], INPUT);
    for f in items(&doc["input"], "files") {
        keys("input.files[]", f, FILE);
        keys("input.files[].limits", &f["limits"], LIMITS);
    }
    let s = &doc["summary"];
    keys("summary", s, SUMMARY);
    keys("summary.latency", &s["latency"], LATENCY);
    for l in items(s, "layers") {
        keys("summary.layers[]", l, LAYER);
    }
    let chains = items(s, "chains");
    assert!(!chains.is_empty(), "the fixture presents a chain");
    for c in chains {
        keys("summary.chains[]", c, CHAIN);
        for v in items(c, "trusted_by") {
            keys("summary.chains[].trusted_by[]", v, VERDICT);
        }
    }
    let fs = items(&doc, "findings");
    assert!(!fs.is_empty(), "the fixture has findings");
    for f in fs {
        keys("findings[]", f, FINDING);
        for e in items(f, "evidence") {
            keys("findings[].evidence[]", e, EVIDENCE);
        }
    }
    let (mut http, mut tls, mut certs, mut dns) = (0, 0, 0, 0);
    for f in items(&doc, "flows") {
        keys("flows[]", f, FLOW);
        for h in f["http"].as_array().into_iter().flatten() {
            keys("flows[].http[]", h, HTTP);
            http += 1;
        }
        if !f["tls"].is_null() {
            keys("flows[].tls", &f["tls"], TLS);
            tls += 1;
            for c in f["tls"]["certificates"].as_array().into_iter().flatten() {
                keys("flows[].tls.certificates[]", c, CERTIFICATE);
                certs += 1;
            }
        }
        for d in f["dns"].as_array().into_iter().flatten() {
            keys("flows[].dns[]", d, DNS);
            dns += 1;
        }
    }
    assert!(
        http > 0 && tls > 0 && certs > 0 && dns > 0,
        "{http} {tls} {certs} {dns}"
    );
}

#[test]
fn capture_lines_are_the_schema_tagged_with_their_type() {
    let path = common::fixture_captures()
        .into_iter()
        .find(|p| p.ends_with("chain-gateway-proxy-407.pcap"))
        .expect("fixture");
    let captures = vec![common::analyze_file(&path, TableConfig::default()).unwrap()];
    let (findings, summary) = trafficdoc::analyze::diagnose(&captures, &Default::default());
    let c = &captures[0];
    for (i, f) in c.flows.indexed() {
        let mut line = Vec::new();
        report::json::write_flow_event(i + 1, &c.input.path, &f, &mut line).unwrap();
        let flow = Flow::new(i + 1, &c.input.path, &f);
        let want = serde_json::json!({"type": "flow", "flow": flow});
        assert_eq!(String::from_utf8(line).unwrap(), format!("{want}\n"));
    }
    assert!(!findings.is_empty());
    let r = Report {
        captures: &captures,
        findings: &findings,
        summary: &summary,
    };
    let mut line = Vec::new();
    report::write(Format::Ndjson, &r, &mut line).unwrap();
    let mut want = serde_json::to_value(report::json::build(&r)).unwrap();
    want.as_object_mut()
        .unwrap()
        .insert("type".into(), Value::from("report"));
    assert_eq!(String::from_utf8(line).unwrap(), format!("{want}\n"));
    for f in &findings {
        let mut line = Vec::new();
        report::json::write_finding_event(f, &mut line).unwrap();
        let want = serde_json::json!({"type": "finding", "finding": Finding::from(f)});
        assert_eq!(String::from_utf8(line).unwrap(), format!("{want}\n"));
    }
}

#[test]
fn analyze_ndjson_is_findings_then_flows_then_the_report_each_with_its_keys() {
    let path = common::fixture_file("busy-day.pcapng");
    let r = common::run(&["analyze", "--format", "ndjson", path.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let lines: Vec<Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    // The order: every finding, every flow, the report last and once.
    let findings = kinds.iter().take_while(|k| **k == "finding").count();
    let flows = kinds[findings..]
        .iter()
        .take_while(|k| **k == "flow")
        .count();
    assert_eq!(&kinds[findings + flows..], &["report"]);
    let report = lines.last().unwrap();
    assert_eq!(findings, items(report, "findings").len());
    assert_eq!(flows, items(report, "flows").len());
    assert!(findings > 0 && flows > 0);
    for (l, kind) in lines.iter().zip(&kinds) {
        match *kind {
            "finding" => {
                keys("finding line", l, &["type", "finding"]);
                keys("finding line: finding", &l["finding"], FINDING);
            }
            "flow" => {
                keys("flow line", l, &["type", "flow"]);
                keys("flow line: flow", &l["flow"], FLOW);
            }
            _ => {
                let mut top = TOP.to_vec();
                top.push("type");
                keys("report line", l, &top);
            }
        }
    }
    // Each line is the document's own object.
    assert_eq!(lines[0]["finding"], report["findings"][0]);
    assert_eq!(lines[findings]["flow"], report["flows"][0]);
}

#[test]
fn decryption_keys_are_the_listed_schema() {
    let cap = common::fixture_file("kl-squid.pcapng");
    let keylog = common::fixture_file("kl-squid.keys");
    let r = common::run(&[
        "analyze",
        "--format",
        "json",
        "--keylog",
        keylog.to_str().unwrap(),
        cap.to_str().unwrap(),
    ]);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    let (mut decrypted_http, mut decryption) = (0, 0);
    for f in items(&doc, "flows") {
        for h in f["http"].as_array().into_iter().flatten() {
            keys("flows[].http[]", h, HTTP);
            decrypted_http += usize::from(h["decrypted"] == true);
        }
        if !f["tls"].is_null() {
            keys("flows[].tls", &f["tls"], TLS);
            keys(
                "flows[].tls.decryption",
                &f["tls"]["decryption"],
                TLS_DECRYPTION,
            );
            decryption += 1;
        }
    }
    assert!(decrypted_http > 0 && decryption > 0);
}
