//! `trafficdoc doctor`: diagnoses this machine without a capture. It reads the
//! configuration as the clients do ([`config`], [`no_proxy`]), probes the guide's
//! three layers for real ([`probe`]) and answers with the same finding kinds,
//! guide sections, remedies and layered summary as `analyze` ([`output`]).

pub mod ca_files;
pub mod capture;
pub mod config;
pub mod no_proxy;
pub mod output;
pub mod probe;

use crate::analyze::chains::Chain;
use crate::analyze::summary::{self, LayersSeen, Summary};
use crate::analyze::trust::{self, Bundle};
use crate::analyze::{Evidence, Finding, FindingKind, Severity};
use ca_files::CaFiles;
use config::{Env, Target};
use no_proxy::{Client, Route};
use probe::{GatewayOutcome, ProxyOutcome, Step};
use std::time::Duration;

/// What doctor is told to check.
#[derive(Clone, Debug)]
pub struct Settings {
    pub env: Env,
    pub gateway: Target,
    pub provider: Target,
    /// More names NO_PROXY should send direct (`--internal-host`).
    pub internal: Vec<Target>,
    /// Bound of each network step.
    pub timeout: Duration,
    /// Send the §7 API request (spends a token).
    pub check_key: bool,
    /// Probe the network at all (off: configuration only).
    pub probe: bool,
    /// Responses slower than this are reported (ms).
    pub slow_ms: u64,
    /// Unix seconds: dates the CA expiry checks and the chain verification.
    pub now_unix: i64,
    /// The system CA store, when the machine has one.
    pub system_store: Option<Bundle>,
}

/// Routes per client for one URL.
#[derive(Clone, Debug)]
pub struct RouteRow {
    pub url: String,
    /// `gateway`, `provider`, `base_url` or `internal`.
    pub role: &'static str,
    pub routes: Vec<(Client, Route)>,
}

/// Whether each client would trust the presented chain, and through which store.
#[derive(Clone, Debug)]
pub struct ClientTrust {
    pub client: &'static str,
    pub trusted: bool,
    /// "the system store", "NODE_EXTRA_CA_CERTS=/x.pem", "Mozilla's roots" ...
    pub how: String,
}

/// Everything one doctor run found.
pub struct Outcome {
    pub env: Vec<(&'static str, String)>,
    pub gateway: Target,
    pub provider: Target,
    /// The proxy probed (masked), if one is configured.
    pub proxy: Option<String>,
    pub steps: Vec<Step>,
    pub routes: Vec<RouteRow>,
    pub trust: Vec<ClientTrust>,
    pub findings: Vec<Finding>,
    pub summary: Summary,
    pub seconds: f64,
    /// What became of `--capture`: the file written, or why it was skipped.
    pub capture: Option<String>,
}

impl Outcome {
    /// An error-level finding (exit code 1).
    pub fn has_error(&self) -> bool {
        crate::analyze::has_error(&self.findings)
    }
}

/// Runs the checks and probes.
pub fn run(s: &Settings) -> Outcome {
    let started = std::time::Instant::now();
    let ca = CaFiles::read(&s.env);
    let mut findings = config::check(&s.env, &ca, s.now_unix);
    let routes = route_table(s);
    findings.extend(no_proxy_findings(s, &routes));
    let mut steps = Vec::new();
    let mut seen = [false; 3];
    let mut chains = Vec::new();
    let mut trust_rows = Vec::new();
    let proxy = chosen_proxy(&s.env);
    if s.probe {
        probe_all(
            s,
            &ca,
            proxy.as_ref(),
            &mut steps,
            &mut seen,
            &mut findings,
            &mut chains,
            &mut trust_rows,
        );
    }
    findings.sort_by(|a, b| a.severity.cmp(&b.severity).then(a.kind.cmp(&b.kind)));
    let summary = summary::build(&findings, LayersSeen::new(seen), Default::default(), chains);
    Outcome {
        env: s.env.masked(),
        gateway: s.gateway.clone(),
        provider: s.provider.clone(),
        proxy: proxy.map(|(k, v, _)| format!("{k}={}", config::mask_url(&v))),
        steps,
        routes,
        trust: trust_rows,
        findings,
        summary,
        seconds: started.elapsed().as_secs_f64(),
        capture: None,
    }
}

/// The proxy HTTPS requests use (as curl picks it), parsed.
fn chosen_proxy(env: &Env) -> Option<(&'static str, String, config::ProxyUrl)> {
    let (k, v) = no_proxy::proxy_var(Client::Curl, env, "https")
        .or_else(|| no_proxy::proxy_var(Client::Undici, env, "https"))
        .or_else(|| no_proxy::proxy_var(Client::Go, env, "https"))?;
    let p = config::parse_proxy(&v).ok()?;
    Some((k, v, p))
}

/// Per client, where the gateway, the provider, ANTHROPIC_BASE_URL and each internal
/// name go.
pub fn route_table(s: &Settings) -> Vec<RouteRow> {
    let mut targets: Vec<(&'static str, Target)> = vec![("gateway", s.gateway.clone())];
    if let Some(b) = s
        .env
        .value("ANTHROPIC_BASE_URL")
        .and_then(|b| Target::parse(b).ok())
        && b.origin() != s.gateway.origin()
        && b.host != s.provider.host
    {
        targets.push(("base_url", b));
    }
    targets.extend(s.internal.iter().map(|t| ("internal", t.clone())));
    targets.push(("provider", s.provider.clone()));
    targets
        .into_iter()
        .map(|(role, t)| RouteRow {
            url: t.origin(),
            role,
            routes: Client::ALL
                .iter()
                .map(|&c| (c, no_proxy::route(c, &s.env, &t)))
                .collect(),
        })
        .collect()
}

/// A gateway or internal name some client would send through the proxy (§6).
fn no_proxy_findings(s: &Settings, rows: &[RouteRow]) -> Vec<Finding> {
    let mut out = Vec::new();
    for row in rows.iter().filter(|r| r.role != "provider") {
        let via: Vec<(Client, &'static str)> = row
            .routes
            .iter()
            .filter_map(|(c, r)| match r {
                Route::Proxy { var, .. } => Some((*c, *var)),
                Route::Direct(_) => None,
            })
            .collect();
        if via.is_empty() {
            continue;
        }
        let host = Target::parse(&row.url).map(|t| t.host).unwrap_or_default();
        let names: Vec<String> = via
            .iter()
            .map(|(c, v)| format!("{} ({v})", c.name()))
            .collect();
        let verified = via.iter().any(|(c, _)| c.verified());
        let no_proxy = s
            .env
            .get("NO_PROXY")
            .or(s.env.get("no_proxy"))
            .unwrap_or("");
        let f = Finding::new(
            FindingKind::NoProxyNotMatching,
            if verified {
                Severity::Error
            } else {
                Severity::Warning
            },
            format!(
                "NO_PROXY does not send {} direct for {}",
                row.url,
                names
                    .iter()
                    .map(|n| n.split(' ').next().unwrap_or(""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            format!(
                "The {} at {} must be reached directly, but these clients would ask the proxy \
                 for it: {}. The proxy cannot reach this machine's or the internal network's \
                 {host}. Add {host} to NO_PROXY (and no_proxy) in a form every client reads.",
                if row.role == "gateway" {
                    "gateway"
                } else {
                    "internal host"
                },
                row.url,
                names.join(", ")
            ),
            &[("host", host.clone())],
        )
        .with(Evidence {
            seen: format!("NO_PROXY={no_proxy:?}"),
            ..Evidence::default()
        });
        out.push(f);
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn probe_all(
    s: &Settings,
    ca: &CaFiles,
    proxy: Option<&(&'static str, String, config::ProxyUrl)>,
    steps: &mut Vec<Step>,
    seen: &mut [bool; 3],
    findings: &mut Vec<Finding>,
    chains: &mut Vec<Chain>,
    trust_rows: &mut Vec<ClientTrust>,
) {
    let g = &s.gateway;
    let gw_vars = [("gateway", g.authority()), ("port", g.port.to_string())];
    let ev = |seen: String| Evidence {
        seen,
        ..Evidence::default()
    };
    match probe::gateway(g, s.timeout, steps) {
        GatewayOutcome::Down(e) => findings.push(
            Finding::new(
                FindingKind::GatewayNotListening,
                Severity::Error,
                format!("Gateway {} does not accept connections: {e}", g.authority()),
                format!("Nothing accepted a TCP connection on {}: the gateway (LiteLLM) is not running, or listens on another port or address.", g.authority()),
                &gw_vars,
            )
            .with(ev(format!("TCP {}: {e}", g.authority()))),
        ),
        GatewayOutcome::Silent(e) => {
            seen[0] = true;
            findings.push(
                Finding::new(
                    FindingKind::GatewayUnhealthy,
                    Severity::Error,
                    format!("Gateway {} accepts connections but does not answer", g.authority()),
                    format!("The health check got no answer ({e}): the gateway is hung, still starting, or is not an HTTP server."),
                    &gw_vars,
                )
                .with(ev(format!("GET /health: {e}"))),
            )
        }
        GatewayOutcome::Answered { route, status } => {
            seen[0] = true;
            if status >= 300 && !matches!(status, 401 | 403) {
                findings.push(
                    Finding::new(
                        FindingKind::GatewayUnhealthy,
                        Severity::Error,
                        format!("Gateway health check answers {status}"),
                        format!("GET {route} on {} answered {status}: the gateway runs but reports a problem (configuration, database, model backends).", g.authority()),
                        &gw_vars,
                    )
                    .with(ev(format!("GET {route} → {status}"))),
                );
            }
        }
    }
    let tunnel = match proxy {
        None => {
            steps.push(Step {
                layer: 1,
                name: "proxy".into(),
                ok: true,
                detail: "no proxy variable set: the provider is reached directly".into(),
                seconds: 0.0,
            });
            match probe::direct(&s.provider, s.timeout, steps) {
                Ok(sock) => Some(sock),
                Err(e) => {
                    let host = s.provider.authority();
                    findings.push(
                        Finding::new(
                            FindingKind::DirectConnectionFailed,
                            Severity::Error,
                            format!("No proxy is set and {host} cannot be reached directly"),
                            format!(
                                "No proxy variable is set, so clients go straight to {host}, \
                                 which failed: {e}. Behind a corporate proxy the internet is \
                                 reached only through it: set HTTPS_PROXY (and https_proxy)."
                            ),
                            &[("host", s.provider.host.clone())],
                        )
                        .with(ev(format!("TCP {host} (direct): {e}"))),
                    );
                    None
                }
            }
        }
        Some((var, raw, p)) => proxy_probe(s, var, raw, p, steps, seen, findings),
    };
    let Some(sock) = tunnel else { return };
    let host = s.provider.host.clone();
    let vars = [
        ("host", host.clone()),
        ("proxy", proxy.map(|p| p.2.authority()).unwrap_or_default()),
    ];
    let mut tls = match probe::handshake(sock, &host, steps) {
        Ok(t) => t,
        Err(e) => {
            let (kind, title) = match &e {
                probe::TlsError::Alert(_) => (
                    FindingKind::TlsHandshakeRefused,
                    format!("TLS handshake with {host} refused"),
                ),
                probe::TlsError::Net(probe::NetError::Reset)
                | probe::TlsError::Net(probe::NetError::Closed) => (
                    FindingKind::ResetDuringTlsHandshake,
                    format!("The connection to {host} ended during the TLS handshake"),
                ),
                _ => (
                    FindingKind::RequestUnanswered,
                    format!("TLS handshake with {host} did not complete"),
                ),
            };
            findings.push(
                Finding::new(
                    kind,
                    Severity::Error,
                    title,
                    format!("The handshake through the tunnel failed: {e}."),
                    &vars,
                )
                .with(ev(format!("TLS with {host}: {e}"))),
            );
            return;
        }
    };
    seen[2] = true;
    judge_chain(s, ca, &tls, &vars, findings, chains, trust_rows);
    if s.check_key {
        check_key(s, &mut tls, steps, findings);
    }
}

fn proxy_probe(
    s: &Settings,
    var: &str,
    raw: &str,
    p: &config::ProxyUrl,
    steps: &mut Vec<Step>,
    seen: &mut [bool; 3],
    findings: &mut Vec<Finding>,
) -> Option<std::net::TcpStream> {
    let dest = s.provider.authority();
    let shown = config::mask_url(raw);
    let user = p.user.clone().unwrap_or_default();
    let vars = [
        ("proxy", p.authority()),
        ("user", user.clone()),
        ("user_url", crate::remedies::url_encode_user(&user)),
    ];
    let ev = |seen: String| Evidence {
        seen,
        ..Evidence::default()
    };
    let mk = |kind, title: String, why: String, seen: String| {
        Finding::new(kind, Severity::Error, title, why, &vars).with(ev(seen))
    };
    match probe::proxy(p, &dest, s.timeout, steps) {
        ProxyOutcome::NotResolved(e) => {
            findings.push(mk(
                FindingKind::ProxyNameNotResolved,
                format!("The proxy's name {} does not resolve", p.host),
                format!("{var}={shown} names a host DNS does not know ({e}): not on the corporate network or VPN, or a typo."),
                format!("resolve {}: {e}", p.host),
            ));
            None
        }
        ProxyOutcome::Unreachable(e) => {
            let kind = match e {
                probe::NetError::Refused => FindingKind::ProxyConnectionRefused,
                probe::NetError::Unreachable(_) => FindingKind::ProxyUnreachableIcmp,
                _ => FindingKind::ProxyConnectionFiltered,
            };
            findings.push(mk(
                kind,
                format!(
                    "Proxy {} {}",
                    p.authority(),
                    match kind {
                        FindingKind::ProxyConnectionRefused => "refuses connections".to_string(),
                        _ => format!("cannot be reached: {e}"),
                    }
                ),
                format!(
                    "A TCP connection to {var}'s proxy {} failed: {e}.",
                    p.authority()
                ),
                format!("TCP {}: {e}", p.authority()),
            ));
            None
        }
        ProxyOutcome::NoAnswer(e) => {
            seen[1] = true;
            let kind = if e == probe::NetError::Reset {
                FindingKind::ProxyResetAfterRequest
            } else {
                FindingKind::RequestUnanswered
            };
            findings.push(mk(
                kind,
                format!("Proxy {} did not answer CONNECT {dest}", p.authority()),
                format!("The proxy accepted the connection but the CONNECT got no answer: {e}."),
                format!("CONNECT {dest}: {e}"),
            ));
            None
        }
        ProxyOutcome::Status {
            status,
            schemes,
            with_credentials,
            reason,
        } => {
            seen[1] = true;
            let sch = schemes.join(", ");
            let mut vars2 = vars.to_vec();
            vars2.push((
                "schemes",
                if sch.is_empty() {
                    "none offered".into()
                } else {
                    sch.clone()
                },
            ));
            let basic = schemes.iter().any(|x| x.eq_ignore_ascii_case("basic"));
            let (kind, title, why) = match status {
                407 if !basic && !schemes.is_empty() => (
                    FindingKind::ProxyAuthSchemeMismatch,
                    format!(
                        "Proxy {} wants {sch}, which the credentials in {var} cannot answer",
                        p.authority()
                    ),
                    format!(
                        "The proxy offers only {sch}; clients send user and password from the URL as Basic. Use a local helper (cntlm) or a client that speaks {sch}."
                    ),
                ),
                407 if with_credentials => (
                    FindingKind::ProxyAuthRejected,
                    format!(
                        "Proxy {} rejects the credentials of {var} (user {user})",
                        p.authority()
                    ),
                    format!(
                        "CONNECT with user {user} (password as configured, not shown) got 407 again: wrong user or password, an expired password, or encoding (guide §2). Offered: {sch}."
                    ),
                ),
                407 => (
                    FindingKind::ProxyAuthMissing,
                    format!(
                        "Proxy {} requires authentication; {var} has no credentials",
                        p.authority()
                    ),
                    format!(
                        "CONNECT without credentials got 407 (offered: {sch}). Put user and password in {var}."
                    ),
                ),
                403 => (
                    FindingKind::ProxyErrorResponse,
                    format!("Proxy {} refuses CONNECT {dest} (403)", p.authority()),
                    format!("The proxy's policy blocks {dest} ({status} {reason})."),
                ),
                _ => (
                    FindingKind::ProxyUpstreamFailed,
                    format!(
                        "Proxy {} answered CONNECT {dest} with {status}",
                        p.authority()
                    ),
                    format!("The proxy could not open the tunnel to {dest}: {status} {reason}."),
                ),
            };
            findings.push(
                Finding::new(kind, Severity::Error, title, why, &vars2).with(ev(format!(
                    "CONNECT {dest}{} → {status} {reason}{}",
                    if with_credentials {
                        format!(" as {user}")
                    } else {
                        String::new()
                    },
                    if sch.is_empty() {
                        String::new()
                    } else {
                        format!(" (Proxy-Authenticate: {sch})")
                    }
                ))),
            );
            None
        }
        ProxyOutcome::Tunnel { stream, .. } => {
            seen[1] = true;
            Some(stream)
        }
    }
}

/// Which store each client verifies with, and whether it trusts the chain.
fn judge_chain(
    s: &Settings,
    ca: &CaFiles,
    tls: &probe::Tls,
    vars: &[(&str, String)],
    findings: &mut Vec<Finding>,
    chains: &mut Vec<Chain>,
    trust_rows: &mut Vec<ClientTrust>,
) {
    let host = &s.provider.host;
    let Some(leaf) = tls.chain.first() else {
        return;
    };
    let issuer = tls
        .chain
        .last()
        .map(|c| c.issuer.clone())
        .unwrap_or_default();
    let moz = trust::verdicts(&tls.chain, Some(host), s.now_unix, None, None);
    let moz_ok = moz.first().is_some_and(|v| v.trusted);
    let sys = s
        .system_store
        .as_ref()
        .map(|b| trust::verdicts(&tls.chain, Some(host), s.now_unix, Some(b), None));
    let sys_ok = sys
        .as_ref()
        .and_then(|v| v.get(1))
        .is_some_and(|v| v.trusted);
    let file_ok = |var: &str| -> Option<bool> {
        let b = ca.bundle(s.env.value(var)?)?;
        let v = trust::verdicts(&tls.chain, Some(host), s.now_unix, None, Some(b));
        Some(v.get(1).is_some_and(|v| v.trusted))
    };
    let mut trusted_by = moz.clone();
    if let Some(v) = sys.as_ref().and_then(|v| v.get(1)) {
        trusted_by.push(v.clone());
    }
    let mut file_verdicts = Vec::new();
    for var in config::CA_FILE_VARS {
        if let Some(p) = s.env.value(var)
            && let Some(b) = ca.bundle(p)
            && let Some(v) =
                trust::verdicts(&tls.chain, Some(host), s.now_unix, None, Some(b)).get(1)
            && !file_verdicts.iter().any(|(q, _): &(String, bool)| q == p)
        {
            file_verdicts.push((p.to_string(), v.trusted));
            trusted_by.push(v.clone());
        }
    }
    let store = |var: &str, fallback: (&str, bool)| -> (String, bool) {
        match (s.env.value(var), file_ok(var)) {
            (Some(p), Some(ok)) => (format!("{var}={p}"), ok),
            (Some(p), None) => (format!("{var}={p} (unusable)"), false),
            _ => (fallback.0.to_string(), fallback.1),
        }
    };
    let system = ("the system store", sys_ok);
    let mozilla = ("Mozilla's roots", moz_ok);
    let node_off = s.env.get("NODE_TLS_REJECT_UNAUTHORIZED").map(str::trim) == Some("0");
    let mut rows = vec![
        ("curl", store("CURL_CA_BUNDLE", system)),
        ("python-requests", {
            if s.env.value("REQUESTS_CA_BUNDLE").is_some() {
                store("REQUESTS_CA_BUNDLE", mozilla)
            } else {
                store("CURL_CA_BUNDLE", ("certifi (Mozilla's roots)", moz_ok))
            }
        }),
        ("python-ssl", store("SSL_CERT_FILE", system)),
        ("node", {
            let extra = s
                .env
                .value("NODE_EXTRA_CA_CERTS")
                .map(|p| (p, file_ok("NODE_EXTRA_CA_CERTS").unwrap_or(false)));
            if node_off {
                (
                    "NODE_TLS_REJECT_UNAUTHORIZED=0 (no verification)".to_string(),
                    true,
                )
            } else {
                match extra {
                    Some((p, ok)) => (
                        format!("Mozilla's roots + NODE_EXTRA_CA_CERTS={p}"),
                        moz_ok || ok,
                    ),
                    None => (
                        "Mozilla's roots; NODE_EXTRA_CA_CERTS unset".to_string(),
                        moz_ok,
                    ),
                }
            }
        }),
        ("go", store("SSL_CERT_FILE", system)),
    ];
    for (client, (how, trusted)) in rows.drain(..) {
        trust_rows.push(ClientTrust {
            client,
            trusted,
            how,
        });
    }
    chains.push(Chain {
        host: host.clone(),
        sni: Some(host.clone()),
        flows: Vec::new(),
        frame: None,
        subject: leaf.subject.clone(),
        issuer: issuer.clone(),
        sha256: tls.chain.iter().map(|c| c.sha256.clone()).collect(),
        established: true,
        trusted_by,
        certs: tls.chain.clone(),
    });
    let failing: Vec<&ClientTrust> = trust_rows.iter().filter(|t| !t.trusted).collect();
    if moz_ok && failing.is_empty() {
        return;
    }
    let cn = crate::analyze::issuers::cn(&issuer).to_string();
    let mut vars = vars.to_vec();
    vars.push(("issuer", cn.clone()));
    let who: Vec<String> = trust_rows
        .iter()
        .map(|t| {
            format!(
                "{} {} it ({})",
                t.client,
                if t.trusted {
                    "trusts"
                } else {
                    "will not trust"
                },
                t.how
            )
        })
        .collect();
    let reason = moz
        .first()
        .and_then(|v| v.reason.clone())
        .unwrap_or_default();
    let (sev, title) = if failing.is_empty() {
        (
            Severity::Info,
            format!(
                "{host}'s certificate is issued by the private CA \"{cn}\", which every client trusts"
            ),
        )
    } else {
        let names: Vec<&str> = failing.iter().map(|t| t.client).collect();
        (
            Severity::Error,
            format!(
                "{host}'s certificate is issued by \"{cn}\": {} will fail",
                names.join(", ")
            ),
        )
    };
    // The CA is already in a file some client uses: the fix is pointing the others
    // at it.
    let have = file_verdicts
        .iter()
        .find(|(_, ok)| *ok)
        .map(|(p, _)| p.clone());
    let fix: Vec<String> = match &have {
        Some(p) => failing
            .iter()
            .map(|t| {
                let var = match t.client {
                    "curl" => "CURL_CA_BUNDLE",
                    "python-requests" => "REQUESTS_CA_BUNDLE",
                    "node" => "NODE_EXTRA_CA_CERTS",
                    _ => "SSL_CERT_FILE",
                };
                format!("{}: `export {var}={p}`", t.client)
            })
            .collect(),
        None => Vec::new(),
    };
    let mut explanation = format!(
        "The chain presented for {host} does not lead to a public root (Mozilla: {reason}): \
         something between here and {host} re-signs TLS. {}. `trafficdoc doctor \
         --export-certs DIR` writes the chain presented.",
        who.join("; ")
    );
    if !fix.is_empty() {
        explanation.push_str(&format!(
            " The CA is already in {}; point the failing clients at it: {}.",
            have.as_deref().unwrap_or_default(),
            fix.join("; ")
        ));
    }
    let mut finding = Finding::new(
        FindingKind::TlsInspectionDetected,
        sev,
        title,
        explanation,
        &vars,
    );
    if !fix.is_empty()
        && let Some(i) = finding.remedy.iter().position(|r| r.starts_with("§3.3"))
    {
        let step = finding.remedy.remove(i);
        finding.remedy.insert(0, step);
    }
    findings.push(finding.with(Evidence {
        seen: format!(
            "issuer \"{cn}\", leaf \"{}\", {}",
            crate::analyze::issuers::cn(&leaf.subject),
            tls.version
        ),
        ..Evidence::default()
    }));
}

fn check_key(
    s: &Settings,
    tls: &mut probe::Tls,
    steps: &mut Vec<Step>,
    findings: &mut Vec<Finding>,
) {
    let ev = |seen: String| Evidence {
        seen,
        ..Evidence::default()
    };
    let Some(key) = s.env.value("ANTHROPIC_API_KEY") else {
        steps.push(Step {
            layer: 2,
            name: "API key".into(),
            ok: false,
            detail: "--check-key: ANTHROPIC_API_KEY is not set".into(),
            seconds: 0.0,
        });
        return;
    };
    let masked = crate::protocols::secrets::mask_key(key);
    let vars = [("host", s.provider.host.clone())];
    match probe::api_request(tls, &s.provider, key.trim(), steps) {
        Ok(r) if matches!(r.status, 401 | 403) => findings.push(
            Finding::new(
                FindingKind::ApiKeyRejected,
                Severity::Error,
                format!("{} rejects ANTHROPIC_API_KEY ({}): {}", s.provider.host, masked, r.status),
                format!(
                    "The provider answered {} {} to the key {masked}: wrong, expired or revoked key, or one for another provider. {}",
                    r.status,
                    r.reason,
                    crate::protocols::secrets::redact_text(&String::from_utf8_lossy(r.body.get(..300.min(r.body.len())).unwrap_or_default()))
                ),
                &vars,
            )
            .with(ev(format!("POST /v1/messages → {} {}", r.status, r.reason))),
        ),
        Ok(r) if r.status == 429 => findings.push(
            Finding::new(
                FindingKind::RateLimited,
                Severity::Error,
                format!("{} rate-limits this key (429)", s.provider.host),
                format!(
                    "The provider answered 429{}.",
                    r.header_values("retry-after").next().map(|v| format!(", Retry-After: {v}")).unwrap_or_default()
                ),
                &vars,
            )
            .with(ev("POST /v1/messages → 429".into())),
        ),
        Ok(r) if r.first_byte_s * 1000.0 > s.slow_ms as f64 => findings.push(
            Finding::new(
                FindingKind::SlowResponse,
                Severity::Warning,
                format!("{} took {:.1} s to answer", s.provider.host, r.first_byte_s),
                format!("The one-token request took {:.1} s to its first byte, more than {} ms.", r.first_byte_s, s.slow_ms),
                &vars,
            )
            .with(ev(format!("POST /v1/messages → {} after {:.1} s", r.status, r.first_byte_s))),
        ),
        Ok(_) => {}
        Err(e) => findings.push(
            Finding::new(
                FindingKind::RequestUnanswered,
                Severity::Error,
                format!("The API request to {} got no answer", s.provider.host),
                format!("POST /v1/messages through the tunnel: {e}."),
                &vars,
            )
            .with(ev(format!("POST /v1/messages: {e}"))),
        ),
    }
}
