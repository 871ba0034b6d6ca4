//! Handshake: what the hellos, certificates, alerts and record types of a connection
//! say, as [`TlsFacts`], and how the handshake ended.

use super::TlsDecoder;
use super::fingerprint::{HelloFingerprint, is_grease};
use super::record::{CT_ALERT, CT_APP_DATA, CT_CCS, CT_HANDSHAKE, be16, be24};
use super::stored;
use crate::model::{Dir, FrameNo, Timestamp};
use crate::protocols::DecodeCtx;
use crate::protocols::x509::CertInfo;
use std::sync::Arc;
use tls_parser::{
    SNIType, TlsAlertDescription, TlsAlertSeverity, TlsCipherSuiteID, TlsExtension, TlsVersion,
    parse_tls_extension_alpn_content, parse_tls_extension_ec_point_formats_content,
    parse_tls_extension_signature_algorithms_content, parse_tls_extension_sni_content,
    parse_tls_extension_unknown,
};

pub(super) const MAX_CERTS: usize = 16;
const MAX_ALERTS: usize = 32;

/// ServerHello.random of a HelloRetryRequest (RFC 8446 4.1.3).
pub(super) const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// A TLS 1.3 version, final or draft: the handshake is encrypted after ServerHello.
fn is_tls13(v: u16) -> bool {
    matches!(v, 0x0304 | 0x7f0e..=0x7f1c | 0xfb17 | 0xfb1a)
}

/// What JA3S and the facts need of a ServerHello.
struct ServerHelloFields<'a> {
    version: u16,
    random: [u8; 32],
    cipher: u16,
    /// The extensions block (without its length), when present.
    ext: Option<&'a [u8]>,
}

/// What key setup needs of a ServerHello, as the handshake decoder read it.
#[derive(Clone, Copy, Debug)]
pub(super) struct ServerParams {
    /// The negotiated version: `supported_versions` when present, else the hello's.
    pub(super) version: u16,
    pub(super) cipher: u16,
    pub(super) random: [u8; 32],
}

/// Reads a ServerHello body. TLS 1.3 drafts up to 21 (0x7f0e..=0x7f15) have no
/// session id and no compression method; every other version has the TLS layout,
/// SSLv3 included: extensions may follow its compression method (RFC 6101 5.6.1.3
/// allows extra data there, and SSLv3 servers send renegotiation_info in it), and
/// they count in JA3S as tshark counts them.
fn parse_server_hello(msg: &[u8]) -> Option<ServerHelloFields<'_>> {
    let version = be16(msg, 0)?;
    let random = msg.get(2..34)?.try_into().ok()?;
    let (cipher, ext_at) = if (0x7f0e..=0x7f15).contains(&version) {
        (be16(msg, 34)?, 36)
    } else {
        let sid = usize::from(*msg.get(34)?);
        if sid > 32 {
            return None;
        }
        let cipher = be16(msg, 35 + sid)?;
        msg.get(37 + sid)?; // compression method
        (cipher, 38 + sid)
    };
    // Like tls-parser: an extensions block cut short counts as none.
    let ext = be16(msg, ext_at).and_then(|n| msg.get(ext_at + 2..ext_at + 2 + usize::from(n)));
    Some(ServerHelloFields {
        version,
        random,
        cipher,
        ext,
    })
}

/// Handshake message name and its Zeek `ssl_history` letter (upper case form).
pub(super) fn handshake_name(t: u8) -> (&'static str, char) {
    match t {
        0 => ("hello_request", 'H'),
        1 => ("client_hello", 'C'),
        2 => ("server_hello", 'S'),
        3 => ("hello_verify_request", 'V'),
        4 => ("new_session_ticket", 'T'),
        5 => ("end_of_early_data", 'E'),
        8 => ("encrypted_extensions", 'O'),
        11 => ("certificate", 'X'),
        12 => ("server_key_exchange", 'K'),
        13 => ("certificate_request", 'R'),
        14 => ("server_hello_done", 'N'),
        15 => ("certificate_verify", 'Y'),
        16 => ("client_key_exchange", 'G'),
        20 => ("finished", 'F'),
        21 => ("certificate_url", 'W'),
        22 => ("certificate_status", 'U'),
        23 => ("supplemental_data", 'A'),
        24 => ("key_update", 'P'),
        254 => ("message_hash", 'M'),
        _ => ("unassigned_handshake_type", 'Z'),
    }
}

/// A TLS alert seen on the connection.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TlsAlert {
    /// Who sent it.
    pub from: Dir,
    /// Absent when the alert was encrypted.
    #[serde(with = "stored::opt")]
    pub level: Option<TlsAlertSeverity>,
    /// Absent when the alert was encrypted.
    #[serde(with = "stored::opt")]
    pub description: Option<TlsAlertDescription>,
    /// Sent after the sender's ChangeCipherSpec: content unreadable.
    pub encrypted: bool,
    pub frame: FrameNo,
    /// The last handshake message seen (either side) before the alert.
    #[serde(deserialize_with = "stored::after")]
    pub after: Option<crate::protocols::stored::Name>,
}

/// How the handshake ended, as far as the TLS bytes tell.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum HandshakeOutcome {
    /// Both sides moved on to encrypted traffic (see `established`).
    Established,
    /// The client sent a plaintext fatal alert.
    ClientAlert,
    /// The server sent a plaintext fatal alert.
    ServerAlert,
    /// TLS 1.3: the client's first encrypted record after the server's flight has
    /// the size of an alert (19 bytes), not of a Finished: it most likely refused
    /// the certificate.
    ClientEncryptedAlert,
    /// The server's flight was seen but the client sent nothing more in TLS.
    ClientSilentAfterServerFlight,
    /// ClientHello seen, no ServerHello.
    NoServerHello,
    /// Picked up mid-handshake (no ClientHello).
    NoClientHello,
    /// None of the above (e.g. capture ends mid-handshake).
    #[default]
    Incomplete,
}

/// Facts of one TLS connection.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct TlsFacts {
    /// Negotiated version, from supported_versions when present.
    #[serde(with = "stored::opt")]
    pub version: Option<TlsVersion>,
    /// ClientHello legacy_version.
    #[serde(with = "stored::opt")]
    pub client_version: Option<TlsVersion>,
    /// supported_versions offered by the client (GREASE left out).
    #[serde(with = "stored::list")]
    pub supported_versions: Vec<TlsVersion>,
    #[serde(with = "crate::protocols::stored::opt_text")]
    pub sni: Option<Arc<str>>,
    /// ALPN protocols offered by the client.
    #[serde(with = "crate::protocols::stored::text_list")]
    pub alpn: Vec<Arc<str>>,
    /// ALPN protocol chosen by the server.
    #[serde(with = "crate::protocols::stored::opt_text")]
    pub server_alpn: Option<Arc<str>>,
    /// Cipher suites offered, in order (GREASE included, as sent); JSON: 4-digit hex.
    /// Kept as numbers: a browser offers dozens, and every finished flow keeps them.
    #[serde(with = "crate::protocols::stored::u16s")]
    pub cipher_suites: Arc<[u16]>,
    /// Extension types offered, in order; JSON: 4-digit hex.
    #[serde(with = "crate::protocols::stored::u16s")]
    pub extensions: Arc<[u16]>,
    /// Negotiated cipher suite.
    #[serde(with = "stored::opt")]
    pub cipher: Option<TlsCipherSuiteID>,
    #[serde(with = "crate::protocols::stored::opt_text")]
    pub ja4: Option<Arc<str>>,
    /// JA4 before hashing (`t13d1516h2_002f,..._0005,...`).
    #[serde(with = "crate::protocols::stored::opt_text")]
    pub ja4_r: Option<Arc<str>>,
    #[serde(with = "crate::protocols::stored::opt_text")]
    pub ja3: Option<Arc<str>>,
    #[serde(with = "crate::protocols::stored::opt_text")]
    pub ja3s: Option<Arc<str>>,
    pub hello_retry_request: bool,
    pub client_hello_frame: Option<FrameNo>,
    pub server_hello_frame: Option<FrameNo>,
    pub certificate_frame: Option<FrameNo>,
    /// When the record completing the ClientHello / ServerHello arrived (latency).
    pub client_hello_ts: Option<Timestamp>,
    pub server_hello_ts: Option<Timestamp>,
    /// Server chain, leaf first (TLS 1.3 encrypts it: there only when decrypted). The
    /// flow store keeps certificates in a table of its own and writes their ids.
    #[serde(with = "crate::protocols::stored::certs")]
    pub certificates: Vec<CertInfo>,
    #[serde(with = "crate::protocols::stored::certs")]
    pub client_certificates: Vec<CertInfo>,
    pub alerts: Vec<TlsAlert>,
    /// Zeek `ssl_history`: client letters upper case, server lower case.
    pub history: String,
    /// Zeek's meaning: the handshake completed.
    pub established: bool,
    pub outcome: HandshakeOutcome,
    /// Size of the client's first encrypted record after the server's TLS 1.3 flight.
    pub client_first_encrypted_len: Option<u16>,
    /// After the handshake, the client's last application-data record (alerts left
    /// out): frame and arrival.
    pub client_last_app_frame: Option<FrameNo>,
    pub client_last_app_ts: Option<Timestamp>,
    /// After the handshake, the server's last application-data record (alerts and
    /// TLS 1.3 session tickets left out): frame and arrival.
    pub server_last_app_frame: Option<FrameNo>,
    pub server_last_app_ts: Option<Timestamp>,
    /// Whether key logs decrypted the connection (only when key logs were given).
    pub decryption: Option<super::TlsDecryption>,
}

/// (type, data) of each extension in an extensions block, at most 256.
///
/// Walked with tls-parser's `parse_tls_extension_unknown`, which reads an extension's
/// type and length only. Its list parsers (`parse_tls_client_hello_extensions`,
/// `parse_tls_server_hello_extensions`, `parse_tls_extensions`) read each extension's
/// content as well and stop at the first one they reject (an SNI list longer than its
/// extension, a non-empty extended_master_secret, a supported_groups list of odd
/// length...), dropping it and every extension after it: the extension list, JA3 and
/// JA4 of such a hello would no longer be what was sent. The contents are read one by
/// one instead, each on its own.
pub(super) fn extensions(mut b: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    while out.len() < 256 {
        let Ok((rest, TlsExtension::Unknown(t, data))) = parse_tls_extension_unknown(b) else {
            break;
        };
        out.push((t.0, data));
        b = rest;
    }
    out
}

/// A list of u16 behind a length prefix of `len_bytes` (1 or 2) bytes; an odd last
/// byte is left out.
///
/// Read by hand for supported_groups and the ClientHello's supported_versions, where
/// tls-parser reads malformed lists differently: it rejects a supported_groups list of
/// odd length (whose whole pairs we keep, and JA3 shows), and its supported_versions
/// parser (not public) reads a 2-byte extension as one version and ignores the
/// list's own length byte.
fn u16_list(b: &[u8], len_bytes: usize) -> Vec<u16> {
    let len = match len_bytes {
        1 => b.first().map(|&n| usize::from(n)),
        _ => be16(b, 0).map(usize::from),
    };
    let Some(body) = len.and_then(|l| b.get(len_bytes..len_bytes + l)) else {
        return Vec::new();
    };
    body.chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect()
}

/// ALPN protocol names (RFC 7301 3.1), up to the first that overruns the list.
pub(super) fn alpn_list(data: &[u8]) -> Vec<&[u8]> {
    match parse_tls_extension_alpn_content(data) {
        Ok((_, TlsExtension::ALPN(names))) => names,
        _ => Vec::new(),
    }
}

/// The first host_name of a server_name extension (RFC 6066 3).
fn sni_name(data: &[u8]) -> Option<String> {
    let Ok((_, TlsExtension::SNI(names))) = parse_tls_extension_sni_content(data) else {
        return None;
    };
    names
        .iter()
        .find(|(t, _)| *t == SNIType::HostName)
        .map(|(_, name)| String::from_utf8_lossy(name).into_owned())
}

/// signature_algorithms (RFC 8446 4.2.3), as JA4 lists them.
fn signature_algorithms(data: &[u8]) -> Vec<u16> {
    match parse_tls_extension_signature_algorithms_content(data) {
        Ok((_, TlsExtension::SignatureAlgorithms(algs))) => algs,
        _ => Vec::new(),
    }
}

/// ec_point_formats (RFC 8422 5.1.2), as JA3 lists them.
fn point_formats(data: &[u8]) -> &[u8] {
    match parse_tls_extension_ec_point_formats_content(data) {
        Ok((_, TlsExtension::EcPointFormats(formats))) => formats,
        _ => &[],
    }
}

impl TlsDecoder {
    pub(super) fn history(&mut self, dir: Dir, letter: char) {
        if self.facts.history.len() < 128 {
            self.facts.history.push(match dir {
                Dir::ToServer => letter.to_ascii_uppercase(),
                Dir::ToClient => letter.to_ascii_lowercase(),
            });
        }
    }

    pub(super) fn on_record(
        &mut self,
        cx: &mut DecodeCtx,
        dir: Dir,
        ct: u8,
        body: &[u8],
        frame: FrameNo,
    ) {
        if self.facts.established {
            // Past the handshake: the header walk's business too.
            let len = u16::try_from(body.len()).unwrap_or(u16::MAX);
            let ts = self.record_ts.unwrap_or_default();
            self.walk.record(dir, self.tls13, ct, len, (frame, ts));
        }
        let encrypted = self.sides.get(dir.index()).is_some_and(|s| s.encrypted);
        if dir == Dir::ToServer && self.server_flight_done && ct != CT_CCS {
            self.client_after_flight = true;
        }
        match ct {
            CT_CCS => {
                self.history(dir, 'I');
                if let Some(side) = self.sides.get_mut(dir.index()) {
                    side.ccs = true;
                    side.encrypted = true;
                }
                if dir == Dir::ToClient && !self.tls13 && self.seen_server_hello {
                    // Resumption: the server's CCS ends its flight.
                    self.server_flight_done = true;
                }
                self.last_msg = Some("change_cipher_spec");
                self.check_established();
            }
            CT_ALERT => self.on_alert(dir, body, frame, encrypted),
            CT_HANDSHAKE if encrypted => self.on_encrypted(dir, body.len()),
            CT_HANDSHAKE => self.on_handshake_bytes(cx, dir, body, frame),
            CT_APP_DATA => {
                self.app_data_after_cut(dir);
                self.on_encrypted(dir, body.len());
            }
            _ => {}
        }
        self.crypt_record(cx, dir, ct, body, frame);
    }

    pub(super) fn on_encrypted(&mut self, dir: Dir, len: usize) {
        if let Some(side) = self.sides.get_mut(dir.index()) {
            side.encrypted_records = side.encrypted_records.saturating_add(1);
        }
        if !self.tls13 {
            self.check_established();
            return;
        }
        match dir {
            Dir::ToClient => self.server_flight_done = true,
            Dir::ToServer => {
                if self.server_flight_done && self.facts.client_first_encrypted_len.is_none() {
                    self.facts.client_first_encrypted_len =
                        Some(u16::try_from(len).unwrap_or(u16::MAX));
                    // 2-byte alert + content type + 16-byte AEAD tag: an encrypted alert.
                    if len != 19 {
                        self.facts.established = true;
                    }
                }
            }
        }
    }

    fn check_established(&mut self) {
        if self.tls13 || self.fatal_alert {
            return;
        }
        let [c, s] = &self.sides;
        // TLS ≤ 1.2: both sides switched to the negotiated keys and sent Finished.
        if c.ccs && s.ccs && c.encrypted_records > 0 && s.encrypted_records > 0 {
            self.facts.established = true;
        }
    }

    pub(super) fn on_alert(&mut self, dir: Dir, body: &[u8], frame: FrameNo, encrypted: bool) {
        if self.facts.alerts.len() >= MAX_ALERTS {
            return;
        }
        if encrypted || body.len() != 2 {
            self.facts.alerts.push(TlsAlert {
                from: dir,
                level: None,
                description: None,
                encrypted: true,
                frame,
                after: self.last_msg,
            });
            return;
        }
        let (level, code) = (
            body.first().copied().unwrap_or(0),
            body.get(1).copied().unwrap_or(0),
        );
        if level == 2 {
            self.fatal_alert = true;
        }
        self.history(dir, 'L');
        self.facts.alerts.push(TlsAlert {
            from: dir,
            level: Some(TlsAlertSeverity(level)),
            description: Some(TlsAlertDescription(code)),
            encrypted: false,
            frame,
            after: self.last_msg,
        });
    }

    pub(super) fn on_handshake(
        &mut self,
        cx: &mut DecodeCtx,
        dir: Dir,
        t: u8,
        msg: &[u8],
        frame: FrameNo,
    ) {
        let (mut name, letter) = handshake_name(t);
        let mut server = None;
        match (t, dir) {
            (1, Dir::ToServer) => self.on_client_hello(cx, msg, frame),
            (2, Dir::ToClient) => {
                if msg.get(2..34) == Some(HRR_RANDOM.as_slice()) {
                    self.facts.hello_retry_request = true;
                    self.history(dir, 'J');
                    self.last_msg = Some("hello_retry_request");
                    return;
                }
                server = self.on_server_hello(cx, msg, frame);
            }
            (11, _) => self.on_certificate(cx, dir, msg, frame),
            (14, Dir::ToClient) => self.server_flight_done = true,
            _ => {}
        }
        if t == 2 && self.tls13 && dir == Dir::ToClient {
            // TLS 1.3: everything after ServerHello from the server is encrypted.
            if let Some(side) = self.sides.get_mut(1) {
                side.encrypted = true;
            }
        }
        if t == 2 && dir == Dir::ToServer {
            name = "server_hello";
        }
        self.history(dir, letter);
        self.last_msg = Some(name);
        self.crypt_handshake(cx, dir, t, msg, server);
    }

    fn on_client_hello(&mut self, cx: &mut DecodeCtx, msg: &[u8], frame: FrameNo) {
        if self.seen_client_hello {
            return; // second ClientHello (after HRR): keep the first's fingerprint
        }
        self.seen_client_hello = true;
        self.facts.client_hello_frame = Some(frame);
        self.facts.client_hello_ts = self.record_ts;
        let ch = match tls_parser::parse_tls_handshake_client_hello(msg) {
            Ok((_, ch)) => ch,
            Err(e) => {
                self.notes.push(format!(
                    "tls: malformed client_hello at frame {frame}: {e:?}"
                ));
                return;
            }
        };
        let legacy = ch.version.0;
        let ciphers: Vec<u16> = ch.ciphers.iter().map(|c| c.0).collect();
        let exts = ch.ext.map(extensions).unwrap_or_default();
        let mut supported = Vec::new();
        let mut sig_algs = Vec::new();
        let mut groups = Vec::new();
        let mut formats: &[u8] = &[];
        let mut alpn = Vec::new();
        let mut sni = None;
        for (t, data) in &exts {
            match t {
                0x0000 => sni = sni_name(data),
                0x0010 => alpn = alpn_list(data),
                0x002b => supported = u16_list(data, 1),
                0x000d => sig_algs = signature_algorithms(data),
                0x000a => groups = u16_list(data, 2),
                0x000b => formats = point_formats(data),
                _ => {}
            }
        }
        let ext_ids: Vec<u16> = exts.iter().map(|(t, _)| *t).collect();
        let fp = HelloFingerprint {
            legacy_version: legacy,
            ciphers: &ciphers,
            exts: &ext_ids,
            supported_versions: &supported,
            has_sni: ext_ids.contains(&0x0000),
            first_alpn: alpn.first().copied(),
            sig_algs: &sig_algs,
            groups: &groups,
            point_formats: formats,
        };
        let prints = cx.fingerprints.client(&fp, &mut cx.intern);
        let f = &mut self.facts;
        f.ja4 = Some(prints.ja4);
        f.ja4_r = Some(prints.ja4_r);
        f.ja3 = Some(prints.ja3);
        f.client_version = Some(TlsVersion(legacy));
        f.supported_versions = supported
            .iter()
            .filter(|v| !is_grease(**v))
            .map(|v| TlsVersion(*v))
            .collect();
        f.sni = sni
            .as_deref()
            .map(|s| cx.intern.text(&crate::protocols::secrets::mask_name(s)));
        f.alpn = alpn
            .iter()
            .map(|p| cx.intern.text(&String::from_utf8_lossy(p)))
            .collect();
        f.cipher_suites = cx.intern.u16s(&ciphers);
        f.extensions = cx.intern.u16s(&ext_ids);
    }

    /// Reads the first ServerHello into the facts; returns what key setup needs of it.
    fn on_server_hello(
        &mut self,
        cx: &mut DecodeCtx,
        msg: &[u8],
        frame: FrameNo,
    ) -> Option<ServerParams> {
        if self.seen_server_hello {
            return None;
        }
        self.seen_server_hello = true;
        self.facts.server_hello_frame = Some(frame);
        self.facts.server_hello_ts = self.record_ts;
        let Some(sh) = parse_server_hello(msg) else {
            self.notes
                .push(format!("tls: malformed server_hello at frame {frame}"));
            return None;
        };
        let exts = sh.ext.map(extensions).unwrap_or_default();
        let mut version = sh.version;
        for (t, data) in &exts {
            match t {
                0x002b => {
                    // selected_version (RFC 8446 4.2.1), read by hand: tls-parser's
                    // parser of it is not public, and reads a value longer than two
                    // bytes as a ClientHello's list, where we take its first two.
                    if let Some(v) = be16(data, 0) {
                        version = v;
                    }
                }
                0x0010 => {
                    self.facts.server_alpn = alpn_list(data)
                        .first()
                        .map(|p| cx.intern.text(&String::from_utf8_lossy(p)))
                }
                _ => {}
            }
        }
        self.tls13 = is_tls13(version);
        let cipher = sh.cipher;
        self.facts.version = Some(TlsVersion(version));
        self.facts.cipher = Some(TlsCipherSuiteID(cipher));
        let ext_ids: Vec<u16> = exts.iter().map(|(t, _)| *t).collect();
        self.facts.ja3s =
            Some(
                cx.fingerprints
                    .server(sh.version, cipher, &ext_ids, &mut cx.intern),
            );
        Some(ServerParams {
            version,
            cipher,
            random: sh.random,
        })
    }

    fn on_certificate(&mut self, cx: &mut DecodeCtx, dir: Dir, msg: &[u8], frame: FrameNo) {
        if self.tls13 {
            // TLS 1.3 certificates are encrypted; a plaintext one is bogus.
            if self.crypt.is_some() {
                self.on_certificate13(cx, dir, msg, frame);
            }
            return;
        }
        let Some(total) = be24(msg, 0) else {
            self.notes.push(format!(
                "tls: truncated certificate message at frame {frame}"
            ));
            return;
        };
        let mut list = msg
            .get(3..3 + total)
            .unwrap_or_else(|| msg.get(3..).unwrap_or_default());
        let mut certs = Vec::new();
        while let Some(len) = be24(list, 0) {
            let Some(der) = list.get(3..3 + len) else {
                self.notes.push(format!(
                    "tls: certificate entry overruns its message at frame {frame}"
                ));
                break;
            };
            if certs.len() < MAX_CERTS {
                match cx.certs.parse(der) {
                    Ok(c) => certs.push(c),
                    Err(e) => self.notes.push(format!("tls: frame {frame}: {e}")),
                }
            }
            list = list.get(3 + len..).unwrap_or_default();
        }
        match dir {
            Dir::ToClient => {
                self.facts.certificate_frame = Some(frame);
                self.facts.certificates = certs;
            }
            Dir::ToServer => self.facts.client_certificates = certs,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::protocols::tls::fingerprint::ja3s;
    use crate::protocols::tls::tests::{
        client_hello, client_hello_with, ext, hs, record, run, server_hello,
    };
    use md5::{Digest, Md5};

    #[test]
    fn client_hello_fields_and_fingerprints() {
        let (f, notes) = run(&[(Dir::ToServer, client_hello())]);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(f.sni.as_deref(), Some("example.com"));
        assert_eq!(f.alpn.iter().map(|a| &**a).collect::<Vec<_>>(), vec!["h2"]);
        assert_eq!(f.supported_versions, [TlsVersion::Tls13, TlsVersion::Tls12]);
        assert_eq!(f.client_version, Some(TlsVersion::Tls12));
        // 3 ciphers and 6 extensions once GREASE is left out.
        assert!(
            f.ja4.as_deref().unwrap().starts_with("t13d0306h2_"),
            "{:?}",
            f.ja4
        );
        assert_eq!(
            f.ja4_r.as_deref(),
            Some("t13d0306h2_1301,1302,c02f_000a,000b,000d,002b_0403,0804")
        );
        assert_eq!(f.ja3.as_deref().map(str::len), Some(32));
        assert_eq!(f.history, "C");
        assert_eq!(f.outcome, HandshakeOutcome::NoServerHello);
    }

    #[test]
    fn alert_after_certificate_tls12() {
        let mut flight = record(CT_HANDSHAKE, &server_hello(false, [1; 32]));
        // Certificate message with one garbage "certificate".
        let mut certs = vec![0, 0, 7, 0, 0, 4];
        certs.extend(b"junk");
        flight.extend(record(CT_HANDSHAKE, &hs(11, &certs)));
        flight.extend(record(CT_HANDSHAKE, &hs(14, &[])));
        let (f, notes) = run(&[
            (Dir::ToServer, client_hello()),
            (Dir::ToClient, flight),
            (Dir::ToServer, record(CT_ALERT, &[2, 48])),
        ]);
        assert_eq!(f.version, Some(TlsVersion::Tls12));
        assert_eq!(f.cipher, Some(TlsCipherSuiteID(0xc02f)));
        assert_eq!(f.history, "CsxnL");
        let a = &f.alerts[0];
        assert_eq!(
            (a.from, a.level, a.description, a.frame, a.after),
            (
                Dir::ToServer,
                Some(TlsAlertSeverity::Fatal),
                Some(TlsAlertDescription::UnknownCa),
                FrameNo(3),
                Some("server_hello_done")
            )
        );
        assert!(!f.established);
        assert_eq!(f.outcome, HandshakeOutcome::ClientAlert);
        assert!(
            notes.iter().any(|n| n.contains("bad certificate")),
            "{notes:?}"
        );
    }

    #[test]
    fn server_alert_handshake_failure() {
        let (f, _) = run(&[
            (Dir::ToServer, client_hello()),
            (Dir::ToClient, record(CT_ALERT, &[2, 40])),
        ]);
        assert_eq!(f.history, "Cl");
        assert_eq!(f.alerts[0].after, Some("client_hello"));
        assert_eq!(f.outcome, HandshakeOutcome::ServerAlert);
    }

    fn tls13_server_flight() -> Vec<u8> {
        let mut b = record(CT_HANDSHAKE, &server_hello(true, [2; 32]));
        b.extend(record(CT_CCS, &[1]));
        b.extend(record(CT_APP_DATA, &[0x55; 2000]));
        b
    }

    #[test]
    fn tls13_completed() {
        let mut client = record(CT_CCS, &[1]);
        client.extend(record(CT_APP_DATA, &[0x66; 53]));
        let (f, _) = run(&[
            (Dir::ToServer, client_hello()),
            (Dir::ToClient, tls13_server_flight()),
            (Dir::ToServer, client),
        ]);
        assert_eq!(f.version, Some(TlsVersion::Tls13));
        assert_eq!(f.history, "CsiI");
        assert!(f.established);
        assert_eq!(f.outcome, HandshakeOutcome::Established);
    }

    #[test]
    fn tls13_client_encrypted_alert() {
        let mut client = record(CT_CCS, &[1]);
        client.extend(record(CT_APP_DATA, &[0x66; 19]));
        let (f, _) = run(&[
            (Dir::ToServer, client_hello()),
            (Dir::ToClient, tls13_server_flight()),
            (Dir::ToServer, client),
        ]);
        assert!(!f.established);
        assert_eq!(f.outcome, HandshakeOutcome::ClientEncryptedAlert);
    }

    #[test]
    fn tls13_client_silent() {
        let (f, _) = run(&[
            (Dir::ToServer, client_hello()),
            (Dir::ToClient, tls13_server_flight()),
        ]);
        assert_eq!(f.outcome, HandshakeOutcome::ClientSilentAfterServerFlight);
    }

    #[test]
    fn sslv3_server_hello_extensions_count_in_ja3s() {
        let mut b = vec![3, 0];
        b.extend([5; 32]);
        b.extend([0, 0x00, 0x2f, 0]);
        let exts = [ext(0xff01, &[0]), ext(0x0023, &[])].concat();
        b.extend((exts.len() as u16).to_be_bytes());
        b.extend(exts);
        let (f, _) = run(&[
            (Dir::ToServer, client_hello()),
            (Dir::ToClient, record(CT_HANDSHAKE, &hs(2, &b))),
        ]);
        assert_eq!(
            f.version
                .map(crate::protocols::tls::version_name)
                .as_deref(),
            Some("SSLv3")
        );
        assert_eq!(
            f.ja3s.as_deref(),
            Some(ja3s(768, 47, &[65281, 35]).as_str())
        );
    }

    #[test]
    fn tls13_draft_server_hellos() {
        // Draft 18: version 0x7f12, no session id, no compression method.
        let mut b = vec![0x7f, 0x12];
        b.extend([5; 32]);
        b.extend([0x13, 0x01]);
        let exts = ext(0x0033, &[0, 0x1d, 0, 1, 9]);
        b.extend((exts.len() as u16).to_be_bytes());
        b.extend(&exts);
        let (f, notes) = run(&[
            (Dir::ToServer, client_hello()),
            (Dir::ToClient, record(CT_HANDSHAKE, &hs(2, &b))),
            (Dir::ToClient, record(CT_HANDSHAKE, &[1; 40])),
        ]);
        assert_eq!(
            f.version
                .map(crate::protocols::tls::version_name)
                .as_deref(),
            Some("TLSv1.3 (draft 18)")
        );
        assert_eq!(
            f.cipher.map(crate::protocols::tls::cipher_name).as_deref(),
            Some("TLS_AES_128_GCM_SHA256")
        );
        assert_eq!(
            f.ja3s.as_deref(),
            Some(ja3s(0x7f12, 0x1301, &[0x33]).as_str())
        );
        // What follows the ServerHello is encrypted, as in TLS 1.3.
        assert!(notes.into_report().0.is_empty());
        // Draft 23: the final layout, supported_versions selecting 0x7f17.
        let mut b = vec![3, 3];
        b.extend([5; 32]);
        b.extend([0, 0x13, 0x01, 0]);
        let exts = ext(0x002b, &[0x7f, 0x17]);
        b.extend((exts.len() as u16).to_be_bytes());
        b.extend(&exts);
        let (f, _) = run(&[
            (Dir::ToServer, client_hello()),
            (Dir::ToClient, record(CT_HANDSHAKE, &hs(2, &b))),
        ]);
        assert_eq!(
            f.version
                .map(crate::protocols::tls::version_name)
                .as_deref(),
            Some("TLSv1.3 (draft 23)")
        );
        assert_eq!(
            crate::protocols::tls::version_name(TlsVersion(0xfb1a)),
            "TLSv1.3 (Facebook draft 26)"
        );
        // Every cut of a ServerHello is read or refused, never a panic.
        for n in 0..b.len() {
            let _ = parse_server_hello(&b[..n]);
        }
    }

    #[test]
    fn hello_retry_request() {
        let (f, _) = run(&[
            (Dir::ToServer, client_hello()),
            (
                Dir::ToClient,
                record(CT_HANDSHAKE, &server_hello(true, HRR_RANDOM)),
            ),
        ]);
        assert!(f.hello_retry_request);
        assert_eq!(f.history, "Cj");
    }

    #[test]
    fn malformed_extension_contents_leave_the_others_counted() {
        // An SNI list longer than its extension, a supported_groups list of odd length,
        // a non-empty extended_master_secret, a supported_versions list whose length
        // byte says 0 and an odd signature_algorithms list: each extension's content
        // is read on its own, so the list, JA3 and JA4 keep every extension sent, and
        // the ALPN after them still counts (a parser that gives up on the whole list
        // at its first bad extension would lose all of it).
        let mut exts = Vec::new();
        exts.extend(ext(0x0000, &[0, 9, 0, 0, 1]));
        exts.extend(ext(0x000a, &[0, 3, 0x00, 0x1d, 0x00]));
        exts.extend(ext(0x0017, &[1]));
        exts.extend(ext(0x002b, &[0, 0x03]));
        exts.extend(ext(0x0010, &[0, 3, 2, b'h', b'2']));
        exts.extend(ext(0x000d, &[0, 3, 0x04, 0x03, 0x08]));
        let (f, notes) = run(&[(Dir::ToServer, client_hello_with(&exts))]);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(
            &*f.extensions,
            &[0x0000, 0x000a, 0x0017, 0x002b, 0x0010, 0x000d]
        );
        assert_eq!(f.sni, None);
        assert_eq!(f.alpn.iter().map(|a| &**a).collect::<Vec<_>>(), vec!["h2"]);
        assert!(f.supported_versions.is_empty());
        assert_eq!(
            f.ja4_r.as_deref(),
            Some("t12d0306h2_1301,1302,c02f_000a,000d,0017,002b_0403")
        );
        let ja3 =
            crate::protocols::x509::hex(&Md5::digest(b"771,4865-4866-49199,0-10-23-43-16-13,29,"));
        assert_eq!(f.ja3.as_deref(), Some(ja3.as_str()));
    }
}
