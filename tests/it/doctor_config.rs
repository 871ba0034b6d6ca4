//! `trafficdoc doctor --no-probe` through the real CLI path, with the environment
//! handed in as `main` does: configuration findings, the JSON conventions shared
//! with `analyze`, the `--report` file, exit codes, and no configured secret in any
//! output. Needs no network and no privileges.

use clap::Parser;
use serde_json::Value;
use trafficdoc::cli::{self, Cli};

/// Runs `trafficdoc doctor --no-probe ARGS` with exactly `env` set.
fn doctor(env: &[(&str, &str)], args: &[&str]) -> (u8, String, String) {
    let mut argv = vec!["trafficdoc", "doctor", "--no-probe"];
    argv.extend_from_slice(args);
    let mut c = Cli::try_parse_from(argv).unwrap();
    cli::read_proxy_env(&mut c, |k| {
        env.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    });
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = cli::run(c, &mut out, &mut err).unwrap();
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

const PASSWORD: &str = "p@ss:w/rd!";
const KEY: &str = "sk-proj-ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

fn broken() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "HTTPS_PROXY",
            "http://bob:p@ss:w/rd!@proxy.corp.example:8080",
        ),
        ("https_proxy", "http://other.corp.example:3128"),
        ("HTTP_PROXY", "http://proxy.corp.example:8080"),
        ("http_proxy", "http://proxy.corp.example:8080"),
        ("NO_PROXY", "*.internal"),
        ("NODE_TLS_REJECT_UNAUTHORIZED", "0"),
        ("NODE_EXTRA_CA_CERTS", "/nonexistent/corp-ca.pem"),
        ("ANTHROPIC_API_KEY", KEY),
    ]
}

#[test]
fn configuration_findings_name_their_sections() {
    let (code, table, _) = doctor(&broken(), &[]);
    assert_eq!(code, 1, "{table}");
    let (_, json, _) = doctor(&broken(), &["--format", "json"]);
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["mode"], "doctor");
    let mut ids: Vec<(&str, u64)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap(),
                f["guide_section"].as_u64().unwrap(),
            )
        })
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            ("api_key_malformed", 7),
            ("ca_file_unusable", 3),
            ("no_proxy_not_matching", 6),
            ("proxy_credentials_encoding", 2),
            ("proxy_variables_disagree", 6),
            ("tls_verification_disabled", 3),
        ]
    );
    // The gateway goes through the proxy for everyone reading HTTP_PROXY with a
    // NO_PROXY that misses localhost; Go never proxies localhost.
    let gw = &v["no_proxy"][0];
    assert_eq!(gw["url"], "http://localhost:4000");
    assert_eq!(gw["clients"]["curl"]["route"], "proxy");
    assert_eq!(gw["clients"]["node-undici"]["variable"], "http_proxy");
    assert_eq!(gw["clients"]["go"]["route"], "direct");
    assert_eq!(v["summary"]["layers"][0]["status"], "failed");
    assert_eq!(v["summary"]["first_failure"]["guide_section"], 2);
    assert!(table.contains("First failing step: [guide §2]"), "{table}");
}

#[test]
fn a_clean_configuration_has_no_finding_and_exits_0() {
    let env = [
        (
            "HTTPS_PROXY",
            "http://alice:Corp%40Pass@proxy.corp.example:8080",
        ),
        ("NO_PROXY", "localhost,127.0.0.1,.internal"),
        (
            "ANTHROPIC_API_KEY",
            "sk-ant-api03-abcdefghijklmnopqrstuvwxyz",
        ),
    ];
    let (code, table, err) = doctor(&env, &["--internal-host", "http://git.corp.internal"]);
    assert_eq!(code, 0, "{table}{err}");
    assert!(table.contains("No error found."), "{table}");
    let line = |url: &str| {
        table
            .lines()
            .find(|l| l.trim_start().starts_with(url))
            .unwrap_or_else(|| panic!("no row for {url}:\n{table}"))
            .to_string()
    };
    assert!(!line("http://git.corp.internal").contains("via"), "{table}");
    assert!(!line("http://localhost:4000").contains("via"), "{table}");
    assert!(
        line("https://api.anthropic.com").contains("via HTTPS_PROXY"),
        "{table}"
    );
}

#[test]
fn no_secret_in_table_json_or_report() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.txt");
    let r = report.to_str().unwrap();
    let (_, table, e1) = doctor(&broken(), &["--report", r]);
    let (_, json, e2) = doctor(&broken(), &["--format", "json"]);
    let file = std::fs::read_to_string(&report).unwrap();
    assert!(
        file.contains("Date: ") && file.contains("Layers:"),
        "{file}"
    );
    assert!(
        file.contains("HTTPS_PROXY=http://bob:…@proxy.corp.example:8080"),
        "{file}"
    );
    for out in [&table, &json, &file, &e1, &e2] {
        for secret in [PASSWORD, "rd!", KEY, "ABCDEFGHIJKLMNOP"] {
            assert!(!out.contains(secret), "{secret} in:\n{out}");
        }
    }
}

#[test]
fn the_gateway_defaults_to_anthropic_base_url() {
    let env = [("ANTHROPIC_BASE_URL", "http://127.0.0.1:8000/anthropic")];
    let (_, json, _) = doctor(&env, &["--format", "json"]);
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["configuration"]["gateway"], "http://127.0.0.1:8000");
    let env = [("ANTHROPIC_BASE_URL", "https://api.anthropic.com")];
    let (_, json, _) = doctor(&env, &["--format", "json"]);
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["configuration"]["gateway"], "http://localhost:4000");
}

#[test]
fn bad_urls_are_usage_errors() {
    let (code, _, err) = doctor(&[], &["--gateway", "ftp://x"]);
    assert_eq!(code, 2);
    assert!(err.contains("--gateway"), "{err}");
}
