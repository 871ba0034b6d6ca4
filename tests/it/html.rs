//! The HTML report (`analyze --format html`), loaded in a real headless Chromium over
//! the DevTools protocol: for every fixture capture the page runs without a console
//! error, shows every finding's title and guide section of the JSON report, and draws
//! the ladder of the first failing connection with the expected steps in order; no
//! canary secret of the lab is anywhere in the file; the page fetches nothing.
//! Screenshots of the section fixtures are kept in `target/html-screenshots/`.
//!
//! Without Chromium (`scripts/ensure-deps --test` installs it) the browser test says
//! so and passes locally; under CI (`CI` set) it fails.

mod cdp;

use crate::common::synth::Pcap;
use crate::common::*;
use crate::targets::leak_forms;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// `analyze --format html` of `cap`.
fn html_of(cap: &Path) -> String {
    let r = run(&["analyze", "--format", "html", cap.to_str().unwrap()]);
    assert!(
        matches!(r.code, 0 | 1 | 3),
        "{}: exit {}: {}",
        cap.display(),
        r.code,
        r.stderr
    );
    assert!(r.stdout.starts_with("<!DOCTYPE html>"), "{}", cap.display());
    r.stdout
}

fn name(cap: &Path) -> &str {
    cap.file_name().unwrap().to_str().unwrap()
}

/// The ladder steps (`data-step` of each arrow) expected, in this order, in the first
/// ladder of the first failing step's finding; `!` marks the step drawn as the first
/// failure. Each is what the scenario does on the wire (fixtures/lab/scenarios).
const LADDERS: &[(&str, &[&str])] = &[
    (
        "kl-mitm-tls13.pcap",
        &[
            "syn",
            "syn-ack",
            "connect",
            "status",
            "client-hello",
            "server-hello",
            "!alert",
            "rst",
        ],
    ),
    (
        "kl-mitm-tls13-dsb.pcapng",
        &[
            "syn",
            "syn-ack",
            "connect",
            "status",
            "client-hello",
            "server-hello",
            "certificate",
            "!alert",
            "rst",
        ],
    ),
    (
        "kl-squid-dsb.pcapng",
        &[
            "syn",
            "syn-ack",
            "connect",
            "status",
            "client-hello",
            "server-hello",
            "certificate",
            "request",
            "!response",
        ],
    ),
    ("d-dns-retransmission.pcap", &["dns-query", "!no-answer"]),
    (
        "busy-day.pcapng",
        &["syn", "syn-ack", "connect", "!status", "fin"],
    ),
    (
        "chain-gateway-proxy-407.pcap",
        &["syn", "syn-ack", "connect", "!status"],
    ),
    (
        "chain-gateway-ssl-inspection.pcap",
        &[
            "syn",
            "syn-ack",
            "connect",
            "status",
            "client-hello",
            "server-hello",
            "!tls-outcome",
        ],
    ),
    (
        "chain-provider-401.pcap",
        &["syn", "syn-ack", "request", "!response"],
    ),
    ("s1-proxy-nxdomain.pcapng", &["dns-query", "!dns-response"]),
    ("s1-proxy-port-closed.pcap", &["syn", "!rst"]),
    ("s1-proxy-syn-dropped.pcap", &["syn", "!no-answer"]),
    (
        "s2-407-no-credentials.pcap",
        &["syn", "syn-ack", "connect", "!status"],
    ),
    (
        "s2-407-ntlm-handshake-refused.pcap",
        &["syn", "syn-ack", "connect", "!status"],
    ),
    (
        "s2-407-ntlm-only.pcap",
        &["syn", "syn-ack", "connect", "!status"],
    ),
    (
        "s2-407-password-double-encoded.pcap",
        &["syn", "syn-ack", "connect", "!status"],
    ),
    (
        "s2-407-wrong-password.pcap",
        &["syn", "syn-ack", "connect", "!status"],
    ),
    (
        "s2-domain-user.pcap",
        &["syn", "syn-ack", "connect", "!status", "rst"],
    ),
    (
        "s3-ssl-inspection-untrusted-curl-tls12.pcap",
        &[
            "syn",
            "syn-ack",
            "connect",
            "status",
            "client-hello",
            "server-hello",
            "certificate",
            "!alert",
        ],
    ),
    (
        "s3-ssl-inspection-untrusted-curl-tls13.pcap",
        &[
            "syn",
            "syn-ack",
            "connect",
            "status",
            "client-hello",
            "server-hello",
            "!alert",
        ],
    ),
    (
        "s3-ssl-inspection-untrusted-node-tls12.pcapng",
        &[
            "syn",
            "syn-ack",
            "connect",
            "status",
            "client-hello",
            "server-hello",
            "certificate",
            "!fin",
        ],
    ),
    (
        "s3-ssl-inspection-untrusted-node-tls13.pcap",
        &[
            "syn",
            "syn-ack",
            "connect",
            "status",
            "client-hello",
            "server-hello",
            "!tls-outcome",
        ],
    ),
    (
        "s3-ssl-inspection-untrusted-python-tls12.pcapng",
        &[
            "syn",
            "syn-ack",
            "connect",
            "status",
            "client-hello",
            "server-hello",
            "certificate",
            "!alert",
        ],
    ),
    (
        "s3-ssl-inspection-untrusted-python-tls13.pcap",
        &[
            "syn",
            "syn-ack",
            "connect",
            "status",
            "client-hello",
            "server-hello",
            "!alert",
        ],
    ),
    (
        "s4-gateway-health-failing.pcap",
        &["syn", "syn-ack", "request", "!response"],
    ),
    ("s4-gateway-port-closed.pcap", &["syn", "!rst"]),
    (
        "s5-429-gateway-rpm-limit.pcap",
        &["syn", "syn-ack", "request", "!response"],
    ),
    (
        "s5-429-retry-after.pcap",
        &["syn", "syn-ack", "request", "!response"],
    ),
    (
        "s5-connect-blackhole.pcap",
        &["syn", "syn-ack", "connect", "!no-response", "fin"],
    ),
    (
        "s5-connect-blackhole-proxy-side.pcapng",
        &["syn", "syn-ack", "connect", "!no-response", "fin"],
    ),
    (
        "s5-gateway-slow.pcap",
        &["syn", "syn-ack", "request", "!no-response", "fin"],
    ),
    (
        "s6-no-proxy-spaces.pcap",
        &["syn", "syn-ack", "request", "!response"],
    ),
    (
        "s6-no-proxy-wildcard.pcap",
        &["syn", "syn-ack", "request", "!response"],
    ),
    (
        "s7-gateway-401-wrong-key.pcap",
        &["syn", "syn-ack", "request", "!response"],
    ),
    (
        "v-cntlm-lo-only-parent-refuses.pcapng",
        &["syn", "syn-ack", "connect", "!status", "fin"],
    ),
    (
        "v-cntlm-parent-upstream-fails.pcap",
        &["syn", "syn-ack", "connect", "!status", "fin"],
    ),
    (
        "v-connect-timeout-before-tinyproxy-error.pcap",
        &["syn", "syn-ack", "connect", "fin", "!status", "rst"],
    ),
    (
        "v-gateway-429-only.pcap",
        &["syn", "syn-ack", "request", "!response", "fin"],
    ),
    ("v-gateway-ipv6-only.pcapng", &["syn", "!rst"]),
    ("v-gateway-refuses-some.pcap", &["syn", "!rst"]),
    (
        "v-icmp6-packet-too-big.pcapng",
        &["syn", "syn-ack", "request", "!no-response", "icmp"],
    ),
    ("v-local-proxy-ipv6-only.pcap", &["syn", "!rst"]),
    (
        "v-proxy-errors-tinyproxy-mitmproxy.pcapng",
        &["syn", "syn-ack", "connect", "!status", "fin"],
    ),
    ("v-squid-refuses-some-python.pcap", &["syn", "!rst"]),
    (
        "v-tls-handshake-failure-cipher.pcapng",
        &[
            "syn",
            "syn-ack",
            "connect",
            "status",
            "client-hello",
            "!alert",
            "fin",
        ],
    ),
    (
        "v-tls-version-refused-tinyproxy.pcapng",
        &[
            "syn",
            "syn-ack",
            "connect",
            "status",
            "client-hello",
            "!alert",
            "fin",
        ],
    ),
    (
        "v-tunnel-silent-node-tinyproxy.pcapng",
        &[
            "syn",
            "syn-ack",
            "connect",
            "status",
            "client-hello",
            "server-hello",
            "app-data",
            "!no-response",
            "fin",
        ],
    ),
    (
        "w-429-never-succeeds.pcap",
        &["syn", "syn-ack", "request", "!response"],
    ),
    (
        "w-cntlm-closes-without-response.pcap",
        &["syn", "syn-ack", "connect", "!status"],
    ),
    (
        "w-cntlm-parent-basic-407.pcap",
        &["syn", "syn-ack", "connect", "!status", "fin"],
    ),
    (
        "w-cntlm-parent-ntlm-refused.pcap",
        &["syn", "syn-ack", "connect", "!status"],
    ),
    ("w-cntlm-parent-refused.pcap", &["syn", "!rst"]),
    (
        "w-connect-timeout-before-proxy-503.pcap",
        &["syn", "syn-ack", "connect", "fin", "!status", "rst"],
    ),
    (
        "w-icmp-frag-needed.pcap",
        &["syn", "syn-ack", "request", "!no-response", "icmp"],
    ),
    ("w-local-proxy-helper-down.pcap", &["syn", "!rst"]),
    (
        "w-node-tls12-untrusted-close.pcap",
        &[
            "syn",
            "syn-ack",
            "connect",
            "status",
            "client-hello",
            "server-hello",
            "certificate",
            "!fin",
        ],
    ),
    (
        "w-proxy-own-5xx.pcap",
        &["syn", "syn-ack", "connect", "!status", "rst"],
    ),
    ("w-proxy-refuses-some.pcap", &["syn", "!rst"]),
    (
        "w-tunnel-origin-silent.pcap",
        &[
            "syn",
            "syn-ack",
            "connect",
            "status",
            "client-hello",
            "server-hello",
            "app-data",
            "!no-response",
            "fin",
        ],
    ),
    (
        "w-tls-version-refused.pcap",
        &[
            "syn",
            "syn-ack",
            "connect",
            "status",
            "client-hello",
            "!alert",
        ],
    ),
];

/// Does `got` hold `want` in order (other steps may come between)? The step marked
/// `!` must be the first one drawn as failed.
fn ladder_problem(got: &[String], first_bad: Option<&str>, want: &[&str]) -> Option<String> {
    let mut it = got.iter();
    for w in want {
        let w = w.trim_start_matches('!');
        if !it.any(|g| g == w) {
            return Some(format!("step {w:?} missing or out of order"));
        }
    }
    let bad = want.iter().find_map(|w| w.strip_prefix('!'));
    (bad != first_bad).then(|| format!("first failed step {first_bad:?}, expected {bad:?}"))
}

/// Runs `f` with the browser, or says why not: locally a missing Chromium skips, under
/// CI it fails.
fn with_browser(f: impl FnOnce(&mut cdp::Browser)) {
    match cdp::find() {
        Some(bin) => f(&mut cdp::Browser::launch(&bin)),
        None if std::env::var_os("CI").is_some() => {
            panic!("Chromium is missing: CI must run scripts/ensure-deps --test")
        }
        None => eprintln!(
            "SKIPPED: html browser test: no chromium on the PATH (scripts/ensure-deps --test installs it)"
        ),
    }
}

fn screenshots_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/html-screenshots");
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn every_fixture_page_renders_findings_and_ladders_in_chromium() {
    with_browser(|b| {
        let dir = tempfile::tempdir().unwrap();
        let shots = screenshots_dir();
        let page = b.open(1280, 900);
        // The error collection itself works: a page that throws and logs is caught.
        let broken = dir.path().join("broken.html");
        std::fs::write(
            &broken,
            "<!DOCTYPE html><script>console.error('logged');throw new Error('thrown')</script>",
        )
        .unwrap();
        let seen = b.load(&page, &broken).errors.join("\n");
        assert!(seen.contains("logged") && seen.contains("thrown"), "{seen}");
        let mut problems = Vec::new();
        let mut checked_ladders = 0;
        for cap in fixture_captures() {
            let n = name(&cap).to_string();
            let file = dir.path().join(format!("{n}.html"));
            std::fs::write(&file, html_of(&cap)).unwrap();
            let json = analyze_json(&cap);
            let load = b.load(&page, &file);
            for e in &load.errors {
                problems.push(format!("{n}: {e}"));
            }
            if b.eval(&page, "document.body.getAttribute('data-ready')") != "1" {
                problems.push(format!("{n}: the page's script did not finish"));
            }
            // Each finding's title and guide section, in its own rendered article.
            let texts = b.eval(
                &page,
                "Array.from(document.querySelectorAll('article.finding')).map(a => a.textContent)",
            );
            let findings = json["findings"].as_array().unwrap();
            if texts.as_array().map(Vec::len) != Some(findings.len()) {
                problems.push(format!(
                    "{n}: {} findings rendered, JSON has {}",
                    texts.as_array().map_or(0, Vec::len),
                    findings.len()
                ));
            }
            for (i, f) in findings.iter().enumerate() {
                let id = f["id"].as_str().unwrap();
                let text = texts[i].as_str().unwrap_or("");
                let title = f["title"].as_str().unwrap();
                if !text.contains(title) {
                    problems.push(format!("{n}: {id}: title {title:?} not shown"));
                }
                if let Some(s) = f["guide_section"].as_u64()
                    && !text.contains(&format!("guide §{s}"))
                {
                    problems.push(format!("{n}: {id}: guide §{s} not shown"));
                }
            }
            // Every flow of the JSON report is in the page's data.
            let rows = b.eval(&page, "document.getElementById('conn-count').textContent");
            let flows = flows(&json).len();
            if rows.as_str() != Some(&format!("{flows} of {flows} connection(s)")) {
                problems.push(format!("{n}: table says {rows}, JSON has {flows} flows"));
            }
            match json["summary"]["first_failure"]["id"].as_str() {
                Some(id) => {
                    let steps = b.eval(
                        &page,
                        &format!(
                            "(() => {{ const l = document.querySelector('article.finding[data-finding=\"{id}\"] figure.ladder');\
                             if (!l) return null; const g = Array.from(l.querySelectorAll('g.step'));\
                             const bad = l.querySelector('g.step.first-bad');\
                             return {{steps: g.map(s => s.dataset.step), bad: bad && bad.dataset.step,\
                             frames: g.map(s => Number(s.dataset.frame || 0))}}; }})()"
                        ),
                    );
                    if steps.is_null() {
                        problems.push(format!("{n}: no ladder for the first failure {id}"));
                    } else {
                        let got: Vec<String> = steps["steps"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|s| s.as_str().unwrap().to_string())
                            .collect();
                        let frames: Vec<u64> = steps["frames"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .filter_map(Value::as_u64)
                            .filter(|f| *f > 0)
                            .collect();
                        if !frames.is_sorted() {
                            problems.push(format!("{n}: ladder frames out of order: {frames:?}"));
                        }
                        match LADDERS.iter().find(|(f, _)| *f == n) {
                            Some((_, want)) => {
                                if let Some(p) = ladder_problem(&got, steps["bad"].as_str(), want) {
                                    problems.push(format!("{n}: ladder {got:?}: {p}"));
                                }
                                checked_ladders += 1;
                            }
                            None => problems.push(format!(
                                "{n}: no expected ladder listed for its first failure ({id}): {got:?} bad {}",
                                steps["bad"]
                            )),
                        }
                    }
                }
                None => {
                    if LADDERS.iter().any(|(f, _)| *f == n) {
                        problems.push(format!("{n}: expected a failure, none reported"));
                    }
                }
            }
            if n.starts_with('s') && n.as_bytes().get(1).is_some_and(u8::is_ascii_digit)
                || n.starts_with("chain-")
                || n.starts_with("busy-day")
            {
                b.screenshot(&page, &shots.join(format!("{n}.png")));
            }
        }
        b.close(page);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        assert!(
            checked_ladders >= 20,
            "only {checked_ladders} ladders checked"
        );
    });
}

/// The lab's canary secrets (fixtures/lab/lib.sh) and each fixture's recorded
/// `secrets_present`.
fn canaries(cap: &Path) -> Vec<String> {
    let mut v: Vec<String> = [
        "sk-lab-master-0000",
        "sk-ant-FAKE-lab-key-0000000000000000",
        "sk-ant-FAKE-wrong-key-1111111111111111",
        "sk-ant-FAKE-REVOKED-key-2222222222222222",
        "Corp-Pass-2024",
        "p@ss:w/rd!",
        "Domain-Pass-77",
        "Summer@2024",
    ]
    .map(String::from)
    .to_vec();
    let exp = PathBuf::from(format!("{}.expected.json", cap.display()));
    if let Ok(text) = std::fs::read_to_string(exp) {
        let e: Value = serde_json::from_str(&text).unwrap();
        for s in e["facts"]["secrets_present"]
            .as_array()
            .into_iter()
            .flatten()
        {
            v.push(s.as_str().unwrap().to_string());
        }
    }
    v
}

#[test]
fn no_fixture_page_holds_a_canary_or_fetches_anything() {
    let lib =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/lab/lib.sh"))
            .unwrap();
    let mut with_secrets = 0;
    for cap in fixture_captures() {
        let html = html_of(&cap);
        let list = canaries(&cap);
        for s in &list {
            assert!(lib.contains(s.as_str()) || s.len() > 4, "{s}");
            for form in leak_forms(s.as_bytes()) {
                assert!(
                    !html.contains(&form),
                    "{}: canary {s:?} in the page as {form:?}",
                    name(&cap)
                );
            }
        }
        with_secrets += usize::from(list.len() > 8);
        // Self-contained: no resource from anywhere else.
        for bad in [
            "<link",
            " src=",
            "@import",
            "url(",
            "http-equiv=\"refresh\"",
        ] {
            assert!(!html.contains(bad), "{}: {bad:?} in the page", name(&cap));
        }
        assert!(html.contains("Content-Security-Policy"), "{}", name(&cap));
    }
    assert!(
        with_secrets >= 5,
        "only {with_secrets} fixtures carry canaries"
    );
}

/// Markup in a capture stays text: a CONNECT target, realm and Host header that
/// carry `<script>`, an event handler and a closing `</script>` never run in the page
/// IT opens, and are shown as written.
#[test]
fn markup_from_the_wire_is_shown_never_run() {
    const EVIL: &str =
        "</script><script>window.pwned=1</script><img src=x onerror=\"window.pwned=2\">";
    let mut p = Pcap::new();
    let connect = format!("CONNECT {EVIL}:443 HTTP/1.1\r\nHost: {EVIL}:443\r\n\r\n");
    let answer = format!(
        "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"{EVIL}\"\r\nContent-Length: 0\r\n\r\n"
    );
    p.conversation(
        ([10, 0, 0, 2], 40000),
        ([10, 0, 0, 1], 3128),
        &[(connect, answer)],
    );
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("evil.pcap");
    std::fs::write(&cap, &p.bytes).unwrap();
    let html = html_of(&cap);
    assert!(
        html.contains("data-finding="),
        "no finding: the test would prove nothing"
    );
    for raw in ["<script>window.pwned", "<img src=x", "</script><script>"] {
        assert!(!html.contains(raw), "{raw:?} in the page unescaped");
    }
    let file = dir.path().join("evil.html");
    std::fs::write(&file, &html).unwrap();
    with_browser(|b| {
        let page = b.open(1280, 900);
        let load = b.load(&page, &file);
        assert!(load.errors.is_empty(), "{:?}", load.errors);
        assert_eq!(b.eval(&page, "String(window.pwned)"), "undefined");
        assert_eq!(
            b.eval(&page, "document.body.getAttribute('data-ready')"),
            "1"
        );
        // Shown as text: in the evidence and in the connections table.
        let text = b.eval(&page, "document.body.textContent");
        assert!(
            text.as_str()
                .unwrap()
                .contains("<script>window.pwned=1</script>")
        );
        let cell = b.eval(
            &page,
            "document.querySelector('#conn-table tbody tr td:nth-child(6)').textContent",
        );
        assert!(cell.as_str().unwrap().contains("<img src=x"), "{cell}");
        b.close(page);
    });
}

/// Benchmark, not a check (`scripts/bench-html` runs it): the page of the capture in
/// `TRAFFICDOC_HTML_BENCH` (e.g. 50,000 GENERATED connections): its size, the time to
/// write it, and Chromium's time to load and draw it.
#[test]
#[ignore = "benchmark: scripts/bench-html"]
fn bench_html_page_of_a_big_capture() {
    let Some(cap) = std::env::var_os("TRAFFICDOC_HTML_BENCH").map(PathBuf::from) else {
        eprintln!("set TRAFFICDOC_HTML_BENCH to a capture file");
        return;
    };
    let t = std::time::Instant::now();
    let html = html_of(&cap);
    let write_s = t.elapsed().as_secs_f64();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bench.html");
    std::fs::write(&file, &html).unwrap();
    with_browser(|b| {
        let page = b.open(1280, 900);
        let load = b.load(&page, &file);
        assert!(load.errors.is_empty(), "{:?}", load.errors);
        let flows = b.eval(&page, "document.getElementById('conn-count').textContent");
        // One more redraw of everything, as on a window resize, and a filter.
        let redraw = b.eval(
            &page,
            "(() => { const t = performance.now(); window.dispatchEvent(new Event('resize'));\
             const s = document.getElementById('f-state'); s.value = '0'; s.dispatchEvent(new Event('change'));\
             return performance.now() - t; })()",
        );
        let nav = b.eval(
            &page,
            "(() => { const n = performance.getEntriesByType('navigation')[0];\
             return [n.domContentLoadedEventEnd, n.loadEventEnd]; })()",
        );
        b.screenshot(&page, &screenshots_dir().join("bench.png"));
        println!(
            "{}: {} bytes of HTML ({flows}), written in {write_s:.2} s; Chromium: load event after {} ms \
             (DOMContentLoaded {} ms, load end {} ms), resize + filter {} ms",
            cap.display(),
            html.len(),
            load.load_ms,
            nav[0],
            nav[1],
            redraw
        );
    });
}
