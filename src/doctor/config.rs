//! The configuration as the clients read it: the proxy, CA, verification and key
//! variables the guide names, parsed, and the findings a look at them alone gives
//! (no network): a proxy URL that does not parse or has no port, credentials encoded
//! wrong (§2), CA files that cannot serve (§3), verification switched off (§3), a key
//! with the wrong prefix (§7). Pure functions: the environment and the clock come in
//! as arguments.

use crate::analyze::{Evidence, Finding, FindingKind, Severity};
use crate::model::url::{SplitError, host_port, percent_decode, split_host_port};
use crate::protocols::secrets::mask_key;

/// The variables doctor reads, in the order reports list them.
pub const VARS: &[&str] = &[
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS",
    "NODE_TLS_REJECT_UNAUTHORIZED",
    "PYTHONHTTPSVERIFY",
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_API_KEY",
];

/// The variables that hold a proxy URL.
pub const PROXY_VARS: &[&str] = &[
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// The variables that name a CA file.
pub const CA_FILE_VARS: &[&str] = &[
    "SSL_CERT_FILE",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS",
];

/// A snapshot of [`VARS`]: those set, with their values (empty ones included: an
/// empty lower-case variable still hides the upper-case one from some clients).
#[derive(Clone, Debug, Default)]
pub struct Env(Vec<(&'static str, String)>);

impl Env {
    /// Reads [`VARS`] through `var` (`main` passes the process environment).
    pub fn read(var: impl Fn(&str) -> Option<String>) -> Env {
        Env(VARS
            .iter()
            .filter_map(|&k| var(k).map(|v| (k, v)))
            .collect())
    }

    /// The variables of `pairs` that doctor reads (tests).
    #[cfg(test)]
    pub(crate) fn of(pairs: &[(&str, &str)]) -> Env {
        Env::read(|k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
    }

    /// The value of `k` when set, even empty.
    pub fn get(&self, k: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `k` when set and not blank.
    pub fn value(&self, k: &str) -> Option<&str> {
        self.get(k).filter(|v| !v.trim().is_empty())
    }

    /// Each set variable with its value safe to print: passwords in proxy URLs and
    /// the API key masked.
    pub fn masked(&self) -> Vec<(&'static str, String)> {
        self.0.iter().map(|(k, v)| (*k, mask_value(k, v))).collect()
    }
}

/// `v` as it may be printed for variable `k`.
pub fn mask_value(k: &str, v: &str) -> String {
    if PROXY_VARS.contains(&k) || k == "ANTHROPIC_BASE_URL" {
        mask_url(v)
    } else if k == "ANTHROPIC_API_KEY" {
        if v.is_empty() {
            String::new()
        } else {
            mask_key(v)
        }
    } else {
        v.to_string()
    }
}

/// A URL with everything between `://` and the last `@` but the user name replaced
/// by `…` (also safe when the password itself holds `@`, `:` or `/`), and the
/// secrets of its path and query masked as in request targets (`?key=…`).
pub fn mask_url(raw: &str) -> String {
    let masked = mask_userinfo_url(raw);
    crate::protocols::secrets::mask_target(&masked).into_owned()
}

/// [`mask_url`]'s user information part.
fn mask_userinfo_url(raw: &str) -> String {
    let (scheme, rest) = match raw.split_once("://") {
        Some((s, r)) => (format!("{s}://"), r),
        None => (String::new(), raw),
    };
    match rest.rfind('@') {
        Some(at) => {
            let userinfo = rest.get(..at).unwrap_or_default();
            let user = userinfo.split(':').next().unwrap_or_default();
            let user = if user.chars().count() >= 16 {
                mask_key(user)
            } else {
                user.to_string()
            };
            let tail = rest.get(at..).unwrap_or_default();
            if userinfo.contains(':') {
                format!("{scheme}{user}:…{tail}")
            } else {
                format!("{scheme}{user}{tail}")
            }
        }
        None => raw.to_string(),
    }
}

/// A proxy URL as clients read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyUrl {
    pub scheme: String,
    /// Without brackets for IPv6.
    pub host: String,
    pub port: Option<u16>,
    /// Percent-decoded.
    pub user: Option<String>,
    /// Percent-decoded. Never printed.
    pub password: Option<String>,
    /// The user and password as written, between `://` and the last `@`. Never printed.
    pub raw_userinfo: Option<String>,
}

impl ProxyUrl {
    /// `host:port` (`[v6]:port`), the port defaulting to 80 as most clients do.
    pub fn authority(&self) -> String {
        host_port(&self.host, self.port.unwrap_or(80))
    }
}

/// Parses a proxy URL (`http://user:pass@host:port`, the scheme optional). The user
/// part is taken up to the last `@`, the way the user meant it even when the password
/// holds unencoded reserved characters ([`credential_problem`] tells).
pub fn parse_proxy(raw: &str) -> Result<ProxyUrl, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("it is empty".into());
    }
    let (scheme, rest) = match raw.split_once("://") {
        Some((s, r)) => (s.to_ascii_lowercase(), r),
        None => ("http".to_string(), raw),
    };
    if !matches!(
        scheme.as_str(),
        "http" | "https" | "socks4" | "socks4a" | "socks5" | "socks5h"
    ) {
        return Err(format!("unknown scheme {scheme}://"));
    }
    let (userinfo, hostpart) = match rest.rfind('@') {
        Some(at) => (
            Some(rest.get(..at).unwrap_or_default()),
            rest.get(at + 1..).unwrap_or_default(),
        ),
        None => (None, rest),
    };
    let end = hostpart.find(['/', '?', '#']).unwrap_or(hostpart.len());
    let hostport = hostpart.get(..end).unwrap_or_default();
    let (host, port) = match split_host_port(hostport) {
        Ok(split) => split,
        Err(SplitError::NoClosingBracket) => {
            return Err("an IPv6 address without its closing ]".into());
        }
        Err(SplitError::AfterBracket(after)) => {
            return Err(format!("unexpected {after:?} after the address"));
        }
    };
    if host.is_empty() {
        return Err("no host name".into());
    }
    if host.contains([' ', ':', '@', '%']) && !host.contains("::") {
        return Err(format!("the host {host:?} is not a host name"));
    }
    let port = match port {
        Some("") | None => None,
        Some(p) => Some(
            p.parse::<u16>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("the port {p:?} is not a number from 1 to 65535"))?,
        ),
    };
    let (user, password) = match userinfo {
        Some(u) => match u.split_once(':') {
            Some((n, p)) => (Some(percent_decode(n)), Some(percent_decode(p))),
            None => (Some(percent_decode(u)), None),
        },
        None => (None, None),
    };
    Ok(ProxyUrl {
        scheme,
        host: host.to_ascii_lowercase(),
        port,
        user,
        password,
        raw_userinfo: userinfo.map(str::to_string),
    })
}

/// What is wrong with how the credentials of a proxy URL are written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CredentialProblem {
    /// These reserved characters appear unencoded (in the order of the guide's list).
    NotEncoded(Vec<char>),
    /// `%25XX`: encoded twice; the proxy would receive a literal `%XX`.
    EncodedTwice,
}

/// Checks the user and password as written (`raw_userinfo`) against the guide's
/// rule: `@ : / # ? & = +` and space percent-encoded, exactly once.
pub fn credential_problem(raw_userinfo: &str) -> Option<CredentialProblem> {
    // One `:` separates user from password; any other is part of one of them.
    let (user, pass) = raw_userinfo.split_once(':').unwrap_or((raw_userinfo, ""));
    let mut bad: Vec<char> = Vec::new();
    for c in ['@', ':', '/', '#', '?', '&', '=', '+', ' '] {
        if user.contains(c) || pass.contains(c) {
            bad.push(c);
        }
    }
    if !bad.is_empty() {
        return Some(CredentialProblem::NotEncoded(bad));
    }
    let twice = raw_userinfo.as_bytes().windows(5).any(|w| {
        w.first() == Some(&b'%')
            && w.get(1..3) == Some(b"25".as_slice())
            && w.get(3..5)
                .is_some_and(|h| h.iter().all(|c| c.is_ascii_hexdigit()))
    });
    twice.then_some(CredentialProblem::EncodedTwice)
}

/// A URL doctor probes or asks NO_PROXY about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub scheme: String,
    /// Lower case, without brackets for IPv6.
    pub host: String,
    pub port: u16,
    /// The port was written in the URL (clients compare NO_PROXY ports with it).
    pub explicit_port: bool,
    /// Path and query, `/` when none.
    pub path: String,
}

impl Target {
    /// Parses `http(s)://host[:port][/path]`; a URL without scheme is `http://`.
    pub fn parse(url: &str) -> Result<Target, String> {
        let url = url.trim();
        let (scheme, rest) = match url.split_once("://") {
            Some((s, r)) => (s.to_ascii_lowercase(), r),
            None => ("http".to_string(), url),
        };
        let default = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            other => return Err(format!("{url}: unknown scheme {other}://")),
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let hostport = rest.get(..end).unwrap_or_default();
        let hostport = hostport.rsplit_once('@').map_or(hostport, |(_, h)| h);
        let path = match rest.get(end..).unwrap_or_default() {
            "" => "/".to_string(),
            p => p.to_string(),
        };
        let (host, port) = match split_host_port(hostport) {
            Ok(split) => split,
            Err(SplitError::NoClosingBracket) => return Err(format!("{url}: no closing ]")),
            Err(SplitError::AfterBracket(after)) => {
                return Err(format!("{url}: unexpected {after:?} after the address"));
            }
        };
        if host.is_empty() {
            return Err(format!("{url}: no host"));
        }
        let (port, explicit_port) = match port {
            Some(p) if !p.is_empty() => (
                p.parse::<u16>()
                    .map_err(|_| format!("{url}: bad port {p:?}"))?,
                true,
            ),
            _ => (default, false),
        };
        Ok(Target {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
            explicit_port,
            path,
        })
    }

    /// `host:port` with brackets around IPv6.
    pub fn authority(&self) -> String {
        host_port(&self.host, self.port)
    }

    /// `scheme://host:port` as printed.
    pub fn origin(&self) -> String {
        format!("{}://{}", self.scheme, self.authority())
    }

    /// Whether the host is this machine (a local gateway).
    pub fn is_local(&self) -> bool {
        self.host == "localhost"
            || self.host.ends_with(".localhost")
            || self
                .host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

/// The static findings: proxy URLs, credentials, CA files, verification, key.
/// `now_unix` dates the expiry check.
/// `ca` holds the CA files `env` names, as read.
pub fn check(env: &Env, ca: &super::ca_files::CaFiles, now_unix: i64) -> Vec<Finding> {
    let mut out = Vec::new();
    for &k in PROXY_VARS {
        let Some(v) = env.value(k) else { continue };
        check_proxy_var(k, v, &mut out);
    }
    disagreeing_spellings(env, &mut out);
    for &k in CA_FILE_VARS {
        if let Some(p) = env.value(k)
            && let Some(read) = ca.bytes(p)
            && let Some(f) = check_ca_file(k, p, read, now_unix)
        {
            out.push(f);
        }
    }
    if let Some(d) = env.value("SSL_CERT_DIR") {
        for dir in d.split(':').filter(|s| !s.is_empty()) {
            if !std::path::Path::new(dir).is_dir() {
                out.push(ca_finding(
                    "SSL_CERT_DIR",
                    dir,
                    "is not a directory: Python's ssl and Go read CA certificates from none",
                ));
            }
        }
    }
    verification_off(env, &mut out);
    if let Some(f) = check_key(env) {
        out.push(f);
    }
    out
}

fn evidence(seen: String) -> Evidence {
    Evidence {
        seen,
        ..Evidence::default()
    }
}

fn check_proxy_var(k: &str, v: &str, out: &mut Vec<Finding>) {
    let shown = mask_url(v);
    match parse_proxy(v) {
        Err(why) => out.push(
            Finding::new(
                FindingKind::ProxyUrlInvalid,
                Severity::Error,
                format!("{k} is not a usable proxy URL: {why}"),
                format!(
                    "{k}={shown} does not parse as http://[user:password@]host:port; clients \
                     reject it or connect somewhere else than the proxy."
                ),
                &[],
            )
            .with(evidence(format!("{k}={shown}"))),
        ),
        Ok(p) => {
            let vars = [
                ("proxy", p.authority()),
                ("user", p.user.clone().unwrap_or_default()),
            ];
            if p.port.is_none() {
                out.push(
                    Finding::new(
                        FindingKind::ProxyUrlInvalid,
                        Severity::Error,
                        format!("{k} has no port"),
                        format!(
                            "{k}={shown} names no port: curl then tries 1080, Python, Node and \
                             Go port 80, while proxies usually listen on 8080 or 3128. Write \
                             the port IT gave you."
                        ),
                        &vars,
                    )
                    .with(evidence(format!("{k}={shown}"))),
                );
            }
            if let Some(raw) = &p.raw_userinfo
                && let Some(problem) = credential_problem(raw)
            {
                let (title, why) = match problem {
                    CredentialProblem::NotEncoded(chars) => {
                        let list: Vec<String> = chars
                            .iter()
                            .map(|c| {
                                if *c == ' ' {
                                    "space".into()
                                } else {
                                    c.to_string()
                                }
                            })
                            .collect();
                        (
                            format!(
                                "{k}: the credentials hold {} not percent-encoded",
                                list.join(" ")
                            ),
                            "Unencoded reserved characters cut the URL in the wrong place: \
                             clients send a wrong user or password (407) or take part of the \
                             password for the host."
                                .to_string(),
                        )
                    }
                    CredentialProblem::EncodedTwice => (
                        format!("{k}: the credentials are percent-encoded twice"),
                        "A %25 followed by two hex digits decodes to a literal %XX: the proxy \
                         receives the encoded form instead of the password (407). Encode once."
                            .to_string(),
                    ),
                };
                out.push(
                    Finding::new(
                        FindingKind::ProxyCredentialsEncoding,
                        Severity::Error,
                        title,
                        why,
                        &vars,
                    )
                    .with(evidence(format!("{k}={shown}"))),
                );
            }
        }
    }
}

/// Lower- and upper-case spellings that disagree (guide §6: each client prefers
/// another one).
fn disagreeing_spellings(env: &Env, out: &mut Vec<Finding>) {
    for (lo, up) in [
        ("https_proxy", "HTTPS_PROXY"),
        ("http_proxy", "HTTP_PROXY"),
        ("all_proxy", "ALL_PROXY"),
        ("no_proxy", "NO_PROXY"),
    ] {
        let (Some(l), Some(u)) = (env.get(lo), env.get(up)) else {
            continue;
        };
        if l.trim() == u.trim() {
            continue;
        }
        let (ls, us) = (mask_value(lo, l), mask_value(up, u));
        out.push(
            Finding::new(
                FindingKind::ProxyVariablesDisagree,
                Severity::Warning,
                format!("{lo} and {up} disagree"),
                format!(
                    "curl, Python and Node read {lo} first, Go reads {up} first: the same \
                     request goes different ways depending on the tool. Keep one spelling \
                     (or give both the same value)."
                ),
                &[("host", "localhost".to_string())],
            )
            .with(evidence(format!("{lo}={ls:?}, {up}={us:?}"))),
        );
    }
}

fn ca_finding(var: &str, path: &str, why: &str) -> Finding {
    Finding::new(
        FindingKind::CaFileUnusable,
        Severity::Error,
        format!("{var} names a CA file that cannot be used"),
        format!(
            "{var}={path} {why}. Clients reading {var} then fail every TLS handshake (Python, \
             curl) or ignore it with a warning (Node)."
        ),
        &[],
    )
    .with(evidence(format!("{var}={path}")))
}

/// Bundles up to this many certificates are reported when one of them expired.
const SMALL_BUNDLE: usize = 5;

/// A CA file that is missing, unreadable, not PEM, or holds an expired certificate
/// (when it is a small bundle; a store of hundreds only when all expired); `read` is
/// what reading `path` gave.
pub fn check_ca_file(
    var: &str,
    path: &str,
    read: &std::io::Result<Vec<u8>>,
    now_unix: i64,
) -> Option<Finding> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let bytes = match read {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Some(ca_finding(var, path, "does not exist"));
        }
        Err(e) => return Some(ca_finding(var, path, &format!("cannot be read ({e})"))),
    };
    let ders: Vec<_> = CertificateDer::pem_slice_iter(bytes)
        .filter_map(Result::ok)
        .collect();
    if ders.is_empty() {
        let why = if bytes.first() == Some(&0x30) {
            format!(
                "is DER, not PEM: convert it with `openssl x509 -inform der -in {path} -out {path}.pem`"
            )
        } else {
            "holds no PEM certificate (-----BEGIN CERTIFICATE-----)".to_string()
        };
        return Some(ca_finding(var, path, &why));
    }
    let expired: Vec<String> = ders
        .iter()
        .filter_map(|d| crate::protocols::x509::parse_der(d.as_ref()).ok())
        .filter(|c| c.not_after_unix < now_unix)
        .map(|c| {
            format!(
                "\"{}\" (expired {})",
                crate::analyze::issuers::cn(&c.subject),
                c.not_after
            )
        })
        .collect();
    if !expired.is_empty() && expired.len() == ders.len() {
        return Some(ca_finding(
            var,
            path,
            &format!("holds only expired certificates: {}", expired.join(", ")),
        ));
    }
    // A system-size store always carries a few expired roots; a corporate bundle of
    // a few certificates with an expired one is the problem the guide means.
    if !expired.is_empty() && ders.len() <= SMALL_BUNDLE {
        let mut f = ca_finding(
            var,
            path,
            &format!("holds expired certificates: {}", expired.join(", ")),
        );
        f.severity = Severity::Warning;
        f.title = format!("{var} holds expired CA certificates");
        return Some(f);
    }
    None
}

fn verification_off(env: &Env, out: &mut Vec<Finding>) {
    for (k, off, who) in [
        ("NODE_TLS_REJECT_UNAUTHORIZED", "0", "Node"),
        ("PYTHONHTTPSVERIFY", "0", "Python's urllib"),
    ] {
        if env.get(k).map(str::trim) == Some(off) {
            out.push(
                Finding::new(
                    FindingKind::TlsVerificationDisabled,
                    Severity::Warning,
                    format!("{k}={off}: {who} does not verify certificates"),
                    format!(
                        "{who} accepts any certificate, also an attacker's: it hides an SSL \
                         inspection problem instead of fixing it. Install the corporate CA \
                         and remove {k}."
                    ),
                    &[],
                )
                .with(evidence(format!("{k}={off}"))),
            );
        }
    }
}

/// Hosts whose keys are Anthropic's (`sk-ant-`).
fn is_anthropic_api(base: Option<&str>) -> bool {
    match base {
        None => true,
        Some(b) => Target::parse(b).is_ok_and(|t| t.host == "api.anthropic.com"),
    }
}

fn check_key(env: &Env) -> Option<Finding> {
    let key = env.get("ANTHROPIC_API_KEY")?.trim();
    if !is_anthropic_api(env.value("ANTHROPIC_BASE_URL")) {
        // A gateway's own keys (LiteLLM: sk-...) have no fixed prefix.
        return None;
    }
    if key.starts_with("sk-ant-") {
        return None;
    }
    let what = if key.is_empty() {
        "is empty".to_string()
    } else {
        let guess = if key.starts_with("sk-proj-") || key.starts_with("sk-") {
            " (an OpenAI or gateway key?)"
        } else if key.starts_with("AKIA") {
            " (an AWS access key id: Bedrock uses AWS credentials, not this variable)"
        } else {
            ""
        };
        format!("starts {}, not sk-ant-{guess}", mask_key(key))
    };
    Some(
        Finding::new(
            FindingKind::ApiKeyMalformed,
            Severity::Error,
            format!("ANTHROPIC_API_KEY {what}"),
            "Anthropic's API keys start with sk-ant-; the API answers any other with 401."
                .to_string(),
            &[],
        )
        .with(evidence(format!(
            "ANTHROPIC_API_KEY={}",
            mask_value("ANTHROPIC_API_KEY", key)
        ))),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::doctor::ca_files::CaFiles;

    fn kinds(f: &[Finding]) -> Vec<FindingKind> {
        f.iter().map(|f| f.kind).collect()
    }

    #[test]
    fn parses_proxy_urls_as_meant() {
        let p = parse_proxy("http://bob:p%40ss@Proxy.Corp:3128/").unwrap();
        assert_eq!(p.host, "proxy.corp");
        assert_eq!(p.port, Some(3128));
        assert_eq!(p.user.as_deref(), Some("bob"));
        assert_eq!(p.password.as_deref(), Some("p@ss"));
        // Unencoded: taken up to the last @, as the user meant it.
        let p = parse_proxy("http://bob:p@ss:w/rd!@proxy:8080").unwrap();
        assert_eq!(p.host, "proxy");
        assert_eq!(p.password.as_deref(), Some("p@ss:w/rd!"));
        assert_eq!(parse_proxy("proxy:8080").unwrap().scheme, "http");
        assert_eq!(parse_proxy("http://[::1]:3128").unwrap().host, "::1");
        assert!(parse_proxy("http://proxy:80a").is_err());
        assert!(parse_proxy("ftp://proxy:21").is_err());
        assert!(parse_proxy("http://:8080").is_err());
        assert_eq!(parse_proxy("http://proxy").unwrap().port, None);
    }

    #[test]
    fn finds_unencoded_and_twice_encoded_credentials() {
        assert_eq!(
            credential_problem("bob:p@ss:w/rd!"),
            Some(CredentialProblem::NotEncoded(vec!['@', ':', '/']))
        );
        assert_eq!(
            credential_problem("bob:a b+c"),
            Some(CredentialProblem::NotEncoded(vec!['+', ' ']))
        );
        assert_eq!(
            credential_problem("bob:p%2540ss"),
            Some(CredentialProblem::EncodedTwice)
        );
        assert_eq!(credential_problem("bob:p%40ss%3Aw%2Frd%21"), None);
        assert_eq!(credential_problem("CORP%5Calice:pw"), None);
    }

    #[test]
    fn proxy_findings_never_show_the_password() {
        let e = Env::of(&[
            ("HTTPS_PROXY", "http://bob:p@ss:w/rd!@proxy:8080"),
            ("HTTP_PROXY", "http://alice:Secret1@proxy"),
        ]);
        let f = check(&e, &CaFiles::read(&e), 0);
        assert_eq!(
            kinds(&f),
            [
                FindingKind::ProxyCredentialsEncoding,
                FindingKind::ProxyUrlInvalid
            ]
        );
        let all = format!("{f:?}");
        assert!(!all.contains("rd!") && !all.contains("Secret1"), "{all}");
        assert!(f[0].title.contains("@ : /"), "{}", f[0].title);
        assert_eq!(f[0].guide_section, Some(2));
        assert_eq!(f[1].guide_section, Some(1));
        assert_eq!(
            mask_url("http://bob:p@ss:w/rd!@proxy:8080"),
            "http://bob:…@proxy:8080"
        );
    }

    #[test]
    fn base_url_query_secrets_masked() {
        let shown = mask_value(
            "ANTHROPIC_BASE_URL",
            "http://gw.corp:4000/v1?key=S3CRETbasekey&api_key=S3CRETk2&region=eu",
        );
        assert_eq!(shown, "http://gw.corp:4000/v1?key=…&api_key=…&region=eu");
        assert_eq!(
            mask_value("HTTPS_PROXY", "http://bob:pw@proxy:8080/?token=t1"),
            "http://bob:…@proxy:8080/?token=…"
        );
        // Nothing to mask: as written.
        assert_eq!(
            mask_value("HTTPS_PROXY", "http://proxy.corp:3128"),
            "http://proxy.corp:3128"
        );
    }

    #[test]
    fn spellings_that_disagree_are_section_6() {
        let e = Env::of(&[
            ("https_proxy", "http://old:3128"),
            ("HTTPS_PROXY", "http://new:3128"),
            ("no_proxy", "localhost"),
            ("NO_PROXY", "localhost"),
        ]);
        let f = check(&e, &CaFiles::read(&e), 0);
        assert_eq!(kinds(&f), [FindingKind::ProxyVariablesDisagree]);
        assert_eq!(f[0].guide_section, Some(6));
    }

    #[test]
    fn ca_files_missing_not_pem_or_expired() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.pem");
        let f = check_ca_file("SSL_CERT_FILE", "nope.pem", &std::fs::read(&missing), 0).unwrap();
        assert!(f.explanation.contains("does not exist"));
        assert_eq!(f.guide_section, Some(3));
        let der = dir.path().join("ca.der");
        std::fs::write(&der, [0x30, 0x82, 0x01]).unwrap();
        let f = check_ca_file("NODE_EXTRA_CA_CERTS", "ca.der", &std::fs::read(&der), 0).unwrap();
        assert!(f.explanation.contains("DER, not PEM"));
        // A certificate valid 2025-2026 is fine in 2025, expired in 2030.
        let mut params = rcgen::CertificateParams::new(vec!["ca.test".into()]).unwrap();
        params.not_before = rcgen::date_time_ymd(2025, 1, 1);
        params.not_after = rcgen::date_time_ymd(2026, 1, 1);
        let key = rcgen::KeyPair::generate().unwrap();
        let pem = params.self_signed(&key).unwrap().pem();
        let ok = dir.path().join("ca.pem");
        std::fs::write(&ok, pem).unwrap();
        let p = ok.to_str().unwrap();
        assert!(check_ca_file("SSL_CERT_FILE", p, &std::fs::read(p), 1_750_000_000).is_none());
        let f = check_ca_file("SSL_CERT_FILE", p, &std::fs::read(p), 1_900_000_000).unwrap();
        assert!(f.explanation.contains("expired"), "{}", f.explanation);
    }

    #[test]
    fn verification_off_is_a_warning_and_keys_need_their_prefix() {
        let e = Env::of(&[
            ("NODE_TLS_REJECT_UNAUTHORIZED", "0"),
            (
                "ANTHROPIC_API_KEY",
                "sk-proj-abcdefghijklmnopqrstuvwxyz0123",
            ),
        ]);
        let f = check(&e, &CaFiles::read(&e), 0);
        assert_eq!(
            kinds(&f),
            [
                FindingKind::TlsVerificationDisabled,
                FindingKind::ApiKeyMalformed
            ]
        );
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(f[1].guide_section, Some(7));
        assert!(!format!("{f:?}").contains("abcdefghijklmnop"));
        // Through a gateway any key shape is the gateway's business.
        let e = Env::of(&[
            ("ANTHROPIC_BASE_URL", "http://localhost:4000"),
            ("ANTHROPIC_API_KEY", "sk-1234"),
        ]);
        assert!(check(&e, &CaFiles::read(&e), 0).is_empty());
        let e = Env::of(&[("ANTHROPIC_API_KEY", "sk-ant-api03-xyz")]);
        assert!(check(&e, &CaFiles::read(&e), 0).is_empty());
    }

    #[test]
    fn targets_parse_with_default_ports() {
        let t = Target::parse("http://localhost:4000").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.explicit_port),
            ("localhost", 4000, true)
        );
        assert!(t.is_local());
        let t = Target::parse("https://API.anthropic.com/v1").unwrap();
        assert_eq!(
            (t.port, t.explicit_port, t.path.as_str()),
            (443, false, "/v1")
        );
        assert_eq!(
            Target::parse("http://[::1]:4000").unwrap().authority(),
            "[::1]:4000"
        );
        assert!(Target::parse("ftp://x").is_err());
    }
}
