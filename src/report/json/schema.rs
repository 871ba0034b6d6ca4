//! The JSON report's types: the whole `schema_version` 1 document, apart from the
//! internal types it is built from (see `convert.rs`).
//!
//! Field names, order and the fields left out when empty are the contract: a change
//! here is a change of the schema (`tests/it/schema.rs` lists the keys). Values borrow
//! from the analysis where they can; timestamps are seconds since the epoch (floats),
//! frame numbers 1-based as Wireshark shows them.

pub use crate::protocols::http::HeadCut;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::SocketAddr;

/// The document `analyze --format json` writes.
#[derive(Serialize)]
pub struct JsonReport<'a, F: Serialize> {
    pub schema_version: u32,
    pub tool: Tool,
    pub input: Input<'a>,
    /// The diagnosis: the guide's layers and the first failing step.
    pub summary: Summary<'a>,
    /// What is wrong, most severe first; `flows` are `flows[].id` values.
    pub findings: Vec<Finding<'a>>,
    /// Serialized one at a time from the analysis: a big capture's flows are never
    /// all held as JSON values at once.
    pub flows: F,
}

#[derive(Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Serialize)]
pub struct Input<'a> {
    pub files: Vec<InputFile<'a>>,
    pub packets: u64,
    pub bytes: u64,
    /// The distinct link type names over all files, in order seen: the first
    /// `pipeline::MAX_LINK_TYPES_LISTED`.
    pub link_types: Vec<String>,
    /// Distinct link type names past those listed: counted, not named.
    #[serde(skip_serializing_if = "is_zero")]
    pub link_types_omitted: u64,
    pub time_span: Option<TimeSpan>,
    /// True when any file ended inside a record.
    pub truncated: bool,
    /// True when a memory cap changed what was analysed in any file (see each file's
    /// `limits`: flows evicted, partial or only summarized; and its
    /// `interfaces_not_kept`).
    pub partial: bool,
}

#[derive(Serialize)]
pub struct TimeSpan {
    pub start: f64,
    pub end: f64,
    pub seconds: f64,
}

/// What was read from one capture file.
#[derive(Serialize)]
pub struct InputFile<'a> {
    pub path: &'a str,
    /// `pcap`, `pcapng` or `live`.
    pub format: &'static str,
    pub link_types: &'a [String],
    /// Link types past the first `pipeline::MAX_LINK_TYPES_LISTED`: counted, not named.
    #[serde(skip_serializing_if = "is_zero")]
    pub link_types_omitted: u64,
    /// pcapng interfaces past the first `capture::file::MAX_INTERFACES` of their
    /// section: not kept, their packets counted as `decode.undecodable`.
    #[serde(skip_serializing_if = "is_zero")]
    pub interfaces_not_kept: u64,
    pub packets: u64,
    /// Sum of the frames' lengths on the wire.
    pub bytes: u64,
    pub file_bytes: u64,
    pub first_ts: Option<f64>,
    pub last_ts: Option<f64>,
    /// Set when the file ends inside a record (e.g. tcpdump was killed).
    pub truncated: Option<Truncation<'a>>,
    pub decode: DecodeCounts,
    /// Memory caps hit while reading this file (flows evicted, summarized, partial).
    pub limits: Limits<'a>,
    /// libpcap's counters, for a live capture.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capture_stats: Option<CaptureStats>,
    /// The files of a rotated set read as this one capture, in time order (absent for
    /// a single file). Frame numbers in the report count across the set: frame
    /// `first_frame + N` is frame N of file `path`.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub parts: &'a [crate::pipeline::Part],
}

/// Where and how a damaged capture stops.
#[derive(Serialize)]
pub struct Truncation<'a> {
    /// The frame number the incomplete record would have had.
    pub frame: u64,
    /// Byte offset of the incomplete record in the file.
    pub offset: u64,
    /// Bytes present and bytes the record needed.
    pub have: u64,
    pub need: u64,
    pub reason: &'a str,
}

/// Counts of what the decoder saw.
#[derive(Serialize)]
pub struct DecodeCounts {
    pub tcp_packets: u64,
    pub udp_packets: u64,
    pub icmp_unreachable: u64,
    /// Frames that are not IP (ARP, LLDP...).
    pub non_ip: u64,
    pub ip_fragments: u64,
    /// Frames too short or malformed to decode down to the transport header.
    pub undecodable: u64,
    /// IP packets of other protocols (ICMP echo, IGMP, ESP...).
    pub other_ip: u64,
    /// Frames whose captured length is below the length on the wire.
    pub snaplen_cut: u64,
    /// Frames on an interface whose link type we cannot decode.
    pub unsupported_link: u64,
}

/// Every time a memory cap changed what was analysed.
#[derive(Serialize)]
pub struct Limits<'a> {
    /// Flows finished early because more than `max_flows` were open.
    pub flows_evicted: u64,
    /// Flows with some payload not analysed (buffer caps or eviction), kept or not.
    pub partial_flows: u64,
    /// Holes given up because a per-direction or the global buffer cap was reached.
    pub buffer_cap_hits: u64,
    /// Finished flows past `max_records`: counted here, not listed.
    pub flows_summarized: u64,
    /// Decoded facts past `max_facts`: counted, not kept.
    pub facts_not_kept: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summarized: Option<FlowAggregate<'a>>,
}

/// Finished flows past `max_records`, added up instead of listed.
#[derive(Serialize)]
pub struct FlowAggregate<'a> {
    pub flows: u64,
    pub tcp: u64,
    pub udp: u64,
    /// Packets and payload bytes, both directions together.
    pub packets: u64,
    pub bytes: u64,
    /// Flows among them that were partial.
    pub partial: u64,
    /// Flows per Zeek `conn_state`.
    pub states: &'a BTreeMap<&'static str, u64>,
    pub first_frame: Option<u64>,
    pub last_frame: Option<u64>,
}

/// libpcap / kernel counters of a live capture.
#[derive(Serialize)]
pub struct CaptureStats {
    /// Packets the filter accepted.
    pub received: u32,
    /// Dropped because libpcap's buffer was full.
    pub dropped: u32,
    /// Dropped by the interface or its driver.
    pub if_dropped: u32,
    /// Captured (and written to the `-w` file) but not analysed: trafficdoc's queue
    /// between the capture thread and the analysis was full.
    pub queue_dropped: u64,
}

/// A per-direction pair of counters.
#[derive(Serialize)]
pub struct Pair {
    pub client: u64,
    pub server: u64,
}

#[derive(Serialize)]
pub struct Rst {
    /// `client` or `server`.
    pub from: &'static str,
    pub frame: u64,
}

#[derive(Serialize)]
pub struct IcmpUnreachable {
    pub frame: u64,
    pub code: u8,
    pub icmpv6: bool,
    /// IPv4 "fragmentation needed" (code 4) or ICMPv6 "packet too big" (code 0): the
    /// MTU announced (0: not given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
}

/// One flow (a TCP connection or a UDP conversation) with its decoded facts.
#[derive(Serialize)]
pub struct Flow<'a> {
    /// 1-based, in order of first frame within the report.
    pub id: usize,
    pub file: &'a str,
    /// `tcp` or `udp`.
    pub transport: &'static str,
    /// `ip:port`, or `[v6]:port`.
    pub client: String,
    pub server: String,
    /// Zeek `conn_state` (S0, S1, SF, REJ, S2, S3, RSTO, RSTR, RSTOS0, RSTRH, SH, SHR, OTH).
    pub state: &'static str,
    pub state_meaning: &'static str,
    /// Zeek `history` letters (upper case: client, lower case: server).
    pub history: &'a str,
    pub start: f64,
    pub end: f64,
    pub duration: f64,
    /// 1-based frame numbers as Wireshark shows them.
    pub first_frame: u64,
    pub last_frame: u64,
    pub packets: Pair,
    /// Payload bytes in sequence space (TCP) or datagram payload bytes (UDP).
    pub bytes: Pair,
    /// Frame bytes on the wire.
    pub wire_bytes: Pair,
    /// SYN → SYN-ACK round trip in seconds.
    pub rtt: Option<f64>,
    pub syn_retransmissions: u32,
    pub retransmissions: Pair,
    pub gaps: Pair,
    pub gap_bytes: Pair,
    /// Bytes cut by the capture's snap length (not network loss).
    pub snaplen_cut_bytes: Pair,
    /// True when a buffer cap was hit or the flow was evicted from a full flow table,
    /// and some of it was not analysed.
    pub partial: bool,
    /// Holes given up because a buffer cap was reached.
    pub cap_hits: Pair,
    /// Finished early because `--max-flows` flows were open.
    pub evicted: bool,
    /// Decoded facts (HTTP exchanges, DNS transactions) counted but not kept because
    /// `--max-facts` were kept.
    #[serde(skip_serializing_if = "is_zero")]
    pub facts_not_kept: u64,
    pub rst: Option<Rst>,
    pub icmp_unreachable: Option<IcmpUnreachable>,
    /// Wireshark display filter selecting this flow's packets.
    pub display_filter: String,
    /// The application facts, as fields of the flow itself.
    #[serde(flatten)]
    pub app: App<'a>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn is_zero_usize(n: &usize) -> bool {
    *n == 0
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Facts decoded from a flow's payload.
#[derive(Serialize)]
pub struct App<'a> {
    /// `unknown`, `http`, `tls`, `dns`, `socks` or `other`.
    pub protocol: &'static str,
    /// HTTP exchanges in request order (including the CONNECT that opened a tunnel).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub http: Vec<HttpExchange<'a>>,
    /// TLS handshake facts (of the connection itself, or of its CONNECT tunnel).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<Tls<'a>>,
    /// DNS over TCP, or the DNS transactions of a UDP flow.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns: Vec<DnsTransaction<'a>>,
    /// SOCKS handshake, when the connection went through a SOCKS proxy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub socks: Option<Socks<'a>>,
    /// The TLS facts came from inside an HTTP CONNECT or SOCKS tunnel.
    #[serde(skip_serializing_if = "is_false")]
    pub tls_in_tunnel: bool,
    /// Decode problems (malformed or truncated messages), in order seen: the first
    /// distinct ones, a repeated one once with `(N times)`.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub notes: &'a [String],
    /// Decode notes past those kept: counted, not kept.
    #[serde(skip_serializing_if = "is_zero")]
    pub notes_omitted: u64,
}

/// One HTTP request and its response (either may be missing).
#[derive(Serialize)]
pub struct HttpExchange<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<&'a str>,
    /// Request target as sent: authority (CONNECT), absolute URI or origin path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_frame: Option<u64>,
    /// `Proxy-Authorization` / `Authorization` sent with the request.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub credentials: Vec<Credentials<'a>>,
    /// `x-api-key` / `api-key` request header, masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<&'a str>,
    /// A Cookie header was sent (its value is never kept).
    #[serde(skip_serializing_if = "is_false")]
    pub has_cookie: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy_connection: Option<&'a str>,
    /// The capture's snap length cut the request's head: the value cut short and kept
    /// as far as it goes (`target`, `version`, `host`, `user_agent`...), or `headers`
    /// when the cut fell between lines or in a header not kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_cut: Option<HeadCut>,

    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_frame: Option<u64>,
    /// The capture's snap length cut the response's head: as `request_cut`, or
    /// `status` when the status code itself was cut (no status is known).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_cut: Option<HeadCut>,
    /// Frame carrying the response's last byte, when later than its status line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_end_frame: Option<u64>,
    /// Seconds from the request's first byte to the response's first byte.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_time: Option<f64>,
    /// Interim 1xx statuses received before the final response.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub interim: &'a [u16],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub challenges: Vec<Challenge<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<&'a str>,
    /// `Via` headers of request and response, in order.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub via: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x_squid_error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_length: Option<u64>,
    /// Start (≤ 200 chars) of a 4xx/5xx JSON error message, keys masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<&'a str>,
    /// The 2xx answer to CONNECT turned the connection into a tunnel.
    #[serde(skip_serializing_if = "is_false")]
    pub tunnel: bool,
    /// Read from TLS records decrypted with a key log (`--keylog`).
    #[serde(skip_serializing_if = "is_false")]
    pub decrypted: bool,
}

/// One authentication challenge offered by a proxy or server.
#[derive(Serialize)]
pub struct Challenge<'a> {
    /// `Proxy-Authenticate` or `WWW-Authenticate`.
    pub header: &'static str,
    /// Scheme as sent (`Basic`, `Digest`, `NTLM`, `Negotiate`, `Kerberos`, ...).
    pub scheme: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realm: Option<&'a str>,
    /// Other auth-params as `[name, value]` pairs, nonces left out.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub params: &'a [(String, String)],
    /// NTLM type 2 message carried in the challenge, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ntlm: Option<Ntlm<'a>>,
    /// The Negotiate token names the Kerberos mechanism.
    #[serde(skip_serializing_if = "is_false")]
    pub kerberos: bool,
}

/// Credentials a client sent: scheme and identity only, never the secret part.
#[derive(Serialize)]
pub struct Credentials<'a> {
    /// `Proxy-Authorization` or `Authorization`.
    pub header: &'static str,
    pub scheme: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<&'a str>,
    /// Bearer tokens and similar, masked (`sk-ant-…3f9a`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_masked: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ntlm: Option<Ntlm<'a>>,
    #[serde(skip_serializing_if = "is_false")]
    pub kerberos: bool,
    /// Basic credentials that did not decode as base64 / had no ':'.
    #[serde(skip_serializing_if = "is_false")]
    pub malformed: bool,
}

/// The facts of one NTLMSSP message (no credential material).
#[derive(Serialize)]
pub struct Ntlm<'a> {
    /// `negotiate`, `challenge` or `authenticate`.
    pub message_type: &'static str,
    /// Negotiate flags as in MS-NLMP (`NEGOTIATE_UNICODE`, ...).
    pub flags: &'a [&'static str],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workstation: Option<&'a str>,
    /// Type 2: the server's target name (domain or server).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_name: Option<&'a str>,
    /// Type 2: `[name, value]` pairs from the target info.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub target_info: &'a [(String, String)],
    /// Type 3: `NTLMv1`, `NTLMv2` or `Anonymous`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nt_response: Option<&'static str>,
    /// OS version field when present (`major.minor.build`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os_version: Option<&'a str>,
}

/// Facts of one TLS handshake.
#[derive(Serialize)]
pub struct Tls<'a> {
    /// Negotiated version (`TLSv1.3`...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<Cow<'static, str>>,
    /// ClientHello legacy_version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_version: Option<Cow<'static, str>>,
    /// supported_versions offered by the client (GREASE left out).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub supported_versions: Vec<Cow<'static, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sni: Option<&'a str>,
    /// ALPN protocols offered by the client.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub alpn: &'a [std::sync::Arc<str>],
    /// ALPN protocol chosen by the server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_alpn: Option<&'a str>,
    /// Cipher suites offered, in order (GREASE included), as 4-digit hex.
    #[serde(skip_serializing_if = "HexList::is_empty")]
    pub cipher_suites: HexList<'a>,
    /// Extension types offered, in order, as 4-digit hex.
    #[serde(skip_serializing_if = "HexList::is_empty")]
    pub extensions: HexList<'a>,
    /// Negotiated cipher suite (IANA name, or hex).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cipher: Option<Cow<'static, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ja4: Option<&'a str>,
    /// JA4 before hashing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ja4_r: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ja3: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ja3s: Option<&'a str>,
    #[serde(skip_serializing_if = "is_false")]
    pub hello_retry_request: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_hello_frame: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_hello_frame: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_frame: Option<u64>,
    /// Server chain, leaf first (TLS 1.3 encrypts it: there only when decrypted).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<Certificate<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub client_certificates: Vec<Certificate<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alerts: Vec<TlsAlert>,
    /// Zeek `ssl_history`: client letters upper case, server lower case.
    pub history: &'a str,
    /// Zeek's meaning: the handshake completed.
    pub established: bool,
    /// `established`, `client_alert`, `server_alert`, `client_encrypted_alert`,
    /// `client_silent_after_server_flight`, `no_server_hello`, `no_client_hello` or
    /// `incomplete`.
    pub outcome: &'static str,
    /// Size of the client's first encrypted record after the server's TLS 1.3 flight.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_first_encrypted_len: Option<u16>,
    /// With `--keylog` only: whether the connection was decrypted, and if not why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decryption: Option<TlsDecryption<'a>>,
}

/// Whether key logs decrypted a TLS connection (never any key material).
#[derive(Serialize)]
pub struct TlsDecryption<'a> {
    /// At least one record was decrypted.
    pub decrypted: bool,
    /// Records decrypted, both directions.
    pub records: u64,
    /// Why it was not decrypted, or where decryption stopped (`no key for this client
    /// random in the key log`, `cipher suite ... is not one we decrypt`, a record lost
    /// in a gap...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<&'a str>,
}

/// Registry numbers written as 4-digit lower-case hex strings (`"c02f"`).
pub struct HexList<'a>(pub &'a [u16]);

impl HexList<'_> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for HexList<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        // Written from a stack buffer, up to 64 numbers at a time made text together:
        // a ClientHello lists dozens, a busy capture has thousands of ClientHellos.
        let mut buf = [0u8; 4 * 64];
        for chunk in self.0.chunks(64) {
            for (to, &x) in buf.chunks_exact_mut(4).zip(chunk) {
                to.copy_from_slice(&hex4(x));
            }
            let text = std::str::from_utf8(buf.get(..4 * chunk.len()).unwrap_or_default())
                .unwrap_or_default();
            for i in 0..chunk.len() {
                seq.serialize_element(text.get(4 * i..4 * i + 4).unwrap_or_default())?;
            }
        }
        seq.end()
    }
}

/// `x` as 4 lower-case hex digits.
fn hex4(x: u16) -> [u8; 4] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let n = |shift: u16| HEX[usize::from((x >> shift) & 0xf)];
    [n(12), n(8), n(4), n(0)]
}

/// A TLS alert seen on the connection.
#[derive(Serialize)]
pub struct TlsAlert {
    /// `client` or `server`.
    pub from: &'static str,
    /// `warning`, `fatal`, or `unknown_N`; absent when the alert was encrypted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<Cow<'static, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<Cow<'static, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<u8>,
    /// Sent after the sender's ChangeCipherSpec: content unreadable.
    #[serde(skip_serializing_if = "is_false")]
    pub encrypted: bool,
    pub frame: u64,
    /// The last handshake message seen (either side) before the alert.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<&'static str>,
}

/// Facts of one certificate.
#[derive(Serialize)]
pub struct Certificate<'a> {
    pub subject: &'a str,
    pub issuer: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub san: &'a [String],
    /// RFC 3339 UTC, e.g. `2014-03-04T23:59:59Z`.
    pub not_before: &'a str,
    pub not_after: &'a str,
    /// Unix seconds.
    pub not_before_unix: i64,
    pub not_after_unix: i64,
    /// Serial number, lower-case hex.
    pub serial: &'a str,
    /// SHA-256 of the DER, lower-case hex.
    pub sha256: &'a str,
    /// Subject and issuer names are identical.
    pub self_signed: bool,
    /// basicConstraints cA is true.
    pub is_ca: bool,
}

/// One DNS query and its response (either may be missing).
#[derive(Serialize)]
pub struct DnsTransaction<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<SocketAddr>,
    /// `udp` or `tcp`.
    pub transport: &'static str,
    pub id: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qtype: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_frame: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_frame: Option<u64>,
    /// `NOERROR`, `NXDOMAIN`, `SERVFAIL`, `REFUSED`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rcode: Option<&'a str>,
    /// A/AAAA addresses and CNAME targets, in answer order.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub answers: &'a [std::sync::Arc<str>],
    /// Seconds from query to response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_time: Option<f64>,
    /// True when a response was seen.
    pub answered: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub truncated: bool,
}

/// Facts of a SOCKS handshake.
#[derive(Serialize)]
pub struct Socks<'a> {
    pub version: u8,
    /// `host:port` the client asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<&'a str>,
    /// SOCKS5 method chosen by the proxy (0 none, 2 user/password, 0xff refused).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_method: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<&'a str>,
    /// Proxy's reply code (SOCKS5 REP, SOCKS4 CD: 90 granted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply: Option<u8>,
    pub granted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_frame: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_frame: Option<u64>,
}

/// The diagnosis summary.
#[derive(Serialize)]
pub struct Summary<'a> {
    pub layers: Vec<Layer>,
    pub first_failure: Option<FirstFailure<'a>>,
    /// Time per stage: median, max, slowest flow.
    pub latency: Latency<'a>,
    /// Each distinct certificate chain presented, with the trust stores that would
    /// accept it.
    pub chains: Vec<Chain<'a>>,
}

/// One of the guide's layers (client → gateway → proxy → provider).
#[derive(Serialize)]
pub struct Layer {
    pub name: &'static str,
    /// `ok`, `failed` or `not_seen`.
    pub status: &'static str,
    /// Ids of the error findings that fail this layer.
    pub findings: Vec<&'static str>,
}

/// The first failing step of the guide's quick diagnostic flow.
#[derive(Serialize)]
pub struct FirstFailure<'a> {
    pub guide_section: Option<u8>,
    pub id: &'static str,
    pub title: &'a str,
}

/// `summary.latency`: per stage (absent when never seen) and the slowest flow.
#[derive(Serialize)]
pub struct Latency<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp_to_proxy: Option<StageStats<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect: Option<StageStats<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_hello: Option<StageStats<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_byte: Option<StageStats<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slowest_flow: Option<SlowestFlow>,
}

#[derive(Serialize)]
pub struct StageStats<'a> {
    pub samples: usize,
    pub median_s: f64,
    pub max_s: f64,
    pub slowest: Slowest<'a>,
}

/// The slowest sample of a stage.
#[derive(Serialize)]
pub struct Slowest<'a> {
    pub flow: usize,
    pub frames: &'a [u64],
}

/// The flow with the longest single stage.
#[derive(Serialize)]
pub struct SlowestFlow {
    pub flow: usize,
    /// `tcp_to_proxy`, `connect`, `tls_hello` or `first_byte`.
    pub stage: &'static str,
    pub seconds: f64,
}

/// One presented certificate chain.
#[derive(Serialize)]
pub struct Chain<'a> {
    /// The name the client asked for (SNI), else the server's address.
    pub host: &'a str,
    /// 1-based flow ids that presented it.
    pub flows: &'a [usize],
    /// Frame of the first Certificate message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frame: Option<u64>,
    /// Leaf subject and the issuer of the top certificate sent.
    pub subject: &'a str,
    pub issuer: &'a str,
    /// SHA-256 of each certificate, leaf first.
    pub sha256: &'a [String],
    /// Some handshake presenting it completed.
    pub established: bool,
    /// Which stores would accept it, at capture time and for `host`.
    pub trusted_by: Vec<Verdict<'a>>,
}

/// One trust store's answer for one chain.
#[derive(Serialize)]
pub struct Verdict<'a> {
    /// `mozilla`, `system` or `ca_file`.
    pub store: &'static str,
    /// The file the store was read from (absent for Mozilla's built-in roots).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<&'a str>,
    pub trusted: bool,
    /// Why not, in words (absent when trusted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'a str>,
}

/// A problem (or notable fact) found in the captures.
#[derive(Serialize)]
pub struct Finding<'a> {
    /// Stable snake_case kind (see `trafficdoc explain ID`).
    pub id: &'static str,
    /// `error`, `warning` or `info`.
    pub severity: &'static str,
    /// Section 1-7 of the corporate proxy troubleshooting guide, if it covers this.
    pub guide_section: Option<u8>,
    pub title: &'a str,
    pub explanation: &'a str,
    /// 1-based flow ids involved.
    pub flows: &'a [usize],
    /// The first pieces of evidence; `flows` still names every flow.
    pub evidence: Vec<Evidence<'a>>,
    /// Evidence past those listed, counted.
    #[serde(skip_serializing_if = "is_zero_usize")]
    pub evidence_omitted: usize,
    /// Other targets (proxies, names) with this same finding, folded into it: their
    /// flows are in `flows`, their evidence in `evidence` and `evidence_omitted`.
    #[serde(skip_serializing_if = "is_zero_usize")]
    pub more_targets: usize,
    /// Steps adapted to what was seen.
    pub remedy: &'a [String],
}

/// One fact from the wire that supports a finding.
#[derive(Serialize)]
pub struct Evidence<'a> {
    /// 1-based flow id, as in `flows[].id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow: Option<usize>,
    /// 1-based frame numbers as Wireshark shows them.
    pub frames: &'a [u64],
    /// Seconds from the capture's first packet to when the connection (or, for HTTP,
    /// the request) began.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<f64>,
    /// What was seen: the status line, header, alert or certificate issuer.
    pub seen: &'a str,
    /// Wireshark display filter selecting the packets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_filter: Option<&'a str>,
}

/// The last line of `capture --format ndjson`: the whole document on one line, with
/// `"type": "report"` added last.
#[derive(Serialize)]
pub struct ReportLine<'a, F: Serialize> {
    #[serde(flatten)]
    pub report: JsonReport<'a, F>,
    /// Always `report`.
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// A line of `capture --format ndjson`: a finding or a flow as it is seen.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event<'a> {
    Finding { finding: Finding<'a> },
    Flow { flow: Box<Flow<'a>> },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_lists_of_any_length_are_four_hex_digits_each() {
        for n in [0usize, 1, 63, 64, 65, 130] {
            let values: Vec<u16> = (0..n).map(|i| (i as u16).wrapping_mul(0x1f3b)).collect();
            let expected: Vec<String> = values.iter().map(|v| format!("{v:04x}")).collect();
            let json = serde_json::to_string(&HexList(&values)).unwrap();
            assert_eq!(json, serde_json::to_string(&expected).unwrap());
        }
    }
}
