//! Flows built by hand with every field set and unset, every variant and extreme
//! values: each must come back from the store exactly (compared by `Debug`, which
//! shows every field, the ones JSON skips included).

use super::*;
use crate::decode::ip::Unreachable;
use crate::decode::tcp::conn::ConnState;
use crate::model::{Dir, FrameNo, Timestamp};
use crate::protocols::dns::DnsTransaction;
use crate::protocols::http::{AuthHeader, Challenge, Credentials, HttpExchange};
use crate::protocols::ntlm::{NtResponseKind, NtlmMessage, NtlmMessageType};
use crate::protocols::socks::SocksFacts;
use crate::protocols::tls::{HandshakeOutcome, TlsAlert, TlsFacts};
use crate::protocols::x509::{CertData, CertInfo, Der};
use crate::protocols::{AppFacts, AppProtocol};
use crate::spill::CHUNK;
use std::sync::Arc;
use tls_parser::{TlsAlertDescription, TlsAlertSeverity, TlsCipherSuiteID, TlsVersion};

/// Every variant of the enums a flow holds, for flows that use each.
trait Variants: Sized + 'static {
    const ALL: &'static [Self];
}

macro_rules! variants {
    ($($t:ident: [$($v:ident),+ $(,)?]);+ $(;)?) => {$(
        impl Variants for $t {
            const ALL: &'static [Self] = &[$($t::$v),+];
        }
    )+};
}

variants! {
    Transport: [Tcp, Udp];
    Dir: [ToServer, ToClient];
    ConnState: [S0, S1, SF, REJ, S2, S3, RSTO, RSTR, RSTOS0, RSTRH, SH, SHR, OTH];
    AppProtocol: [Unknown, Http, Tls, Dns, Socks, Other];
    HandshakeOutcome: [
        Established,
        ClientAlert,
        ServerAlert,
        ClientEncryptedAlert,
        ClientSilentAfterServerFlight,
        NoServerHello,
        NoClientHello,
        Incomplete,
    ];
    AuthHeader: [ProxyAuthenticate, WwwAuthenticate, ProxyAuthorization, Authorization];
    NtlmMessageType: [Negotiate, Challenge, Authenticate];
    NtResponseKind: [Anonymous, NTLMv1, NTLMv2];
}

/// Enough flows of each kind that every variant of the longest enum comes up.
fn variants() -> usize {
    [
        ConnState::ALL.len(),
        AppProtocol::ALL.len(),
        HandshakeOutcome::ALL.len(),
        AuthHeader::ALL.len(),
        NtlmMessageType::ALL.len(),
        NtResponseKind::ALL.len(),
        Dir::ALL.len(),
        Transport::ALL.len(),
    ]
    .into_iter()
    .max()
    .unwrap_or(1)
}

fn pick<T: Copy>(v: &[T], i: usize) -> T {
    v[i % v.len()]
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// IPv4 or IPv6 (with flow label and scope id) by `i`.
fn client(i: usize) -> SocketAddr {
    match i % 3 {
        0 => addr("10.200.1.2:40001"),
        1 => addr("[fe80::1%7]:65535"),
        _ => SocketAddr::V6(SocketAddrV6::new(
            "2001:db8::2".parse().unwrap(),
            0,
            0xfffff,
            u32::MAX,
        )),
    }
}

fn text(s: &str) -> Arc<str> {
    Arc::from(s)
}

fn cert(name: &str) -> CertInfo {
    CertInfo::new(CertData {
        subject: format!("CN={name},O=Acme Ünïcødé 証明書"),
        issuer: "CN=Acme Corp SSL Inspection CA,O=Acme Corp".into(),
        san: vec![format!("DNS:{name}"), "IP:10.0.0.1".into(), String::new()],
        not_before: "2014-03-04T23:59:59Z".into(),
        not_after: "2044-03-04T23:59:59Z".into(),
        not_before_unix: i64::MIN,
        not_after_unix: i64::MAX,
        serial: "00ff".into(),
        sha256: "ab".repeat(32),
        self_signed: name.len().is_multiple_of(2),
        is_ca: name.len() % 2 == 1,
        der: Some(Der(vec![0x30, 0x82, 0, 0])),
    })
}

fn ntlm(i: usize) -> NtlmMessage {
    NtlmMessage {
        message_type: pick(NtlmMessageType::ALL, i),
        flags: vec!["NEGOTIATE_UNICODE", "REQUEST_TARGET", "NEGOTIATE_SEAL"],
        domain: Some("DÖMAIN".into()),
        user: Some("jürgen".into()),
        workstation: Some(String::new()),
        target_name: Some("ACME".into()),
        target_info: vec![
            ("nb_domain".into(), "ACME".into()),
            (String::new(), "€".into()),
        ],
        nt_response: Some(pick(NtResponseKind::ALL, i)),
        os_version: Some("10.0.19041".into()),
    }
}

fn ntlm_bare(i: usize) -> NtlmMessage {
    NtlmMessage {
        message_type: pick(NtlmMessageType::ALL, i + 1),
        flags: Vec::new(),
        domain: None,
        user: None,
        workstation: None,
        target_name: None,
        target_info: Vec::new(),
        nt_response: None,
        os_version: None,
    }
}

fn http_full(i: usize) -> HttpExchange {
    HttpExchange {
        method: Some(text("CONNECT")),
        target: Some(text("api.anthropic.com:443")),
        version: Some(text("HTTP/1.1")),
        host: Some(text("api.anthropic.com:443")),
        user_agent: Some(text("curl/8.5.0 ☃")),
        request_frame: Some(FrameNo(4)),
        request_ts: Some(Timestamp(i64::MAX)),
        credentials: vec![
            Credentials {
                header: pick(AuthHeader::ALL, i),
                scheme: text("NTLM"),
                user: Some("alice".into()),
                token_masked: Some("sk-ant-…3f9a".into()),
                ntlm: Some(Box::new(ntlm(i))),
                kerberos: true,
                malformed: false,
            },
            Credentials {
                header: pick(AuthHeader::ALL, i + 1),
                scheme: text("Basic"),
                user: None,
                token_masked: None,
                ntlm: None,
                kerberos: false,
                malformed: true,
            },
        ],
        api_key: Some("sk-…abcd".into()),
        has_cookie: true,
        proxy_connection: Some(text("keep-alive")),
        request_cut: Some(crate::protocols::http::HeadCut::Target),
        status: Some(u16::MAX),
        reason: Some(text("Proxy Authentication Required")),
        response_version: Some(text("HTTP/1.0")),
        response_frame: Some(FrameNo(0)),
        response_cut: Some(crate::protocols::http::HeadCut::XSquidError),
        response_end_frame: Some(FrameNo(u64::MAX)),
        response_time: Some(-0.0),
        interim: vec![100, 103, u16::MAX],
        challenges: vec![
            Challenge {
                header: pick(AuthHeader::ALL, i + 2),
                scheme: text("Negotiate"),
                realm: Some("Squid proxy-caching web server".into()),
                params: vec![
                    ("algorithm".into(), "MD5".into()),
                    ("qop".into(), String::new()),
                ],
                ntlm: Some(Box::new(ntlm(i + 1))),
                kerberos: true,
            },
            Challenge {
                header: pick(AuthHeader::ALL, i + 3),
                scheme: text(""),
                realm: None,
                params: Vec::new(),
                ntlm: Some(Box::new(ntlm_bare(i))),
                kerberos: false,
            },
        ],
        retry_after: Some("120".into()),
        via: vec!["1.1 squid".into(), "1.1 ünïcode".into()],
        server: Some(text("squid/6.6")),
        x_squid_error: Some("ERR_CACHE_ACCESS_DENIED 0".into()),
        content_type: Some(text("text/html;charset=utf-8")),
        content_length: Some(u64::MAX),
        error_message: Some("invalid x-api-key «sk-…»".into()),
        tunnel: true,
        decrypted: true,
    }
}

fn tls_full(i: usize) -> TlsFacts {
    TlsFacts {
        version: Some(TlsVersion::Tls13),
        client_version: Some(TlsVersion(0x7f17)),
        supported_versions: vec![TlsVersion::Tls13, TlsVersion(0x0a0a)],
        sni: Some(text("api.anthropic.com")),
        alpn: vec![text("h2"), text("http/1.1")],
        server_alpn: Some(text("h2")),
        cipher_suites: Arc::from(&[0x1301u16, 0x1302, 0x0a0a, u16::MAX, 0][..]),
        extensions: Arc::from(&[0u16, 10, 11, 0xff01][..]),
        cipher: Some(TlsCipherSuiteID(u16::MAX)),
        ja4: Some(text("t13d1516h2_8daaf6152771_02713d6af862")),
        ja4_r: Some(text("t13d1516h2_002f,0035_0005,000a")),
        ja3: Some(text("771,4865-4866,0-10,29-23,0")),
        ja3s: Some(text("771,4865,43-51")),
        hello_retry_request: true,
        client_hello_frame: Some(FrameNo(4)),
        server_hello_frame: Some(FrameNo(6)),
        certificate_frame: Some(FrameNo(u64::MAX - 1)),
        client_hello_ts: Some(Timestamp(i64::MIN)),
        server_hello_ts: Some(Timestamp(0)),
        certificates: vec![cert("api.anthropic.com"), cert("Acme Intermediate")],
        client_certificates: vec![cert("client")],
        alerts: vec![
            TlsAlert {
                from: Dir::ToServer,
                level: Some(TlsAlertSeverity(200)),
                description: Some(TlsAlertDescription::UnknownCa),
                encrypted: false,
                frame: FrameNo(9),
                after: Some("certificate"),
            },
            TlsAlert {
                from: Dir::ToClient,
                level: None,
                description: None,
                encrypted: true,
                frame: FrameNo(0),
                after: None,
            },
        ],
        history: "CsiI".into(),
        established: true,
        outcome: pick(HandshakeOutcome::ALL, i),
        client_first_encrypted_len: Some(u16::MAX),
        client_last_app_frame: Some(FrameNo(7)),
        client_last_app_ts: Some(Timestamp(i as i64)),
        server_last_app_frame: None,
        server_last_app_ts: Some(Timestamp(-1)),
        decryption: Some(crate::protocols::tls::TlsDecryption {
            records: u64::MAX,
            problem: Some("a record from the server was lost in a gap".into()),
        }),
    }
}

fn dns_full(i: usize) -> DnsTransaction {
    DnsTransaction {
        client: Some(client(i)),
        server: Some(addr("[2001:db8::53]:53")),
        transport: if i.is_multiple_of(2) { "udp" } else { "tcp" },
        id: u16::MAX,
        query: Some(text("bücher.example")),
        qtype: Some(text("AAAA")),
        query_frame: Some(FrameNo(1)),
        query_ts: Some(Timestamp(-1)),
        response_frame: Some(FrameNo(2)),
        rcode: Some(text("NXDOMAIN")),
        answers: vec![text("2001:db8::1"), text("cname.example")],
        response_time: Some(f64::NAN),
        answered: true,
        truncated: true,
        answers_cut: true,
    }
}

fn dns_bare() -> DnsTransaction {
    DnsTransaction {
        client: None,
        server: None,
        transport: "tcp",
        id: 0,
        query: None,
        qtype: None,
        query_frame: None,
        query_ts: None,
        response_frame: None,
        rcode: None,
        answers: Vec::new(),
        response_time: None,
        answered: false,
        truncated: false,
        answers_cut: false,
    }
}

/// Every field of the flow without an optional value or an empty list.
fn full(i: usize) -> FlowSummary {
    FlowSummary {
        transport: pick(Transport::ALL, i),
        client: client(i),
        server: addr("10.200.1.1:3128"),
        state: pick(ConnState::ALL, i),
        history: text("ShADadFf"),
        first_frame: FrameNo(1000 + i as u64),
        last_frame: FrameNo(u64::MAX),
        first_ts: Timestamp(i64::MIN),
        last_ts: Timestamp(i64::MAX),
        packets: [u64::MAX, 0],
        bytes: [1, u64::MAX - 1],
        wire_bytes: [1 << 63, 127],
        retransmissions: [128, 16383],
        gaps: [16384, 1],
        gap_bytes: [2, 3],
        snaplen_bytes: [4, 5],
        conflicts: [6, 7],
        cap_hits: [8, 9],
        client_syns: u32::MAX,
        syn_frame: Some(FrameNo(1000)),
        synack_frame: Some(FrameNo(0)),
        rst: Some((pick(Dir::ALL, i), FrameNo(1003))),
        client_fin: Some((FrameNo(1004), Timestamp(i64::MAX))),
        rtt: Some(-1.5e-300),
        unreachable: Some((
            FrameNo(7),
            Unreachable {
                v6: true,
                code: 255,
                mtu: Some(u32::MAX),
                inner_proto: 17,
                inner_src: client(i + 1),
                inner_dst: addr("192.0.2.1:0"),
            },
        )),
        app: AppFacts {
            protocol: pick(AppProtocol::ALL, i),
            http: vec![http_full(i), HttpExchange::default()],
            tls: Some(Box::new(tls_full(i))),
            dns: vec![dns_full(i), dns_bare()],
            socks: Some(Box::new(SocksFacts {
                version: 5,
                target: Some("api.anthropic.com:443".into()),
                auth_method: Some(0xff),
                user: Some("ünï".into()),
                reply: Some(0),
                granted: true,
                request_frame: Some(FrameNo(3)),
                reply_frame: Some(FrameNo(5)),
            })),
            tls_in_tunnel: true,
            notes: vec!["ünïcödé note 🚀".into(), String::new()],
            notes_omitted: u64::MAX,
            overflow: Default::default(),
        },
        evicted: true,
        facts_not_kept: u64::MAX,
    }
}

/// Every optional value of the flow absent, every list empty.
fn empty(i: usize) -> FlowSummary {
    FlowSummary {
        transport: pick(Transport::ALL, i + 1),
        client: client(i + 2),
        server: addr("[::]:0"),
        state: pick(ConnState::ALL, i + 1),
        history: text(""),
        first_frame: FrameNo(u64::MAX),
        last_frame: FrameNo(0),
        first_ts: Timestamp(i64::MAX),
        last_ts: Timestamp(i64::MIN),
        packets: [0; 2],
        bytes: [0; 2],
        wire_bytes: [0; 2],
        retransmissions: [0; 2],
        gaps: [0; 2],
        gap_bytes: [0; 2],
        snaplen_bytes: [0; 2],
        conflicts: [0; 2],
        cap_hits: [0; 2],
        client_syns: 0,
        syn_frame: None,
        synack_frame: None,
        rst: None,
        client_fin: None,
        rtt: None,
        unreachable: None,
        app: AppFacts {
            protocol: pick(AppProtocol::ALL, i + 1),
            ..AppFacts::default()
        },
        evicted: false,
        facts_not_kept: 0,
    }
}

/// Facts present but holding nothing: the absent values one level down.
fn hollow(i: usize) -> FlowSummary {
    let mut f = empty(i + 2);
    f.rtt = Some(f64::INFINITY);
    f.app.http = vec![HttpExchange::default()];
    f.app.dns = vec![dns_bare()];
    f.app.tls = Some(Box::new(TlsFacts {
        outcome: pick(HandshakeOutcome::ALL, i + 3),
        ..TlsFacts::default()
    }));
    f.app.socks = Some(Box::default());
    f
}

fn flows() -> Vec<FlowSummary> {
    (0..variants())
        .flat_map(|i| [full(i), empty(i), hollow(i)])
        .collect()
}

fn dbg(f: &FlowSummary) -> String {
    format!("{f:?}")
}

#[test]
fn every_field_comes_back() {
    let flows = flows();
    let mut store = FlowStore::new();
    assert!(store.is_empty());
    for f in &flows {
        store.push(f);
    }
    assert_eq!(store.len(), flows.len());
    for (i, f) in flows.iter().enumerate() {
        let back = store.get(i).expect("decodes");
        assert_eq!(dbg(&back), dbg(f), "flow {i}");
    }
    let again: Vec<String> = store.iter().map(|f| dbg(&f)).collect();
    let want: Vec<String> = flows.iter().map(dbg).collect();
    assert_eq!(again, want);
    assert!(store.get(flows.len()).is_none());
}

#[test]
fn flows_differ_where_expected() {
    // The comparison above means something: distinct flows print differently.
    let (a, b) = (full(0), full(1));
    assert_ne!(dbg(&a), dbg(&b));
    let mut c = full(0);
    if let Some(t) = c.app.tls.as_mut() {
        t.server_hello_ts = Some(Timestamp(1));
    }
    assert_ne!(dbg(&a), dbg(&c), "fields the JSON leaves out show in Debug");
}

#[test]
fn certificates_are_kept_once_and_handed_back_shared() {
    let mut store = FlowStore::new();
    let a = full(0);
    let b = full(3);
    store.push(&a);
    store.push(&b);
    let (x, y) = (store.get(0).unwrap(), store.get(1).unwrap());
    let (tx, ty) = (x.app.tls.unwrap(), y.app.tls.unwrap());
    // A certificate comes back as the copy that was pushed, not a new one.
    let orig = &a.app.tls.as_ref().unwrap().certificates[0];
    assert_eq!(tx.certificates[0].shared_id(), orig.shared_id());
    assert_ne!(
        tx.certificates[0].shared_id(),
        ty.certificates[0].shared_id()
    );
    let kept = store.texts.heap_bytes();
    store.push(&a);
    assert_eq!(store.texts.heap_bytes(), kept, "nothing new to keep");
    // The flows' bytes hold ids, not the certificates.
    let bytes = store.log.mem_chunk(0).expect("in memory").clone();
    let subject = orig.subject.as_bytes();
    assert!(!bytes.windows(subject.len()).any(|w| w == subject));
    // Shared text and number lists too: kept once, written as ids, handed back shared.
    let alpn = b"http/1.1";
    assert!(tx.alpn.iter().any(|a| a.as_bytes() == alpn));
    assert!(!bytes.windows(alpn.len()).any(|w| w == alpn));
    assert!(Arc::ptr_eq(&tx.alpn[0], &ty.alpn[0]));
    assert!(Arc::ptr_eq(&tx.cipher_suites, &ty.cipher_suites));
    assert_eq!(tx.cipher_suites, a.app.tls.as_ref().unwrap().cipher_suites);
}

#[test]
fn names_come_back_as_the_decoders_own() {
    // A static name is read back as the decoder's copy of it: one that no decoder
    // gives cannot come back, and the flow counts as unreadable.
    let mut f = full(1);
    if let Some(t) = f.app.tls.as_mut() {
        t.alerts[0].after = Some("not_a_handshake_message");
    }
    let mut store = FlowStore::new();
    store.push(&full(1));
    store.push(&f);
    assert_eq!(
        store.get(0).unwrap().app.tls.unwrap().alerts[0].after,
        Some("certificate")
    );
    assert!(store.get(1).is_none());
    assert_eq!(store.unreadable(), 1);
}

#[test]
fn corrupt_records_give_none_without_panicking() {
    let mut store = FlowStore::new();
    store.push(&full(5));
    let whole = std::mem::take(store.log.mem_chunk(0).expect("in memory"));
    let e = store.index[0];
    // Every shortened record is refused.
    for n in 0..whole.len() {
        store.index[0].len = n as u32;
        assert!(store.get(0).is_none(), "prefix of {n} bytes accepted");
    }
    store.index[0] = e;
    // A changed byte may decode to another flow or to nothing, never to a panic.
    for at in 0..whole.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut bytes = whole.clone();
            bytes[at] ^= flip;
            *store.log.mem_chunk(0).unwrap() = bytes;
            let _ = store.get(0);
            let _ = store.briefs().count();
        }
    }
    // Trailing bytes are refused.
    let mut bytes = whole.clone();
    bytes.push(0);
    *store.log.mem_chunk(0).unwrap() = bytes;
    store.index[0].len += 1;
    assert!(store.get(0).is_none());
    // An entry pointing past the bytes, or to no chunk, is refused.
    store.index[0].start = u32::MAX;
    assert!(store.get(0).is_none());
    store.index[0] = e;
    store.index[0].chunk = 1;
    assert!(store.get(0).is_none());
}

#[test]
fn sort_is_report_order_and_stable() {
    let mut flows = Vec::new();
    let clients = [
        "[2001:db8::1]:1",
        "10.0.0.2:2",
        "10.0.0.2:1",
        "10.0.0.1:65535",
        "[::1]:1",
        "[2001:db8::1]:0",
    ];
    for (n, frame) in [(0usize, 5u64), (1, 3), (2, 5), (3, 5), (4, 3), (5, 1)] {
        for (k, c) in clients.iter().enumerate() {
            let mut f = empty(n + k);
            f.first_frame = FrameNo(frame);
            f.client = addr(c);
            f.transport = pick(Transport::ALL, n + k);
            // Equal keys, told apart by this field: the sort must keep push order.
            f.facts_not_kept = (n * 10 + k) as u64;
            flows.push(f);
        }
    }
    let mut v6 = empty(0);
    v6.client = SocketAddr::V6(SocketAddrV6::new("::1".parse().unwrap(), 1, 1, 0));
    flows.push(v6.clone());
    v6.client = SocketAddr::V6(SocketAddrV6::new("::1".parse().unwrap(), 1, 0, 2));
    flows.push(v6);
    let mut store = FlowStore::new();
    for f in &flows {
        store.push(f);
    }
    store.sort();
    flows.sort_by_key(FlowSummary::report_key);
    let got: Vec<String> = store.iter().map(|f| dbg(&f)).collect();
    let want: Vec<String> = flows.iter().map(dbg).collect();
    assert_eq!(got, want);
}

#[test]
fn an_entry_stays_small() {
    assert_eq!(std::mem::size_of::<Entry>(), 48);
}

#[test]
fn flows_fill_chunks_and_big_ones_get_their_own() {
    let mut store = FlowStore::new();
    let small = full(1);
    let mut n = 0;
    while store.log.chunk_count() < 3 {
        store.push(&small);
        n += 1;
    }
    // A flow longer than a chunk is kept whole in a chunk of its own.
    let mut big = full(2);
    big.app.notes = vec!["x".repeat(CHUNK * 2)];
    store.push(&big);
    assert_eq!(store.log.chunk_count(), 4);
    assert!(store.log.chunk_len(3).unwrap().0 > CHUNK);
    store.push(&small);
    assert_eq!(
        store.log.chunk_count(),
        5,
        "the next flow starts a new chunk"
    );
    assert_eq!(store.len(), n + 2);
    for i in 0..store.len() {
        let want = if i == n { &big } else { &small };
        assert_eq!(
            format!("{:?}", store.get(i).unwrap()),
            format!("{want:?}"),
            "flow {i}"
        );
    }
    // The first chunks were filled until the next flow (and its brief) did not fit.
    let in_first = (0..n).filter(|&i| store.index[i].chunk == 0).count();
    let one = store.log.chunk_len(0).unwrap().0 / in_first;
    assert!(
        one > store.index[0].len as usize,
        "a record is its flow and brief"
    );
    assert!((0..2).all(|i| {
        let (len, cap) = store.log.chunk_len(i).unwrap();
        cap - len < one
    }));
}

/// Distinct flows, so a mix-up between chunks shows.
fn numbered(n: usize) -> Vec<FlowSummary> {
    (0..n)
        .map(|i| {
            let mut f = full(i % 7);
            f.first_frame = FrameNo(1_000 + i as u64);
            f.facts_not_kept = i as u64;
            f
        })
        .collect()
}

#[test]
fn old_chunks_go_to_the_spill_file_and_come_back() {
    let flows = numbered(3_000);
    let mut store = FlowStore::with_memory_limit(2 * CHUNK);
    for f in &flows {
        store.push(f);
    }
    let spilled = store.spilled_chunks();
    assert!(
        spilled >= 2,
        "{} chunks, {spilled} spilled",
        store.log.chunk_count()
    );
    // What stays in memory is the limit plus the chunk being filled.
    assert!(
        store.log.in_memory() <= 3 * CHUNK,
        "{} in memory",
        store.log.in_memory()
    );
    assert!(
        store.log.in_memory() < store.encoded_bytes(),
        "{} of {}",
        store.log.in_memory(),
        store.encoded_bytes()
    );
    let want: Vec<String> = flows.iter().map(|f| format!("{f:?}")).collect();
    let got: Vec<String> = store.iter().map(|f| format!("{f:?}")).collect();
    assert_eq!(got, want);
    // Backwards, past what the cache holds: every read still finds its chunk.
    for i in (0..store.len()).rev().step_by(97) {
        assert_eq!(format!("{:?}", store.get(i).unwrap()), want[i]);
    }
    // A copy reads the same file and never writes to it.
    let mut copy = store.clone();
    copy.push(&flows[0]);
    for f in &flows {
        copy.push(f);
        store.push(f);
    }
    assert_eq!(copy.spilled_chunks(), spilled);
    assert!(store.spilled_chunks() > spilled);
    let got: Vec<String> = copy.iter().map(|f| format!("{f:?}")).collect();
    assert_eq!(got.len(), 2 * flows.len() + 1);
    assert_eq!(got[..flows.len()], want[..]);
    assert_eq!(got[flows.len()], want[0]);
    let got: Vec<String> = store
        .iter()
        .skip(flows.len())
        .map(|f| format!("{f:?}"))
        .collect();
    assert_eq!(got, want);
    // Sorting moves index entries, spilled or not.
    store.sort();
    assert!(store.iter().map(|f| f.first_frame).is_sorted());
}

#[test]
fn without_a_spill_file_everything_stays_in_memory() {
    let flows = numbered(1_000);
    let mut store = FlowStore::with_memory_limit(CHUNK);
    store.log.never_spill();
    for f in &flows {
        store.push(f);
    }
    assert_eq!(store.spilled_chunks(), 0);
    let got: Vec<String> = store.iter().map(|f| format!("{f:?}")).collect();
    let want: Vec<String> = flows.iter().map(|f| format!("{f:?}")).collect();
    assert_eq!(got, want);
}

#[test]
fn a_chunk_that_cannot_be_read_back_is_counted() {
    let flows = numbered(2_000);
    let mut store = FlowStore::with_memory_limit(0);
    for f in &flows {
        store.push(f);
    }
    assert!(store.spilled_chunks() >= 1);
    assert_eq!(store.unreadable(), 0);
    // As if the file had lost the chunk: it now lies past the file's end.
    assert!(store.log.lose_chunk(0), "the first chunk is spilled");
    let in_first = store.index.iter().filter(|e| e.chunk == 0).count();
    assert_eq!(store.iter().count(), flows.len() - in_first);
    assert_eq!(store.unreadable(), in_first);
}

#[test]
fn distinct_text_past_the_table_bound_is_written_whole_and_memory_stays_flat() {
    use crate::protocols::stored::{MAX_SHARED, MAX_SHARED_BYTES};
    // A name per flow, more of them than the table keeps: the rest go into the flows'
    // bytes (and the spill file), not into memory.
    let n = MAX_SHARED + 2_000;
    let mut store = FlowStore::with_memory_limit(2 * CHUNK);
    for i in 0..n {
        let mut f = empty(i);
        f.app.tls = Some(Box::new(TlsFacts {
            sni: Some(text(&long_name(i))),
            ..TlsFacts::default()
        }));
        store.push(&f);
    }
    let table = store.texts.heap_bytes();
    assert!(
        table <= MAX_SHARED_BYTES + MAX_SHARED * 64,
        "{table} bytes of shared text"
    );
    for i in [0, MAX_SHARED - 1, MAX_SHARED, n - 1] {
        let f = store.get(i).unwrap();
        let sni = f.app.tls.unwrap().sni.unwrap();
        assert_eq!(&*sni, long_name(i), "flow {i}");
    }
}

/// A 200-byte name: kept for every flow, the table would pass its bound many times.
fn long_name(i: usize) -> String {
    format!("{i:0>190}.example")
}

#[test]
fn briefs_come_back_without_the_flows_and_follow_the_sort() {
    use crate::flow::brief::FlowBrief;
    let mut flows = flows();
    flows.extend(numbered(2_000).into_iter().rev());
    for spilled_index in [false, true] {
        let mut store = FlowStore::with_memory_limit(0);
        if spilled_index {
            store = store.with_spilled_index();
        }
        for f in &flows {
            store.push(f);
        }
        store.sort();
        assert!(store.spilled_chunks() > 1);
        let got: Vec<(usize, String)> =
            store.briefs().map(|(i, b)| (i, format!("{b:?}"))).collect();
        let want: Vec<(usize, String)> = store
            .indexed()
            .map(|(i, f)| (i, format!("{:?}", FlowBrief::of(&f))))
            .collect();
        assert_eq!(got.len(), flows.len());
        assert_eq!(got, want);
        assert_eq!(store.unreadable(), 0);
    }
    // What a brief holds shows in it: the chain, the proxy requests, the answers.
    let b = FlowBrief::of(&full(0));
    let tls = b.tls.as_ref().expect("a TLS flow");
    assert!(!tls.certificates.is_empty());
    assert!(!b.dns.is_empty() && !b.proxy_requests.is_empty());
}
