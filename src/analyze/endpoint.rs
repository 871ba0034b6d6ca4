//! Endpoints the user names as the proxy or the gateway (`--proxy`, `--gateway`, the
//! `HTTPS_PROXY` family of variables), and how they map to addresses in a capture.

use crate::model::url;
use std::net::IpAddr;

/// A host (name or address) and a port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// A name (`proxy.corp`, `localhost`) or an address, without brackets.
    pub host: String,
    pub port: u16,
}

/// The port curl assumes for a proxy URL without one.
pub const DEFAULT_PROXY_PORT: u16 = 1080;

impl Endpoint {
    /// `HOST:PORT` or `[IPV6]:PORT`; the port is required and not 0.
    pub fn parse(s: &str) -> Result<Endpoint, String> {
        let s = s.trim();
        let (host, port) = split_host_port(s).ok_or_else(|| format!("{s:?} is not HOST:PORT"))?;
        let port = port
            .and_then(|p| p.parse::<u16>().ok())
            .filter(|&p| p != 0)
            .ok_or_else(|| format!("{s:?} has no valid port (HOST:PORT)"))?;
        Ok(Endpoint { host, port })
    }

    /// A proxy URL as in `HTTPS_PROXY` (`http://user:pw@host:3128/`, or `host:3128`
    /// without a scheme); without a port, [`DEFAULT_PROXY_PORT`]. None when it names no
    /// host.
    pub fn from_proxy_url(url: &str) -> Option<Endpoint> {
        let rest = url.trim();
        let rest = rest.split_once("://").map_or(rest, |(_, r)| r);
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let (host, port) = split_host_port(authority)?;
        let port = match port {
            Some(p) => p.parse::<u16>().ok().filter(|&p| p != 0)?,
            None => DEFAULT_PROXY_PORT,
        };
        Some(Endpoint { host, port })
    }

    /// The address the host names without DNS: an address literal, or the loopback
    /// addresses for `localhost` (RFC 6761).
    pub fn literal_addrs(&self) -> Vec<IpAddr> {
        if let Ok(ip) = self.host.parse::<IpAddr>() {
            return vec![ip];
        }
        if self.name().is_some_and(|n| n == "localhost") {
            return vec![
                IpAddr::from([127, 0, 0, 1]),
                IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
            ];
        }
        Vec::new()
    }

    /// The host as a lower-case DNS name without its final dot, if it is not an address.
    pub fn name(&self) -> Option<String> {
        if self.host.parse::<IpAddr>().is_ok() {
            return None;
        }
        Some(self.host.trim_end_matches('.').to_ascii_lowercase())
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&url::host_port(&self.host, self.port))
    }
}

/// `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address; None for an
/// empty host.
fn split_host_port(s: &str) -> Option<(String, Option<&str>)> {
    let (host, port) = url::split_host_port_or_ipv6(s)?;
    (!host.is_empty()).then(|| (host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(host: &str, port: u16) -> Endpoint {
        Endpoint {
            host: host.to_string(),
            port,
        }
    }

    #[test]
    fn parses_host_port() {
        assert_eq!(Endpoint::parse("127.0.0.1:3128"), Ok(ep("127.0.0.1", 3128)));
        assert_eq!(Endpoint::parse("[::1]:3128"), Ok(ep("::1", 3128)));
        assert_eq!(
            Endpoint::parse("proxy.corp:8080"),
            Ok(ep("proxy.corp", 8080))
        );
        assert!(Endpoint::parse("proxy.corp").is_err());
        assert!(Endpoint::parse(":3128").is_err());
        assert!(Endpoint::parse("host:0").is_err());
        assert!(Endpoint::parse("host:x").is_err());
        assert!(Endpoint::parse("::1").is_err());
    }

    #[test]
    fn parses_proxy_urls() {
        let u = Endpoint::from_proxy_url;
        assert_eq!(u("http://localhost:3128"), Some(ep("localhost", 3128)));
        assert_eq!(u("http://[::1]:3128/"), Some(ep("::1", 3128)));
        assert_eq!(
            u("http://alice:p%40ss@proxy.corp.example:3130"),
            Some(ep("proxy.corp.example", 3130))
        );
        assert_eq!(u("proxy:8080"), Some(ep("proxy", 8080)));
        assert_eq!(u("http://proxy"), Some(ep("proxy", DEFAULT_PROXY_PORT)));
        assert_eq!(u(""), None);
        assert_eq!(u("http://"), None);
        assert_eq!(u("http://h:99999"), None);
    }

    #[test]
    fn localhost_is_both_loopbacks() {
        assert_eq!(ep("LocalHost.", 1).literal_addrs().len(), 2);
        assert_eq!(
            ep("10.0.0.1", 1).literal_addrs(),
            vec![IpAddr::from([10, 0, 0, 1])]
        );
        assert!(ep("proxy.corp", 1).literal_addrs().is_empty());
        assert_eq!(ep("::1", 1).to_string(), "[::1]:1");
    }
}
