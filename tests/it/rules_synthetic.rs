//! Rules on small synthetic captures, for the cases no lab fixture records yet: a
//! proxy's own 403, a 407 answered on the same connection, CONNECT to localhost, a 429
//! with Retry-After, a gateway 401 whose error text carries a key.

use trafficdoc::analyze::{self, Config, Finding, FindingKind, Severity};
use trafficdoc::flow::table::TableConfig;
use trafficdoc::pipeline;

use crate::common::synth::{ACK, FIN, PSH, Pcap, RST, SYN};

impl Pcap {
    fn findings(&self) -> Vec<Finding> {
        self.findings_with(&Config::default())
    }

    fn findings_with(&self, cfg: &Config) -> Vec<Finding> {
        let c = pipeline::analyze_reader(
            "synthetic.pcap",
            std::io::Cursor::new(self.bytes.clone()),
            TableConfig::default(),
            &mut |_| {},
        )
        .unwrap();
        analyze::analyze(&[c], cfg)
    }
}

#[test]
fn proxy_reset_after_connect_is_named_not_a_timeout() {
    let mut p = Pcap::new();
    let (c, s) = ((CLIENT, 40004), (PROXY, 3128));
    p.tcp(c, s, 1000, 0, SYN, b"");
    p.tcp(s, c, 5000, 1001, SYN | ACK, b"");
    p.tcp(c, s, 1001, 5001, ACK, b"");
    let req = b"CONNECT blocked.example.com:443 HTTP/1.1\r\nHost: blocked.example.com:443\r\n\r\n";
    p.tcp(c, s, 1001, 5001, PSH | ACK, req);
    p.tcp(s, c, 5001, 1001 + req.len() as u32, RST | ACK, b"");
    let f = p.findings();
    let e = one(&f, FindingKind::ProxyResetAfterRequest);
    assert_eq!(e.severity, Severity::Error);
    assert_eq!(e.evidence[0].frames, vec![4, 5]);
    assert!(
        f.iter().all(|x| x.kind != FindingKind::RequestUnanswered),
        "{f:#?}"
    );
}

const CLIENT: [u8; 4] = [10, 0, 0, 2];
const PROXY: [u8; 4] = [10, 0, 0, 1];

fn one(f: &[Finding], kind: FindingKind) -> &Finding {
    f.iter().find(|x| x.kind == kind).unwrap_or_else(|| {
        panic!(
            "no {kind} in {:#?}",
            f.iter().map(|x| x.kind).collect::<Vec<_>>()
        )
    })
}

#[test]
fn proxy_policy_block_is_the_proxys_own_error() {
    let mut p = Pcap::new();
    p.conversation(
        (CLIENT, 40000),
        (PROXY, 3128),
        &[(
            "CONNECT blocked.example.com:443 HTTP/1.1\r\nHost: blocked.example.com:443\r\n\r\n",
            "HTTP/1.1 403 Forbidden\r\nX-Squid-Error: ERR_ACCESS_DENIED 0\r\nContent-Length: 0\r\n\r\n",
        )],
    );
    let f = p.findings();
    let e = one(&f, FindingKind::ProxyErrorResponse);
    assert_eq!(e.severity, Severity::Error);
    assert_eq!(e.guide_section, None);
    assert!(
        e.evidence[0].seen.contains("ERR_ACCESS_DENIED"),
        "{:?}",
        e.evidence
    );
    assert_eq!(e.evidence[0].frames, vec![4, 5]);
}

#[test]
fn a_407_answered_on_the_same_connection_is_info() {
    let mut p = Pcap::new();
    p.conversation(
        (CLIENT, 40001),
        (PROXY, 3128),
        &[
            (
                "CONNECT api.anthropic.com:443 HTTP/1.1\r\nHost: api.anthropic.com:443\r\n\r\n",
                "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"x\"\r\nContent-Length: 0\r\n\r\n",
            ),
            (
                "CONNECT api.anthropic.com:443 HTTP/1.1\r\nHost: api.anthropic.com:443\r\nProxy-Authorization: Basic YWxpY2U6c2VjcmV0\r\n\r\n",
                "HTTP/1.1 200 Connection established\r\n\r\n",
            ),
        ],
    );
    let f = p.findings();
    assert_eq!(
        one(&f, FindingKind::ProxyAuthChallenge).severity,
        Severity::Info
    );
    assert!(!analyze::has_error(&f), "{f:#?}");
    let text = format!("{f:?}");
    assert!(!text.contains("secret"), "password leaked: {text}");
}

#[test]
fn connect_to_localhost_through_the_proxy_is_section_6() {
    let mut p = Pcap::new();
    p.conversation(
        (CLIENT, 40002),
        (PROXY, 8080),
        &[(
            "CONNECT localhost:4000 HTTP/1.1\r\nHost: localhost:4000\r\n\r\n",
            "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n",
        )],
    );
    let f = p.findings();
    let e = one(&f, FindingKind::NoProxyNotMatching);
    assert_eq!(e.guide_section, Some(6));
    assert!(e.title.contains("localhost"));
    assert!(
        f.iter().all(|x| x.kind != FindingKind::ProxyErrorResponse),
        "{f:#?}"
    );
}

#[test]
fn rate_limit_names_retry_after() {
    let mut p = Pcap::new();
    p.conversation(
        (CLIENT, 40003),
        (PROXY, 8888),
        &[(
            "POST http://api.anthropic.com/v1/messages HTTP/1.1\r\nHost: api.anthropic.com\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 30\r\nContent-Length: 0\r\n\r\n",
        )],
    );
    let f = p.findings();
    let e = one(&f, FindingKind::RateLimited);
    assert_eq!(e.guide_section, Some(5));
    assert!(
        e.evidence[0].seen.contains("Retry-After: 30"),
        "{:?}",
        e.evidence
    );
    assert!(e.title.contains("api.anthropic.com"), "{}", e.title);
}

#[test]
fn gateway_401_masks_the_key_in_the_error_text() {
    let key = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789";
    let body = format!("{{\"error\":{{\"message\":\"Invalid API key {key} given\"}}}}");
    let resp = format!(
        "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut p = Pcap::new();
    p.conversation(
        ([127, 0, 0, 1], 50000),
        ([127, 0, 0, 1], 4000),
        &[(
            "POST /v1/messages HTTP/1.1\r\nHost: localhost:4000\r\nContent-Length: 0\r\n\r\n",
            &resp,
        )],
    );
    let f = p.findings();
    let e = one(&f, FindingKind::ApiKeyRejected);
    assert_eq!(e.guide_section, Some(7));
    // The key's type and last 4, as in the JSON facts: masked once, not twice.
    assert!(
        e.evidence[0]
            .seen
            .contains("Invalid API key sk-ant-api03-…6789 given"),
        "{:?}",
        e.evidence
    );
    let text = format!("{f:?}");
    assert!(!text.contains(key), "key leaked: {text}");
}

#[test]
fn internal_suffix_flag_adds_names_that_must_bypass_the_proxy() {
    let mut p = Pcap::new();
    p.conversation(
        (CLIENT, 40010),
        (PROXY, 3128),
        &[(
            "CONNECT wiki.acme.net:443 HTTP/1.1\r\nHost: wiki.acme.net:443\r\n\r\n",
            "HTTP/1.1 200 Connection established\r\n\r\n",
        )],
    );
    // Not internal by default: a public-looking name.
    assert!(
        p.findings()
            .iter()
            .all(|f| f.kind != FindingKind::NoProxyNotMatching)
    );
    for suffix in [".acme.net", "acme.net", "*.acme.net"] {
        let cfg = Config {
            internal_suffixes: vec![suffix.to_string()],
            ..Config::default()
        };
        let f = p.findings_with(&cfg);
        let e = one(&f, FindingKind::NoProxyNotMatching);
        assert_eq!(e.guide_section, Some(6));
        assert!(e.explanation.contains("internal name"), "{}", e.explanation);
    }
    // The defaults stay on when suffixes are added.
    let cfg = Config {
        internal_suffixes: vec![".acme.net".to_string()],
        ..Config::default()
    };
    assert!(cfg.is_internal_name("git.corp"));
    assert!(cfg.is_internal_name("api.internal"));
    assert!(!cfg.is_internal_name("notacme.net"));
}

#[test]
fn slow_first_byte_is_a_section_5_warning_past_the_threshold() {
    let mut p = Pcap::new();
    p.conversation(
        (CLIENT, 40020),
        ([127, 0, 0, 1], 4000),
        &[(
            "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost:4000\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        )],
    );
    // Packets are 1 ms apart: request -> response takes 1 ms.
    let cfg = |ms| Config {
        slow_ms: ms,
        ..Config::default()
    };
    assert!(
        p.findings_with(&cfg(10_000))
            .iter()
            .all(|f| f.kind != FindingKind::SlowResponse)
    );
    let f = p.findings_with(&cfg(0));
    let e = one(&f, FindingKind::SlowResponse);
    assert_eq!((e.severity, e.guide_section), (Severity::Warning, Some(5)));
    assert!(
        e.evidence[0].seen.contains("request → first byte"),
        "{:?}",
        e.evidence
    );
}

const CONNECT_NO_CREDS: (&str, &str) = (
    "CONNECT api.anthropic.com:443 HTTP/1.1\r\nHost: api.anthropic.com:443\r\n\r\n",
    "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"x\"\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
);
const CONNECT_WITH_CREDS: (&str, &str) = (
    "CONNECT api.anthropic.com:443 HTTP/1.1\r\nHost: api.anthropic.com:443\r\nProxy-Authorization: Basic YWxpY2U6c2VjcmV0\r\n\r\n",
    "HTTP/1.1 200 Connection established\r\n\r\n",
);

#[test]
fn a_407_answered_at_once_on_a_new_connection_is_info() {
    // The proxy closes after its 407; the client reconnects immediately with credentials.
    let mut p = Pcap::new();
    p.conversation((CLIENT, 40010), (PROXY, 3128), &[CONNECT_NO_CREDS]);
    p.conversation((CLIENT, 40011), (PROXY, 3128), &[CONNECT_WITH_CREDS]);
    let f = p.findings();
    assert_eq!(
        one(&f, FindingKind::ProxyAuthChallenge).severity,
        Severity::Info
    );
    assert!(
        f.iter().all(|x| x.kind != FindingKind::ProxyAuthMissing),
        "{f:#?}"
    );
}

#[test]
fn a_407_and_a_success_by_another_program_later_is_still_an_error() {
    // A separate run with credentials 200 ms later does not fix the first one.
    let mut p = Pcap::new();
    p.conversation((CLIENT, 40020), (PROXY, 3128), &[CONNECT_NO_CREDS]);
    p.usec += 200_000;
    p.conversation((CLIENT, 40021), (PROXY, 3128), &[CONNECT_WITH_CREDS]);
    let f = p.findings();
    assert_eq!(
        one(&f, FindingKind::ProxyAuthMissing).severity,
        Severity::Error
    );
}

#[test]
fn proxy_upstream_failure_is_section_5_with_the_squid_error_in_words() {
    let mut p = Pcap::new();
    p.conversation(
        (CLIENT, 40010),
        (PROXY, 3128),
        &[(
            "CONNECT api.anthropic.com:4000 HTTP/1.1\r\nHost: api.anthropic.com:4000\r\n\r\n",
            "HTTP/1.1 503 Service Unavailable\r\nX-Squid-Error: ERR_CONNECT_FAIL 111\r\nContent-Length: 0\r\n\r\n",
        )],
    );
    let f = p.findings();
    let e = one(&f, FindingKind::ProxyUpstreamFailed);
    assert_eq!(e.severity, Severity::Error);
    assert_eq!(e.guide_section, Some(5));
    assert!(
        e.evidence[0].seen.contains("ERR_CONNECT_FAIL 111")
            && e.evidence[0].seen.contains("refused"),
        "{:?}",
        e.evidence
    );
    assert!(
        f.iter().all(|x| x.kind != FindingKind::ProxyErrorResponse),
        "{f:#?}"
    );
}

#[test]
fn proxy_cannot_forward_500_is_an_upstream_failure() {
    let mut p = Pcap::new();
    p.conversation(
        (CLIENT, 40011),
        (PROXY, 3128),
        &[(
            "CONNECT api.antropic.com:443 HTTP/1.1\r\nHost: api.antropic.com:443\r\n\r\n",
            "HTTP/1.1 500 Internal Server Error\r\nX-Squid-Error: ERR_CANNOT_FORWARD 0\r\nContent-Length: 0\r\n\r\n",
        )],
    );
    let f = p.findings();
    let e = one(&f, FindingKind::ProxyUpstreamFailed);
    assert_eq!(e.guide_section, Some(5));
    assert!(e.title.contains("(500)"), "{}", e.title);
    assert!(
        e.evidence[0].seen.contains("cannot resolve or reach"),
        "{:?}",
        e.evidence
    );
}

#[test]
fn a_proxy_answer_after_the_client_gave_up_is_the_clients_timeout() {
    let mut p = Pcap::new();
    let (c, s) = ((CLIENT, 40012), (PROXY, 3128));
    p.tcp(c, s, 1000, 0, SYN, b"");
    p.tcp(s, c, 5000, 1001, SYN | ACK, b"");
    p.tcp(c, s, 1001, 5001, ACK, b"");
    let req = b"CONNECT api.anthropic.com:443 HTTP/1.1\r\nHost: api.anthropic.com:443\r\n\r\n";
    p.tcp(c, s, 1001, 5001, PSH | ACK, req);
    let after = 1001 + req.len() as u32;
    // The client's own time-out: it closes 5 s after the CONNECT.
    p.usec += 5_000_000;
    p.tcp(c, s, after, 5001, FIN | ACK, b"");
    // The proxy's 503 comes 3 s later; the closed socket answers with a reset.
    p.usec += 3_000_000;
    let resp = b"HTTP/1.1 503 Service Unavailable\r\nX-Squid-Error: ERR_CONNECT_FAIL 110\r\nContent-Length: 0\r\n\r\n";
    p.tcp(s, c, 5001, after + 1, PSH | ACK, resp);
    p.tcp(c, s, after + 1, 0, RST, b"");
    let f = p.findings();
    let e = one(&f, FindingKind::RequestUnanswered);
    assert_eq!(e.severity, Severity::Error);
    assert_eq!(e.guide_section, Some(5));
    assert!(e.title.contains("gave up after 5.0 s"), "{}", e.title);
    let seen = &e.evidence[0].seen;
    assert!(
        seen.contains("503") && seen.contains("8.0 s after") && seen.contains("timed out"),
        "{seen}"
    );
    assert_eq!(e.evidence[0].frames, vec![4, 5, 6]);
    assert!(
        f.iter().all(|x| !matches!(
            x.kind,
            FindingKind::ProxyUpstreamFailed | FindingKind::ProxyErrorResponse
        )),
        "{f:#?}"
    );
}

const POST_VIA_PROXY: &str = "POST http://api.anthropic.com/v1/messages HTTP/1.1\r\nHost: api.anthropic.com\r\nContent-Length: 0\r\n\r\n";
const TOO_MANY: &str =
    "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n";
const OK: &str = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

#[test]
fn a_429_never_followed_by_success_is_an_error() {
    let mut p = Pcap::new();
    p.conversation((CLIENT, 40020), (PROXY, 8888), &[(POST_VIA_PROXY, OK)]);
    p.conversation(
        (CLIENT, 40021),
        (PROXY, 8888),
        &[(POST_VIA_PROXY, TOO_MANY)],
    );
    p.conversation(
        (CLIENT, 40022),
        (PROXY, 8888),
        &[(POST_VIA_PROXY, TOO_MANY)],
    );
    let f = p.findings();
    let e = one(&f, FindingKind::RateLimited);
    assert_eq!(e.severity, Severity::Error);
    assert!(e.explanation.contains("never got its answer"), "{e:?}");
    assert!(analyze::has_error(&f));
}

#[test]
fn a_429_then_success_stays_a_warning() {
    let mut p = Pcap::new();
    p.conversation(
        (CLIENT, 40023),
        (PROXY, 8888),
        &[(POST_VIA_PROXY, TOO_MANY)],
    );
    p.conversation(
        (CLIENT, 40024),
        (PROXY, 8888),
        &[(POST_VIA_PROXY, TOO_MANY), (POST_VIA_PROXY, OK)],
    );
    let f = p.findings();
    let e = one(&f, FindingKind::RateLimited);
    assert_eq!(e.severity, Severity::Warning);
    assert!(!analyze::has_error(&f), "{f:#?}");
}

#[test]
fn a_lone_syn_cut_by_the_end_of_the_capture_is_not_a_filtered_proxy() {
    let (c, s) = ((CLIENT, 40100), (PROXY, 3128));
    // The capture stops right after the SYN (tcpdump -c, Ctrl-C): no finding.
    let mut p = Pcap::new();
    p.tcp(c, s, 1000, 0, SYN, b"");
    let f = p.findings();
    assert!(
        f.iter()
            .all(|x| x.kind != FindingKind::ProxyConnectionFiltered),
        "{f:#?}"
    );
    // The same SYN with the capture going on for 3 s without an answer (another
    // conversation's packet closes it): the proxy never answered.
    p.usec += 3_000_000;
    p.tcp((CLIENT, 40101), (PROXY, 53), 1, 0, RST, b"");
    let f = p.findings();
    one(&f, FindingKind::ProxyConnectionFiltered);
    // A SYN retransmitted before the end is evidence even when the end is close.
    let mut p = Pcap::new();
    p.tcp(c, s, 1000, 0, SYN, b"");
    p.usec += 500_000;
    p.tcp(c, s, 1000, 0, SYN, b"");
    one(&p.findings(), FindingKind::ProxyConnectionFiltered);
}

#[test]
fn a_fatal_server_alert_right_after_the_client_hello_is_section_3() {
    let mut p = Pcap::new();
    let (c, s) = ((CLIENT, 40200), ([10, 0, 0, 9], 443));
    p.tcp(c, s, 1000, 0, SYN, b"");
    p.tcp(s, c, 5000, 1001, SYN | ACK, b"");
    p.tcp(c, s, 1001, 5001, ACK, b"");
    let hello = crate::trust_synthetic::client_hello("api.example.com");
    p.tcp(c, s, 1001, 5001, PSH | ACK, &hello);
    // Alert record: fatal (2) protocol_version (70).
    let alert = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 70];
    p.tcp(s, c, 5001, 1001 + hello.len() as u32, PSH | ACK, &alert);
    let f = p.findings();
    let e = one(&f, FindingKind::TlsHandshakeRefused);
    assert_eq!((e.severity, e.guide_section), (Severity::Error, Some(3)));
    assert!(e.title.contains("api.example.com") && e.title.contains("protocol_version"));
    assert_eq!(e.evidence[0].frames, vec![4, 5]);
    assert!(e.remedy[0].contains("openssl s_client -connect api.example.com:443"));
}
