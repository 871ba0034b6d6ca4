//! TLS key logs in the NSS format that `SSLKEYLOGFILE` makes curl, Python, Node and
//! browsers write (and that pcapng Decryption Secrets Blocks carry): one secret a line,
//! `LABEL <client random hex> <secret hex>`.
//!
//! Kept: `CLIENT_RANDOM` (the TLS 1.2 master secret) and the TLS 1.3
//! `CLIENT_HANDSHAKE_TRAFFIC_SECRET`, `SERVER_HANDSHAKE_TRAFFIC_SECRET`,
//! `CLIENT_TRAFFIC_SECRET_0`, `SERVER_TRAFFIC_SECRET_0`. Other labels (exporter and
//! early-data secrets, `RSA`) are ignored; lines that are not `LABEL hex hex` with a
//! 32-byte client random and a secret of a possible length are counted as malformed.
//!
//! The secrets never leave this module's users as text: [`KeyLog`] and [`Secrets`]
//! print as counts only.

use rustc_hash::FxHashMap;

/// The secrets logged for one TLS session (one client random).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    /// TLS ≤ 1.2 master secret (48 bytes).
    pub master: Option<Vec<u8>>,
    /// TLS 1.3 handshake traffic secrets, client then server.
    pub handshake: [Option<Vec<u8>>; 2],
    /// TLS 1.3 first application traffic secrets, client then server.
    pub application: [Option<Vec<u8>>; 2],
}

impl std::fmt::Debug for Secrets {
    /// Which secrets are there, never their bytes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field("master", &self.master.is_some())
            .field("handshake", &self.handshake.each_ref().map(Option::is_some))
            .field(
                "application",
                &self.application.each_ref().map(Option::is_some),
            )
            .finish()
    }
}

/// Secrets by client random, from one or more key logs.
#[derive(Clone, Default)]
pub struct KeyLog {
    sessions: FxHashMap<[u8; 32], Secrets>,
    malformed: u64,
}

impl std::fmt::Debug for KeyLog {
    /// Counts only: a key log's content must never reach any output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyLog")
            .field("sessions", &self.sessions.len())
            .field("malformed", &self.malformed)
            .finish()
    }
}

/// What a key log line holds.
enum Line {
    Kept([u8; 32], Slot, Vec<u8>),
    Ignored,
    Malformed,
}

#[derive(Clone, Copy)]
enum Slot {
    Master,
    Handshake(usize),
    Application(usize),
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    s.as_bytes()
        .chunks_exact(2)
        .map(|p| {
            let d = |c: u8| (c as char).to_digit(16);
            Some((d(p[0])? * 16 + d(p[1])?) as u8)
        })
        .collect()
}

fn parse_line(line: &str) -> Line {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Line::Ignored;
    }
    let mut parts = line.split_ascii_whitespace();
    let (Some(label), Some(random), Some(secret), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Line::Malformed;
    };
    let slot = match label {
        "CLIENT_RANDOM" => Slot::Master,
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET" => Slot::Handshake(0),
        "SERVER_HANDSHAKE_TRAFFIC_SECRET" => Slot::Handshake(1),
        "CLIENT_TRAFFIC_SECRET_0" => Slot::Application(0),
        "SERVER_TRAFFIC_SECRET_0" => Slot::Application(1),
        _ if label
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_') =>
        {
            return Line::Ignored;
        }
        _ => return Line::Malformed,
    };
    let Some(random) = unhex(random).and_then(|r| <[u8; 32]>::try_from(r).ok()) else {
        return Line::Malformed;
    };
    let Some(secret) = unhex(secret) else {
        return Line::Malformed;
    };
    let fits = match slot {
        Slot::Master => secret.len() == 48,
        // SHA-256 or SHA-384 sized.
        Slot::Handshake(_) | Slot::Application(_) => matches!(secret.len(), 32 | 48),
    };
    if fits {
        Line::Kept(random, slot, secret)
    } else {
        Line::Malformed
    }
}

impl KeyLog {
    /// Adds the secrets of a key log's text (a file, or a pcapng secrets block); a
    /// later line for the same session and secret replaces an earlier one.
    pub fn add(&mut self, text: &[u8]) {
        for line in text.split(|&b| b == b'\n') {
            let line = String::from_utf8_lossy(line);
            match parse_line(&line) {
                Line::Kept(random, slot, secret) => {
                    let s = self.sessions.entry(random).or_default();
                    let place = match slot {
                        Slot::Master => &mut s.master,
                        Slot::Handshake(i) => &mut s.handshake[i],
                        Slot::Application(i) => &mut s.application[i],
                    };
                    *place = Some(secret);
                }
                Line::Ignored => {}
                Line::Malformed => self.malformed += 1,
            }
        }
    }

    /// A key log of `text`.
    pub fn parse(text: &[u8]) -> Self {
        let mut k = KeyLog::default();
        k.add(text);
        k
    }

    /// The secrets of the session with this client random.
    pub fn get(&self, client_random: &[u8]) -> Option<&Secrets> {
        let r: &[u8; 32] = client_random.try_into().ok()?;
        self.sessions.get(r)
    }

    /// Sessions with at least one secret kept.
    pub fn sessions(&self) -> usize {
        self.sessions.len()
    }

    /// Lines that could not be read.
    pub fn malformed(&self) -> u64 {
        self.malformed
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn labels_kept_ignored_and_malformed() {
        let r = "11".repeat(32);
        let text = format!(
            "# comment\n\nCLIENT_RANDOM {r} {}\nCLIENT_HANDSHAKE_TRAFFIC_SECRET {r} {}\r\n\
             SERVER_TRAFFIC_SECRET_0 {r} {}\nEXPORTER_SECRET {r} {}\n\
             CLIENT_RANDOM {r}\nCLIENT_RANDOM zz {}\nCLIENT_RANDOM {r} 0102\nhello world\n",
            "aa".repeat(48),
            "bb".repeat(32),
            "cc".repeat(48),
            "dd".repeat(32),
            "aa".repeat(48),
        );
        let k = KeyLog::parse(text.as_bytes());
        assert_eq!(k.sessions(), 1);
        assert_eq!(k.malformed(), 4);
        let s = k.get(&[0x11; 32]).unwrap();
        assert_eq!(s.master.as_deref(), Some(&[0xaa; 48][..]));
        assert_eq!(s.handshake[0].as_deref(), Some(&[0xbb; 32][..]));
        assert_eq!(s.handshake[1], None);
        assert_eq!(s.application[1].as_deref(), Some(&[0xcc; 48][..]));
        assert!(k.get(&[0x12; 32]).is_none());
    }

    #[test]
    fn debug_shows_no_secret() {
        let r = "11".repeat(32);
        let text = format!("CLIENT_RANDOM {r} {}\n", "ab".repeat(48));
        let k = KeyLog::parse(text.as_bytes());
        let shown = format!("{k:?} {:?}", k.get(&[0x11; 32]).unwrap());
        assert!(!shown.contains("171"), "{shown}"); // 0xab
        assert!(!shown.to_lowercase().contains("abab"), "{shown}");
        assert!(shown.contains("sessions: 1"), "{shown}");
    }
}
