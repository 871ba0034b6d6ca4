//! `trafficdoc doctor` against real software in network namespaces these tests
//! create (`tdd*`, addresses in 10.203.0.0/16 on the namespace's loopback): squid
//! with Basic auth, tinyproxy, mitmproxy with the lab's untrusted inspection CA, the
//! lab's TLS origin standing in for api.anthropic.com and a small gateway. One case
//! per guide section plus a healthy control; each asserts the sections doctor names
//! and that no configured secret appears in any output. And NO_PROXY: curl, Python
//! requests and urllib and Node's undici run for real, and doctor's verdict per
//! client must match where each went.
//!
//! Needs root, `ip netns` and the fixture lab's software under
//! /var/cache/trafficdoc-lab (fixtures/lab/install.sh); skipped with a message
//! otherwise.

use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use trafficdoc::doctor::config::{Env, Target};
use trafficdoc::doctor::no_proxy::{Client, route};

const LAB: &str = "/var/cache/trafficdoc-lab";
const PROXY_IP: &str = "10.203.1.1";
const ORIGIN_IP: &str = "10.203.2.2";

fn pki(f: &str) -> String {
    format!("{LAB}/pki/{f}")
}

fn lab_python() -> String {
    format!("{LAB}/venv-litellm/bin/python")
}

fn here(f: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(f)
}

/// Why the lab cannot run here, if it cannot.
fn unavailable(need: &[&str]) -> Option<String> {
    if !nix::unistd::geteuid().is_root() {
        return Some("not root".into());
    }
    if !Command::new("ip")
        .args(["netns", "list"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
    {
        return Some("no `ip netns`".into());
    }
    need.iter()
        .find(|p| !Path::new(p).exists())
        .map(|p| format!("{p} missing (fixtures/lab/install.sh installs it)"))
}

/// A network namespace with its processes; all removed on drop.
struct Ns {
    name: String,
    children: Vec<Child>,
    dir: tempfile::TempDir,
}

impl Ns {
    fn new(tag: &str, hosts: &str) -> Ns {
        let name = format!("tdd{}{tag}", std::process::id() % 100_000);
        // Left over from an interrupted run, if any.
        let _ = Command::new("ip")
            .args(["netns", "del", &name])
            .stderr(Stdio::null())
            .status();
        let etc = format!("/etc/netns/{name}");
        std::fs::create_dir_all(&etc).unwrap();
        std::fs::write(
            format!("{etc}/hosts"),
            format!("127.0.0.1 localhost\n::1 localhost\n{hosts}"),
        )
        .unwrap();
        // The namespace's DNS server, when a test starts one (dnsmasq): NXDOMAIN for
        // names outside the hosts file.
        std::fs::write(
            format!("{etc}/resolv.conf"),
            "nameserver 10.203.0.53\noptions timeout:1 attempts:1\n",
        )
        .unwrap();
        assert!(
            Command::new("ip")
                .args(["netns", "add", &name])
                .status()
                .unwrap()
                .success()
        );
        let ns = Ns {
            name,
            children: Vec::new(),
            dir: tempfile::tempdir().unwrap(),
        };
        ns.sh("ip link set lo up && ip addr add 10.203.0.1/16 dev lo");
        ns
    }

    fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }

    fn sh(&self, script: &str) {
        let s = self.cmd("sh").args(["-c", script]).status().unwrap();
        assert!(s.success(), "{script}");
    }

    /// Starts a server in the namespace, its output to a log file.
    fn spawn(&mut self, log: &str, args: &[&str]) {
        let out = std::fs::File::create(self.dir.path().join(log)).unwrap();
        let err = out.try_clone().unwrap();
        let child = self
            .cmd(args[0])
            .args(&args[1..])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap();
        self.children.push(child);
    }

    fn wait_port(&self, addr: &str, secs: u64) {
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(secs) {
            let ok = self
                .cmd("bash")
                .args([
                    "-c",
                    &format!("exec 3<>/dev/tcp/{}", addr.replace(':', "/")),
                ])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("nothing listens on {addr} in {} after {secs} s", self.name);
    }

    fn path(&self, f: &str) -> String {
        self.dir.path().join(f).display().to_string()
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        // Whatever the servers forked (squid's helpers), by pid, in this namespace only.
        if let Ok(o) = Command::new("ip")
            .args(["netns", "pids", &self.name])
            .output()
        {
            for pid in String::from_utf8_lossy(&o.stdout).split_whitespace() {
                let _ = Command::new("kill").args(["-9", pid]).status();
            }
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
        let _ = std::fs::remove_dir_all(format!("/etc/netns/{}", self.name));
    }
}

/// Starts a squid (the fixture lab's configuration style) on `port` with `auth`.
fn squid(ns: &mut Ns, name: &str, port: u16, auth: &str) {
    let sq = ns.dir.path().join(format!("squid-{name}"));
    std::fs::create_dir_all(&sq).unwrap();
    let d = sq.display();
    let hosts = format!("/etc/netns/{}/hosts", ns.name);
    std::fs::write(
        sq.join("squid.conf"),
        format!(
            "http_port {PROXY_IP}:{port}\nvisible_hostname proxy.corp.example\npid_filename {d}/squid.pid\n\
             cache_log {d}/cache.log\naccess_log none\ncache deny all\ncache_mem 8 MB\ncoredump_dir {d}\n\
             hosts_file {hosts}\ndns_nameservers 127.0.0.1\nshutdown_lifetime 1 second\n{auth}\
             acl SSL_ports port 443\nacl CONNECT method CONNECT\nacl authed proxy_auth REQUIRED\n\
             http_access deny CONNECT !SSL_ports\nhttp_access allow authed\nhttp_access deny all\n"
        ),
    )
    .unwrap();
    let _ = Command::new("chown")
        .args(["-R", "proxy:proxy", &d.to_string()])
        .status();
    let conf = sq.join("squid.conf").display().to_string();
    ns.spawn(
        &format!("squid-{name}.log"),
        &[
            "squid",
            "-N",
            "-n",
            &format!("sq{name}{}", ns.name),
            "-f",
            &conf,
        ],
    );
}

/// The lab for the doctor cases: proxies on 10.203.1.1, the origin on 10.203.2.2.
fn lab() -> Ns {
    let mut ns = Ns::new(
        "d",
        &format!("{PROXY_IP} proxy.corp.example\n{ORIGIN_IP} api.anthropic.com\n"),
    );
    // The provider: the lab origin (200 for sk-ant- keys, 401 for revoked ones).
    ns.spawn(
        "origin.log",
        &[
            &lab_python(),
            here("fixtures/lab/servers/origin.py").to_str().unwrap(),
            "--cert",
            &pki("origin-chain.pem"),
            "--key",
            &pki("leaf.key"),
            "--bind",
            ORIGIN_IP,
        ],
    );
    let gw = here("tests/doctor/gateway.py");
    let gw = gw.to_str().unwrap();
    ns.spawn("gateway.log", &["python3", gw]);
    // dnsmasq as the corporate DNS: the hosts file's names, NXDOMAIN for the rest.
    ns.sh("ip addr add 10.203.0.53/32 dev lo");
    ns.spawn(
        "dnsmasq.log",
        &[
            "dnsmasq",
            "--keep-in-foreground",
            "--no-daemon",
            "--no-resolv",
            "--no-poll",
            "--listen-address=10.203.0.53",
            "--bind-interfaces",
            "--user=root",
            "--local=/example/",
            "--local=/com/",
            "--pid-file=",
        ],
    );
    // A provider answering 429 on api.anthropic.com:8444, with the lab's chain.
    ns.spawn(
        "provider-429.log",
        &[
            "python3",
            gw,
            "--bind",
            ORIGIN_IP,
            "--port",
            "8444",
            "--tls",
            &pki("origin-chain.pem"),
            &pki("leaf.key"),
        ],
    );
    // A gateway serving HTTPS.
    ns.spawn(
        "gateway-tls.log",
        &[
            "python3",
            gw,
            "--port",
            "4443",
            "--tls",
            &pki("origin-chain.pem"),
            &pki("leaf.key"),
        ],
    );
    // A gateway whose health routes answer 503.
    ns.spawn(
        "gateway-503.log",
        &["python3", gw, "--port", "4001", "--status", "503"],
    );
    // tinyproxy, no authentication.
    let tp = ns.path("tinyproxy.conf");
    std::fs::write(
        &tp,
        format!(
            "Port 8888\nListen {PROXY_IP}\nTimeout 30\nLogLevel Warning\nMaxClients 20\nAllow 10.203.0.0/16\nAllow 127.0.0.1\nConnectPort 443\nConnectPort 8444\n"
        ),
    )
    .unwrap();
    ns.spawn("tinyproxy.log", &["tinyproxy", "-d", "-c", &tp]);
    // squid with Basic authentication (the fixture lab's configuration style).
    let sq = ns.dir.path().join("squid");
    std::fs::create_dir_all(&sq).unwrap();
    let htpasswd = ns.path("squid/htpasswd");
    assert!(
        Command::new("htpasswd")
            .args(["-bc", &htpasswd, "alice", ALICE_PW])
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success()
    );
    assert!(
        Command::new("htpasswd")
            .args(["-b", &htpasswd, "bob", "p@ss:w/rd!"])
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success()
    );
    let _ = Command::new("chmod")
        .args(["755", &ns.dir.path().display().to_string()])
        .status();
    let basic = format!(
        "auth_param basic program /usr/lib/squid/basic_ncsa_auth {htpasswd}\n\
         auth_param basic realm Corporate Proxy\nauth_param basic children 2\n"
    );
    // Only NTLM and Negotiate offered, by the fixture lab's helper that refuses all.
    let helper = here("fixtures/lab/servers/refusing_auth_helper.py");
    let py = lab_python();
    let h = helper.display();
    let ntlm = format!(
        "auth_param negotiate program {py} {h} negotiate\nauth_param negotiate children 1\n\
         auth_param ntlm program {py} {h} ntlm\nauth_param ntlm children 1\n"
    );
    squid(&mut ns, "basic", 3128, &basic);
    squid(&mut ns, "ntlm", 3129, &ntlm);
    // mitmproxy re-signing with the Acme Corp inspection CA.
    ns.spawn(
        "mitm.log",
        &[
            &format!("{LAB}/venv-mitm/bin/mitmdump"),
            "--listen-host",
            PROXY_IP,
            "--listen-port",
            "8080",
            "--set",
            &format!("confdir={}", pki("mitm")),
            "--set",
            &format!("ssl_verify_upstream_trusted_ca={}", pki("root.pem")),
            "--set",
            "connection_strategy=lazy",
        ],
    );
    ns.wait_port(&format!("{ORIGIN_IP}:443"), 20);
    ns.wait_port("127.0.0.1:4000", 20);
    ns.wait_port(&format!("{PROXY_IP}:8888"), 20);
    ns.wait_port(&format!("{PROXY_IP}:3128"), 20);
    ns.wait_port(&format!("{PROXY_IP}:3129"), 20);
    ns.wait_port("127.0.0.1:4001", 20);
    ns.wait_port(&format!("{ORIGIN_IP}:8444"), 20);
    ns.wait_port("127.0.0.1:4443", 20);
    ns.wait_port(&format!("{PROXY_IP}:8080"), 60);
    ns
}

const ALICE_PW: &str = "Corp-Pass-2024";
const GOOD_KEY: &str = "sk-ant-FAKE-lab-key-0000000000000000";
const REVOKED_KEY: &str = "sk-ant-FAKE-REVOKED-key-2222222222222222";

/// What one doctor run printed.
struct Run {
    code: i32,
    table: String,
    json: Value,
    report: String,
    seconds: f64,
}

impl Run {
    fn sections(&self) -> Vec<u64> {
        let mut s: Vec<u64> = self.json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["severity"] != "info")
            .filter_map(|f| f["guide_section"].as_u64())
            .collect();
        s.sort();
        s.dedup();
        s
    }

    fn ids(&self) -> Vec<String> {
        self.json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect()
    }
}

/// Runs doctor in the namespace with only `env` set (plus PATH), table, JSON and
/// `--report`.
fn doctor(ns: &Ns, env: &[(&str, &str)], args: &[&str]) -> Run {
    let bin = env!("CARGO_BIN_EXE_trafficdoc");
    let report = ns.path("report.txt");
    let run = |format: &str, extra: &[&str]| {
        let t0 = Instant::now();
        let mut c = ns.cmd("env");
        c.arg("-i").arg("PATH=/usr/bin:/bin");
        for (k, v) in env {
            c.arg(format!("{k}={v}"));
        }
        c.args([bin, "doctor", "--format", format]);
        if !args.contains(&"--timeout") {
            c.args(["--timeout", "3"]);
        }
        c.args(args).args(extra);
        let o = c.output().unwrap();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
            t0.elapsed().as_secs_f64(),
        )
    };
    let (code, table, table_err, seconds) = run("table", &["--report", &report]);
    let (jcode, json, json_err, _) = run("json", &[]);
    assert_eq!(code, jcode, "exit codes of table and JSON differ");
    let parsed: Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    Run {
        code,
        table: table + &table_err + &json_err,
        json: parsed,
        report: std::fs::read_to_string(&report).unwrap_or_default(),
        seconds,
    }
}

/// Trust the lab's public root everywhere, as a machine with it installed would.
fn trusting() -> Vec<(&'static str, String)> {
    let b = pki("bundle-public.pem");
    vec![
        ("CURL_CA_BUNDLE", b.clone()),
        ("REQUESTS_CA_BUNDLE", b.clone()),
        ("SSL_CERT_FILE", b.clone()),
        ("NODE_EXTRA_CA_CERTS", b),
    ]
}

struct Case {
    name: &'static str,
    env: Vec<(&'static str, String)>,
    args: Vec<&'static str>,
    sections: Vec<u64>,
    id: Option<&'static str>,
    /// Text the table must show.
    shows: Vec<&'static str>,
}

fn case(name: &'static str, proxy: &str, sections: &[u64], id: Option<&'static str>) -> Case {
    let mut env = trusting();
    env.push(("HTTPS_PROXY", proxy.to_string()));
    env.push(("NO_PROXY", "localhost,127.0.0.1".into()));
    env.push(("ANTHROPIC_API_KEY", GOOD_KEY.into()));
    Case {
        name,
        env,
        args: vec!["--gateway", "http://localhost:4000"],
        sections: sections.to_vec(),
        id,
        shows: Vec::new(),
    }
}

#[test]
fn doctor_names_the_guide_section_of_each_broken_setup() {
    let need = [
        lab_python(),
        format!("{LAB}/venv-mitm/bin/mitmdump"),
        pki("origin-chain.pem"),
        "/usr/sbin/squid".into(),
        "/usr/bin/tinyproxy".into(),
        "/usr/bin/htpasswd".into(),
        "/usr/sbin/dnsmasq".into(),
    ];
    let need: Vec<&str> = need.iter().map(String::as_str).collect();
    if let Some(why) = unavailable(&need) {
        eprintln!("SKIPPED doctor lab tests: {why}");
        return;
    }
    let ns = lab();
    let tiny = "http://proxy.corp.example:8888".to_string();
    let mut cases = vec![
        {
            let mut c = case("healthy control (tinyproxy, --check-key)", &tiny, &[], None);
            c.args.push("--check-key");
            c.shows = vec![
                "No error found.",
                "client→gateway ok | gateway→proxy ok | proxy→provider ok",
            ];
            c
        },
        {
            let mut c = case(
                "healthy through squid with Basic credentials",
                &format!("http://alice:{ALICE_PW}@proxy.corp.example:3128"),
                &[],
                None,
            );
            c.shows = vec!["No error found."];
            c
        },
        {
            let mut c = case(
                "special-character password, encoded once",
                "http://bob:p%40ss%3Aw%2Frd%21@proxy.corp.example:3128",
                &[],
                None,
            );
            c.shows = vec!["No error found."];
            c
        },
        {
            let mut c = case("healthy, gateway over HTTPS", &tiny, &[], None);
            c.args = vec!["--gateway", "https://localhost:4443"];
            c.shows = vec!["GET /health/liveliness: 200 OK"];
            c
        },
        {
            let mut c = case("gateway down", &tiny, &[4], Some("gateway_not_listening"));
            c.args = vec!["--gateway", "http://localhost:4999"];
            c
        },
        case(
            "proxy refused",
            "http://proxy.corp.example:3999",
            &[1],
            Some("proxy_connection_refused"),
        ),
        case(
            "proxy name not resolved",
            "http://nosuch.corp.example:3128",
            &[1],
            Some("proxy_name_not_resolved"),
        ),
        case(
            "proxy 407 to wrong credentials",
            "http://alice:Wrong-Pass@proxy.corp.example:3128",
            &[2],
            Some("proxy_auth_rejected"),
        ),
        case(
            "proxy offers only NTLM and Negotiate",
            &format!("http://alice:{ALICE_PW}@proxy.corp.example:3129"),
            &[2],
            Some("proxy_auth_scheme_mismatch"),
        ),
        {
            let mut c = case("gateway health 503", &tiny, &[4], Some("gateway_unhealthy"));
            c.args = vec!["--gateway", "http://localhost:4001"];
            c
        },
        {
            // The origin reads a request whose path holds "stall" and never answers.
            let mut c = case(
                "provider never answers, --check-key",
                &tiny,
                &[5],
                Some("request_unanswered"),
            );
            c.args = vec![
                "--provider",
                "https://api.anthropic.com/stall",
                "--check-key",
                "--timeout",
                "1",
            ];
            c
        },
        {
            let mut c = case(
                "provider 429 with --check-key",
                &tiny,
                &[5],
                Some("rate_limited"),
            );
            c.args = vec![
                "--provider",
                "https://api.anthropic.com:8444",
                "--check-key",
            ];
            c
        },
        {
            // No proxy variable: the provider is tried directly, and refuses.
            let mut c = case(
                "no proxy set, provider not reachable directly",
                &tiny,
                &[6],
                Some("direct_connection_failed"),
            );
            c.env.retain(|(k, _)| *k != "HTTPS_PROXY");
            c.args = vec!["--provider", "https://api.anthropic.com:8443"];
            c
        },
        case(
            "proxy 407 without credentials",
            "http://proxy.corp.example:3128",
            &[2],
            Some("proxy_auth_missing"),
        ),
        case(
            "special-character password not encoded",
            "http://bob:p@ss:w/rd!@proxy.corp.example:3128",
            &[2],
            Some("proxy_credentials_encoding"),
        ),
        {
            let mut c = case(
                "SSL inspection, CA untrusted",
                "http://proxy.corp.example:8080",
                &[3],
                Some("tls_inspection_detected"),
            );
            c.shows = vec!["Acme Corp SSL Inspection CA", "will NOT trust"];
            c
        },
        {
            // The corporate CA given to curl and Python only: Node still fails.
            let mut c = case(
                "SSL inspection, CA only for curl and Python",
                "http://proxy.corp.example:8080",
                &[3],
                Some("tls_inspection_detected"),
            );
            c.env.retain(|(k, _)| *k != "NODE_EXTRA_CA_CERTS");
            for (k, v) in &mut c.env {
                if k.contains("CA_BUNDLE") || *k == "SSL_CERT_FILE" {
                    *v = pki("bundle-corp.pem");
                }
            }
            c.shows = vec!["NODE_EXTRA_CA_CERTS unset", "node will fail"];
            c
        },
        {
            let mut c = case(
                "provider 401 with --check-key",
                &tiny,
                &[7],
                Some("api_key_rejected"),
            );
            c.env.retain(|(k, _)| *k != "ANTHROPIC_API_KEY");
            c.env.push(("ANTHROPIC_API_KEY", REVOKED_KEY.into()));
            c.args.push("--check-key");
            c
        },
        {
            let mut c = case(
                "NO_PROXY misses the gateway",
                &tiny,
                &[6],
                Some("no_proxy_not_matching"),
            );
            c.env.retain(|(k, _)| *k != "NO_PROXY");
            c.env.push(("NO_PROXY", ".internal".into()));
            c.env.push(("HTTP_PROXY", tiny.clone()));
            c.env.push(("http_proxy", tiny.clone()));
            c
        },
    ];
    let secrets = [
        ALICE_PW,
        "Wrong-Pass",
        "p@ss:w/rd!",
        "p%40ss%3Aw%2Frd%21",
        GOOD_KEY,
        REVOKED_KEY,
        "FAKE-lab-key",
        "REVOKED-key",
    ];
    let mut failures = Vec::new();
    let mut timings = Vec::new();
    for c in cases.drain(..) {
        let env: Vec<(&str, &str)> = c.env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = doctor(&ns, &env, &c.args);
        timings.push(format!("{}: {:.2} s", c.name, r.seconds));
        if std::env::var_os("TDD_SHOW").is_some() {
            eprintln!(
                "=== {}\n{}\n{}",
                c.name,
                r.table,
                r.report.lines().take(12).collect::<Vec<_>>().join("\n")
            );
        }
        let mut why = Vec::new();
        if r.sections() != c.sections {
            why.push(format!(
                "sections {:?}, want {:?}",
                r.sections(),
                c.sections
            ));
        }
        if let Some(id) = c.id
            && !r.ids().iter().any(|i| i == id)
        {
            why.push(format!("no {id} in {:?}", r.ids()));
        }
        let want_code = if c.sections.is_empty() { 0 } else { 1 };
        if r.code != want_code {
            why.push(format!("exit code {}, want {want_code}", r.code));
        }
        for s in &c.shows {
            if !r.table.contains(s) {
                why.push(format!("the report does not show {s:?}"));
            }
        }
        let all = format!("{}{}{}", r.table, r.json, r.report);
        for s in secrets {
            if all.contains(s) {
                why.push(format!("a secret appears in the output: {s}"));
            }
        }
        if !r.report.contains("Date: ") || !r.report.contains("Layers:") {
            why.push("--report lacks the date or the layers".into());
        }
        if !why.is_empty() {
            failures.push(format!("{}: {}\n{}", c.name, why.join("; "), r.table));
        }
    }
    // --capture records the probes; analyze reads them without showing a secret.
    let cap = ns.path("probes.pcap");
    let squid_url = format!("http://alice:{ALICE_PW}@proxy.corp.example:3128");
    let mut env: Vec<(&str, String)> = trusting();
    env.push(("HTTPS_PROXY", squid_url));
    env.push(("ANTHROPIC_API_KEY", GOOD_KEY.into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let certs = ns.path("certs");
    let r = doctor(
        &ns,
        &env,
        &["--check-key", "--capture", &cap, "--export-certs", &certs],
    );
    if !r.table.contains("Captured ") {
        failures.push(format!("--capture: no capture note\n{}", r.table));
    }
    let pems = std::fs::read_dir(&certs).map_or(0, |d| d.count());
    if pems == 0 || !r.table.contains("Wrote ") {
        failures.push(format!("--export-certs wrote {pems} files\n{}", r.table));
    }
    let a = Command::new(env!("CARGO_BIN_EXE_trafficdoc"))
        .args(["analyze", "--format", "json", &cap])
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&a.stdout).into_owned() + &String::from_utf8_lossy(&a.stderr);
    match serde_json::from_str::<Value>(&String::from_utf8_lossy(&a.stdout)) {
        Ok(v) if v["flows"].as_array().is_some_and(|f| f.len() >= 3) => {}
        _ => failures.push(format!("--capture: analyze did not see the probes: {text}")),
    }
    for s in secrets {
        if text.contains(s) {
            failures.push(format!("--capture: analyze shows the secret {s}"));
        }
    }
    eprintln!("doctor run times: {}", timings.join(", "));
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// NO_PROXY cases run by the real clients: (NO_PROXY value, URL).
const NO_PROXY_CASES: &[(&str, &str)] = &[
    ("localhost", "http://localhost:4000/"),
    ("LOCALHOST", "http://localhost:4000/"),
    ("localhost:4000", "http://localhost:4000/"),
    ("localhost:4001", "http://localhost:4000/"),
    ("127.0.0.1", "http://127.0.0.1:4000/"),
    ("127.0.0.0/8", "http://127.0.0.1:4000/"),
    ("10.203.0.0/16", "http://10.203.3.2:4000/"),
    ("10.203.3.2", "http://10.203.3.2:4000/"),
    ("::1", "http://[::1]:4000/"),
    ("[::1]", "http://[::1]:4000/"),
    (".internal", "http://gateway.internal:4000/"),
    (".internal", "http://internal:4000/"),
    ("internal", "http://gateway.internal:4000/"),
    ("*.internal", "http://gateway.internal:4000/"),
    ("*", "http://gateway.internal:4000/"),
    ("localhost,*", "http://gateway.internal:4000/"),
    ("example.com", "http://notexample.com:4000/"),
    ("example.com", "http://api.example.com:4000/"),
    ("localhost .internal", "http://gateway.internal:4000/"),
    ("localhost, .internal", "http://gateway.internal:4000/"),
    ("GATEWAY.Internal", "http://gateway.internal:4000/"),
    ("gateway.internal.", "http://gateway.internal:4000/"),
    ("", "http://localhost:4000/"),
];

#[test]
fn no_proxy_verdicts_match_the_real_clients() {
    let node_modules = format!("{LAB}/node/node_modules");
    let need = [
        lab_python(),
        node_modules.clone(),
        "/usr/bin/curl".into(),
        "/usr/bin/node".into(),
    ];
    let need: Vec<&str> = need.iter().map(String::as_str).collect();
    if let Some(why) = unavailable(&need) {
        eprintln!("SKIPPED NO_PROXY real-client tests: {why}");
        return;
    }
    let proxy = "10.203.9.9";
    let mut ns = Ns::new(
        "n",
        "10.203.3.2 gateway.internal internal GATEWAY.Internal\n10.203.3.3 notexample.com api.example.com\n",
    );
    ns.spawn(
        "listener.log",
        &[
            "python3",
            here("tests/doctor/listener.py").to_str().unwrap(),
            proxy,
            "3128",
        ],
    );
    ns.wait_port(&format!("{proxy}:3128"), 20);
    ns.wait_port("127.0.0.1:4000", 20);
    let proxy_url = format!("http://{proxy}:3128");
    // Every case with both spellings of the proxy (curl reads only http_proxy) and
    // NO_PROXY; then the spelling precedence of NO_PROXY itself.
    let mut cases: Vec<(Vec<(&str, String)>, &str)> = NO_PROXY_CASES
        .iter()
        .map(|(np, url)| {
            (
                vec![
                    ("http_proxy", proxy_url.clone()),
                    ("HTTP_PROXY", proxy_url.clone()),
                    ("NO_PROXY", np.to_string()),
                ],
                *url,
            )
        })
        .collect();
    for (lower, upper) in [
        ("", "localhost"),
        ("localhost", ""),
        ("nothing.example", "localhost"),
    ] {
        cases.push((
            vec![
                ("http_proxy", proxy_url.clone()),
                ("HTTP_PROXY", proxy_url.clone()),
                ("no_proxy", lower.into()),
                ("NO_PROXY", upper.into()),
            ],
            "http://localhost:4000/",
        ));
    }
    // Only the upper-case proxy variable: curl ignores HTTP_PROXY.
    cases.push((
        vec![("HTTP_PROXY", proxy_url.clone())],
        "http://gateway.internal:4000/",
    ));
    let json_cases: Vec<Value> = cases
        .iter()
        .map(|(env, url)| {
            serde_json::json!({
                "env": env.iter().map(|(k, v)| (k.to_string(), Value::String(v.clone()))).collect::<serde_json::Map<_, _>>(),
                "url": url,
            })
        })
        .collect();
    let input = serde_json::to_string(&json_cases).unwrap();
    let run_batch = |program: &str, args: &[&str], extra_env: &[(&str, &str)]| -> Vec<String> {
        let mut c = ns.cmd("env");
        c.arg("-i").arg("PATH=/usr/bin:/bin");
        for (k, v) in extra_env {
            c.arg(format!("{k}={v}"));
        }
        let mut child = c
            .arg(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let lines: Vec<String> = BufReader::new(child.stdout.take().unwrap())
            .lines()
            .map(Result::unwrap)
            .collect();
        child.wait().unwrap();
        lines
    };
    let py = run_batch(
        &lab_python(),
        &[here("tests/doctor/clients.py").to_str().unwrap()],
        &[],
    );
    let node = run_batch(
        "node",
        &[here("tests/doctor/clients.cjs").to_str().unwrap()],
        &[("NODE_PATH", &node_modules)],
    );
    assert_eq!(py.len(), cases.len(), "python: {py:?}");
    assert_eq!(node.len(), cases.len(), "node: {node:?}");
    let mut mismatches = Vec::new();
    for (i, (env, url)) in cases.iter().enumerate() {
        let mut c = ns.cmd("env");
        c.arg("-i").arg("PATH=/usr/bin:/bin");
        for (k, v) in env {
            c.arg(format!("{k}={v}"));
        }
        let o = c
            .args(["curl", "-s", "--max-time", "3", "-g", url])
            .output()
            .unwrap();
        let curl = String::from_utf8_lossy(&o.stdout).trim().to_string();
        let mut parts = py[i].split(' ');
        let real = [
            (Client::Curl, curl.as_str()),
            (Client::Requests, parts.next().unwrap_or("")),
            (Client::Urllib, parts.next().unwrap_or("")),
            (Client::Undici, node[i].as_str()),
        ];
        let e = Env::read(|k| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()));
        let t = Target::parse(url).unwrap();
        for (client, got) in real {
            let want = if route(client, &e, &t).is_direct() {
                "direct"
            } else {
                "proxy"
            };
            if got != want {
                mismatches.push(format!(
                    "{} {env:?} {url}: really {got}, doctor says {want}",
                    client.name()
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} verdicts differ:\n{}",
        mismatches.len(),
        cases.len() * 4,
        mismatches.join("\n")
    );
}
