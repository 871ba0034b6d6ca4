//! The remedy catalog: the steps of the corporate proxy troubleshooting guide
//! (`../shared/guide/corporate-proxy-troubleshooting.md`, "Issue 1" to "Issue 7"), in
//! our own words, keyed by guide section and step, and which steps each
//! [`FindingKind`] uses. Placeholders (`{proxy}`, `{user}`, `{schemes}`, `{issuer}`,
//! `{host}`, `{gateway}`, `{port}`) are filled from a finding's evidence.

pub mod kind;

pub use kind::FindingKind;

/// One step of a guide section.
pub struct Step {
    pub section: u8,
    pub step: u8,
    pub text: &'static str,
}

/// What the catalog holds for a finding kind: its guide section, the steps that fix
/// it (guide section, step; section 0 is beyond the guide), a one-line description.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    pub section: Option<u8>,
    pub steps: &'static [(u8, u8)],
    pub about: &'static str,
}

pub const SECTION_TITLES: &[(u8, &str)] = &[
    (1, "\"Connection refused\" to proxy"),
    (2, "407 Proxy Authentication Required"),
    (3, "SSL certificate verify failed"),
    (4, "Gateway not responding"),
    (5, "Timeout errors"),
    (6, "NO_PROXY not working"),
    (7, "API key errors"),
];

pub const STEPS: &[Step] = &[
    // 0: beyond the guide's sections
    Step {
        section: 0,
        step: 1,
        text: "Read the proxy's own error page and headers (Squid: X-Squid-Error names the rule or failure); a 403 is the proxy's policy: ask IT to allow the destination through {proxy}.",
    },
    Step {
        section: 0,
        step: 2,
        text: "Test the same destination through the proxy from another tool (`curl -v -x http://{proxy} https://api.anthropic.com`) to tell a proxy-side failure from a client one.",
    },
    Step {
        section: 0,
        step: 3,
        text: "Ask IT for {proxy}'s idle and connection timeouts; keep long requests alive (streaming) or retry them, and compare the reset's timing with those limits.",
    },
    Step {
        section: 0,
        step: 4,
        text: "Let the service on {endpoint} listen on both loopback addresses (127.0.0.1 and ::1, e.g. LiteLLM `--host ::` where IPv6 sockets accept IPv4 too), or point clients at {answered} instead of `localhost`; until then every client pays a refused connection and a retry.",
    },
    Step {
        section: 0,
        step: 5,
        text: "Find what should listen on {endpoint}: start that service, or correct the host and port the client was given. If it is meant to be the proxy or the gateway, say so (`--proxy {endpoint}` or `--gateway {endpoint}`) for their diagnosis.",
    },
    Step {
        section: 0,
        step: 6,
        text: "Let ICMP \"fragmentation needed\" (IPv4 type 3 code 4) and ICMPv6 \"packet too big\" (type 2) reach this machine: a firewall that drops them (the host's own, a VPN client, a router) breaks path MTU discovery. Until IT fixes it, lower this machine's MTU to {mtu} (`sudo ip link set dev IFACE mtu {mtu}`) or have the router clamp the TCP MSS. Check: `ping -M do -s {payload} {host}` passes, one byte more does not.",
    },
    Step {
        section: 0,
        step: 7,
        text: "The parent proxy {parent} rejected the credentials of the local helper {proxy}, not the client's: fix them in the helper's configuration (cntlm.conf: Username, Domain and Password, or the PassNTLMv2 hash from `cntlm -H`; `cntlm -M http://example.com` tests them and says which Auth the parent accepts), restart it. The client's proxy URL (the helper) needs no credentials.",
    },
    Step {
        section: 0,
        step: 8,
        text: "The local helper {helper} forwards to the parent proxy {proxy}: check the parent it is configured with (the Proxy line of cntlm.conf) against the host and port IT gave you, then restart the helper. The clients' own proxy setting (the helper) is right.",
    },
    Step {
        section: 0,
        step: 9,
        text: "Capture whole packets and analyse again: `tcpdump -s 0 -i any -w capture.pcap` (0 is the full length; dumpcap and Wireshark: no packet size limit), so status lines, DNS answers and TLS records are complete.",
    },
    Step {
        section: 0,
        step: 10,
        text: "This is a provider key sent to the gateway: the client must send the gateway's key (its master key, or a virtual key made with the gateway's /key/generate) to {gateway}, e.g. `export ANTHROPIC_API_KEY=\"GATEWAY_KEY\"` (GATEWAY_KEY being that key) in the client's environment; the sk-ant- key belongs in the gateway's configuration (api_key: os.environ/ANTHROPIC_API_KEY in the model's litellm_params).",
    },
    Step {
        section: 0,
        step: 11,
        text: "The parent proxy {proxy} offers only Basic, which cntlm does not speak (it authenticates with NTLM only), so it never even tried the password: point the clients at {proxy} directly, with the user and password in that proxy URL (`export HTTPS_PROXY=\"http://{user_url}:PASSWORD@{proxy}\"`), and stop the helper.",
    },
    Step {
        section: 0,
        step: 12,
        text: "The gateway {gateway} throttles on its own account: raise the limits it enforces (in LiteLLM, the deployment's rpm / tpm in model_list litellm_params, the key's or team's rpm_limit / tpm_limit, or more deployments of the model) or wait for its minute and cooldown_time to pass; its log says which limit was hit (`grep -iE 'rate|cooldown|deployments' gateway.log`).",
    },
    Step {
        section: 0,
        step: 13,
        text: "Read the proxy's own error page and headers, which name the failure (Squid: X-Squid-Error; tinyproxy: its reason phrase, e.g. \"Unable to connect\"; mitmproxy: its 502 page): the proxy could not resolve or reach the destination. Check the destination's name (a typo?) and port, then ask IT whether {proxy} may reach it (its DNS, its firewall, its own parent proxy).",
    },
    Step {
        section: 0,
        step: 14,
        text: "{host} resolves to {endpoint} and to {answered}, but the service on port {port} answers on {answered} only: let it listen on its other address too, or have the address it does not serve removed from {host}'s DNS records (ask IT); until then every client pays a refused connection and a retry.",
    },
    Step {
        section: 0,
        step: 15,
        text: "The proxy accepts other connections: compare the times of the refusals (evidence) with the proxy's logs and its connection limits, ask IT whether {proxy} is a pool of proxies with one node down, and let clients retry a refused connection.",
    },
    Step {
        section: 0,
        step: 16,
        text: "Point the client at the address the proxy listens on (`export HTTPS_PROXY=http://{answered}` instead of localhost), or let the proxy listen on both loopback addresses (tinyproxy: a Listen line each, or none; squid: an http_port for each; cntlm: a Listen line for each).",
    },
    Step {
        section: 0,
        step: 17,
        text: "The gateway {gateway} runs and accepts other connections: compare the times of the failures (evidence) with its log (restarts, crashes), give it more workers (LiteLLM `--num_workers`) if it is saturated, and let clients retry a refused connection.",
    },
    Step {
        section: 0,
        step: 18,
        text: "Let the gateway listen on both loopback addresses (LiteLLM `--host ::`, whose IPv6 socket accepts IPv4 too), or point the clients at {answered} instead of localhost (e.g. `export ANTHROPIC_BASE_URL=http://{answered}`).",
    },
    // 1: proxy unreachable
    Step {
        section: 1,
        step: 1,
        text: "Check the proxy answers at all: `nc -zv {proxy_host} {proxy_port}` (or `telnet {proxy_host} {proxy_port}`); `ping {proxy_host}` tells whether the host is reachable.",
    },
    Step {
        section: 1,
        step: 2,
        text: "Check the proxy URL: `echo $HTTPS_PROXY` should read http://{proxy_url_host}:{proxy_port} with the host and port IT gave you (proxies usually listen on 8080, 3128, 8888 or 80).",
    },
    Step {
        section: 1,
        step: 3,
        text: "Check you are on the corporate network or VPN: `ip addr show | grep \"inet \"` should show an internal address (10.x, 192.168.x), and an internal host should answer.",
    },
    Step {
        section: 1,
        step: 4,
        text: "Check no local firewall blocks the proxy port: `sudo iptables -L -n | grep {proxy_port}` (Linux) or `sudo pfctl -s rules | grep {proxy_port}` (macOS).",
    },
    // 2: proxy authentication
    Step {
        section: 2,
        step: 1,
        text: "Put the credentials in the proxy URL: `export HTTPS_PROXY=\"http://{user_url}:PASSWORD@{proxy}\"`, then test with `curl -x \"$HTTPS_PROXY\" https://httpbin.org/ip`.",
    },
    Step {
        section: 2,
        step: 2,
        text: "URL-encode special characters (@ : / # ? & = + space) in the user and password, exactly once: `python3 -c \"import urllib.parse; print(urllib.parse.quote('PASSWORD', safe=''))\"`. Tools that take the password outside a URL (curl --proxy-user) want it unencoded.",
    },
    Step {
        section: 2,
        step: 3,
        text: "For a Windows domain account write DOMAIN%5Cuser in the URL (%5C is the backslash), or user%40domain.com for the user@domain form; check with IT which form the proxy ({schemes}) expects.",
    },
    Step {
        section: 2,
        step: 4,
        text: "When the proxy only speaks NTLM / Negotiate / Kerberos ({schemes}), run a local helper such as cntlm: install it, set Username, Domain, Password and `Proxy {proxy}` with `Listen 3128` in /etc/cntlm.conf, start it, and use `export HTTPS_PROXY=http://localhost:3128`.",
    },
    // 3: SSL inspection
    Step {
        section: 3,
        step: 1,
        text: "Get the corporate CA certificate (\"{issuer}\") from IT, as a PEM file (e.g. corporate-ca-bundle.crt).",
    },
    Step {
        section: 3,
        step: 2,
        text: "Install it system-wide: Debian/Ubuntu `sudo cp corporate-ca-bundle.crt /usr/local/share/ca-certificates/ && sudo update-ca-certificates`; RHEL `/etc/pki/ca-trust/source/anchors/` + `sudo update-ca-trust`; macOS `sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain corporate-ca-bundle.crt`.",
    },
    Step {
        section: 3,
        step: 3,
        text: "Point tools with their own trust store at it: `export NODE_EXTRA_CA_CERTS=/path/to/corporate-ca-bundle.crt` (Node), `REQUESTS_CA_BUNDLE=...` (Python requests), `CURL_CA_BUNDLE=...` (curl), `SSL_CERT_FILE=...` (general).",
    },
    Step {
        section: 3,
        step: 4,
        text: "Verify: `curl --cacert /path/to/corporate-ca-bundle.crt -x \"$HTTPS_PROXY\" https://{host}` and `openssl s_client -connect {host}:443 -proxy {proxy} -CAfile /path/to/corporate-ca-bundle.crt`.",
    },
    Step {
        section: 3,
        step: 6,
        text: "The server side refused the ClientHello ({alert}): find what caps the client's TLS ({offered} offered) — an old OpenSSL or runtime, curl's --tls-max, a minVersion/maxVersion or cipher setting, a TLS library pinned by the tool — and let it offer TLS 1.2 and 1.3 with current ciphers; when only the corporate path fails, ask IT which versions and ciphers the proxy or inspection device accepts: `openssl s_client -connect {host}:443 -tls1_3` tells (add -proxy HOST:PORT to go through the proxy).",
    },
    Step {
        section: 3,
        step: 5,
        text: "Only to confirm the diagnosis, never to keep: disabling verification (curl -k, NODE_TLS_REJECT_UNAUTHORIZED=0) makes the error go away and exposes you to interception.",
    },
    // 4: gateway
    Step {
        section: 4,
        step: 1,
        text: "Check the gateway is running and listening: `ps aux | grep litellm` and `ss -tuln | grep {port}` (or `lsof -i :{port}`).",
    },
    Step {
        section: 4,
        step: 2,
        text: "Start it: `litellm --config config/litellm-proxy.yaml --port {port}` (in the background with nohup, logging to gateway.log).",
    },
    Step {
        section: 4,
        step: 3,
        text: "Check its configuration and logs: the config file exists and is valid YAML, and `grep -i error gateway.log` (e.g. a model's api_base that refuses connections).",
    },
    Step {
        section: 4,
        step: 4,
        text: "Test it: `curl http://{gateway}/health` should say healthy; then `curl http://{gateway}/models` and a small completion.",
    },
    // 5: timeouts
    Step {
        section: 5,
        step: 1,
        text: "Measure where the time goes: `time curl -x \"$HTTPS_PROXY\" https://httpbin.org/ip` for the proxy, the same against the provider API, and `traceroute -n api.anthropic.com` (or your provider's host).",
    },
    Step {
        section: 5,
        step: 2,
        text: "Raise the gateway's limits in config/litellm-proxy.yaml: litellm_settings request_timeout (e.g. 600), num_retries and retry_after.",
    },
    Step {
        section: 5,
        step: 3,
        text: "Raise the client's timeout (e.g. `export CLAUDE_CODE_TIMEOUT=600` where supported).",
    },
    Step {
        section: 5,
        step: 4,
        text: "Look for rate limiting: `grep 429 gateway.log`, honour Retry-After, and check the provider's usage dashboard.",
    },
    // 6: NO_PROXY
    Step {
        section: 6,
        step: 1,
        text: "Check the bypass list: `echo $NO_PROXY; echo $no_proxy`; keep one spelling (unset the lowercase ones) and set `export NO_PROXY=\"localhost,127.0.0.1,.internal\"` so {host} is covered.",
    },
    Step {
        section: 6,
        step: 2,
        text: "Fix the pattern: comma-separated, no spaces, no `*.` wildcards (write .internal, not *.internal); CIDR ranges are not understood by every tool.",
    },
    Step {
        section: 6,
        step: 3,
        text: "Test the pattern, e.g. with Python's urllib.request.proxy_bypass_environment('{host}').",
    },
    Step {
        section: 6,
        step: 4,
        text: "Force a direct connection to confirm: `curl --noproxy \"*\" http://{host}/`, or unset HTTPS_PROXY/HTTP_PROXY for that tool.",
    },
    // 7: API keys
    Step {
        section: 7,
        step: 1,
        text: "Check the key is set for the process that sends it (`echo $ANTHROPIC_API_KEY | cut -c1-7` should show sk-ant-; AWS/Vertex have their own credentials).",
    },
    Step {
        section: 7,
        step: 2,
        text: "Test the key directly against the provider (curl with x-api-key and anthropic-version headers): it must not return 401.",
    },
    Step {
        section: 7,
        step: 3,
        text: "In the gateway config, read keys from the environment (api_key: os.environ/ANTHROPIC_API_KEY in the model's litellm_params), not $VAR or a hard-coded key.",
    },
    Step {
        section: 7,
        step: 4,
        text: "If the key is expired or revoked, create a new one in the provider's console.",
    },
];

/// The catalog's entry for a finding kind. Exhaustive: a new [`FindingKind`] does
/// not build until it has its entry here.
pub fn entry(kind: FindingKind) -> Entry {
    use FindingKind as K;
    match kind {
        K::ProxyConnectionRefused => Entry {
            section: Some(1),
            steps: &[(1, 1), (1, 2), (1, 4)],
            about: "A RST answered the SYN to the proxy: nothing listens there (proxy down, wrong port).",
        },
        K::ProxyConnectionFiltered => Entry {
            section: Some(1),
            steps: &[(1, 3), (1, 1), (1, 4), (1, 2)],
            about: "SYNs to the proxy were never answered: a firewall drops them or the VPN is not connected.",
        },
        K::ProxyUnreachableIcmp => Entry {
            section: Some(1),
            steps: &[(1, 3), (1, 1), (1, 4)],
            about: "ICMP destination unreachable answered the connection to the proxy.",
        },
        K::ProxyNameNotResolved => Entry {
            section: Some(1),
            steps: &[(1, 3), (1, 2), (2, 2)],
            about: "DNS gave no address for the proxy's name (NXDOMAIN, SERVFAIL or no answer).",
        },
        K::ProxyAuthMissing => Entry {
            section: Some(2),
            steps: &[(2, 1), (2, 2), (2, 3)],
            about: "The proxy answered 407 and the client sent no credentials.",
        },
        K::ProxyAuthRejected => Entry {
            section: Some(2),
            steps: &[(2, 2), (2, 3), (2, 1), (2, 4)],
            about: "The proxy answered 407 to the credentials sent: wrong user/password or bad encoding.",
        },
        K::ProxyAuthSchemeMismatch => Entry {
            section: Some(2),
            steps: &[(2, 4), (2, 3)],
            about: "The proxy only offers NTLM/Negotiate/Kerberos; the client sends Basic or nothing.",
        },
        K::ProxyAuthNtlmFailed => Entry {
            section: Some(2),
            steps: &[(2, 3), (2, 4)],
            about: "An NTLM/Negotiate exchange with the proxy ended in 407.",
        },
        K::ProxyHelperAuthRejected => Entry {
            section: Some(2),
            steps: &[(0, 7), (2, 4)],
            about: "A local proxy helper (cntlm) got 407 from its parent proxy, or relayed it to the client: the parent rejected the helper's credentials, which live in the helper's configuration (cntlm.conf), not in the client's proxy URL.",
        },
        K::ProxyAuthChallenge => Entry {
            section: Some(2),
            steps: &[],
            about: "A single 407 followed by a successful retry: normal proxy authentication.",
        },
        K::TlsCertificateRejected => Entry {
            section: Some(3),
            steps: &[(3, 1), (3, 2), (3, 3), (3, 4), (3, 5)],
            about: "The client refused the server's certificate: a fatal certificate alert right after it, or a close without any request right after a completed handshake (Node checks the certificate only then).",
        },
        K::TlsHandshakeAbandoned => Entry {
            section: Some(3),
            steps: &[(3, 1), (3, 2), (3, 3), (3, 4), (3, 5)],
            about: "TLS 1.3: the client gave up after the server's first flight (certificate refused).",
        },
        K::TlsHandshakeRefused => Entry {
            section: Some(3),
            steps: &[(3, 6)],
            about: "The server side ended the TLS handshake right after the ClientHello (protocol_version, handshake_failure): no version or cipher in common.",
        },
        K::TlsInspectionDetected => Entry {
            section: Some(3),
            steps: &[(3, 1), (3, 3), (3, 4)],
            about: "A public host's certificate was issued by an inspection product or corporate CA.",
        },
        K::TlsInspectionManyHosts => Entry {
            section: Some(3),
            steps: &[(3, 1), (3, 2), (3, 3), (3, 4)],
            about: "Certificates for many public hosts were all issued by one private CA: SSL inspection.",
        },
        K::GatewayNotListening => Entry {
            section: Some(4),
            steps: &[(4, 1), (4, 2), (4, 3), (4, 4)],
            about: "Connections to the local gateway port were refused or never answered.",
        },
        K::GatewayUnhealthy => Entry {
            section: Some(4),
            steps: &[(4, 3), (4, 4), (4, 1)],
            about: "The gateway answered its health check or requests with an error.",
        },
        K::RequestUnanswered => Entry {
            section: Some(5),
            steps: &[(5, 1), (5, 2), (5, 3)],
            about: "A CONNECT or HTTP request got no response.",
        },
        K::SlowResponse => Entry {
            section: Some(5),
            steps: &[(5, 1), (5, 2), (5, 3)],
            about: "A response (or the proxy's answer to CONNECT) took longer than --slow-ms to start.",
        },
        K::RateLimited => Entry {
            section: Some(5),
            steps: &[(5, 4), (5, 2)],
            about: "429 Too Many Requests, with its Retry-After.",
        },
        K::HighRetransmissions => Entry {
            section: Some(5),
            steps: &[(5, 1), (5, 2)],
            about: "Many TCP retransmissions: a lossy or congested path.",
        },
        K::PathMtuBlackHole => Entry {
            section: Some(5),
            steps: &[(0, 6), (5, 1)],
            about: "ICMP fragmentation needed / packet too big (with the MTU) came back for a connection's large packets and the sender kept sending them unchanged: a path MTU black hole; the requests stall until the client times out.",
        },
        K::NoProxyNotMatching => Entry {
            section: Some(6),
            steps: &[(6, 1), (6, 2), (6, 3), (6, 4)],
            about: "A local or internal host was requested through the proxy: NO_PROXY does not match.",
        },
        K::DirectConnectionFailed => Entry {
            section: Some(6),
            steps: &[(6, 1), (1, 2), (6, 3)],
            about: "A web connection made directly instead of through the proxy failed: the tool ignored the proxy variables (upper/lower case) or NO_PROXY listed the host.",
        },
        K::TlsToPlainProxy => Entry {
            section: Some(1),
            steps: &[(1, 2), (1, 1)],
            about: "TLS ClientHello sent straight to a plain HTTP proxy: the proxy URL says https:// where http:// is meant.",
        },
        K::ProxyErrorResponse => Entry {
            section: None,
            steps: &[(0, 1), (0, 2)],
            about: "The proxy answered a CONNECT or request with its own 403 (policy block).",
        },
        K::ProxyUpstreamFailed => Entry {
            section: Some(5),
            steps: &[(5, 1), (0, 13)],
            about: "The proxy answered a CONNECT or request with its own 500/502/503/504: it could not resolve or reach the destination (X-Squid-Error explained).",
        },
        K::ProxyResetAfterRequest => Entry {
            section: None,
            steps: &[(0, 1), (0, 2)],
            about: "The proxy answered a CONNECT or request with a TCP reset, or closed the connection at once without a response (silent policy block; a local helper whose parent failed it).",
        },
        K::ResetDuringTlsHandshake => Entry {
            section: None,
            steps: &[(0, 1), (0, 2)],
            about: "A reset from the proxy's side right after the ClientHello (SNI filtering, inspection failure).",
        },
        K::ProxyResetMidStream => Entry {
            section: None,
            steps: &[(0, 3), (5, 2)],
            about: "The proxy side reset an established connection (idle timeout, connection limit).",
        },
        K::ApiKeyRejected => Entry {
            section: Some(7),
            steps: &[(7, 1), (7, 2), (7, 3), (7, 4)],
            about: "401/403 from the gateway or provider.",
        },
        K::ListensOnOneFamily => Entry {
            section: None,
            steps: &[(0, 4)],
            about: "A refused connection the client made good at once on the same host's other address (happy eyeballs): the service listens on IPv4 or IPv6 only. Information, not a failure.",
        },
        K::CaptureSnaplenCut => Entry {
            section: None,
            steps: &[(0, 9)],
            about: "Packets were cut by the capture's snap length (tcpdump -s): what they held past the cut is unknown, and nothing is concluded from its absence.",
        },
        K::ConnectionRefused => Entry {
            section: None,
            steps: &[(0, 5)],
            about: "A server that is neither the proxy nor the gateway refused a connection (RST to the SYN): nothing listens there.",
        },
        K::ProxyUrlInvalid => Entry {
            section: Some(1),
            steps: &[(1, 2), (1, 1)],
            about: "A proxy variable (HTTPS_PROXY ...) does not parse as http://[user:password@]host:port, or names no port.",
        },
        K::ProxyCredentialsEncoding => Entry {
            section: Some(2),
            steps: &[(2, 2), (2, 1), (2, 3)],
            about: "The user or password in a proxy URL holds @ : / # ? & = + or space not percent-encoded, or is encoded twice.",
        },
        K::ProxyVariablesDisagree => Entry {
            section: Some(6),
            steps: &[(6, 1), (6, 3)],
            about: "Lower- and upper-case proxy variables (no_proxy / NO_PROXY ...) hold different values: each tool reads another one.",
        },
        K::CaFileUnusable => Entry {
            section: Some(3),
            steps: &[(3, 1), (3, 3), (3, 2)],
            about: "A CA file named by SSL_CERT_FILE, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE or NODE_EXTRA_CA_CERTS is missing, unreadable, not PEM or expired.",
        },
        K::TlsVerificationDisabled => Entry {
            section: Some(3),
            steps: &[(3, 5), (3, 1), (3, 3)],
            about: "Certificate verification is switched off (NODE_TLS_REJECT_UNAUTHORIZED=0, PYTHONHTTPSVERIFY=0): it hides SSL inspection and lets anyone intercept.",
        },
        K::ApiKeyMalformed => Entry {
            section: Some(7),
            steps: &[(7, 1), (7, 2), (7, 4)],
            about: "The API key does not have its provider's prefix (Anthropic: sk-ant-): wrong variable, wrong provider or a pasted fragment.",
        },
    }
}

/// An endpoint that refused connections yet was seen running, a case that calls
/// for other steps than its finding kind's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Running {
    /// It accepted other connections: it refuses some only.
    Intermittent,
    /// It accepted connections on the loopback address of the other family only.
    OtherFamilyOnly,
}

/// The steps for a finding of `kind` whose endpoint was seen running: a step for
/// the case first, and no "start it"; the kind's own steps where the case changes
/// nothing.
pub fn running_steps(kind: FindingKind, running: Running) -> &'static [(u8, u8)] {
    use FindingKind as K;
    match (kind, running) {
        (K::ProxyConnectionRefused, Running::Intermittent) => &[(0, 15), (1, 1), (1, 2), (1, 4)],
        (K::ProxyConnectionRefused, Running::OtherFamilyOnly) => &[(0, 16), (1, 1), (1, 2), (1, 4)],
        (K::GatewayNotListening, Running::Intermittent) => &[(0, 17), (4, 1), (4, 3), (4, 4)],
        (K::GatewayNotListening, Running::OtherFamilyOnly) => &[(0, 18), (4, 1), (4, 3), (4, 4)],
        _ => entry(kind).steps,
    }
}

/// The guide section a finding kind falls under, if any.
pub fn section(kind: FindingKind) -> Option<u8> {
    entry(kind).section
}

fn step(section: u8, n: u8) -> Option<&'static Step> {
    STEPS.iter().find(|s| s.section == section && s.step == n)
}

/// Fills `{name}` placeholders; `{proxy_host}` / `{proxy_port}` derive from `proxy`,
/// and `{proxy_url_host}` is the host as a URL writes it (`[::1]` for IPv6).
/// Unknown values stay as upper-case placeholders (`PROXY_HOST`).
pub fn fill(text: &str, vars: &[(&str, String)]) -> String {
    let get = |k: &str| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone());
    let proxy = get("proxy");
    let (ph, pp) = match proxy.as_deref().and_then(|p| p.rsplit_once(':')) {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => (
            Some(h.trim_matches(['[', ']']).to_string()),
            Some(p.to_string()),
        ),
        _ => (proxy.clone(), None),
    };
    let url_host = ph.as_deref().map(|h| {
        if h.contains(':') {
            format!("[{h}]")
        } else {
            h.to_string()
        }
    });
    let mut out = text.to_string();
    for name in [
        "proxy_url_host",
        "proxy_host",
        "proxy_port",
        "proxy",
        "user_url",
        "user",
        "schemes",
        "issuer",
        "host",
        "gateway",
        "port",
        "endpoint",
        "answered",
        "alert",
        "offered",
        "mtu",
        "payload",
        "parent",
        "helper",
    ] {
        let val = match name {
            "proxy_url_host" => url_host.clone(),
            "proxy_host" => ph.clone(),
            "proxy_port" => pp.clone(),
            "user_url" => get("user").map(|u| url_encode_user(&u)),
            _ => get(name).filter(|v| !v.is_empty()),
        }
        .unwrap_or_else(|| match name {
            "proxy_url_host" => "PROXY_HOST".to_string(),
            _ => name.trim_end_matches("_url").to_ascii_uppercase(),
        });
        out = out.replace(&format!("{{{name}}}"), &val);
    }
    out
}

/// A user name as it must appear in a proxy URL: reserved characters percent-encoded
/// (`CORP\\alice` → `CORP%5Calice`), unless it already holds `%XX` sequences.
pub fn url_encode_user(u: &str) -> String {
    let b = u.as_bytes();
    let encoded = b
        .windows(3)
        .any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit());
    if encoded {
        return u.to_string();
    }
    let mut out = String::new();
    for &c in b {
        if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~') {
            out.push(c as char);
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

/// The remedy steps of a finding kind, filled with what was seen.
pub fn remedy(kind: FindingKind, vars: &[(&str, String)]) -> Vec<String> {
    steps(entry(kind).steps, vars)
}

/// These steps (guide section, step), filled with what was seen, for a finding whose
/// case calls for other steps than its kind's.
pub fn steps(list: &[(u8, u8)], vars: &[(&str, String)]) -> Vec<String> {
    list.iter()
        .filter_map(|&(s, n)| {
            step(s, n).map(|st| {
                let text = fill(st.text, vars);
                if s == 0 {
                    format!("(beyond the guide) {text}")
                } else {
                    format!("§{s}.{n}: {text}")
                }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_step_exists() {
        for &k in FindingKind::ALL {
            let e = entry(k);
            assert!(
                k == FindingKind::ProxyAuthChallenge || !e.steps.is_empty(),
                "{k}"
            );
            for &(s, n) in e.steps {
                assert!(step(s, n).is_some(), "{k} names missing step {s}.{n}");
            }
            if let Some(n) = e.section {
                assert!(SECTION_TITLES.iter().any(|(t, _)| *t == n), "{k}: §{n}");
            }
        }
    }

    #[test]
    fn every_running_step_exists() {
        for &k in FindingKind::ALL {
            for r in [Running::Intermittent, Running::OtherFamilyOnly] {
                for &(s, n) in running_steps(k, r) {
                    assert!(step(s, n).is_some(), "{k} {r:?} names missing step {s}.{n}");
                }
            }
        }
    }

    #[test]
    fn fills_proxy_host_and_port() {
        let r = remedy(
            FindingKind::ProxyConnectionRefused,
            &[("proxy", "10.0.0.1:3127".to_string())],
        );
        assert!(r[0].contains("nc -zv 10.0.0.1 3127"), "{}", r[0]);
    }

    #[test]
    fn an_ipv6_proxy_is_bracketed_in_its_url() {
        let r = remedy(
            FindingKind::ProxyConnectionRefused,
            &[("proxy", "[::1]:3128".to_string())],
        );
        assert!(r[0].contains("nc -zv ::1 3128"), "{}", r[0]);
        assert!(r[1].contains("http://[::1]:3128 "), "{}", r[1]);
        let r = remedy(FindingKind::ProxyConnectionRefused, &[]);
        assert!(r[1].contains("http://PROXY_HOST:PROXY_PORT "), "{}", r[1]);
    }

    #[test]
    fn user_is_url_encoded_in_the_proxy_url() {
        let r = remedy(
            FindingKind::ProxyAuthMissing,
            &[("user", "CORP\\alice".to_string())],
        );
        assert!(r[0].contains("http://CORP%5Calice:PASSWORD@"), "{}", r[0]);
        assert_eq!(url_encode_user("bob%40x"), "bob%40x");
        assert!(remedy(FindingKind::ProxyAuthMissing, &[])[0].contains("http://USER:PASSWORD@"));
    }

    #[test]
    fn missing_values_stay_placeholders() {
        assert_eq!(fill("{user}@{proxy}", &[]), "USER@PROXY");
    }
}
