//! The kinds of finding: one variant per problem a rule can report, each with the
//! stable snake_case id printed in reports and taken by `trafficdoc explain ID`.
//!
//! Adding a kind: one line below, then one arm in `super::entry` (its guide
//! section, description and steps; the match there is exhaustive, so the crate does
//! not build without it), then the rule that reports it.

use std::cmp::Ordering;

/// Declares [`FindingKind`] with its `ALL` list and `id()` from one list, so the three
/// cannot drift apart.
macro_rules! finding_kinds {
    ($($(#[$doc:meta])* $variant:ident => $id:literal,)+) => {
        /// What a finding is about. Printed (and in JSON) as its [`id`](Self::id).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum FindingKind {
            $($(#[$doc])* $variant,)+
        }

        impl FindingKind {
            /// Every kind, in the order `trafficdoc explain` lists them.
            pub const ALL: &'static [FindingKind] = &[$(FindingKind::$variant,)+];

            /// The stable snake_case id (JSON `id`, `trafficdoc explain ID`).
            pub fn id(self) -> &'static str {
                match self {
                    $(FindingKind::$variant => $id,)+
                }
            }
        }
    };
}

finding_kinds! {
    /// A RST answered the SYN to the proxy.
    ProxyConnectionRefused => "proxy_connection_refused",
    /// SYNs to the proxy were never answered.
    ProxyConnectionFiltered => "proxy_connection_filtered",
    /// ICMP destination unreachable answered the connection to the proxy.
    ProxyUnreachableIcmp => "proxy_unreachable_icmp",
    /// DNS gave no address for the proxy's name.
    ProxyNameNotResolved => "proxy_name_not_resolved",
    /// 407 and no credentials sent.
    ProxyAuthMissing => "proxy_auth_missing",
    /// 407 to the credentials sent.
    ProxyAuthRejected => "proxy_auth_rejected",
    /// The proxy offers only NTLM / Negotiate / Kerberos; the client does not.
    ProxyAuthSchemeMismatch => "proxy_auth_scheme_mismatch",
    /// An NTLM / Negotiate exchange ended in 407.
    ProxyAuthNtlmFailed => "proxy_auth_ntlm_failed",
    /// A local helper's parent proxy refused the helper's credentials (407 on the
    /// helper's leg, or relayed by the helper to its client).
    ProxyHelperAuthRejected => "proxy_helper_auth_rejected",
    /// A 407 then a successful retry: normal proxy authentication.
    ProxyAuthChallenge => "proxy_auth_challenge",
    /// A fatal client alert right after the server's certificate, or the client closing
    /// without a request right after a completed handshake with an untrusted chain.
    TlsCertificateRejected => "tls_certificate_rejected",
    /// TLS 1.3: the client gave up after the server's first flight.
    TlsHandshakeAbandoned => "tls_handshake_abandoned",
    /// The server (or a device in its place) ended the handshake with a fatal alert
    /// right after the ClientHello: no TLS version or cipher in common.
    TlsHandshakeRefused => "tls_handshake_refused",
    /// A public host's certificate issued by an inspection product or private CA.
    TlsInspectionDetected => "tls_inspection_detected",
    /// Many public hosts' certificates issued by one private CA.
    TlsInspectionManyHosts => "tls_inspection_many_hosts",
    /// Connections to the gateway port refused or unanswered.
    GatewayNotListening => "gateway_not_listening",
    /// The gateway answers its health check or requests with errors.
    GatewayUnhealthy => "gateway_unhealthy",
    /// A CONNECT or HTTP request without response.
    RequestUnanswered => "request_unanswered",
    /// A response took longer than `--slow-ms` to start.
    SlowResponse => "slow_response",
    /// 429 Too Many Requests.
    RateLimited => "rate_limited",
    /// Many TCP retransmissions.
    HighRetransmissions => "high_retransmissions",
    /// ICMP fragmentation needed / packet too big on a connection that then stalled:
    /// the sender never lowered its packet size.
    PathMtuBlackHole => "path_mtu_black_hole",
    /// A local or internal host requested through the proxy.
    NoProxyNotMatching => "no_proxy_not_matching",
    /// A direct (proxy-less) web connection failed.
    DirectConnectionFailed => "direct_connection_failed",
    /// TLS sent straight to a plain HTTP proxy.
    TlsToPlainProxy => "tls_to_plain_proxy",
    /// The proxy's own 403 (policy block).
    ProxyErrorResponse => "proxy_error_response",
    /// The proxy's own 5xx: it could not resolve or reach the destination.
    ProxyUpstreamFailed => "proxy_upstream_failed",
    /// The proxy answered a CONNECT or request with a reset, or closed the connection
    /// at once without a response.
    ProxyResetAfterRequest => "proxy_reset_after_request",
    /// A reset from the proxy's side right after the ClientHello.
    ResetDuringTlsHandshake => "reset_during_tls_handshake",
    /// The proxy side reset an established connection.
    ProxyResetMidStream => "proxy_reset_mid_stream",
    /// 401/403 from the gateway or provider.
    ApiKeyRejected => "api_key_rejected",
    /// A refused connection the client made good at once on the same host's address
    /// of the other family: the service listens on IPv4 (or IPv6) only.
    ListensOnOneFamily => "listens_on_one_family",
    /// Packets cut by the capture's snap length: what they held is unknown.
    CaptureSnaplenCut => "capture_snaplen_cut",
    /// A refused connection to a server that is neither the proxy nor the gateway.
    ConnectionRefused => "connection_refused",
    /// A proxy variable that does not parse as a proxy URL, or names no port.
    ProxyUrlInvalid => "proxy_url_invalid",
    /// Proxy credentials with reserved characters not percent-encoded, or encoded twice.
    ProxyCredentialsEncoding => "proxy_credentials_encoding",
    /// Lower- and upper-case spellings of a proxy variable with different values.
    ProxyVariablesDisagree => "proxy_variables_disagree",
    /// A CA file a variable names is missing, unreadable, not PEM or expired.
    CaFileUnusable => "ca_file_unusable",
    /// Certificate verification switched off (NODE_TLS_REJECT_UNAUTHORIZED=0).
    TlsVerificationDisabled => "tls_verification_disabled",
    /// An API key without its provider's prefix.
    ApiKeyMalformed => "api_key_malformed",
}

impl FindingKind {
    /// The kind with this id, if there is one.
    pub fn from_id(id: &str) -> Option<FindingKind> {
        FindingKind::ALL.iter().copied().find(|k| k.id() == id)
    }
}

/// Kinds order by id, so the order of findings grouped by kind does not depend on
/// where a variant is declared.
impl Ord for FindingKind {
    fn cmp(&self, other: &Self) -> Ordering {
        self.id().cmp(other.id())
    }
}

impl PartialOrd for FindingKind {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for FindingKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_snake_case_and_parse_back() {
        let mut seen = std::collections::HashSet::new();
        for &k in FindingKind::ALL {
            let id = k.id();
            assert!(seen.insert(id), "{id} twice");
            assert!(
                !id.is_empty() && id.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{id}"
            );
            assert_eq!(FindingKind::from_id(id), Some(k));
        }
        assert_eq!(FindingKind::from_id("no_such_kind"), None);
        assert_eq!(FindingKind::from_id("Proxy_Auth_Missing"), None);
    }

    #[test]
    fn orders_by_id() {
        assert!(FindingKind::ProxyAuthChallenge < FindingKind::ProxyAuthMissing);
        assert!(FindingKind::ProxyAuthRejected < FindingKind::ProxyAuthSchemeMismatch);
        assert!(FindingKind::ApiKeyRejected < FindingKind::ProxyConnectionRefused);
    }
}
