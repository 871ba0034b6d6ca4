//! NO_PROXY as each client really evaluates it. curl, Python (requests and urllib),
//! Node (undici's `EnvHttpProxyAgent`, and the global-agent style) and Go read other
//! variables first and match wildcards, leading dots, ports, CIDR ranges, IPv6 and
//! case their own way; [`route`] says per client whether a URL goes direct or
//! through which proxy variable.
//!
//! curl 7.88, Python 3.11 (requests 2.34) and undici 7 are checked against the real
//! clients by the doctor integration tests; global-agent and Go follow their
//! documented source (global-agent's `isUrlMatchingNoProxy`, Go's
//! `golang.org/x/net/http/httpproxy`) and are not run.

use super::config::{Env, Target};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A client whose proxy rules doctor knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Client {
    Curl,
    /// Python requests (and what uses it: pip, the Anthropic SDK's older versions).
    Requests,
    /// Python's urllib.request.
    Urllib,
    /// Node with undici's `EnvHttpProxyAgent` (Claude Code, the Anthropic SDK).
    Undici,
    /// Node with the global-agent package style of matching (`NO_PROXY` globs).
    GlobalAgent,
    /// Go's net/http (`ProxyFromEnvironment`).
    Go,
}

impl Client {
    pub const ALL: [Client; 6] = [
        Client::Curl,
        Client::Requests,
        Client::Urllib,
        Client::Undici,
        Client::GlobalAgent,
        Client::Go,
    ];

    /// The name reports use.
    pub fn name(self) -> &'static str {
        match self {
            Client::Curl => "curl",
            Client::Requests => "python-requests",
            Client::Urllib => "python-urllib",
            Client::Undici => "node-undici",
            Client::GlobalAgent => "node-global-agent",
            Client::Go => "go",
        }
    }

    /// Checked against the real client by the tests (the others from their source).
    pub fn verified(self) -> bool {
        !matches!(self, Client::GlobalAgent | Client::Go)
    }
}

/// Where a client sends a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// Straight to the host; the reason in words.
    Direct(String),
    /// Through the proxy this variable names.
    Proxy { var: &'static str, url: String },
}

impl Route {
    pub fn is_direct(&self) -> bool {
        matches!(self, Route::Direct(_))
    }
}

/// The first of `names` that is set (even empty): curl's and undici's `??` rule.
fn first_set<'e>(env: &'e Env, names: &[&'static str]) -> Option<(&'static str, &'e str)> {
    names.iter().find_map(|&n| env.get(n).map(|v| (n, v)))
}

/// The first of `names` set and not empty: Go's `getEnvAny`.
fn first_nonempty<'e>(env: &'e Env, names: &[&'static str]) -> Option<(&'static str, &'e str)> {
    names.iter().find_map(|&n| env.value(n).map(|v| (n, v)))
}

/// Python's `getproxies_environment()` for one key: the lower-case variable when set
/// non-empty, none when set empty, else the upper-case one when non-empty.
fn python_env<'e>(
    env: &'e Env,
    lower: &'static str,
    upper: &'static str,
) -> Option<(&'static str, &'e str)> {
    match env.get(lower) {
        Some(v) if !v.is_empty() => Some((lower, v)),
        Some(_) => None,
        None => env.value(upper).map(|v| (upper, v)),
    }
}

/// The proxy variable (and value) `client` uses for a URL of `scheme`.
pub fn proxy_var(client: Client, env: &Env, scheme: &str) -> Option<(&'static str, String)> {
    let https = scheme == "https";
    let found = match client {
        Client::Curl => {
            // The upper-case HTTP_PROXY is never read (CGI safety); an empty
            // variable counts as unset.
            let own = if https {
                first_nonempty(env, &["https_proxy", "HTTPS_PROXY"])
            } else {
                first_nonempty(env, &["http_proxy"])
            };
            own.or_else(|| first_nonempty(env, &["all_proxy", "ALL_PROXY"]))
        }
        Client::Requests | Client::Urllib => {
            let own = if https {
                python_env(env, "https_proxy", "HTTPS_PROXY")
            } else {
                python_env(env, "http_proxy", "HTTP_PROXY")
            };
            match (own, client) {
                (Some(o), _) => Some(o),
                // requests also takes `all`; urllib does not.
                (None, Client::Requests) => python_env(env, "all_proxy", "ALL_PROXY"),
                _ => None,
            }
        }
        Client::Undici => {
            let http = first_set(env, &["http_proxy", "HTTP_PROXY"]).filter(|(_, v)| !v.is_empty());
            if https {
                first_set(env, &["https_proxy", "HTTPS_PROXY"])
                    .filter(|(_, v)| !v.is_empty())
                    .or(http)
            } else {
                http
            }
        }
        Client::GlobalAgent => {
            let http = first_nonempty(env, &["HTTP_PROXY"]);
            if https {
                first_nonempty(env, &["HTTPS_PROXY"]).or(http)
            } else {
                http
            }
        }
        Client::Go => {
            if https {
                first_nonempty(env, &["HTTPS_PROXY", "https_proxy"])
            } else {
                first_nonempty(env, &["HTTP_PROXY", "http_proxy"])
            }
        }
    };
    found
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (k, v.to_string()))
}

/// The NO_PROXY variable (and value) `client` reads.
pub fn no_proxy_var(client: Client, env: &Env) -> Option<(&'static str, String)> {
    let found = match client {
        Client::Curl => first_nonempty(env, &["no_proxy", "NO_PROXY"]),
        Client::Undici => first_set(env, &["no_proxy", "NO_PROXY"]),
        Client::Requests => first_nonempty(env, &["no_proxy", "NO_PROXY"]),
        Client::Urllib => python_env(env, "no_proxy", "NO_PROXY"),
        Client::GlobalAgent => env.get("NO_PROXY").map(|v| ("NO_PROXY", v)),
        Client::Go => first_nonempty(env, &["NO_PROXY", "no_proxy"]),
    };
    found.map(|(k, v)| (k, v.to_string()))
}

/// Where `client` sends a request for `t`, given the environment.
pub fn route(client: Client, env: &Env, t: &Target) -> Route {
    let Some((var, url)) = proxy_var(client, env, &t.scheme) else {
        return Route::Direct(format!("no proxy variable for {}://", t.scheme));
    };
    if client == Client::Go && (t.host == "localhost" || is_loopback(&t.host)) {
        return Route::Direct("Go never proxies localhost".into());
    }
    if let Some((nvar, value)) = no_proxy_var(client, env)
        && let Some(entry) = bypass(client, &value, t, env)
    {
        return Route::Direct(format!("{nvar} entry {entry:?}"));
    }
    Route::Proxy { var, url }
}

fn is_loopback(host: &str) -> bool {
    host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The NO_PROXY entry of `value` that makes `client` go direct for `t`, if any.
pub fn bypass(client: Client, value: &str, t: &Target, env: &Env) -> Option<String> {
    match client {
        Client::Curl => curl(value, &t.host),
        Client::Requests => requests(value, t).or_else(|| {
            // requests then asks urllib's proxy_bypass with the host alone.
            let (_, no) = python_env(env, "no_proxy", "NO_PROXY")?;
            urllib(no, &t.host)
        }),
        Client::Urllib => {
            let host = if t.host.contains(':') {
                format!("[{}]", t.host)
            } else {
                t.host.clone()
            };
            let host = if t.explicit_port {
                format!("{host}:{}", t.port)
            } else {
                host
            };
            urllib(value, &host)
        }
        Client::Undici => undici(value, t),
        Client::GlobalAgent => global_agent(value, t),
        Client::Go => go(value, t),
    }
}

/// curl's `Curl_check_noproxy` (7.88): `*` alone matches all; entries are
/// separated by commas and blanks; leading and trailing dots are ignored and a name
/// matches itself and its subdomains; IP addresses match only IP entries, with an
/// optional /bits.
fn curl(value: &str, host: &str) -> Option<String> {
    if value == "*" {
        return Some("*".into());
    }
    let name = host.to_ascii_lowercase();
    let ip: Option<IpAddr> = name.parse().ok();
    for token in value.split([',', ' ', '\t']).filter(|t| !t.is_empty()) {
        let matched = match ip {
            Some(addr) => cidr_match(token, addr),
            None => {
                let t = token.strip_suffix('.').unwrap_or(token);
                let t = t.strip_prefix('.').unwrap_or(t).to_ascii_lowercase();
                !t.is_empty() && (name == t || name.ends_with(&format!(".{t}")))
            }
        };
        if matched {
            return Some(token.to_string());
        }
    }
    None
}

/// An IP entry (`10.0.0.0/8`, `::1`, `127.0.0.1`) against an address of the same
/// family; no bits means the whole address.
fn cidr_match(token: &str, addr: IpAddr) -> bool {
    let (net, bits) = match token.split_once('/') {
        Some((n, b)) => match b.parse::<u32>() {
            Ok(b) => (n, Some(b)),
            Err(_) => return false,
        },
        None => (token, None),
    };
    match (addr, net.parse::<IpAddr>()) {
        (IpAddr::V4(a), Ok(IpAddr::V4(n))) => {
            prefix_eq(u32::from(a).into(), u32::from(n).into(), 32, bits)
        }
        (IpAddr::V6(a), Ok(IpAddr::V6(n))) => prefix_eq(u128::from(a), u128::from(n), 128, bits),
        _ => false,
    }
}

fn prefix_eq(a: u128, n: u128, width: u32, bits: Option<u32>) -> bool {
    let bits = match bits {
        None | Some(0) => width,
        Some(b) if b > width => return false,
        Some(b) => b,
    };
    let shift = width - bits;
    a.checked_shr(shift).unwrap_or(0) == n.checked_shr(shift).unwrap_or(0)
}

/// requests' `should_bypass_proxies` (2.34): spaces removed, split at commas; an
/// IPv4 host matches IPv4 CIDR entries or the same address; any other host (or
/// `host:port`) matches an entry, leading dots ignored, as itself or a subdomain.
fn requests(value: &str, t: &Target) -> Option<String> {
    let squeezed = value.replace(' ', "");
    let entries = squeezed.split(',').filter(|e| !e.is_empty());
    if let Ok(a) = t.host.parse::<Ipv4Addr>() {
        for e in entries {
            let hit = match e.split_once('/') {
                Some((n, b)) => {
                    b.parse::<u32>().is_ok_and(|b| (1..=32).contains(&b))
                        && n.parse::<Ipv4Addr>().is_ok()
                        && cidr_match(e, IpAddr::V4(a))
                }
                None => e == t.host,
            };
            if hit {
                return Some(e.to_string());
            }
        }
        return None;
    }
    let with_port = if t.explicit_port {
        format!("{}:{}", t.host, t.port)
    } else {
        t.host.clone()
    };
    entries
        .into_iter()
        .find(|e| {
            let h = e.trim_start_matches('.');
            let dotted = format!(".{h}");
            t.host == h
                || with_port == h
                || t.host.ends_with(&dotted)
                || with_port.ends_with(&dotted)
        })
        .map(str::to_string)
}

/// urllib's `proxy_bypass_environment(host)`: `*` alone matches all; entries split
/// at commas and stripped, leading dots ignored; the host (with or without its port)
/// equals the entry or ends with `.entry`. `host` may carry `:port`.
fn urllib(value: &str, host: &str) -> Option<String> {
    if value == "*" {
        return Some("*".into());
    }
    let host = host.to_ascii_lowercase();
    // _splitport: the part before the last `:` followed by digits only.
    let hostonly = match host.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|c| c.is_ascii_digit()) => h.to_string(),
        _ => host.clone(),
    };
    for raw in value.split(',') {
        let e = raw.trim();
        if e.is_empty() {
            continue;
        }
        let name = e.trim_start_matches('.').to_ascii_lowercase();
        if hostonly == name || host == name {
            return Some(e.to_string());
        }
        let dotted = format!(".{name}");
        if hostonly.ends_with(&dotted) || host.ends_with(&dotted) {
            return Some(e.to_string());
        }
    }
    None
}

/// undici's `EnvHttpProxyAgent` (7.x): `*` alone matches all; entries split at
/// commas and blanks, `name:port` only for that port, a leading `.` or `*.`
/// dropped; a name matches itself and its subdomains. IPv6 hosts are compared with
/// their brackets; no CIDR.
fn undici(value: &str, t: &Target) -> Option<String> {
    let entries: Vec<&str> = value
        .split([',', ' ', '\t', '\n', '\r'])
        .filter(|e| !e.is_empty())
        .collect();
    if entries.is_empty() {
        return None;
    }
    if value == "*" {
        return Some("*".into());
    }
    let host = if t.host.contains(':') {
        format!("[{}]", t.host)
    } else {
        t.host.clone()
    };
    for e in entries {
        let (name, port) = match e.rsplit_once(':') {
            Some((h, p))
                if !h.is_empty() && !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()) =>
            {
                (h, p.parse::<u32>().unwrap_or(0))
            }
            _ => (e, 0),
        };
        if port != 0 && port != u32::from(t.port) {
            continue;
        }
        let name = name
            .strip_prefix("*.")
            .or_else(|| name.strip_prefix('.'))
            .unwrap_or(name)
            .to_ascii_lowercase();
        if host == name || host.ends_with(&format!(".{name}")) {
            return Some(e.to_string());
        }
    }
    None
}

/// global-agent's `isUrlMatchingNoProxy`: rules split at commas and blanks, a leading
/// `.` read as `*`, `*` a glob over the whole name (case-insensitive), `name:port`
/// only when the URL names that same port.
fn global_agent(value: &str, t: &Target) -> Option<String> {
    for rule in value
        .split([',', ' ', '\t', '\n'])
        .filter(|r| !r.is_empty())
    {
        let globbed = match rule.strip_prefix('.') {
            Some(r) => format!("*{r}"),
            None => rule.to_string(),
        };
        let (name, port) = match globbed.rsplit_once(':') {
            Some((h, p))
                if !h.is_empty() && !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()) =>
            {
                (h.to_string(), Some(p.to_string()))
            }
            _ => (globbed, None),
        };
        if glob(&name.to_ascii_lowercase(), &t.host)
            && port.is_none_or(|p| t.explicit_port && p == t.port.to_string())
        {
            return Some(rule.to_string());
        }
    }
    None
}

/// `*` matches any run of characters; everything else itself.
fn glob(pattern: &str, s: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == s;
    }
    let (first, last) = (
        parts.first().copied().unwrap_or(""),
        parts.last().copied().unwrap_or(""),
    );
    if !s.starts_with(first) || s.len() < first.len() + last.len() || !s.ends_with(last) {
        return false;
    }
    let mut rest = s.get(first.len()..s.len() - last.len()).unwrap_or_default();
    for mid in parts.iter().skip(1).take(parts.len().saturating_sub(2)) {
        match rest.find(mid) {
            Some(at) => rest = rest.get(at + mid.len()..).unwrap_or_default(),
            None => return false,
        }
    }
    true
}

/// Go's `httpproxy`: `*` as any entry matches all; entries split at commas, trimmed,
/// lower-cased; CIDR and IP entries (with optional port) match addresses; a name
/// matches itself and its subdomains, `.name` and `*.name` only subdomains; `:port`
/// only that port.
fn go(value: &str, t: &Target) -> Option<String> {
    let ip: Option<IpAddr> = t.host.parse().ok();
    let port = t.port.to_string();
    for raw in value.split(',') {
        let p = raw.trim().to_ascii_lowercase();
        if p.is_empty() {
            continue;
        }
        if p == "*" {
            return Some(raw.trim().to_string());
        }
        if p.contains('/') {
            if let Some(a) = ip
                && valid_cidr(&p)
                && cidr_match(&p, a)
            {
                return Some(raw.trim().to_string());
            }
            continue;
        }
        let (phost, pport) = split_host_port(&p).unwrap_or((p.clone(), String::new()));
        if let Ok(pip) = phost.parse::<IpAddr>() {
            if ip == Some(pip) && (pport.is_empty() || pport == port) {
                return Some(raw.trim().to_string());
            }
            continue;
        }
        if phost.is_empty() {
            continue;
        }
        let phost = phost
            .strip_prefix('*')
            .filter(|h| h.starts_with('.'))
            .unwrap_or(&phost);
        let (suffix, match_host) = if phost.starts_with('.') {
            (phost.to_string(), false)
        } else {
            (format!(".{phost}"), true)
        };
        if (t.host.ends_with(&suffix) || (match_host && suffix.get(1..) == Some(t.host.as_str())))
            && (pport.is_empty() || pport == port)
        {
            return Some(raw.trim().to_string());
        }
    }
    None
}

fn valid_cidr(p: &str) -> bool {
    let Some((n, b)) = p.split_once('/') else {
        return false;
    };
    let Ok(bits) = b.parse::<u32>() else {
        return false;
    };
    match n.parse::<IpAddr>() {
        Ok(IpAddr::V4(_)) => bits <= 32,
        Ok(IpAddr::V6(_)) => bits <= 128,
        Err(_) => false,
    }
}

/// Go's `net.SplitHostPort` for an entry: `host:port` or `[v6]:port`.
fn split_host_port(p: &str) -> Option<(String, String)> {
    match crate::model::url::split_host_port(p) {
        // Unbracketed, a host with a `:` is too many colons for Go.
        Ok((h, Some(port))) if p.starts_with('[') || !h.contains(':') => {
            Some((h.to_string(), port.to_string()))
        }
        _ => None,
    }
}

/// A bare IPv6 address literal (used by tests and the verdict table).
pub fn is_ipv6(host: &str) -> bool {
    host.parse::<Ipv6Addr>().is_ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn direct(c: Client, no_proxy: &str, url: &str) -> bool {
        let e = Env::of(&[
            ("HTTPS_PROXY", "http://proxy:3128"),
            ("HTTP_PROXY", "http://proxy:3128"),
            ("http_proxy", "http://proxy:3128"),
            ("NO_PROXY", no_proxy),
        ]);
        route(c, &e, &Target::parse(url).unwrap()).is_direct()
    }

    use Client::*;

    #[test]
    fn wildcard_star_entry() {
        // `*.internal`: a glob for Node and Go, a literal for curl and Python.
        let u = "http://api.internal:4000";
        assert!(!direct(Curl, "*.internal", u));
        assert!(!direct(Requests, "*.internal", u));
        assert!(!direct(Urllib, "*.internal", u));
        assert!(direct(Undici, "*.internal", u));
        assert!(direct(Undici, "*.internal", "http://internal"));
        assert!(direct(GlobalAgent, "*.internal", u));
        assert!(direct(Go, "*.internal", u));
        // `*` alone: everyone.
        for c in Client::ALL {
            assert!(direct(c, "*", "http://example.com"), "{c:?}");
        }
        // `*` inside a list: Go only.
        assert!(!direct(Curl, "localhost,*", "http://example.com"));
        assert!(!direct(Undici, "localhost,*", "http://example.com"));
        assert!(direct(Go, "localhost,*", "http://example.com"));
    }

    #[test]
    fn leading_dots_and_bare_domains() {
        // A bare domain covers subdomains, except for global-agent's globs.
        assert!(direct(Curl, "internal", "http://api.internal"));
        assert!(direct(Urllib, "internal", "http://api.internal"));
        assert!(direct(Undici, "internal", "http://api.internal"));
        assert!(!direct(GlobalAgent, "internal", "http://api.internal"));
        assert!(direct(Go, "internal", "http://api.internal"));
        // `.internal` covers the domain itself, except for Go.
        assert!(direct(Curl, ".internal", "http://internal"));
        assert!(direct(Urllib, ".internal", "http://internal"));
        assert!(direct(Undici, ".internal", "http://internal"));
        // global-agent reads `.internal` as the glob `*internal`.
        assert!(direct(GlobalAgent, ".internal", "http://internal"));
        assert!(!direct(Go, ".internal", "http://internal"));
        // Suffixes end at a dot.
        for c in Client::ALL {
            assert!(!direct(c, "example.com", "http://notexample.com"), "{c:?}");
        }
    }

    #[test]
    fn ports_cidr_ipv6_case_and_blanks() {
        assert!(!direct(Curl, "localhost:4000", "http://localhost:4000"));
        assert!(direct(Requests, "localhost:4000", "http://localhost:4000"));
        assert!(direct(Undici, "localhost:4000", "http://localhost:4000"));
        assert!(!direct(Undici, "localhost:4001", "http://localhost:4000"));
        assert!(direct(Curl, "10.0.0.0/8", "http://10.1.2.3"));
        assert!(direct(Requests, "10.0.0.0/8", "http://10.1.2.3"));
        assert!(!direct(Urllib, "10.0.0.0/8", "http://10.1.2.3"));
        assert!(!direct(Undici, "10.0.0.0/8", "http://10.1.2.3"));
        assert!(direct(Go, "10.0.0.0/8", "http://10.1.2.3"));
        assert!(direct(Curl, "::1", "http://[::1]:4000"));
        assert!(!direct(Undici, "::1", "http://[::1]:4000"));
        assert!(direct(Undici, "[::1]", "http://[::1]:4000"));
        assert!(direct(Go, "::1", "http://[::1]:4000"));
        for c in Client::ALL {
            assert!(direct(c, "LOCALHOST", "http://localhost:4000"), "{c:?}");
        }
        // "localhost .internal": curl and Node split at blanks, Python sees one odd name.
        assert!(direct(Curl, "localhost .internal", "http://api.internal"));
        assert!(!direct(
            Urllib,
            "localhost .internal",
            "http://api.internal"
        ));
        assert!(!direct(
            Requests,
            "localhost .internal",
            "http://api.internal"
        ));
        assert!(direct(Undici, "localhost .internal", "http://api.internal"));
        // "localhost, .internal": fine for everyone that reads .internal as a suffix.
        assert!(direct(Curl, "localhost, .internal", "http://api.internal"));
    }

    #[test]
    fn which_variable_each_client_reads() {
        let e = Env::of(&[("https_proxy", "http://a:1"), ("HTTPS_PROXY", "http://b:2")]);
        assert_eq!(proxy_var(Curl, &e, "https").unwrap().0, "https_proxy");
        assert_eq!(proxy_var(Go, &e, "https").unwrap().0, "HTTPS_PROXY");
        // curl never reads HTTP_PROXY; the others do.
        let e = Env::of(&[("HTTP_PROXY", "http://b:2")]);
        assert!(proxy_var(Curl, &e, "http").is_none());
        assert!(proxy_var(Requests, &e, "http").is_some());
        assert!(proxy_var(Undici, &e, "https").is_some());
        assert!(proxy_var(Go, &e, "https").is_none());
        // Go never proxies loopback.
        let e = Env::of(&[("HTTP_PROXY", "http://p:1"), ("http_proxy", "http://p:1")]);
        let t = Target::parse("http://127.0.0.1:4000").unwrap();
        assert!(route(Go, &e, &t).is_direct());
        assert!(!route(Curl, &e, &t).is_direct());
    }
}
