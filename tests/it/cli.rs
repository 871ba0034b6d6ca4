//! End-to-end tests of the `trafficdoc` binary: what a person sees on bad input, cut
//! files and pipes. Exit codes are the documented ones (README, "Exit codes").

use crate::common::*;
use std::io::Write;
use std::process::{Command, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_trafficdoc"))
}

fn one_line(s: &str) -> &str {
    let lines: Vec<&str> = s.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {s:?}");
    lines[0]
}

#[test]
fn not_a_capture_is_one_clear_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("notes.txt");
    std::fs::write(&p, "this is a text file\n").unwrap();
    let o = bin().arg("analyze").arg(&p).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8(o.stderr).unwrap();
    let line = one_line(&err);
    assert!(line.starts_with("trafficdoc: "), "{line}");
    assert!(line.contains("not a pcap or pcapng capture"), "{line}");
    assert!(o.stdout.is_empty());
}

#[test]
fn missing_file_and_empty_file_are_one_line_each() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pcap");
    std::fs::write(&empty, b"").unwrap();
    let o = bin()
        .arg("analyze")
        .arg(dir.path().join("nope.pcap"))
        .arg(&empty)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8(o.stderr).unwrap();
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].contains("nope.pcap") && lines[0].contains("No such file"),
        "{err}"
    );
    assert!(lines[1].contains("empty file"), "{err}");
}

#[test]
fn unknown_link_type_is_named() {
    // Generated header: pcap magic with link type 147 (a user-defined DLT).
    let mut h = Vec::new();
    h.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
    h.extend_from_slice(&[2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0]);
    h.extend_from_slice(&147u32.to_le_bytes());
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("odd.pcap");
    std::fs::write(&p, &h).unwrap();
    let o = bin().arg("analyze").arg(&p).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(
        one_line(&err).contains("link type USER0 (147) is not supported"),
        "{err}"
    );
}

#[test]
fn capture_cut_mid_record_is_analysed_and_flagged() {
    let src = std::fs::read(corpus_file("zeek/pop3/pop3.pcap")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("cut.pcap");
    // Cut inside a late record, as when tcpdump is killed.
    std::fs::write(&p, &src[..src.len() - 30]).unwrap();
    let o = bin()
        .args(["analyze", "--format", "json"])
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8(o.stderr).unwrap();
    let line = one_line(&err);
    assert!(line.contains("cut short in frame 125"), "{line}");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["input"]["truncated"], true);
    assert_eq!(v["input"]["files"][0]["packets"], 124);
    assert_eq!(v["input"]["files"][0]["truncated"]["frame"], 125);
    assert_eq!(flows(&v).len(), 11);
}

#[test]
fn reads_a_capture_from_stdin() {
    let src = std::fs::read(corpus_file("zeek/http/connect-with-smtp.pcap")).unwrap();
    let mut child = bin()
        .args(["analyze", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&src).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains("79.26.245.236:3378"), "{out}");
    assert!(out.contains("SF"), "{out}");
    assert!(
        out.contains("normal establishment and termination"),
        "{out}"
    );
}

#[test]
fn table_names_refusals_and_who_reset() {
    let r = run(&[
        "analyze",
        corpus_file("zeek/pop3/pop3.pcap").to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("REJ"), "{}", r.stdout);
    assert!(r.stdout.contains("RST by server (frame 2)"), "{}", r.stdout);
    assert!(
        r.stdout.contains("connection attempt rejected"),
        "{}",
        r.stdout
    );
}

#[test]
fn help_lists_the_analyze_command() {
    let o = bin().arg("--help").output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8(o.stdout).unwrap().contains("analyze"));
    let o = bin().arg("analyze").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
}

/// Counts the rows of the flow table: lines that start with a flow number cell.
fn table_rows(stdout: &str) -> Vec<usize> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("│ "))
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect()
}

#[test]
fn table_lists_the_flows_the_diagnosis_names_first_and_says_how_many_are_left() {
    let f =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/captures/busy-day.pcapng");
    let all = run(&["analyze", "--flows", "0", f.to_str().unwrap()]);
    let rows = table_rows(&all.stdout);
    assert_eq!(rows.len(), 32, "{}", all.stdout);
    let capped = run(&["analyze", "--flows", "5", f.to_str().unwrap()]);
    assert_eq!(capped.code, all.code);
    let rows = table_rows(&capped.stdout);
    // Flows 9, 20 and 30 carry the evidence of busy-day's findings: listed first, in
    // id order, with the earliest flow and the slowest one filling the rest.
    assert_eq!(rows.len(), 5, "{}", capped.stdout);
    assert!(rows.windows(2).all(|w| w[0] < w[1]), "{rows:?}");
    for named in [1, 9, 20, 30] {
        assert!(rows.contains(&named), "flow {named} missing: {rows:?}");
    }
    assert!(
        capped.stdout.contains("... 27 more flow(s) not listed"),
        "{}",
        capped.stdout
    );
    // The diagnosis above the table is the same whatever the listing.
    let head = |s: &str| s.split("┌").next().unwrap_or("").to_string();
    assert_eq!(head(&capped.stdout), head(&all.stdout));
}

#[test]
fn export_certs_to_a_file_fails_before_the_analysis_naming_the_option() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("certs.pem");
    std::fs::write(&file, "not a directory\n").unwrap();
    let cap = fixture_file("s3-ssl-inspection-untrusted-curl-tls12.pcap");
    for format in ["table", "json"] {
        let o = bin()
            .args(["analyze", "--format", format, "--export-certs"])
            .arg(&file)
            .arg(&cap)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{format}");
        assert!(
            o.stdout.is_empty(),
            "{format}: no report after a usage error"
        );
        let err = String::from_utf8(o.stderr).unwrap();
        let line = one_line(&err);
        assert!(line.starts_with("trafficdoc: --export-certs "), "{line}");
        assert!(line.ends_with("not a directory"), "{line}");
    }
    // A directory that does not exist yet is made, and the findings keep their exit code.
    let fresh = dir.path().join("new/certs");
    let o = bin()
        .arg("analyze")
        .arg("--export-certs")
        .arg(&fresh)
        .arg(&cap)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(std::fs::read_dir(&fresh).unwrap().count() > 0);
}

#[test]
fn unreadable_ca_file_names_the_option() {
    let o = bin()
        .args(["analyze", "--ca-file", "/nonexistent/ca.pem"])
        .arg(fixture_file("healthy-control.pcap"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(
        one_line(&err).starts_with("trafficdoc: --ca-file /nonexistent/ca.pem: "),
        "{err}"
    );
}

#[test]
fn explain_takes_ids_as_people_type_them_and_suggests_near_ones() {
    let o = bin()
        .args(["explain", "Proxy-Auth-Rejected"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(
        String::from_utf8(o.stdout)
            .unwrap()
            .starts_with("proxy_auth_rejected: ")
    );
    let o = bin()
        .args(["explain", "proxy_auth_rejeted"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(
        one_line(&err).contains("did you mean proxy_auth_rejected?"),
        "{err}"
    );
    let o = bin().args(["explain", "qqqq"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        !String::from_utf8(o.stderr)
            .unwrap()
            .contains("did you mean")
    );
}

#[test]
fn impossible_option_values_are_usage_errors() {
    let cap = fixture_file("healthy-control.pcap");
    for bad in [
        &["--gateway-port", "0"][..],
        &["--stall-secs", "0"],
        &["--stall-secs=-1"],
        &["--slow-ms", "0"],
        &["--idle-timeout", "0"],
        &["--max-flows", "0"],
    ] {
        let o = bin().arg("analyze").args(bad).arg(&cap).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{bad:?}");
        assert!(o.stdout.is_empty(), "{bad:?}");
        let err = String::from_utf8(o.stderr).unwrap();
        let flag = bad[0].split('=').next().unwrap();
        assert!(
            err.contains(flag),
            "{bad:?}: the error names the option: {err}"
        );
    }
}

#[test]
fn help_lists_the_exit_codes_and_color_is_chosen_by_flag() {
    let o = bin().args(["analyze", "--help"]).output().unwrap();
    let help = String::from_utf8(o.stdout).unwrap();
    assert!(help.contains("Exit codes:"), "{help}");
    assert!(help.contains("3  analysis done on damaged input"), "{help}");
    let cap = fixture_file("s2-407-no-credentials.pcap");
    // Piped: no colour unless asked for; `--color never` wins over a terminal.
    let plain = bin().arg("analyze").arg(&cap).output().unwrap();
    assert!(!plain.stdout.contains(&0x1b));
    let always = bin()
        .args(["--color", "always", "analyze"])
        .arg(&cap)
        .output()
        .unwrap();
    assert!(always.stdout.contains(&0x1b));
    let never = bin()
        .args(["analyze", "--color=never"])
        .arg(&cap)
        .output()
        .unwrap();
    assert_eq!(never.stdout, plain.stdout);
}

#[test]
fn proxy_and_gateway_hints_reach_the_config() {
    use clap::Parser;
    use trafficdoc::analyze::endpoint::Endpoint;
    use trafficdoc::cli::{Cli, Command as Cmd};
    let mut c = Cli::try_parse_from([
        "trafficdoc",
        "analyze",
        "--proxy",
        "127.0.0.1:3128",
        "--proxy",
        "proxy.corp:8080",
        "--gateway",
        "[::1]:4000",
        "x.pcap",
    ])
    .unwrap();
    trafficdoc::cli::read_proxy_env(&mut c, |k| match k {
        "HTTPS_PROXY" => Some("http://alice:secret@localhost:3128/".to_string()),
        "http_proxy" => Some("http://127.0.0.1:3128".to_string()),
        "HTTP_PROXY" => Some("  ".to_string()),
        _ => None,
    });
    let Cmd::Analyze(a) = c.command else {
        panic!("not analyze")
    };
    let cfg = a.diagnose.config().unwrap();
    let ep = |h: &str, port| Endpoint {
        host: h.to_string(),
        port,
    };
    assert_eq!(
        cfg.proxy_hints,
        vec![
            ep("127.0.0.1", 3128),
            ep("proxy.corp", 8080),
            ep("localhost", 3128)
        ]
    );
    assert_eq!(cfg.gateway_hints, vec![ep("::1", 4000)]);
    // Without a port, or not HOST:PORT at all: a usage error.
    for bad in ["proxy.corp", "[::1]", "h:0"] {
        assert!(Cli::try_parse_from(["trafficdoc", "analyze", "--proxy", bad, "x.pcap"]).is_err());
        assert!(
            Cli::try_parse_from(["trafficdoc", "capture", "--gateway", bad]).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn https_proxy_of_the_environment_names_the_proxy() {
    let cap = fixture_file("s4-gateway-health-failing.pcap");
    let run = |proxy: Option<&str>| {
        let mut cmd = bin();
        cmd.args(["analyze", "--format", "json"]).arg(&cap);
        for k in trafficdoc::cli::PROXY_ENV_VARS {
            cmd.env_remove(k);
        }
        if let Some(p) = proxy {
            cmd.env("HTTPS_PROXY", p);
        }
        let out = cmd.output().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect::<Vec<String>>()
    };
    // The gateway's dead api_base on 127.0.0.1:9 (no proxy port): a refused connection.
    let plain = run(None);
    assert!(
        plain.contains(&"connection_refused".to_string()),
        "{plain:?}"
    );
    assert!(
        !plain.contains(&"proxy_connection_refused".to_string()),
        "{plain:?}"
    );
    // Named as the proxy: section 1.
    let hinted = run(Some("http://127.0.0.1:9"));
    assert!(
        hinted.contains(&"proxy_connection_refused".to_string()),
        "{hinted:?}"
    );
    assert!(
        !hinted.contains(&"connection_refused".to_string()),
        "{hinted:?}"
    );
}

#[test]
fn a_pcapng_interface_we_cannot_decode_is_reported_by_name() {
    // A recorded capture, then a GENERATED second section whose one interface is USB
    // (USB_LINUX_MMAPPED, 220) with one packet.
    let mut bytes = std::fs::read(fixture_file("busy-day.pcapng")).unwrap();
    bytes.extend_from_slice(&pcapng_with_link(220));
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("with-usb.pcapng");
    std::fs::write(&p, &bytes).unwrap();
    let o = bin().arg("analyze").arg(&p).output().unwrap();
    // The network traffic is analysed as before; the report says what was left out.
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stderr.is_empty());
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains("LINUX_SLL+USB_LINUX_MMAPPED (220)"), "{out}");
    assert!(
        out.contains(
            "note: 1 frame(s) on a link type trafficdoc does not decode (USB_LINUX_MMAPPED (220)) were not analysed"
        ),
        "{out}"
    );
}

/// A reader that closes the pipe early (`| head -1`) ends the output, not the run:
/// the exit code still reports the error-level findings. It once was 0.
#[test]
fn closed_pipe_keeps_the_findings_exit_code() {
    use std::io::Read;
    let cap = fixture_file("busy-day.pcapng");
    for format in ["json", "table", "ndjson"] {
        let mut child = bin()
            .args(["analyze", "--flows", "0", "--format", format])
            .arg(&cap)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // More than a pipe holds (64 KiB) is written, so the writer meets the close.
        let mut first = [0u8; 16];
        child.stdout.take().unwrap().read_exact(&mut first).unwrap();
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(1), "{format}");
        assert!(o.stderr.is_empty(), "{format}: {:?}", o.stderr);
    }
}

/// /dev/full opened for writing (every write fails: no space left), or `None`, said
/// on stderr, where there is none.
fn dev_full() -> Option<std::fs::File> {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .ok();
    if full.is_none() {
        eprintln!("SKIPPED: no /dev/full");
    }
    full
}

/// Output that cannot be written (a full disk: /dev/full) is exit code 2 with one
/// line saying why, for every command: the last buffered bytes once failed silently.
#[test]
fn output_that_cannot_be_written_is_exit_2() {
    let Some(full) = dev_full() else {
        return;
    };
    let cap = fixture_file("chain-healthy.pcap");
    let cap = cap.to_str().unwrap();
    for args in [
        &["explain"][..],
        &["explain", "proxy_auth_missing"],
        &["analyze", cap],
        &["analyze", "--format", "json", cap],
        &["doctor", "--no-probe"],
    ] {
        let o = bin()
            .args(args)
            .stdout(full.try_clone().unwrap())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(o.stderr).unwrap();
        assert!(
            one_line(&err).contains("No space left on device"),
            "{args:?}: {err}"
        );
    }
}

/// Seconds too many for a `Duration` (`1e308`) once panicked in `capture --duration`
/// and `doctor --timeout`: a usage error naming the option, exit 2, for every option
/// that takes seconds.
#[test]
fn seconds_too_big_are_usage_errors_not_panics() {
    let cap = fixture_file("healthy-control.pcap");
    let cap = cap.to_str().unwrap();
    for args in [
        &["capture", "-i", "lo", "--duration", "1e308"][..],
        &["doctor", "--no-probe", "--timeout", "1e308"],
        &["analyze", "--stall-secs", "1e308", cap],
    ] {
        let o = bin().args(args).output().unwrap();
        let err = String::from_utf8(o.stderr).unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        let flag = args
            .iter()
            .find(|a| a.starts_with("--") && *a != &"--no-probe");
        assert!(err.contains(flag.unwrap()), "{args:?}: {err}");
    }
}

/// Standard error that cannot be written (/dev/full) once cost the whole report and
/// turned exit code 3 into 2: a warning is best effort, the report and the code stay.
#[test]
fn unwritable_stderr_keeps_the_report_and_the_exit_code() {
    let Some(full) = dev_full() else {
        return;
    };
    let bytes = std::fs::read(fixture_file("chain-gateway-proxy-407.pcap")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() - 10]).unwrap();
    let o = bin()
        .arg("analyze")
        .arg(&cut)
        .stderr(full.try_clone().unwrap())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    let report = String::from_utf8(o.stdout).unwrap();
    assert!(report.contains("Diagnosis:"), "{report}");
    // --stats writes a line on stderr after the report: the findings' code stays.
    let o = bin()
        .args(["analyze", "--stats"])
        .arg(fixture_file("chain-gateway-proxy-407.pcap"))
        .stderr(full)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
}
