//! Problems only: `--summary` (one screen), `--severity`, `--fail-on` exit codes and the
//! findings index at the top of the table report.

use crate::common::*;
use clap::Parser;
use trafficdoc::cli::{self, Cli};

/// `trafficdoc <args>` as on a terminal `width` columns wide (`None`: a pipe).
fn run_at(width: Option<u16>, args: &[&str]) -> (u8, String) {
    let mut argv = vec!["trafficdoc"];
    argv.extend_from_slice(args);
    let mut c = Cli::try_parse_from(argv).unwrap();
    c.width = width;
    let mut out = Vec::new();
    let code = cli::run(c, &mut out, &mut Vec::new()).unwrap();
    (code, String::from_utf8(out).unwrap())
}

fn titles(path: &str) -> Vec<(String, String)> {
    let v = analyze_json(std::path::Path::new(path));
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["severity"].as_str().unwrap().to_string(),
                f["title"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn summary_of_the_busy_capture_fits_one_80_by_24_screen() {
    // As the README runs it, from the checkout: a path as long as the checkout's own
    // would take lines of its own, whatever the clone's location.
    let busy = "fixtures/captures/busy-day.pcapng";
    assert!(
        std::path::Path::new(busy).exists(),
        "run from the crate root"
    );
    let (code, out) = run_at(Some(80), &["analyze", "--summary", busy]);
    assert_eq!(code, 1);
    assert!(out.lines().count() < 24, "{out}");
    assert!(out.lines().all(|l| l.chars().count() <= 80), "{out}");
    assert!(out.contains("First failing step: [guide §2]"), "{out}");
    // No flow table, but every finding with where to read more.
    assert!(!out.contains('┆'), "{out}");
    for id in [
        "proxy_auth_missing",
        "tls_handshake_abandoned",
        "api_key_rejected",
    ] {
        assert!(out.contains(&format!("trafficdoc explain {id}")), "{out}");
    }
}

#[test]
fn severity_leaves_out_what_is_below_it_and_fail_on_sets_the_exit_code() {
    let p = fixture_file("s5-gateway-slow.pcap");
    let p = p.to_str().unwrap();
    let all = titles(p);
    let warnings: Vec<_> = all.iter().filter(|(s, _)| s == "warning").collect();
    assert!(!warnings.is_empty() && all.iter().any(|(s, _)| s == "error"));
    let (_, errors_only) = run_at(None, &["analyze", "--severity", "error", p]);
    for (_, t) in &warnings {
        assert!(!errors_only.contains(t.as_str()), "{t} in {errors_only}");
    }
    let r = run(&["analyze", "--format", "json", "--severity", "error", p]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let sev: Vec<_> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["severity"].clone())
        .collect();
    assert!(sev.iter().all(|s| s == "error"), "{sev:?}");
    // The exit code weighs every finding, shown or not.
    assert_eq!(r.code, 1);
}

#[test]
fn fail_on_warning_fails_a_capture_with_only_warnings() {
    // A capture whose findings are warnings at most.
    let only_warnings = fixture_captures()
        .into_iter()
        .find(|p| {
            let t = titles(p.to_str().unwrap());
            !t.is_empty()
                && t.iter().all(|(s, _)| s != "error")
                && t.iter().any(|(s, _)| s == "warning")
        })
        .expect("a fixture with warnings and no error");
    let p = only_warnings.to_str().unwrap();
    assert_eq!(run(&["analyze", p]).code, 0);
    assert_eq!(run(&["analyze", "--fail-on", "error", p]).code, 0);
    assert_eq!(run(&["analyze", "--fail-on", "warning", p]).code, 1);
}

#[test]
fn more_than_three_findings_start_with_an_index_grep_finds_whole() {
    // Failing captures of three sections read together: their findings add up.
    let files = [
        "s1-proxy-port-closed.pcap",
        "s2-407-no-credentials.pcap",
        "s7-gateway-401-wrong-key.pcap",
        "w-cntlm-parent-basic-407.pcap",
    ]
    .map(|f| fixture_file(f).to_str().unwrap().to_string());
    let mut args = vec!["analyze", "--format", "json"];
    args.extend(files.iter().map(String::as_str));
    let doc: serde_json::Value = serde_json::from_str(&run(&args).stdout).unwrap();
    let all: Vec<String> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["title"].as_str().unwrap().to_string())
        .collect();
    assert!(all.len() > 3, "{all:?}");
    let mut args = vec!["analyze"];
    args.extend(files.iter().map(String::as_str));
    let (_, piped) = run_at(None, &args);
    let index_at = piped.find("Findings: ").expect("an index");
    let table_at = piped.find('┆').unwrap();
    assert!(index_at < table_at);
    for t in &all {
        // Every title whole on one line of the index, once more in its finding.
        assert!(
            piped.lines().filter(|l| l.contains(t.as_str())).count() >= 2,
            "{t}"
        );
    }
    // Three findings or fewer: no index.
    let busy = fixture_file("busy-day.pcapng");
    let (_, out) = run_at(None, &["analyze", busy.to_str().unwrap()]);
    assert!(!out.contains("Findings: "), "{out}");
}

#[test]
fn exit_codes_and_the_fail_on_policy_are_in_help() {
    let h = run_help(&["analyze", "--help"]);
    for want in [
        "Exit codes:",
        "--fail-on",
        "--severity",
        "--summary",
        "3 wins over 1",
    ] {
        assert!(h.contains(want), "{want} missing in {h}");
    }
}

fn run_help(args: &[&str]) -> String {
    let mut argv = vec!["trafficdoc"];
    argv.extend_from_slice(args);
    match Cli::try_parse_from(argv) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("--help parsed as a command"),
    }
}
