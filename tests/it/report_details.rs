//! The human report's details on the lab fixtures: latency per stage and the slow
//! answer warning (s5-gateway-slow vs the healthy control), colour only when asked,
//! 80 columns, and evidence written in words rather than Rust names.

use clap::Parser;
use serde_json::Value;
use trafficdoc::cli::{self, Cli};

fn fixture(name: &str) -> String {
    crate::common::fixture_file(name)
        .to_string_lossy()
        .into_owned()
}

fn run(args: &[&str], color: bool) -> (u8, String) {
    let mut argv = vec!["trafficdoc"];
    argv.extend_from_slice(args);
    let mut cli = Cli::try_parse_from(argv).unwrap();
    cli.color = color;
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = cli::run(cli, &mut out, &mut err).unwrap();
    (code, String::from_utf8(out).unwrap())
}

fn json(name: &str) -> Value {
    let (_, out) = run(&["analyze", "--format", "json", &fixture(name)], false);
    serde_json::from_str(&out).unwrap()
}

fn ids(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn gateway_slow_gets_a_slow_answer_warning_with_the_stage_latency() {
    let v = json("s5-gateway-slow.pcap");
    let slow = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "slow_response")
        .unwrap_or_else(|| panic!("{:?}", ids(&v)));
    assert_eq!(slow["severity"], "warning");
    assert_eq!(slow["guide_section"], 5);
    // Python's request (flow 4, frame 16) got its 200 about 12 s later.
    assert_eq!(slow["flows"], serde_json::json!([4]));
    assert!(
        slow["evidence"][0]["frames"]
            .as_array()
            .unwrap()
            .contains(&16.into())
    );
    let fb = &v["summary"]["latency"]["first_byte"];
    assert_eq!(fb["samples"], 1);
    let max = fb["max_s"].as_f64().unwrap();
    assert!((12.0..12.1).contains(&max), "{max}");
    assert_eq!(v["summary"]["latency"]["slowest_flow"]["flow"], 4);
    assert_eq!(
        v["summary"]["latency"]["slowest_flow"]["stage"],
        "first_byte"
    );
}

#[test]
fn healthy_control_is_not_slow_and_has_every_stage() {
    let v = json("healthy-control.pcap");
    assert!(
        !ids(&v).contains(&"slow_response".to_string()),
        "{:?}",
        ids(&v)
    );
    let lat = &v["summary"]["latency"];
    for stage in ["tcp_to_proxy", "connect", "tls_hello", "first_byte"] {
        let s = &lat[stage];
        assert!(s["samples"].as_u64().unwrap() >= 1, "{stage}: {lat}");
        assert!(s["median_s"].as_f64().unwrap() <= s["max_s"].as_f64().unwrap());
        assert!(s["slowest"]["flow"].as_u64().is_some());
    }
}

#[test]
fn slow_ms_flag_moves_the_threshold() {
    let (_, out) = run(
        &[
            "analyze",
            "--format",
            "json",
            "--slow-ms",
            "20000",
            &fixture("s5-gateway-slow.pcap"),
        ],
        false,
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(!ids(&v).contains(&"slow_response".to_string()));
}

#[test]
fn colour_only_when_asked() {
    let f = fixture("s5-gateway-slow.pcap");
    let (_, plain) = run(&["analyze", &f], false);
    assert!(!plain.contains('\x1b'), "{plain}");
    let (_, coloured) = run(&["analyze", &f], true);
    assert!(coloured.contains("\x1b[1;31mERROR"), "{coloured}");
    assert!(coloured.contains("\x1b[1;33mWARNING"), "{coloured}");
}

#[test]
fn whole_report_fits_80_columns() {
    for name in [
        "busy-day.pcapng",
        "s3-ssl-inspection-trusted.pcap",
        "s5-gateway-slow.pcap",
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_trafficdoc"))
            .args(["analyze", &fixture(name)])
            .env("COLUMNS", "80")
            .env_remove("NO_COLOR")
            .output()
            .unwrap();
        let out = String::from_utf8(out.stdout).unwrap();
        assert!(!out.contains('\x1b'), "not a terminal: no colour");
        for line in out.lines() {
            // A long unbreakable token (a fingerprint, a path) may overflow alone.
            if line.split_whitespace().any(|w| w.chars().count() > 60) {
                continue;
            }
            assert!(line.chars().count() <= 80, "{name}: {line:?}");
        }
    }
}

#[test]
fn evidence_has_no_rust_debug_names() {
    let v = json("s3-ssl-inspection-untrusted-node-tls13.pcap");
    let text = serde_json::to_string(&v["findings"]).unwrap();
    assert!(!text.contains("ClientSilentAfterServerFlight"), "{text}");
    assert!(!text.contains("ClientEncryptedAlert"), "{text}");
    let abandoned = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "tls_handshake_abandoned")
        .unwrap();
    let seen = abandoned["evidence"][0]["seen"].as_str().unwrap();
    assert!(
        seen.contains("the client went silent after the server's first flight")
            || seen.contains("alert-sized encrypted record"),
        "{seen}"
    );
}

#[test]
fn capture_takes_the_same_diagnosis_flags() {
    let cli = Cli::try_parse_from([
        "trafficdoc",
        "capture",
        "-i",
        "lo",
        "--gateway-port",
        "4001",
        "--internal-suffix",
        ".acme.net,.intra",
        "--slow-ms",
        "5000",
        "--system-store",
        "--export-certs",
        "/tmp/certs",
        "port",
        "8080",
    ])
    .unwrap();
    let cli::Command::Capture(args) = cli.command else {
        panic!("not capture")
    };
    let d = &args.diagnose;
    assert_eq!(d.gateway_port, 4001);
    assert_eq!(d.internal_suffix, vec![".acme.net", ".intra"]);
    assert_eq!(d.slow_ms, 5000);
    assert!(d.system_store);
    assert_eq!(args.filter, vec!["port", "8080"]);
    let cfg = trafficdoc::analyze::Config {
        system_store: None,
        ..d.clone().into_config_without_stores()
    };
    assert!(cfg.is_internal_name("wiki.acme.net"));
    assert_eq!((cfg.gateway_port, cfg.slow_ms), (4001, 5000));
}

/// Runs the binary on a pseudo-terminal (util-linux `script`), `None` without one.
fn on_a_tty(no_color: Option<&str>) -> Option<String> {
    let cmd = format!(
        "{} analyze {}",
        env!("CARGO_BIN_EXE_trafficdoc"),
        fixture("s5-gateway-slow.pcap")
    );
    let mut c = std::process::Command::new("script");
    c.args(["-qec", &cmd, "/dev/null"]).env("TERM", "xterm");
    match no_color {
        Some(v) => c.env("NO_COLOR", v),
        None => c.env_remove("NO_COLOR"),
    };
    let out = c.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn colour_on_a_terminal_unless_no_color() {
    let Some(tty) = on_a_tty(None) else {
        eprintln!("skipped: no `script` to make a pseudo-terminal");
        return;
    };
    assert!(tty.contains("\x1b[1;31mERROR"), "{tty}");
    for v in ["", "1"] {
        let plain = on_a_tty(Some(v)).unwrap();
        assert!(!plain.contains('\x1b'), "NO_COLOR={v:?}: {plain}");
    }
}

#[test]
fn first_screen_says_which_stores_trust_each_intercepted_chain() {
    let ca = fixture("s3-acme-corp-ca.pem");
    let (_, out) = run(
        &[
            "analyze",
            "--ca-file",
            &ca,
            &fixture("s3-ssl-inspection-trusted.pcap"),
        ],
        false,
    );
    let head: String = out
        .lines()
        .take_while(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let head = head.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        head.contains(
            "Chain for api.anthropic.com (issuer \"Acme Corp SSL Inspection CA\", flow #2): \
             trusted by Mozilla/Node/certifi no, s3-acme-corp-ca.pem yes"
        ),
        "{out}"
    );
}

/// The human report of `path` from the binary, with `COLUMNS` set or (None) piped.
fn table_of(path: &std::path::Path, columns: Option<&str>) -> String {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_trafficdoc"));
    c.arg("analyze").arg(path).env_remove("COLUMNS");
    if let Some(w) = columns {
        c.env("COLUMNS", w);
    }
    String::from_utf8(c.output().unwrap().stdout).unwrap()
}

#[test]
fn piped_report_greps_whole_findings_and_commands_paste_whole() {
    let mut findings = 0;
    let mut commands = 0;
    for path in crate::common::fixture_captures() {
        let v = crate::common::analyze_json(&path);
        let piped = table_of(&path, None);
        let narrow = table_of(&path, Some("80"));
        for f in v["findings"].as_array().unwrap() {
            findings += 1;
            let title = f["title"].as_str().unwrap();
            // `trafficdoc analyze X | grep 'a finding title'` finds every finding.
            assert!(
                piped.lines().any(|l| l.contains(title)),
                "{}: title not on one line when piped: {title}",
                path.display()
            );
            // Every suggested command stands whole on a line of its own, even at 80
            // columns, so a triple-click copies it.
            let Some(step) = f["remedy"][0].as_str() else {
                continue;
            };
            for cmd in step
                .split('`')
                .skip(1)
                .step_by(2)
                .filter(|c| c.contains(' '))
            {
                commands += 1;
                for out in [&piped, &narrow] {
                    assert!(
                        out.lines().any(|l| l.trim() == cmd.trim()),
                        "{}: command not whole on its own line: {cmd}\n{out}",
                        path.display()
                    );
                }
            }
        }
        // Piped, each flow of the table is one line.
        for line in piped.lines().filter(|l| l.starts_with('│')) {
            assert!(line.ends_with('│'), "{}: {line}", path.display());
        }
    }
    assert!(
        findings > 30 && commands > 10,
        "{findings} findings, {commands} commands"
    );
}

#[test]
fn a_hop_whose_only_packet_is_an_unanswered_syn_cut_by_the_capture_is_not_seen() {
    let v = json("w-capture-ends-after-syn.pcap");
    let layers = v["summary"]["layers"].as_array().unwrap();
    let proxy = layers
        .iter()
        .find(|l| l["name"] == "gateway→proxy")
        .unwrap();
    assert_eq!(proxy["status"], "not_seen", "{layers:?}");
    assert!(v["findings"].as_array().unwrap().is_empty());
}
