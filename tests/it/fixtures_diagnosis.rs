//! Every lab fixture (`fixtures/captures/*.expected.json`) through the real CLI path:
//! each section in `must_flag_sections` has an error or warning finding with that
//! `guide_section`, none of `must_not_flag_sections` has an error-level finding, the
//! exit code is `must_exit_code` when the file gives one, and the evidence names the
//! frames the expected facts list. A fixture is analysed with its file's
//! `analyze_args` (options a user gives, such as `--proxy HOST:PORT`) when it has
//! them. A fixture whose expected file has `known_gap` (what trafficdoc gets wrong on
//! it today) is reported instead of failing, but must still give a report and a
//! documented exit code. Corpus captures without a failure give no error-level
//! finding.

use clap::Parser;
use serde_json::Value;
use std::path::{Path, PathBuf};
use trafficdoc::cli::{self, Cli};

/// Corpus captures (under `../shared/corpus`) that contain no failure.
const HEALTHY_CORPUS: &[&str] = &[
    "zeek/http/proxy.pcap",
    "zeek/http/connect-with-header.pcap",
    "zeek/http/basic-auth-with-colon.pcap",
    "ja4/browsers-x509.pcapng",
    "ja4/https-connect.pcap",
    "ja4/http1-with-cookies.pcapng",
    "zeek/tls/openjdk-25.0.2-zeek.org.pcap",
    "zeek/wikipedia.pcap",
];

fn analyze_json(path: &Path) -> (u8, Value) {
    analyze_json_with(path, &[])
}

/// `analyze --format json` with the options a user would add (`--proxy HOST:PORT`).
fn analyze_json_with(path: &Path, extra: &[&str]) -> (u8, Value) {
    let mut args = vec!["trafficdoc", "analyze", "--format", "json"];
    args.extend_from_slice(extra);
    args.push(path.to_str().unwrap());
    let cli = Cli::parse_from(args);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = cli::run(cli, &mut out, &mut err).unwrap();
    // Known gaps included: a report is always a documented exit code and valid JSON.
    assert!(
        [cli::EXIT_OK, cli::EXIT_FINDINGS, cli::EXIT_DAMAGED].contains(&code),
        "{}: exit code {code}",
        path.display()
    );
    let v: Value = serde_json::from_slice(&out).unwrap_or_else(|e| {
        panic!(
            "{}: bad JSON ({e}); stderr: {}",
            path.display(),
            String::from_utf8_lossy(&err)
        )
    });
    (code, v)
}

fn sections(v: &Value, severities: &[&str]) -> Vec<u64> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| severities.contains(&f["severity"].as_str().unwrap()))
        .filter_map(|f| f["guide_section"].as_u64())
        .collect()
}

fn evidence_frames(v: &Value) -> Vec<u64> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["evidence"].as_array().unwrap().iter())
        .flat_map(|e| e["frames"].as_array().unwrap().iter())
        .filter_map(Value::as_u64)
        .collect()
}

/// What is wrong with one fixture's diagnosis, if anything.
fn check_fixture(capture: &Path, expected: &Value) -> Vec<String> {
    // The options the scenario says a user gives (where the proxy is), if any.
    let extra: Vec<&str> = expected["analyze_args"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let (code, v) = analyze_json_with(capture, &extra);
    let mut problems = Vec::new();
    if let Some(want) = expected["must_exit_code"].as_u64()
        && u64::from(code) != want
    {
        problems.push(format!("exit code {code}, want {want}"));
    }
    let flagged = sections(&v, &["error", "warning"]);
    let errors = sections(&v, &["error"]);
    let ids: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{}:{}:{}", f["id"], f["severity"], f["guide_section"]))
        .collect();
    for s in expected["must_flag_sections"].as_array().unwrap() {
        let s = s.as_u64().unwrap();
        if !flagged.contains(&s) {
            problems.push(format!("section {s} not flagged (findings: {ids:?})"));
        }
    }
    for s in expected["must_not_flag_sections"].as_array().unwrap() {
        let s = s.as_u64().unwrap();
        if errors.contains(&s) {
            problems.push(format!("section {s} flagged as error (findings: {ids:?})"));
        }
    }
    // Schema: flow ids exist, error findings carry evidence and a remedy, the summary
    // names the three layers.
    let flow_ids: Vec<u64> = v["flows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["id"].as_u64())
        .collect();
    for f in v["findings"].as_array().unwrap() {
        for id in f["flows"].as_array().unwrap() {
            if !flow_ids.contains(&id.as_u64().unwrap()) {
                problems.push(format!("{} names unknown flow {id}", f["id"]));
            }
        }
        if f["severity"] == "error"
            && (f["evidence"].as_array().unwrap().is_empty()
                || f["remedy"].as_array().unwrap().is_empty()
                || f["title"].as_str().unwrap().is_empty())
        {
            problems.push(format!("{} lacks evidence, remedy or title", f["id"]));
        }
    }
    let layers: Vec<&str> = v["summary"]["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    if layers != ["client→gateway", "gateway→proxy", "proxy→provider"] {
        problems.push(format!("summary layers {layers:?}"));
    }
    // Error findings with or without a guide section.
    let any_error = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["severity"] == "error");
    if any_error == v["summary"]["first_failure"].is_null() {
        problems.push("summary.first_failure disagrees with the findings".to_string());
    }
    if any_error != (code == cli::EXIT_FINDINGS) && code != cli::EXIT_DAMAGED {
        problems.push(format!(
            "exit code {code} with error findings = {any_error}"
        ));
    }
    // The evidence names the frames that show the failure.
    let frames = evidence_frames(&v);
    let must = |s: u64| {
        expected["must_flag_sections"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x.as_u64() == Some(s))
    };
    let facts = &expected["facts"];
    if must(1)
        && let Some(resets) = facts["resets"].as_array()
    {
        for r in resets {
            let fr = r["frame"].as_u64().unwrap();
            if !frames.contains(&fr) {
                problems.push(format!("RST frame {fr} not in the evidence"));
            }
        }
    }
    if must(2)
        && let Some(http) = facts["http"].as_array()
    {
        for h in http.iter().filter(|h| h["status"].as_u64() == Some(407)) {
            let fr = h["frame"].as_u64().unwrap();
            if !frames.contains(&fr) {
                problems.push(format!("407 in frame {fr} not in the evidence"));
            }
        }
    }
    problems
}

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/captures")
}

#[test]
fn every_fixture_yields_its_guide_sections() {
    let dir = fixture_dir();
    let mut expected_files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".expected.json"))
        .collect();
    expected_files.sort();
    assert!(
        !expected_files.is_empty(),
        "no fixtures in {}",
        dir.display()
    );
    let mut failures = Vec::new();
    let mut gaps = Vec::new();
    for exp in &expected_files {
        let name = exp.file_name().unwrap().to_string_lossy();
        let capture_name = name.trim_end_matches(".expected.json").to_string();
        let capture = dir.join(&capture_name);
        assert!(capture.exists(), "{capture_name} missing next to {name}");
        let expected: Value = serde_json::from_str(&std::fs::read_to_string(exp).unwrap()).unwrap();
        let problems = check_fixture(&capture, &expected);
        match (problems.is_empty(), expected["known_gap"].as_str()) {
            (true, Some(why)) => eprintln!(
                "note: known gap {capture_name} ({why}) now passes: remove known_gap from \
                 its expected file and its scenario script"
            ),
            (false, Some(why)) => gaps.push(format!("{capture_name}: {why}: {problems:?}")),
            (false, None) => failures.push(format!("{capture_name}: {}", problems.join("; "))),
            (true, None) => {}
        }
    }
    if !gaps.is_empty() {
        eprintln!("{} known gaps:\n  {}", gaps.len(), gaps.join("\n  "));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn healthy_corpus_captures_give_no_error() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if !corpus.exists() {
        eprintln!(
            "note: {} not present; corpus check not run",
            corpus.display()
        );
        return;
    }
    for name in HEALTHY_CORPUS {
        let p = corpus.join(name);
        assert!(p.exists(), "corpus capture {name} missing");
        let (code, v) = analyze_json(&p);
        let errors: Vec<&Value> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["severity"] == "error")
            .collect();
        assert!(errors.is_empty(), "{name}: false alarm {errors:#?}");
        assert_ne!(code, cli::EXIT_FINDINGS, "{name}");
    }
}

#[test]
fn explain_prints_the_catalog_remedy() {
    let cli = Cli::parse_from(["trafficdoc", "explain", "proxy_auth_scheme_mismatch"]);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    assert_eq!(cli::run(cli, &mut out, &mut err).unwrap(), cli::EXIT_OK);
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("Guide section 2"), "{text}");
    assert!(text.contains("cntlm"), "{text}");

    let cli = Cli::parse_from(["trafficdoc", "explain", "no_such_kind"]);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    assert_eq!(cli::run(cli, &mut out, &mut err).unwrap(), cli::EXIT_ERROR);
}
