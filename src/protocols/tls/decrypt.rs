//! Decryption of TLS records with the secrets of a key log (`--keylog`, pcapng secrets).
//!
//! TLS 1.3 (RFC 8446 §7): traffic keys and IVs from the logged handshake and first
//! application traffic secrets with HKDF-Expand-Label, switched after each side's
//! Finished and on KeyUpdate; the per-record nonce is the IV xor the direction's
//! sequence number, the additional data the record header, and the real content type
//! is the last non-zero byte of the plaintext. TLS 1.2 (RFC 5246 §6.3, RFC 5288,
//! RFC 7905): the key block from the logged master secret with the PRF, keys in use
//! from each side's ChangeCipherSpec. Ciphers: AES-128-GCM, AES-256-GCM and
//! ChaCha20-Poly1305, from `ring` (already linked for certificate checks): no cipher
//! or KDF is written here.
//!
//! What is decrypted goes where the same bytes would go in clear: handshake messages
//! to the handshake decoder (so TLS 1.3 certificates are read), alerts to the alert
//! list, application data to a nested [`StreamDecoder`] (HTTP/1.x), or to an
//! [`H2Decoder`] when the server chose HTTP/2 by ALPN or the client's first bytes are
//! its connection preface. The secrets stay in this module's state; [`TlsDecryption`]
//! says only whether and how far it worked.

use super::TlsDecoder;
use super::handshake::ServerParams;
use super::record::{CT_ALERT, CT_APP_DATA, CT_CCS, CT_HANDSHAKE, be16, be24};
use crate::model::{Dir, FrameNo};
use crate::protocols::http2::{H2Decoder, PREFACE};
use crate::protocols::keylog::Secrets;
use crate::protocols::{AppFacts, AppProtocol, DecodeCtx, Notes, StreamDecoder};
use ring::{aead, hkdf, hmac};

/// Whether a TLS connection was decrypted with a key log, and if not, or not to the
/// end, why. Present only when key logs were given.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TlsDecryption {
    /// Records decrypted, both directions.
    pub records: u64,
    /// Why the connection was not decrypted, or where decryption stopped.
    pub problem: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cipher {
    Aes128Gcm,
    Aes256Gcm,
    ChaCha20Poly1305,
}

impl Cipher {
    fn algorithm(self) -> &'static aead::Algorithm {
        match self {
            Cipher::Aes128Gcm => &aead::AES_128_GCM,
            Cipher::Aes256Gcm => &aead::AES_256_GCM,
            Cipher::ChaCha20Poly1305 => &aead::CHACHA20_POLY1305,
        }
    }

    fn key_len(self) -> usize {
        self.algorithm().key_len()
    }
}

/// A cipher suite we decrypt: its AEAD and whether its hash is SHA-384.
#[derive(Clone, Copy, Debug)]
struct Suite {
    cipher: Cipher,
    sha384: bool,
}

fn suite(id: u16) -> Option<Suite> {
    use Cipher::*;
    let (cipher, sha384) = match id {
        0x1301 => (Aes128Gcm, false),
        0x1302 => (Aes256Gcm, true),
        0x1303 => (ChaCha20Poly1305, false),
        // TLS 1.2 (EC)DHE and RSA key exchange with AES-GCM (RFC 5288, 5289).
        0xc02f | 0xc02b | 0x009c | 0x009e => (Aes128Gcm, false),
        0xc030 | 0xc02c | 0x009d | 0x009f => (Aes256Gcm, true),
        // ChaCha20-Poly1305 (RFC 7905).
        0xcca8..=0xccaa => (ChaCha20Poly1305, false),
        _ => return None,
    };
    Some(Suite { cipher, sha384 })
}

/// The keys of one direction.
#[derive(Clone)]
struct DirKeys {
    key: aead::LessSafeKey,
    /// TLS 1.3 and ChaCha20: the 12-byte IV; TLS 1.2 AES-GCM: the 4-byte salt first.
    iv: [u8; 12],
    seq: u64,
    /// TLS 1.3: the traffic secret the keys came from (for KeyUpdate).
    secret: Vec<u8>,
}

/// `L` of HKDF-Expand as a number of bytes.
struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// HKDF-Expand-Label(secret, label, "", len) (RFC 8446 §7.1).
fn expand_label(sha384: bool, secret: &[u8], label: &[u8], len: usize) -> Option<Vec<u8>> {
    let alg = if sha384 {
        hkdf::HKDF_SHA384
    } else {
        hkdf::HKDF_SHA256
    };
    let prk = hkdf::Prk::new_less_safe(alg, secret);
    let out_len = u16::try_from(len).ok()?.to_be_bytes();
    let label_len = [u8::try_from(6 + label.len()).ok()?];
    let info: [&[u8]; 5] = [&out_len, &label_len, b"tls13 ", label, &[0]];
    let okm = prk.expand(&info, Len(len)).ok()?;
    let mut out = vec![0; len];
    okm.fill(&mut out).ok()?;
    Some(out)
}

/// TLS 1.2 PRF: P_SHA256 or P_SHA384 of `secret` over `label + seed` (RFC 5246 §5).
fn prf(sha384: bool, secret: &[u8], label: &[u8], seed: &[&[u8]], len: usize) -> Vec<u8> {
    let alg = if sha384 {
        hmac::HMAC_SHA384
    } else {
        hmac::HMAC_SHA256
    };
    let key = hmac::Key::new(alg, secret);
    let mut label_seed = label.to_vec();
    for s in seed {
        label_seed.extend_from_slice(s);
    }
    let mut a = hmac::sign(&key, &label_seed);
    let mut out = Vec::with_capacity(len + 48);
    while out.len() < len {
        let mut ctx = hmac::Context::with_key(&key);
        ctx.update(a.as_ref());
        ctx.update(&label_seed);
        out.extend_from_slice(ctx.sign().as_ref());
        a = hmac::sign(&key, a.as_ref());
    }
    out.truncate(len);
    out
}

fn aead_key(cipher: Cipher, key: &[u8]) -> Option<aead::LessSafeKey> {
    aead::UnboundKey::new(cipher.algorithm(), key)
        .ok()
        .map(aead::LessSafeKey::new)
}

/// TLS 1.3 keys of a traffic secret.
fn keys13(suite: Suite, secret: &[u8]) -> Option<DirKeys> {
    let key = expand_label(suite.sha384, secret, b"key", suite.cipher.key_len())?;
    let iv = expand_label(suite.sha384, secret, b"iv", 12)?;
    Some(DirKeys {
        key: aead_key(suite.cipher, &key)?,
        iv: iv.try_into().ok()?,
        seq: 0,
        secret: secret.to_vec(),
    })
}

/// TLS 1.2 keys of both directions from the master secret.
fn keys12(
    suite: Suite,
    master: &[u8],
    client_random: &[u8; 32],
    server_random: &[u8],
) -> Option<[DirKeys; 2]> {
    let k = suite.cipher.key_len();
    let iv = if suite.cipher == Cipher::ChaCha20Poly1305 {
        12
    } else {
        4
    };
    let block = prf(
        suite.sha384,
        master,
        b"key expansion",
        &[server_random, client_random],
        2 * k + 2 * iv,
    );
    let side = |key_at: usize, iv_at: usize| -> Option<DirKeys> {
        let mut ivb = [0u8; 12];
        ivb.get_mut(..iv)?
            .copy_from_slice(block.get(iv_at..iv_at + iv)?);
        Some(DirKeys {
            key: aead_key(suite.cipher, block.get(key_at..key_at + k)?)?,
            iv: ivb,
            seq: 0,
            secret: Vec::new(),
        })
    };
    Some([side(0, 2 * k)?, side(k, 2 * k + iv)?])
}

fn xor_seq(iv: &[u8; 12], seq: u64) -> [u8; 12] {
    let mut n = *iv;
    for (b, s) in n.iter_mut().skip(4).zip(seq.to_be_bytes()) {
        *b ^= s;
    }
    n
}

/// Decryption state of one TLS connection, from its ClientHello on.
#[derive(Clone, Default)]
pub(super) struct Decrypt {
    client_random: Option<[u8; 32]>,
    /// The session's secrets (TLS 1.3: the application secrets are used later).
    secrets: Option<Secrets>,
    suite: Option<Suite>,
    tls13: bool,
    /// Keys in use per direction.
    keys: [Option<DirKeys>; 2],
    /// TLS 1.2: keys waiting for the direction's ChangeCipherSpec.
    pending: [Option<DirKeys>; 2],
    /// A direction no longer decrypted (gap, failure).
    stopped: [bool; 2],
    /// TLS 1.3: the client moved to its application keys.
    client_app: bool,
    /// TLS 1.3 client records skipped as 0-RTT early data.
    early_skipped: bool,
    status: TlsDecryption,
    /// TLS 1.3: the server chose HTTP/2 in its (encrypted) EncryptedExtensions.
    alpn_h2: bool,
    /// Decoder of the decrypted application data.
    inner: Option<Inner>,
}

/// The decoder of decrypted application data.
#[derive(Clone, Debug)]
enum Inner {
    /// HTTP/1.x, or whatever the bytes turn out to be.
    Stream(Box<StreamDecoder>),
    Http2(Box<H2Decoder>),
}

impl Inner {
    fn wants_data(&self, dir: Dir) -> bool {
        match self {
            Inner::Stream(s) => s.wants_data(dir),
            Inner::Http2(h) => h.wants_data(dir),
        }
    }
}

impl std::fmt::Debug for Decrypt {
    /// What was decrypted, never a key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decrypt")
            .field("status", &self.status)
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl Decrypt {
    fn problem(&mut self, text: String) {
        self.status.problem.get_or_insert(text);
    }

    /// True while records of `dir` can still be decrypted.
    pub(super) fn active(&self, dir: Dir) -> bool {
        let d = dir.index();
        !self.stopped.get(d).copied().unwrap_or(true)
            && (self.keys.get(d).is_some_and(Option::is_some)
                || self.pending.get(d).is_some_and(Option::is_some))
    }

    /// The direction's bytes were lost: its records can no longer be decrypted.
    pub(super) fn on_gap(&mut self, dir: Dir) {
        self.stop(dir, "lost in a gap (capture loss)");
    }

    /// Bytes of `dir` were cut by the snap length: records are no longer whole.
    pub(super) fn on_cut(&mut self, dir: Dir) {
        self.stop(dir, "cut by the capture's snap length");
    }

    fn stop(&mut self, dir: Dir, why: &str) {
        if self.active(dir)
            && let Some(s) = self.stopped.get_mut(dir.index())
        {
            *s = true;
            self.problem(format!(
                "a record from the {} was {why}; decryption of that direction stopped",
                dir.sender()
            ));
            self.inner_lost(dir);
        }
    }

    /// `dir`'s plaintext is not followed any more: HTTP/2's header table is lost.
    fn inner_lost(&mut self, dir: Dir) {
        if let Some(Inner::Http2(h)) = self.inner.as_mut() {
            h.on_gap(dir);
        }
    }

    /// The verdict.
    pub(super) fn finish(mut self) -> TlsDecryption {
        if self.client_random.is_none() {
            self.problem("no ClientHello seen, so no client random to look the key up by".into());
        } else if self.secrets.is_none() && self.suite.is_none() && self.status.records == 0 {
            self.problem("no ServerHello seen: the cipher is unknown".into());
        }
        if self.status.records == 0 && self.status.problem.is_none() {
            self.problem("no encrypted record seen".into());
        }
        if self.early_skipped {
            let note = "0-RTT early data not decrypted";
            match self.status.problem.as_mut() {
                Some(p) => *p = format!("{p}; {note}"),
                None => self.status.problem = Some(note.into()),
            }
        }
        self.status
    }

    /// Decrypts one protected record; `None` when it is not for us or fails.
    fn open(&mut self, dir: Dir, ct: u8, body: &[u8], frame: FrameNo) -> Option<(u8, Vec<u8>)> {
        let d = dir.index();
        let suite = self.suite?;
        let tls13 = self.tls13;
        let keys = self.keys.get_mut(d)?.as_mut()?;
        let tag = aead::MAX_TAG_LEN;
        let (nonce, mut buf) = if tls13 || suite.cipher == Cipher::ChaCha20Poly1305 {
            (xor_seq(&keys.iv, keys.seq), body.to_vec())
        } else {
            let mut n = keys.iv;
            n.get_mut(4..)?.copy_from_slice(body.get(..8)?);
            (n, body.get(8..)?.to_vec())
        };
        let aad: Vec<u8> = if tls13 {
            let len = u16::try_from(body.len()).ok()?.to_be_bytes();
            vec![CT_APP_DATA, 3, 3, len[0], len[1]]
        } else {
            let plain = u16::try_from(buf.len().checked_sub(tag)?)
                .ok()?
                .to_be_bytes();
            let mut a = keys.seq.to_be_bytes().to_vec();
            a.extend([ct, 3, 3, plain[0], plain[1]]);
            a
        };
        let opened = keys
            .key
            .open_in_place(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::from(&aad),
                &mut buf,
            )
            .map(|p| p.len());
        match opened {
            Ok(len) => {
                keys.seq = keys.seq.wrapping_add(1);
                buf.truncate(len);
                self.status.records += 1;
                if !tls13 {
                    return Some((ct, buf));
                }
                // TLSInnerPlaintext: content, content type, zero padding.
                let end = buf.iter().rposition(|&b| b != 0)?;
                let inner_ct = *buf.get(end)?;
                buf.truncate(end);
                Some((inner_ct, buf))
            }
            Err(_) => {
                // Before the client's first handshake record: 0-RTT data under the
                // early secret, not logged by most clients.
                // (only once the server's records opened: the secrets are right).
                if tls13
                    && dir == Dir::ToServer
                    && keys.seq == 0
                    && !self.client_app
                    && self.status.records > 0
                {
                    self.early_skipped = true;
                    return None;
                }
                if let Some(s) = self.stopped.get_mut(d) {
                    *s = true;
                }
                self.inner_lost(dir);
                self.problem(format!(
                    "the key log's secrets do not decrypt the {}'s record at frame {frame} \
                     (a key log of another capture?); decryption of that direction stopped",
                    dir.sender()
                ));
                None
            }
        }
    }
}

impl TlsDecoder {
    /// Starts following the connection for decryption when key logs were given.
    pub(super) fn crypt_begin(&mut self, cx: &DecodeCtx) {
        if self.crypt.is_none() && cx.options().keylog.is_some() {
            self.crypt = Some(Box::default());
        }
    }

    /// Called after each handshake message the handshake decoder took: the hellos
    /// set up the keys (`server`: what it read of a first ServerHello), Finished and
    /// KeyUpdate change them.
    pub(super) fn crypt_handshake(
        &mut self,
        cx: &DecodeCtx,
        dir: Dir,
        t: u8,
        msg: &[u8],
        server: Option<ServerParams>,
    ) {
        let Some(c) = self.crypt.as_mut() else {
            return;
        };
        match (t, dir) {
            (1, Dir::ToServer) if c.client_random.is_none() => {
                c.client_random = msg.get(2..34).and_then(|r| r.try_into().ok());
            }
            (2, Dir::ToClient) if c.suite.is_none() && c.status.problem.is_none() => {
                let tls13 = self.tls13;
                setup(c, cx, server, tls13);
            }
            (8, Dir::ToClient) => c.alpn_h2 = chooses_h2(msg),
            (20, _) if c.tls13 => {
                // After its Finished a side uses its application traffic secret.
                let d = dir.index();
                let next = c
                    .secrets
                    .as_ref()
                    .and_then(|s| s.application.get(d).cloned().flatten());
                let keys = match (c.suite, next) {
                    (Some(suite), Some(secret)) => keys13(suite, &secret),
                    _ => None,
                };
                if keys.is_none() && c.active(dir) {
                    c.problem(format!(
                        "the key log has no application traffic secret of the {}",
                        dir.sender()
                    ));
                    if let Some(s) = c.stopped.get_mut(d) {
                        *s = true;
                    }
                }
                if let Some(k) = c.keys.get_mut(d) {
                    *k = keys;
                }
                if dir == Dir::ToServer {
                    c.client_app = true;
                }
            }
            (24, _) if c.tls13 => {
                // KeyUpdate: the next generation of the sender's secret (RFC 8446 §7.2).
                let d = dir.index();
                let next = match (c.suite, c.keys.get(d).and_then(Option::as_ref)) {
                    (Some(suite), Some(k)) => {
                        let len = if suite.sha384 { 48 } else { 32 };
                        expand_label(suite.sha384, &k.secret, b"traffic upd", len)
                            .and_then(|s| keys13(suite, &s))
                    }
                    _ => None,
                };
                if let Some(k) = c.keys.get_mut(d) {
                    *k = next;
                }
            }
            _ => {}
        }
    }

    /// Called after each record the handshake decoder took: decrypts it when it is
    /// protected and the keys are known, and decodes what it held.
    pub(super) fn crypt_record(
        &mut self,
        cx: &mut DecodeCtx,
        dir: Dir,
        ct: u8,
        body: &[u8],
        frame: FrameNo,
    ) {
        let Some(c) = self.crypt.as_mut() else {
            return;
        };
        let d = dir.index();
        if c.tls13
            && ct == CT_APP_DATA
            && c.suite.is_some()
            && !c.active(dir)
            && !c.stopped.get(d).copied().unwrap_or(true)
        {
            // Keys were set up, but not for this direction.
            if let Some(s) = c.stopped.get_mut(d) {
                *s = true;
            }
            c.problem(format!(
                "the key log has no secret for the {}'s records (from frame {frame})",
                dir.sender()
            ));
            return;
        }
        if !c.active(dir) {
            return;
        }
        if !c.tls13 && ct == CT_CCS {
            if let (Some(k), Some(p)) = (c.keys.get_mut(d), c.pending.get_mut(d)) {
                *k = p.take();
            }
            return;
        }
        let protected = if c.tls13 {
            ct == CT_APP_DATA
        } else {
            matches!(ct, CT_ALERT | CT_HANDSHAKE | CT_APP_DATA)
        };
        if !protected || c.keys.get(d).is_none_or(Option::is_none) {
            return;
        }
        let Some((inner_ct, plain)) = c.open(dir, ct, body, frame) else {
            return;
        };
        match inner_ct {
            CT_HANDSHAKE => self.on_handshake_bytes(cx, dir, &plain, frame),
            CT_ALERT => {
                // TLS 1.2: the alert was listed as encrypted when its record came.
                if !self.tls13
                    && self
                        .facts
                        .alerts
                        .last()
                        .is_some_and(|a| a.encrypted && a.frame == frame)
                {
                    self.facts.alerts.pop();
                }
                self.on_alert(dir, &plain, frame, false);
            }
            CT_APP_DATA => {
                let ts = self.record_ts.unwrap_or_default();
                let server_alpn = &self.facts.server_alpn;
                if let Some(c) = self.crypt.as_mut() {
                    let inner = c.inner.get_or_insert_with(|| {
                        // Chosen once, by the first decrypted application data.
                        let alpn_h2 = server_alpn.as_deref() == Some("h2") || c.alpn_h2;
                        let preface = dir == Dir::ToServer
                            && plain.starts_with(PREFACE.get(..14).unwrap_or_default());
                        if alpn_h2 || preface {
                            return Inner::Http2(Box::default());
                        }
                        let mut s = StreamDecoder::new(0, 0);
                        s.depth = super::super::MAX_TUNNEL_DEPTH;
                        Inner::Stream(Box::new(s))
                    });
                    match inner {
                        Inner::Stream(s) => s.on_data(cx, dir, &plain, frame, ts),
                        Inner::Http2(h) => h.on_data(cx, dir, &plain, frame, ts),
                    }
                }
            }
            _ => {}
        }
    }

    /// TLS 1.3 Certificate (RFC 8446 §4.4.2), decrypted: each entry's extensions are
    /// skipped.
    pub(super) fn on_certificate13(
        &mut self,
        cx: &mut DecodeCtx,
        dir: Dir,
        msg: &[u8],
        frame: FrameNo,
    ) {
        let ctx_len = usize::from(msg.first().copied().unwrap_or(0));
        let Some(total) = be24(msg, 1 + ctx_len) else {
            self.notes.push(format!(
                "tls: truncated certificate message at frame {frame}"
            ));
            return;
        };
        let start = 4 + ctx_len;
        let mut list = msg
            .get(start..start + total)
            .unwrap_or_else(|| msg.get(start..).unwrap_or_default());
        let mut certs = Vec::new();
        while let Some(len) = be24(list, 0) {
            let Some(der) = list.get(3..3 + len) else {
                self.notes.push(format!(
                    "tls: certificate entry overruns its message at frame {frame}"
                ));
                break;
            };
            if certs.len() < super::handshake::MAX_CERTS {
                match cx.certs.parse(der) {
                    Ok(c) => certs.push(c),
                    Err(e) => self.notes.push(format!("tls: frame {frame}: {e}")),
                }
            }
            let ext = usize::from(be16(list, 3 + len).unwrap_or(0));
            list = list.get(5 + len + ext..).unwrap_or_default();
        }
        match dir {
            Dir::ToClient => {
                self.facts.certificate_frame = Some(frame);
                self.facts.certificates = certs;
            }
            Dir::ToServer => self.facts.client_certificates = certs,
        }
    }

    /// The facts and notes of the decrypted application data, taken out.
    pub(crate) fn take_decrypted(&mut self) -> Option<(AppFacts, Notes)> {
        match self.crypt.as_mut()?.inner.take()? {
            Inner::Stream(s) => Some(s.finish_parts()),
            Inner::Http2(h) => {
                let (http, notes, overflow) = h.finish_all();
                let facts = AppFacts {
                    protocol: AppProtocol::Http,
                    http,
                    overflow,
                    ..AppFacts::default()
                };
                Some((facts, notes))
            }
        }
    }

    /// Bytes the decoder of the decrypted data holds for `dir`: an incomplete HTTP
    /// head, HTTP/2 frame or header block, error bodies of open HTTP/2 streams.
    pub(super) fn decrypted_held(&self, dir: Dir) -> usize {
        match self.crypt.as_ref().and_then(|c| c.inner.as_ref()) {
            Some(Inner::Stream(s)) => s.held(dir),
            Some(Inner::Http2(h)) => h.held(dir),
            None => 0,
        }
    }

    /// Gives up what the decoder of the decrypted data holds for `dir` (a buffer cap
    /// was reached); false when it held nothing.
    pub(super) fn shed_decrypted(&mut self, dir: Dir) -> bool {
        match self.crypt.as_mut().and_then(|c| c.inner.as_mut()) {
            Some(Inner::Stream(s)) => s.shed(dir),
            Some(Inner::Http2(h)) => h.shed(dir),
            None => false,
        }
    }

    /// Exchanges of the decrypted data counted, not kept (facts budget, caps).
    pub(crate) fn decrypted_facts_not_kept(&self) -> u64 {
        match self.crypt.as_ref().and_then(|c| c.inner.as_ref()) {
            Some(Inner::Stream(s)) => s.facts_not_kept(),
            Some(Inner::Http2(h)) => h.facts_not_kept(),
            None => 0,
        }
    }

    /// False when decryption does not need more of `dir`; `None` when not decrypting.
    pub(super) fn crypt_wants(&self, dir: Dir) -> Option<bool> {
        let c = self.crypt.as_ref()?;
        c.active(dir).then(|| {
            c.inner
                .as_ref()
                .is_none_or(|i| i.wants_data(dir) || !c.tls13)
        })
    }
}

/// True when an EncryptedExtensions message's ALPN extension (RFC 7301) names `h2`.
fn chooses_h2(msg: &[u8]) -> bool {
    use super::handshake::{alpn_list, extensions};
    extensions(msg.get(2..).unwrap_or_default())
        .into_iter()
        .find(|(t, _)| *t == 0x0010)
        .is_some_and(|(_, data)| alpn_list(data) == [b"h2".as_slice()])
}

/// Sets up the keys at the ServerHello, or says why not.
fn setup(c: &mut Decrypt, cx: &DecodeCtx, server: Option<ServerParams>, tls13: bool) {
    let Some(random) = c.client_random else {
        return;
    };
    let Some(ServerParams {
        version,
        cipher: id,
        random: server_random,
    }) = server
    else {
        c.problem("malformed ServerHello".into());
        return;
    };
    let Some(log) = cx.options().keylog.as_deref() else {
        return;
    };
    let Some(secrets) = log.get(&random) else {
        c.problem("no key for this client random in the key log".into());
        return;
    };
    let Some(suite) = suite(id) else {
        let name = tls_parser::TlsCipherSuite::from_id(id)
            .map_or_else(|| format!("0x{id:04x}"), |s| s.name.to_string());
        c.problem(format!(
            "cipher suite {name} is not one we decrypt (AES-GCM and ChaCha20-Poly1305 only)"
        ));
        return;
    };
    c.tls13 = tls13;
    if tls13 {
        // A client that gives up on the server's certificate has logged only the
        // server's handshake secret: its own records cannot be read then.
        let [client, server] = &secrets.handshake;
        if client.is_none() && server.is_none() {
            c.problem("the key log has no TLS 1.3 handshake secrets for this session".into());
            return;
        }
        c.keys = [
            client.as_deref().and_then(|s| keys13(suite, s)),
            server.as_deref().and_then(|s| keys13(suite, s)),
        ];
    } else {
        if version != 0x0303 {
            c.problem(format!(
                "{} is not decrypted (TLS 1.2 and 1.3 only)",
                super::version_name(tls_parser::TlsVersion(version))
            ));
            return;
        }
        let Some(master) = &secrets.master else {
            c.problem("the key log has no master secret (CLIENT_RANDOM) for this session".into());
            return;
        };
        let Some(keys) = keys12(suite, master, &random, &server_random) else {
            return;
        };
        let [client, server] = keys;
        c.pending = [Some(client), Some(server)];
    }
    c.suite = Some(suite);
    c.secrets = Some(secrets.clone());
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn hkdf_expand_label_matches_rfc8448() {
        // RFC 8448 §3 (simple 1-RTT handshake): server handshake traffic secret,
        // and the key and IV derived from it.
        let secret = unhex("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38");
        let key = expand_label(false, &secret, b"key", 16).unwrap();
        let iv = expand_label(false, &secret, b"iv", 12).unwrap();
        assert_eq!(key, unhex("3fce516009c21727d0f2e4e86ee403bc"));
        assert_eq!(iv, unhex("5d313eb2671276ee13000b30"));
    }

    #[test]
    fn tls12_prf_matches_known_vector() {
        // The widely used P_SHA256 test vector (IETF TLS list, "PRF Testvector").
        let secret = unhex("9bbe436ba940f017b17652849a71db35");
        let seed = unhex("a0ba9f936cda311827a6f796ffd5198c");
        let out = prf(false, &secret, b"test label", &[&seed], 100);
        assert_eq!(out[..16], unhex("e3f229ba727be17b8d122620557cd453")[..]);
    }

    use super::super::record::CT_CCS;
    use super::super::tests::{client_hello, hs, record, server_hello};
    use crate::model::Timestamp;
    use crate::protocols::keylog::KeyLog;
    use crate::protocols::{DecodeOptions, tls::TlsDecoder};
    use std::sync::Arc;

    const SUITE: Suite = Suite {
        cipher: Cipher::Aes128Gcm,
        sha384: false,
    };

    /// A TLS 1.3 record carrying `plain` of type `ct`, sealed with `secret`'s keys.
    fn seal13(secret: &[u8], seq: u64, ct: u8, plain: &[u8]) -> Vec<u8> {
        let k = keys13(SUITE, secret).unwrap();
        let mut buf = plain.to_vec();
        buf.push(ct);
        buf.extend([0, 0]); // padding
        let len = (buf.len() + 16) as u16;
        let aad = [CT_APP_DATA, 3, 3, (len >> 8) as u8, len as u8];
        k.key
            .seal_in_place_append_tag(
                aead::Nonce::assume_unique_for_key(xor_seq(&k.iv, seq)),
                aead::Aad::from(&aad),
                &mut buf,
            )
            .unwrap();
        record(CT_APP_DATA, &buf)
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    fn context(random: [u8; 32]) -> DecodeCtx {
        let r = hex(&random);
        let log = format!(
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET {r} {}\nSERVER_HANDSHAKE_TRAFFIC_SECRET {r} {}\n\
             CLIENT_TRAFFIC_SECRET_0 {r} {}\nSERVER_TRAFFIC_SECRET_0 {r} {}\n",
            hex(&[0x11; 32]),
            hex(&[0x22; 32]),
            hex(&[0x33; 32]),
            hex(&[0x44; 32])
        );
        let options = DecodeOptions {
            keylog: Some(Arc::new(KeyLog::parse(log.as_bytes()))),
        };
        DecodeCtx::new(Arc::new(options), 1000)
    }

    #[test]
    fn tls13_after_hello_retry_request_with_key_update() {
        let cx = &mut context([7; 32]);
        let mut d = TlsDecoder::new();
        let mut frame = 0;
        let mut feed = |d: &mut TlsDecoder, cx: &mut DecodeCtx, dir: Dir, b: Vec<u8>| {
            frame += 1;
            d.on_data(cx, dir, &b, FrameNo(frame), Timestamp(frame as i64));
        };
        feed(&mut d, cx, Dir::ToServer, client_hello());
        let hrr = super::super::handshake::HRR_RANDOM;
        feed(
            &mut d,
            cx,
            Dir::ToClient,
            record(CT_HANDSHAKE, &server_hello(true, hrr)),
        );
        let mut second = record(CT_CCS, &[1]);
        second.extend(client_hello());
        feed(&mut d, cx, Dir::ToServer, second);
        let mut flight = record(CT_HANDSHAKE, &server_hello(true, [2; 32]));
        let mut msgs = hs(8, &[0, 0]);
        msgs.extend(hs(20, &[0x5a; 32]));
        flight.extend(seal13(&[0x22; 32], 0, CT_HANDSHAKE, &msgs));
        feed(&mut d, cx, Dir::ToClient, flight);
        let mut client = seal13(&[0x11; 32], 0, CT_HANDSHAKE, &hs(20, &[0x6b; 32]));
        client.extend(seal13(
            &[0x33; 32],
            0,
            CT_APP_DATA,
            b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
        ));
        feed(&mut d, cx, Dir::ToServer, client);
        // The server updates its keys, then answers under the next secret.
        let next = expand_label(false, &[0x44; 32], b"traffic upd", 32).unwrap();
        let mut answer = seal13(&[0x44; 32], 0, CT_HANDSHAKE, &hs(24, &[0]));
        answer.extend(seal13(
            &next,
            0,
            CT_APP_DATA,
            b"HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\n\r\n",
        ));
        assert!(d.wants_data(Dir::ToClient));
        feed(&mut d, cx, Dir::ToClient, answer);
        let (inner, _) = d.take_decrypted().unwrap();
        assert_eq!(inner.http.len(), 1);
        assert_eq!(inner.http[0].status, Some(429));
        assert_eq!(inner.http[0].response_frame, Some(FrameNo(6)));
        let (f, notes) = d.finish();
        assert!(f.hello_retry_request);
        let dec = f.decryption.unwrap();
        assert_eq!((dec.records, dec.problem), (5, None), "{notes:?}");
        assert!(f.history.contains("of"), "{}", f.history);
    }

    #[test]
    fn tls13_gap_and_wrong_key_are_said() {
        let run = |random: [u8; 32], gap: bool| {
            let cx = &mut context(random);
            let mut d = TlsDecoder::new();
            d.on_data(cx, Dir::ToServer, &client_hello(), FrameNo(1), Timestamp(1));
            let hello = record(CT_HANDSHAKE, &server_hello(true, [2; 32]));
            d.on_data(cx, Dir::ToClient, &hello, FrameNo(2), Timestamp(2));
            if gap {
                d.on_gap(Dir::ToClient, 10);
            }
            let ee = seal13(&[0x22; 32], 0, CT_HANDSHAKE, &hs(8, &[0, 0]));
            d.on_data(cx, Dir::ToClient, &ee, FrameNo(3), Timestamp(3));
            d.finish().0.decryption.unwrap()
        };
        let ok = run([7; 32], false);
        assert_eq!((ok.records, ok.problem), (1, None));
        let other = run([8; 32], false);
        assert_eq!(
            other.problem.as_deref(),
            Some("no key for this client random in the key log")
        );
        let lost = run([7; 32], true);
        assert_eq!(lost.records, 0);
        assert!(
            lost.problem.unwrap().contains("server was lost in a gap"),
            "a gap is named"
        );
    }

    #[test]
    fn suites() {
        assert_eq!(suite(0x1302).unwrap().cipher, Cipher::Aes256Gcm);
        assert!(suite(0x1302).unwrap().sha384);
        assert_eq!(suite(0xcca8).unwrap().cipher, Cipher::ChaCha20Poly1305);
        assert!(suite(0x1304).is_none()); // AES-CCM
        assert!(suite(0xc013).is_none()); // CBC
    }
}
