//! The guide's three layers probed for real, each step timed and bounded by the
//! timeout: the gateway's health routes; the proxy's name, port and `CONNECT`
//! without and then with the configured credentials; a TLS handshake through the
//! tunnel (rustls) keeping the presented chain; with `--check-key` one small API
//! request. Plain blocking sockets; only the configured gateway, proxy and provider
//! are contacted. Credentials go on the wire only to the configured proxy and
//! provider, and never into a step's text.

use super::config::{ProxyUrl, Target};
use crate::protocols::x509::{CertInfo, parse_der};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One probe step as the report shows it.
#[derive(Clone, Debug)]
pub struct Step {
    /// 0 client→gateway, 1 gateway→proxy, 2 proxy→provider.
    pub layer: usize,
    pub name: String,
    pub ok: bool,
    /// What was seen (no secret).
    pub detail: String,
    pub seconds: f64,
}

/// How a network operation failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetError {
    NotResolved(String),
    Refused,
    TimedOut,
    Unreachable(String),
    Reset,
    Closed,
    Other(String),
}

impl std::fmt::Display for NetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NetError::NotResolved(e) => write!(f, "name not resolved ({e})"),
            NetError::Refused => f.write_str("connection refused"),
            NetError::TimedOut => f.write_str("no answer before the timeout"),
            NetError::Unreachable(e) => write!(f, "unreachable ({e})"),
            NetError::Reset => f.write_str("connection reset"),
            NetError::Closed => f.write_str("connection closed without an answer"),
            NetError::Other(e) => f.write_str(e),
        }
    }
}

fn net_error(e: &io::Error) -> NetError {
    use io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused => NetError::Refused,
        K::TimedOut | K::WouldBlock => NetError::TimedOut,
        K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => NetError::Reset,
        K::UnexpectedEof => NetError::Closed,
        K::HostUnreachable | K::NetworkUnreachable => NetError::Unreachable(e.to_string()),
        _ => NetError::Other(e.to_string()),
    }
}

/// Resolves `host:port` within `timeout` (the system resolver has its own, longer
/// timeouts, so it runs on a thread that is left behind if it overstays).
pub fn resolve(host: &str, port: u16, timeout: Duration) -> Result<Vec<SocketAddr>, NetError> {
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let h = host.to_string();
    std::thread::spawn(move || {
        let _ = tx.send(
            (h.as_str(), port)
                .to_socket_addrs()
                .map(|a| a.collect::<Vec<_>>()),
        );
    });
    match rx.recv_timeout(timeout) {
        Ok(Ok(a)) if !a.is_empty() => Ok(a),
        Ok(Ok(_)) => Err(NetError::NotResolved("no address".into())),
        Ok(Err(e)) => Err(NetError::NotResolved(e.to_string())),
        Err(_) => Err(NetError::NotResolved(
            "no answer from DNS before the timeout".into(),
        )),
    }
}

/// Connects to the first address that accepts; the last error when none does.
pub fn connect(
    addrs: &[SocketAddr],
    timeout: Duration,
) -> Result<(TcpStream, SocketAddr), NetError> {
    let mut last = NetError::Other("no address".into());
    for a in addrs {
        match TcpStream::connect_timeout(a, timeout) {
            Ok(s) => {
                let _ = s.set_read_timeout(Some(timeout));
                let _ = s.set_write_timeout(Some(timeout));
                let _ = s.set_nodelay(true);
                return Ok((s, *a));
            }
            Err(e) => last = net_error(&e),
        }
    }
    Err(last)
}

/// An HTTP response head (and a bounded start of the body).
#[derive(Clone, Debug, Default)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// From the request's last byte to the status line.
    pub first_byte_s: f64,
}

impl Response {
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Body bytes kept of a response.
const MAX_BODY: usize = 16 * 1024;
/// Header lines read at most.
const MAX_HEADERS: usize = 100;

/// Sends `request` and reads the response head; with `body`, up to [`MAX_BODY`] of
/// the body (by Content-Length, else until close or timeout).
pub fn exchange<S: Read + Write>(
    s: &mut S,
    request: &[u8],
    body: bool,
) -> Result<Response, NetError> {
    s.write_all(request).map_err(|e| net_error(&e))?;
    s.flush().map_err(|e| net_error(&e))?;
    let sent = Instant::now();
    let mut r = BufReader::new(s);
    let mut line = String::new();
    let read_line = |r: &mut BufReader<&mut S>, line: &mut String| -> Result<usize, NetError> {
        line.clear();
        let n = r
            .by_ref()
            .take(8192)
            .read_line(line)
            .map_err(|e| net_error(&e))?;
        Ok(n)
    };
    if read_line(&mut r, &mut line)? == 0 {
        return Err(NetError::Closed);
    }
    let first_byte_s = sent.elapsed().as_secs_f64();
    let mut parts = line.trim_end().splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/") {
        return Err(NetError::Other(format!(
            "not an HTTP answer ({} bytes that do not start with HTTP/)",
            line.len()
        )));
    }
    let status = parts
        .next()
        .and_then(|c| c.parse::<u16>().ok())
        .ok_or_else(|| NetError::Other("unreadable status line".into()))?;
    let reason = parts.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    for _ in 0..MAX_HEADERS {
        if read_line(&mut r, &mut line)? == 0 {
            break;
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((n, v)) = l.split_once(':') {
            headers.push((n.trim().to_string(), v.trim().to_string()));
        }
    }
    let mut resp = Response {
        status,
        reason,
        headers,
        body: Vec::new(),
        first_byte_s,
    };
    if body {
        let len = resp
            .header_values("content-length")
            .next()
            .and_then(|v| v.parse::<usize>().ok());
        let want = len.unwrap_or(MAX_BODY).min(MAX_BODY);
        let mut buf = Vec::with_capacity(want.min(4096));
        // A timeout or close ends the body: what came is enough to read an error.
        let _ = r.by_ref().take(want as u64).read_to_end(&mut buf);
        resp.body = buf;
    }
    Ok(resp)
}

/// The outcome of probing the gateway.
#[derive(Clone, Debug)]
pub enum GatewayOutcome {
    /// Nothing accepted the connection.
    Down(NetError),
    /// Connected, but the health routes did not answer.
    Silent(NetError),
    /// The health route's status (the route it came from).
    Answered { route: &'static str, status: u16 },
}

/// Health routes asked in order: LiteLLM's liveliness needs no key, `/health` may.
const HEALTH_ROUTES: &[&str] = &["/health/liveliness", "/health/readiness", "/health"];

/// TCP to the gateway, then its health routes until one answers other than 404.
pub fn gateway(g: &Target, timeout: Duration, steps: &mut Vec<Step>) -> GatewayOutcome {
    let t0 = Instant::now();
    let addrs = match resolve(&g.host, g.port, timeout) {
        Ok(a) => a,
        Err(e) => {
            steps.push(step(
                0,
                format!("resolve {}", g.host),
                false,
                e.to_string(),
                t0,
            ));
            return GatewayOutcome::Down(e);
        }
    };
    let (mut s, addr) = match connect(&addrs, timeout) {
        Ok(c) => c,
        Err(e) => {
            steps.push(step(
                0,
                format!("TCP {}", g.authority()),
                false,
                e.to_string(),
                t0,
            ));
            return GatewayOutcome::Down(e);
        }
    };
    steps.push(step(
        0,
        format!("TCP {}", g.authority()),
        true,
        format!("connected to {addr}"),
        t0,
    ));
    let mut outcome = GatewayOutcome::Silent(NetError::Closed);
    for (i, route) in HEALTH_ROUTES.iter().enumerate() {
        let t1 = Instant::now();
        if i > 0 {
            match connect(&addrs, timeout) {
                Ok((n, _)) => s = n,
                Err(e) => {
                    steps.push(step(0, format!("GET {route}"), false, e.to_string(), t1));
                    return GatewayOutcome::Down(e);
                }
            }
        }
        let req = format!(
            "GET {route} HTTP/1.1\r\nHost: {}\r\nUser-Agent: trafficdoc-doctor\r\nAccept: */*\r\nConnection: close\r\n\r\n",
            g.authority()
        );
        // An https:// gateway: TLS first, whatever its certificate (the layer under
        // test is the gateway's health, not its certificate).
        let answer = if g.scheme == "https" {
            match s.try_clone().map_err(|e| net_error(&e)).and_then(|sock| {
                handshake_inner(sock, &g.host).map_err(|e| NetError::Other(format!("TLS: {e}")))
            }) {
                Ok(mut tls) => exchange(&mut tls.conn, req.as_bytes(), false),
                Err(e) => Err(e),
            }
        } else {
            exchange(&mut s, req.as_bytes(), false)
        };
        match answer {
            Ok(r) => {
                let ok = (200..300).contains(&r.status) || matches!(r.status, 401 | 403);
                steps.push(step(
                    0,
                    format!("GET {route}"),
                    ok,
                    format!("{} {}", r.status, r.reason),
                    t1,
                ));
                outcome = GatewayOutcome::Answered {
                    route,
                    status: r.status,
                };
                if r.status != 404 {
                    break;
                }
            }
            Err(e) => {
                steps.push(step(0, format!("GET {route}"), false, e.to_string(), t1));
                return GatewayOutcome::Silent(e);
            }
        }
    }
    outcome
}

fn step(layer: usize, name: String, ok: bool, detail: String, t0: Instant) -> Step {
    Step {
        layer,
        name,
        ok,
        detail,
        seconds: t0.elapsed().as_secs_f64(),
    }
}

/// What the proxy did.
#[derive(Debug)]
pub enum ProxyOutcome {
    NotResolved(String),
    Unreachable(NetError),
    /// `CONNECT` answered with this status; `schemes` of its Proxy-Authenticate;
    /// `with_credentials` tells whether the configured credentials were sent.
    Status {
        status: u16,
        schemes: Vec<String>,
        with_credentials: bool,
        reason: String,
    },
    /// `CONNECT` got no answer, or the connection ended.
    NoAnswer(NetError),
    /// The tunnel is open.
    Tunnel {
        stream: TcpStream,
        with_credentials: bool,
        schemes: Vec<String>,
    },
}

/// The `CONNECT` request, with Basic credentials when given (never logged).
fn connect_request(dest: &str, creds: Option<(&str, &str)>) -> Vec<u8> {
    use base64::Engine;
    let mut r = format!(
        "CONNECT {dest} HTTP/1.1\r\nHost: {dest}\r\nUser-Agent: trafficdoc-doctor\r\nProxy-Connection: Keep-Alive\r\n"
    );
    if let Some((u, p)) = creds {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
        r.push_str(&format!("Proxy-Authorization: Basic {token}\r\n"));
    }
    r.push_str("\r\n");
    r.into_bytes()
}

/// The auth schemes a 407 offers (`Basic`, `NTLM`, `Negotiate` ...).
fn schemes(r: &Response) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in r.header_values("proxy-authenticate") {
        let s = v.split_whitespace().next().unwrap_or_default().to_string();
        if !s.is_empty() && !out.iter().any(|o| o.eq_ignore_ascii_case(&s)) {
            out.push(s);
        }
    }
    out
}

/// Resolve, connect, `CONNECT dest` without credentials, then (on 407) with the
/// configured ones.
pub fn proxy(p: &ProxyUrl, dest: &str, timeout: Duration, steps: &mut Vec<Step>) -> ProxyOutcome {
    let port = p.port.unwrap_or(80);
    let t0 = Instant::now();
    let addrs = match resolve(&p.host, port, timeout) {
        Ok(a) => {
            let list: Vec<String> = a.iter().map(|x| x.ip().to_string()).collect();
            steps.push(step(
                1,
                format!("resolve {}", p.host),
                true,
                list.join(", "),
                t0,
            ));
            a
        }
        Err(e) => {
            steps.push(step(
                1,
                format!("resolve {}", p.host),
                false,
                e.to_string(),
                t0,
            ));
            return ProxyOutcome::NotResolved(e.to_string());
        }
    };
    let creds = match (&p.user, &p.password) {
        (Some(u), pw) if !u.is_empty() => Some((u.as_str(), pw.as_deref().unwrap_or(""))),
        _ => None,
    };
    let mut last_schemes = Vec::new();
    for with in [false, true] {
        if with && creds.is_none() {
            break;
        }
        let t1 = Instant::now();
        let (mut s, addr) = match connect(&addrs, timeout) {
            Ok(c) => c,
            Err(e) => {
                steps.push(step(
                    1,
                    format!("TCP {}", p.authority()),
                    false,
                    e.to_string(),
                    t1,
                ));
                return ProxyOutcome::Unreachable(e);
            }
        };
        if !with {
            steps.push(step(
                1,
                format!("TCP {}", p.authority()),
                true,
                format!("connected to {addr}"),
                t1,
            ));
        }
        let t2 = Instant::now();
        let name = if with {
            format!(
                "CONNECT {dest} as {}",
                p.user.as_deref().unwrap_or_default()
            )
        } else {
            format!("CONNECT {dest}")
        };
        let req = connect_request(dest, if with { creds } else { None });
        match exchange(&mut s, &req, false) {
            Err(e) => {
                steps.push(step(1, name, false, e.to_string(), t2));
                return ProxyOutcome::NoAnswer(e);
            }
            Ok(r) if (200..300).contains(&r.status) => {
                steps.push(step(
                    1,
                    name,
                    true,
                    format!("{} {}", r.status, r.reason),
                    t2,
                ));
                return ProxyOutcome::Tunnel {
                    stream: s,
                    with_credentials: with,
                    schemes: last_schemes,
                };
            }
            Ok(r) => {
                let sch = schemes(&r);
                let detail = if sch.is_empty() {
                    format!("{} {}", r.status, r.reason)
                } else {
                    format!("{} {} (offers {})", r.status, r.reason, sch.join(", "))
                };
                // A 407 before credentials is how authentication starts.
                let expected = r.status == 407 && !with && creds.is_some();
                steps.push(step(1, name, expected, detail, t2));
                if !expected {
                    return ProxyOutcome::Status {
                        status: r.status,
                        schemes: if sch.is_empty() { last_schemes } else { sch },
                        with_credentials: with,
                        reason: r.reason,
                    };
                }
                last_schemes = sch;
            }
        }
    }
    ProxyOutcome::NoAnswer(NetError::Closed)
}

/// A connection to the provider without a proxy.
pub fn direct(t: &Target, timeout: Duration, steps: &mut Vec<Step>) -> Result<TcpStream, NetError> {
    let t0 = Instant::now();
    let addrs = resolve(&t.host, t.port, timeout).inspect_err(|e| {
        steps.push(step(
            2,
            format!("resolve {}", t.host),
            false,
            e.to_string(),
            t0,
        ));
    })?;
    match connect(&addrs, timeout) {
        Ok((s, a)) => {
            steps.push(step(
                2,
                format!("TCP {} (direct)", t.authority()),
                true,
                format!("connected to {a}"),
                t0,
            ));
            Ok(s)
        }
        Err(e) => {
            steps.push(step(
                2,
                format!("TCP {} (direct)", t.authority()),
                false,
                e.to_string(),
                t0,
            ));
            Err(e)
        }
    }
}

/// Accepts any chain, keeping it: doctor judges it afterwards against each store a
/// client would use (signatures over the handshake are still checked).
#[derive(Debug)]
struct KeepChain {
    chain: std::sync::Mutex<Vec<Vec<u8>>>,
    algs: rustls::crypto::WebPkiSupportedAlgorithms,
}

impl rustls::client::danger::ServerCertVerifier for KeepChain {
    fn verify_server_cert(
        &self,
        end_entity: &rustls_pki_types::CertificateDer<'_>,
        intermediates: &[rustls_pki_types::CertificateDer<'_>],
        _server_name: &rustls_pki_types::ServerName<'_>,
        _ocsp: &[u8],
        _now: rustls_pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        if let Ok(mut c) = self.chain.lock() {
            c.clear();
            c.push(end_entity.to_vec());
            c.extend(intermediates.iter().map(|d| d.to_vec()));
        }
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algs.supported_schemes()
    }
}

/// The handshake's outcome.
pub struct Tls {
    pub chain: Vec<CertInfo>,
    pub version: String,
    pub conn: rustls::StreamOwned<rustls::ClientConnection, TcpStream>,
}

/// How the handshake failed.
#[derive(Clone, Debug)]
pub enum TlsError {
    /// The other side sent a fatal alert.
    Alert(String),
    Net(NetError),
    Other(String),
}

impl std::fmt::Display for TlsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TlsError::Alert(a) => write!(f, "the server side sent the fatal alert {a}"),
            TlsError::Net(e) => write!(f, "{e}"),
            TlsError::Other(e) => f.write_str(e),
        }
    }
}

/// A TLS handshake for `host` over `sock`, keeping the chain the other side shows.
pub fn handshake(sock: TcpStream, host: &str, steps: &mut Vec<Step>) -> Result<Tls, TlsError> {
    let t0 = Instant::now();
    let res = handshake_inner(sock, host);
    match &res {
        Ok(t) => steps.push(step(
            2,
            format!("TLS handshake with {host}"),
            true,
            format!(
                "{}, {} certificate(s), issuer \"{}\"",
                t.version,
                t.chain.len(),
                t.chain
                    .last()
                    .map(|c| crate::analyze::issuers::cn(&c.issuer).to_string())
                    .unwrap_or_default()
            ),
            t0,
        )),
        Err(e) => steps.push(step(
            2,
            format!("TLS handshake with {host}"),
            false,
            e.to_string(),
            t0,
        )),
    }
    res
}

fn handshake_inner(mut sock: TcpStream, host: &str) -> Result<Tls, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let keep = Arc::new(KeepChain {
        chain: std::sync::Mutex::new(Vec::new()),
        algs: provider.signature_verification_algorithms,
    });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(|e| TlsError::Other(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(keep.clone())
        .with_no_client_auth();
    let name = rustls_pki_types::ServerName::try_from(host.to_string())
        .map_err(|e| TlsError::Other(format!("{host}: {e}")))?;
    let mut conn = rustls::ClientConnection::new(Arc::new(config), name)
        .map_err(|e| TlsError::Other(e.to_string()))?;
    while conn.is_handshaking() {
        match conn.complete_io(&mut sock) {
            Ok(_) => {}
            Err(e) => {
                if let Some(inner) = e.get_ref()
                    && let Some(rustls::Error::AlertReceived(a)) =
                        inner.downcast_ref::<rustls::Error>()
                {
                    return Err(TlsError::Alert(format!("{a:?}")));
                }
                if e.kind() == io::ErrorKind::InvalidData {
                    return Err(TlsError::Other(format!(
                        "not TLS or a broken handshake ({e})"
                    )));
                }
                return Err(TlsError::Net(net_error(&e)));
            }
        }
    }
    let version = match conn.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLS 1.3",
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLS 1.2",
        _ => "TLS",
    }
    .to_string();
    let ders = keep.chain.lock().map(|c| c.clone()).unwrap_or_default();
    let chain = ders.iter().filter_map(|d| parse_der(d).ok()).collect();
    Ok(Tls {
        chain,
        version,
        conn: rustls::StreamOwned::new(conn, sock),
    })
}

/// The guide's §7 step-2 request: a one-token message with the key.
pub fn api_request(
    tls: &mut Tls,
    provider: &Target,
    key: &str,
    steps: &mut Vec<Step>,
) -> Result<Response, NetError> {
    let t0 = Instant::now();
    // Under the provider URL's own path, if it has one (a gateway's /anthropic).
    let path = format!("{}/v1/messages", provider.path.trim_end_matches('/'));
    let body = r#"{"model":"claude-haiku-4-5","max_tokens":1,"messages":[{"role":"user","content":"Hi"}]}"#;
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: trafficdoc-doctor\r\nContent-Type: application/json\r\nx-api-key: {key}\r\nanthropic-version: 2023-06-01\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        provider.host,
        body.len()
    );
    let res = exchange(&mut tls.conn, req.as_bytes(), true);
    match &res {
        Ok(r) => steps.push(step(
            2,
            format!("POST {path} with ANTHROPIC_API_KEY"),
            !matches!(r.status, 401 | 403 | 429) && r.status < 500,
            format!("{} {}", r.status, r.reason),
            t0,
        )),
        Err(e) => steps.push(step(
            2,
            format!("POST {path} with ANTHROPIC_API_KEY"),
            false,
            e.to_string(),
            t0,
        )),
    }
    res
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_407_and_its_schemes() {
        let mut io = std::io::Cursor::new(Vec::new());
        struct Duplex(std::io::Cursor<&'static [u8]>, Vec<u8>);
        impl Read for Duplex {
            fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
                self.0.read(b)
            }
        }
        impl Write for Duplex {
            fn write(&mut self, b: &[u8]) -> io::Result<usize> {
                self.1.write(b)
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let _ = io.write(b"");
        let mut d = Duplex(
            std::io::Cursor::new(
                b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: NTLM\r\nProxy-Authenticate: Negotiate\r\nProxy-Authenticate: NTLM abc\r\n\r\n",
            ),
            Vec::new(),
        );
        let r = exchange(&mut d, &connect_request("h:443", Some(("u", "pw"))), false).unwrap();
        assert_eq!(r.status, 407);
        assert_eq!(schemes(&r), ["NTLM", "Negotiate"]);
        let sent = String::from_utf8(d.1).unwrap();
        assert!(
            sent.contains("Proxy-Authorization: Basic dTpwdw=="),
            "{sent}"
        );
    }

    #[test]
    fn refused_connections_are_told_apart() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let a = l.local_addr().unwrap();
        drop(l);
        assert_eq!(
            connect(&[a], Duration::from_secs(1)).unwrap_err(),
            NetError::Refused
        );
    }
}
