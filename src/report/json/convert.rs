//! From the internal types to the report's schema types: each conversion borrows,
//! and the words enums become in JSON are spelled here, once.

use super::schema::*;
use crate::analyze::chains;
use crate::analyze::findings::{self, Severity};
use crate::analyze::latency::{self, Stage};
use crate::analyze::summary::{self, LayerStatus};
use crate::analyze::trust;
use crate::capture::file::{self, CaptureFormat};
use crate::flow::record::{FlowSummary, Transport};
use crate::flow::table::{self, TableLimits};
use crate::pipeline::{self, CaptureStats as PcapStats};
use crate::protocols::dns;
use crate::protocols::http::{self, AuthHeader};
use crate::protocols::ntlm::{self, NtResponseKind, NtlmMessageType};
use crate::protocols::socks::SocksFacts;
use crate::protocols::tls::{self, HandshakeOutcome};
use crate::protocols::x509::CertInfo;
use crate::protocols::{AppFacts, AppProtocol};

impl From<[u64; 2]> for Pair {
    fn from(v: [u64; 2]) -> Self {
        Pair {
            client: v[0],
            server: v[1],
        }
    }
}

impl<'a> Flow<'a> {
    /// Flow `id` (1-based within the report) of capture `file`.
    pub fn new(id: usize, file: &'a str, f: &'a FlowSummary) -> Self {
        Flow {
            id,
            file,
            transport: transport(f.transport),
            client: crate::model::addr_text::socket(f.client),
            server: crate::model::addr_text::socket(f.server),
            state: f.state.as_str(),
            state_meaning: f.state.meaning(),
            history: &f.history,
            start: f.first_ts.as_secs_f64(),
            end: f.last_ts.as_secs_f64(),
            duration: f.last_ts.secs_since(f.first_ts).max(0.0),
            first_frame: f.first_frame.0,
            last_frame: f.last_frame.0,
            packets: f.packets.into(),
            bytes: f.bytes.into(),
            wire_bytes: f.wire_bytes.into(),
            rtt: f.rtt,
            syn_retransmissions: f.client_syns.saturating_sub(1),
            retransmissions: f.retransmissions.into(),
            gaps: f.gaps.into(),
            gap_bytes: f.gap_bytes.into(),
            snaplen_cut_bytes: f.snaplen_bytes.into(),
            partial: f.partial(),
            cap_hits: f.cap_hits.into(),
            evicted: f.evicted,
            facts_not_kept: f.facts_not_kept,
            rst: f.rst.map(|(d, fr)| Rst {
                from: d.sender(),
                frame: fr.0,
            }),
            icmp_unreachable: f.unreachable.map(|(fr, u)| IcmpUnreachable {
                frame: fr.0,
                code: u.code,
                icmpv6: u.v6,
                mtu: u.mtu,
            }),
            display_filter: f.display_filter(),
            app: (&f.app).into(),
        }
    }
}

fn transport(t: Transport) -> &'static str {
    match t {
        Transport::Tcp => "tcp",
        Transport::Udp => "udp",
    }
}

impl<'a> From<&'a pipeline::InputFile> for InputFile<'a> {
    fn from(f: &'a pipeline::InputFile) -> Self {
        InputFile {
            path: &f.path,
            format: match f.format {
                CaptureFormat::Pcap => "pcap",
                CaptureFormat::Pcapng => "pcapng",
                CaptureFormat::Live => "live",
            },
            link_types: &f.link_types,
            link_types_omitted: f.link_types_omitted,
            interfaces_not_kept: f.interfaces_not_kept,
            packets: f.packets,
            bytes: f.bytes,
            file_bytes: f.file_bytes,
            first_ts: f.first_ts.map(|t| t.as_secs_f64()),
            last_ts: f.last_ts.map(|t| t.as_secs_f64()),
            truncated: f.truncated.as_ref().map(Truncation::from),
            decode: (&f.decode).into(),
            limits: (&f.limits).into(),
            capture_stats: f.capture_stats.as_ref().map(CaptureStats::from),
            parts: &f.parts,
        }
    }
}

impl<'a> From<&'a file::Truncation> for Truncation<'a> {
    fn from(t: &'a file::Truncation) -> Self {
        Truncation {
            frame: t.frame.0,
            offset: t.offset,
            have: t.have,
            need: t.need,
            reason: &t.reason,
        }
    }
}

impl From<&pipeline::DecodeCounts> for DecodeCounts {
    fn from(d: &pipeline::DecodeCounts) -> Self {
        DecodeCounts {
            tcp_packets: d.tcp_packets,
            udp_packets: d.udp_packets,
            icmp_unreachable: d.icmp_unreachable,
            non_ip: d.non_ip,
            ip_fragments: d.ip_fragments,
            undecodable: d.undecodable,
            other_ip: d.other_ip,
            snaplen_cut: d.snaplen_cut,
            unsupported_link: d.unsupported_link,
        }
    }
}

impl<'a> From<&'a TableLimits> for Limits<'a> {
    fn from(l: &'a TableLimits) -> Self {
        Limits {
            flows_evicted: l.flows_evicted,
            partial_flows: l.partial_flows,
            buffer_cap_hits: l.buffer_cap_hits,
            flows_summarized: l.flows_summarized,
            facts_not_kept: l.facts_not_kept,
            summarized: l.summarized.as_ref().map(FlowAggregate::from),
        }
    }
}

impl<'a> From<&'a table::FlowAggregate> for FlowAggregate<'a> {
    fn from(a: &'a table::FlowAggregate) -> Self {
        FlowAggregate {
            flows: a.flows,
            tcp: a.tcp,
            udp: a.udp,
            packets: a.packets,
            bytes: a.bytes,
            partial: a.partial,
            states: &a.states,
            first_frame: a.first_frame,
            last_frame: a.last_frame,
        }
    }
}

impl From<&PcapStats> for CaptureStats {
    fn from(s: &PcapStats) -> Self {
        CaptureStats {
            received: s.received,
            dropped: s.dropped,
            if_dropped: s.if_dropped,
            queue_dropped: s.queue_dropped,
        }
    }
}

impl<'a> From<&'a AppFacts> for App<'a> {
    fn from(a: &'a AppFacts) -> Self {
        App {
            protocol: match a.protocol {
                AppProtocol::Unknown => "unknown",
                AppProtocol::Http => "http",
                AppProtocol::Tls => "tls",
                AppProtocol::Dns => "dns",
                AppProtocol::Socks => "socks",
                AppProtocol::Other => "other",
            },
            http: a.http.iter().map(HttpExchange::from).collect(),
            tls: a.tls.as_deref().map(Tls::from),
            dns: a.dns.iter().map(DnsTransaction::from).collect(),
            socks: a.socks.as_deref().map(Socks::from),
            tls_in_tunnel: a.tls_in_tunnel,
            notes: &a.notes,
            notes_omitted: a.notes_omitted,
        }
    }
}

impl<'a> From<&'a http::HttpExchange> for HttpExchange<'a> {
    fn from(e: &'a http::HttpExchange) -> Self {
        HttpExchange {
            method: e.method.as_deref(),
            target: e.target.as_deref(),
            version: e.version.as_deref(),
            host: e.host.as_deref(),
            user_agent: e.user_agent.as_deref(),
            request_frame: e.request_frame.map(|f| f.0),
            credentials: e.credentials.iter().map(Credentials::from).collect(),
            api_key: e.api_key.as_deref(),
            has_cookie: e.has_cookie,
            proxy_connection: e.proxy_connection.as_deref(),
            request_cut: e.request_cut,
            status: e.status,
            reason: e.reason.as_deref(),
            response_version: e.response_version.as_deref(),
            response_frame: e.response_frame.map(|f| f.0),
            response_cut: e.response_cut,
            response_end_frame: e.response_end_frame.map(|f| f.0),
            response_time: e.response_time,
            interim: &e.interim,
            challenges: e.challenges.iter().map(Challenge::from).collect(),
            retry_after: e.retry_after.as_deref(),
            via: &e.via,
            server: e.server.as_deref(),
            x_squid_error: e.x_squid_error.as_deref(),
            content_type: e.content_type.as_deref(),
            content_length: e.content_length,
            error_message: e.error_message.as_deref(),
            tunnel: e.tunnel,
            decrypted: e.decrypted,
        }
    }
}

fn auth_header(h: AuthHeader) -> &'static str {
    match h {
        AuthHeader::ProxyAuthenticate => "Proxy-Authenticate",
        AuthHeader::WwwAuthenticate => "WWW-Authenticate",
        AuthHeader::ProxyAuthorization => "Proxy-Authorization",
        AuthHeader::Authorization => "Authorization",
    }
}

impl<'a> From<&'a http::Challenge> for Challenge<'a> {
    fn from(c: &'a http::Challenge) -> Self {
        Challenge {
            header: auth_header(c.header),
            scheme: &c.scheme,
            realm: c.realm.as_deref(),
            params: &c.params,
            ntlm: c.ntlm.as_deref().map(Ntlm::from),
            kerberos: c.kerberos,
        }
    }
}

impl<'a> From<&'a http::Credentials> for Credentials<'a> {
    fn from(c: &'a http::Credentials) -> Self {
        Credentials {
            header: auth_header(c.header),
            scheme: &c.scheme,
            user: c.user.as_deref(),
            token_masked: c.token_masked.as_deref(),
            ntlm: c.ntlm.as_deref().map(Ntlm::from),
            kerberos: c.kerberos,
            malformed: c.malformed,
        }
    }
}

impl<'a> From<&'a ntlm::NtlmMessage> for Ntlm<'a> {
    fn from(m: &'a ntlm::NtlmMessage) -> Self {
        Ntlm {
            message_type: match m.message_type {
                NtlmMessageType::Negotiate => "negotiate",
                NtlmMessageType::Challenge => "challenge",
                NtlmMessageType::Authenticate => "authenticate",
            },
            flags: &m.flags,
            domain: m.domain.as_deref(),
            user: m.user.as_deref(),
            workstation: m.workstation.as_deref(),
            target_name: m.target_name.as_deref(),
            target_info: &m.target_info,
            nt_response: m.nt_response.map(|k| match k {
                NtResponseKind::Anonymous => "Anonymous",
                NtResponseKind::NTLMv1 => "NTLMv1",
                NtResponseKind::NTLMv2 => "NTLMv2",
            }),
            os_version: m.os_version.as_deref(),
        }
    }
}

impl<'a> From<&'a tls::TlsFacts> for Tls<'a> {
    fn from(t: &'a tls::TlsFacts) -> Self {
        Tls {
            version: t.version.map(tls::version_name),
            client_version: t.client_version.map(tls::version_name),
            supported_versions: t
                .supported_versions
                .iter()
                .map(|v| tls::version_name(*v))
                .collect(),
            sni: t.sni.as_deref(),
            alpn: &t.alpn,
            server_alpn: t.server_alpn.as_deref(),
            cipher_suites: HexList(&t.cipher_suites),
            extensions: HexList(&t.extensions),
            cipher: t.cipher.map(tls::cipher_name),
            ja4: t.ja4.as_deref(),
            ja4_r: t.ja4_r.as_deref(),
            ja3: t.ja3.as_deref(),
            ja3s: t.ja3s.as_deref(),
            hello_retry_request: t.hello_retry_request,
            client_hello_frame: t.client_hello_frame.map(|f| f.0),
            server_hello_frame: t.server_hello_frame.map(|f| f.0),
            certificate_frame: t.certificate_frame.map(|f| f.0),
            certificates: t.certificates.iter().map(Certificate::from).collect(),
            client_certificates: t
                .client_certificates
                .iter()
                .map(Certificate::from)
                .collect(),
            alerts: t.alerts.iter().map(TlsAlert::from).collect(),
            history: &t.history,
            established: t.established,
            outcome: match t.outcome {
                HandshakeOutcome::Established => "established",
                HandshakeOutcome::ClientAlert => "client_alert",
                HandshakeOutcome::ServerAlert => "server_alert",
                HandshakeOutcome::ClientEncryptedAlert => "client_encrypted_alert",
                HandshakeOutcome::ClientSilentAfterServerFlight => {
                    "client_silent_after_server_flight"
                }
                HandshakeOutcome::NoServerHello => "no_server_hello",
                HandshakeOutcome::NoClientHello => "no_client_hello",
                HandshakeOutcome::Incomplete => "incomplete",
            },
            client_first_encrypted_len: t.client_first_encrypted_len,
            decryption: t.decryption.as_ref().map(|d| TlsDecryption {
                decrypted: d.records > 0,
                records: d.records,
                problem: d.problem.as_deref(),
            }),
        }
    }
}

impl From<&tls::TlsAlert> for TlsAlert {
    fn from(a: &tls::TlsAlert) -> Self {
        TlsAlert {
            from: a.from.sender(),
            level: a.level.map(tls::severity_name),
            description: a.description.map(tls::alert_name),
            code: a.description.map(|d| d.0),
            encrypted: a.encrypted,
            frame: a.frame.0,
            after: a.after,
        }
    }
}

impl<'a> From<&'a CertInfo> for Certificate<'a> {
    fn from(c: &'a CertInfo) -> Self {
        Certificate {
            subject: &c.subject,
            issuer: &c.issuer,
            san: &c.san,
            not_before: &c.not_before,
            not_after: &c.not_after,
            not_before_unix: c.not_before_unix,
            not_after_unix: c.not_after_unix,
            serial: &c.serial,
            sha256: &c.sha256,
            self_signed: c.self_signed,
            is_ca: c.is_ca,
        }
    }
}

impl<'a> From<&'a dns::DnsTransaction> for DnsTransaction<'a> {
    fn from(d: &'a dns::DnsTransaction) -> Self {
        DnsTransaction {
            client: d.client,
            server: d.server,
            transport: d.transport,
            id: d.id,
            query: d.query.as_deref(),
            qtype: d.qtype.as_deref(),
            query_frame: d.query_frame.map(|f| f.0),
            response_frame: d.response_frame.map(|f| f.0),
            rcode: d.rcode.as_deref(),
            answers: &d.answers,
            response_time: d.response_time,
            answered: d.answered,
            truncated: d.truncated,
        }
    }
}

impl<'a> From<&'a SocksFacts> for Socks<'a> {
    fn from(s: &'a SocksFacts) -> Self {
        Socks {
            version: s.version,
            target: s.target.as_deref(),
            auth_method: s.auth_method,
            user: s.user.as_deref(),
            reply: s.reply,
            granted: s.granted,
            request_frame: s.request_frame.map(|f| f.0),
            reply_frame: s.reply_frame.map(|f| f.0),
        }
    }
}

impl<'a> From<&'a summary::Summary> for Summary<'a> {
    fn from(s: &'a summary::Summary) -> Self {
        Summary {
            layers: s.layers.iter().map(Layer::from).collect(),
            first_failure: s.first_failure.as_ref().map(|f| FirstFailure {
                guide_section: f.guide_section,
                id: f.kind.id(),
                title: &f.title,
            }),
            latency: (&s.latency).into(),
            chains: s.chains.iter().map(Chain::from).collect(),
        }
    }
}

impl From<&summary::Layer> for Layer {
    fn from(l: &summary::Layer) -> Self {
        Layer {
            name: l.name,
            status: match l.status {
                LayerStatus::Ok => "ok",
                LayerStatus::Failed => "failed",
                LayerStatus::NotSeen => "not_seen",
            },
            findings: l.findings.iter().map(|k| k.id()).collect(),
        }
    }
}

impl<'a> From<&'a latency::Latency> for Latency<'a> {
    fn from(l: &'a latency::Latency) -> Self {
        Latency {
            tcp_to_proxy: l.tcp_to_proxy.as_ref().map(StageStats::from),
            connect: l.connect.as_ref().map(StageStats::from),
            tls_hello: l.tls_hello.as_ref().map(StageStats::from),
            first_byte: l.first_byte.as_ref().map(StageStats::from),
            slowest_flow: l.slowest_flow.as_ref().map(|s| SlowestFlow {
                flow: s.flow,
                stage: match s.stage {
                    Stage::TcpToProxy => "tcp_to_proxy",
                    Stage::Connect => "connect",
                    Stage::TlsHello => "tls_hello",
                    Stage::FirstByte => "first_byte",
                },
                seconds: s.seconds,
            }),
        }
    }
}

impl<'a> From<&'a latency::StageStats> for StageStats<'a> {
    fn from(s: &'a latency::StageStats) -> Self {
        StageStats {
            samples: s.samples,
            median_s: s.median_s,
            max_s: s.max_s,
            slowest: Slowest {
                flow: s.slowest.flow,
                frames: &s.slowest.frames,
            },
        }
    }
}

impl<'a> From<&'a chains::Chain> for Chain<'a> {
    fn from(c: &'a chains::Chain) -> Self {
        Chain {
            host: &c.host,
            flows: &c.flows,
            frame: c.frame,
            subject: &c.subject,
            issuer: &c.issuer,
            sha256: &c.sha256,
            established: c.established,
            trusted_by: c.trusted_by.iter().map(Verdict::from).collect(),
        }
    }
}

impl<'a> From<&'a trust::Verdict> for Verdict<'a> {
    fn from(v: &'a trust::Verdict) -> Self {
        Verdict {
            store: v.store,
            path: v.path.as_deref(),
            trusted: v.trusted,
            reason: v.reason.as_deref(),
        }
    }
}

impl<'a> From<&'a findings::Finding> for Finding<'a> {
    fn from(f: &'a findings::Finding) -> Self {
        Finding {
            id: f.kind.id(),
            severity: match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "info",
            },
            guide_section: f.guide_section,
            title: &f.title,
            explanation: &f.explanation,
            flows: &f.flows,
            evidence: f.evidence.iter().map(Evidence::from).collect(),
            evidence_omitted: f.evidence_omitted,
            more_targets: f.more_targets,
            remedy: &f.remedy,
        }
    }
}

impl<'a> From<&'a findings::Evidence> for Evidence<'a> {
    fn from(e: &'a findings::Evidence) -> Self {
        Evidence {
            flow: e.flow,
            frames: &e.frames,
            at: e.at,
            seen: &e.seen,
            display_filter: e.display_filter.as_deref(),
        }
    }
}
