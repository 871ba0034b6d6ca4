//! Pieces of URLs and endpoints as people write them: `host:port` with brackets around
//! IPv6, and `%XX` escapes.

use std::net::IpAddr;

/// Why `host:port` text does not split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SplitError<'a> {
    /// `[` without its `]`.
    NoClosingBracket,
    /// Something other than `:port` after `[address]`.
    AfterBracket(&'a str),
}

/// Splits `host`, `host:port`, `[v6]` or `[v6]:port` into the host (without brackets)
/// and the port as written (maybe empty). Without brackets the port is after the last
/// `:`, so a bare IPv6 address splits there too (see [`split_host_port_or_ipv6`]).
pub fn split_host_port(s: &str) -> Result<(&str, Option<&str>), SplitError<'_>> {
    if let Some(v6) = s.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or(SplitError::NoClosingBracket)?;
        return match after.strip_prefix(':') {
            Some(p) => Ok((h, Some(p))),
            None if after.is_empty() => Ok((h, None)),
            None => Err(SplitError::AfterBracket(after)),
        };
    }
    Ok(match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    })
}

/// [`split_host_port`], except that a bare IPv6 address (more than one `:` without
/// brackets) is a host without port, and anything else with more than one `:` does
/// not split.
pub fn split_host_port_or_ipv6(s: &str) -> Option<(&str, Option<&str>)> {
    if !s.starts_with('[') && s.matches(':').nth(1).is_some() {
        return s.parse::<IpAddr>().ok().map(|_| (s, None));
    }
    split_host_port(s).ok()
}

/// `host:port`, with brackets around an IPv6 host.
pub fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// `%XX` escapes decoded (invalid ones kept as written; bytes that are not UTF-8
/// replaced).
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let hex = |at: usize| b.get(at).and_then(|&c| char::from(c).to_digit(16));
        match (c, hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_names_addresses_and_brackets() {
        assert_eq!(split_host_port("proxy"), Ok(("proxy", None)));
        assert_eq!(split_host_port("proxy:3128"), Ok(("proxy", Some("3128"))));
        assert_eq!(split_host_port("proxy:"), Ok(("proxy", Some(""))));
        assert_eq!(split_host_port("[::1]"), Ok(("::1", None)));
        assert_eq!(split_host_port("[::1]:4000"), Ok(("::1", Some("4000"))));
        assert_eq!(split_host_port("[::1"), Err(SplitError::NoClosingBracket));
        assert_eq!(
            split_host_port("[::1]x"),
            Err(SplitError::AfterBracket("x"))
        );
        assert_eq!(split_host_port("::1:80"), Ok(("::1", Some("80"))));
        assert_eq!(split_host_port_or_ipv6("::1"), Some(("::1", None)));
        assert_eq!(split_host_port_or_ipv6("a:b:c"), None);
        assert_eq!(split_host_port_or_ipv6("a:80"), Some(("a", Some("80"))));
        assert_eq!(split_host_port_or_ipv6("[::1]x"), None);
    }

    #[test]
    fn brackets_ipv6_hosts() {
        assert_eq!(host_port("::1", 4000), "[::1]:4000");
        assert_eq!(host_port("proxy", 3128), "proxy:3128");
    }

    #[test]
    fn decodes_valid_escapes_only() {
        for (text, decoded) in [
            ("p%40ss%3Aw", "p@ss:w"),
            ("100%", "100%"),
            ("%zz%4", "%zz%4"),
            ("%+f", "%+f"),
            ("%C3%A9", "é"),
        ] {
            assert_eq!(percent_decode(text), decoded);
        }
    }
}
