//! NTLMSSP messages carried in `NTLM` / `Negotiate` authentication headers.
//!
//! Called by `http` for every `Proxy-Authenticate`, `WWW-Authenticate`,
//! `Proxy-Authorization` and `Authorization` token. States the facts a proxy-auth
//! diagnosis needs (message type, domain, user, workstation, negotiate flags, target
//! name) and deliberately drops the LM/NT responses, session key and MIC: they are
//! credentials (MS-NLMP 2.2.1.3). Layout per MS-NLMP section 2.2.1.

use thiserror::Error;

const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";

/// Why an NTLMSSP blob could not be read.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum NtlmError {
    #[error("not an NTLMSSP message")]
    NoSignature,
    #[error("NTLMSSP message truncated at offset {0}")]
    Truncated(usize),
    #[error("NTLMSSP field points outside the message ({field})")]
    BadOffset { field: &'static str },
    #[error("unknown NTLMSSP message type {0}")]
    UnknownType(u32),
    #[error("NTLMSSP field overlaps the responses or session key ({field})")]
    Overlaps { field: &'static str },
}

/// NTLMSSP message type (1 negotiate, 2 challenge, 3 authenticate).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum NtlmMessageType {
    Negotiate,
    Challenge,
    Authenticate,
}

/// How the client answered in a type 3 message (kind only, never the bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum NtResponseKind {
    /// Empty NT response: anonymous authentication.
    Anonymous,
    /// 24-byte NT response: NTLMv1 (weak; often refused by policy).
    NTLMv1,
    /// Longer NT response: NTLMv2.
    NTLMv2,
}

/// The facts of one NTLMSSP message. Holds no credential material.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NtlmMessage {
    pub message_type: NtlmMessageType,
    /// Negotiate flags as in MS-NLMP (`NEGOTIATE_UNICODE`, ...).
    #[serde(with = "super::stored::ntlm_flags")]
    pub flags: Vec<&'static str>,
    pub domain: Option<String>,
    pub user: Option<String>,
    pub workstation: Option<String>,
    /// Type 2: the server's target name (domain or server).
    pub target_name: Option<String>,
    /// Type 2: names from the target info AV pairs (NetBIOS / DNS domain and computer).
    pub target_info: Vec<(String, String)>,
    /// Type 3: NTLMv1, NTLMv2 or anonymous.
    pub nt_response: Option<NtResponseKind>,
    /// OS version field when present (`major.minor.build`).
    pub os_version: Option<String>,
}

const FLAG_NAMES: &[(u32, &str)] = &[
    (0x0000_0001, "NEGOTIATE_UNICODE"),
    (0x0000_0002, "NEGOTIATE_OEM"),
    (0x0000_0004, "REQUEST_TARGET"),
    (0x0000_0010, "NEGOTIATE_SIGN"),
    (0x0000_0020, "NEGOTIATE_SEAL"),
    (0x0000_0040, "NEGOTIATE_DATAGRAM"),
    (0x0000_0080, "NEGOTIATE_LM_KEY"),
    (0x0000_0200, "NEGOTIATE_NTLM"),
    (0x0000_0800, "ANONYMOUS"),
    (0x0000_1000, "NEGOTIATE_OEM_DOMAIN_SUPPLIED"),
    (0x0000_2000, "NEGOTIATE_OEM_WORKSTATION_SUPPLIED"),
    (0x0000_8000, "NEGOTIATE_ALWAYS_SIGN"),
    (0x0001_0000, "TARGET_TYPE_DOMAIN"),
    (0x0002_0000, "TARGET_TYPE_SERVER"),
    (0x0008_0000, "NEGOTIATE_EXTENDED_SESSIONSECURITY"),
    (0x0010_0000, "NEGOTIATE_IDENTIFY"),
    (0x0040_0000, "REQUEST_NON_NT_SESSION_KEY"),
    (0x0080_0000, "NEGOTIATE_TARGET_INFO"),
    (0x0200_0000, "NEGOTIATE_VERSION"),
    (0x2000_0000, "NEGOTIATE_128"),
    (0x4000_0000, "NEGOTIATE_KEY_EXCH"),
    (0x8000_0000, "NEGOTIATE_56"),
];

const FLAG_UNICODE: u32 = 0x0000_0001;
const FLAG_VERSION: u32 = 0x0200_0000;

/// The bit of the negotiate flag spelled `s` as [`flag_names`] gives it.
pub(crate) fn flag_bit(s: &str) -> Option<u32> {
    FLAG_NAMES
        .iter()
        .find(|(_, name)| *name == s)
        .map(|(bit, _)| *bit)
}

/// Names of the set negotiate flags, in bit order.
pub fn flag_names(flags: u32) -> Vec<&'static str> {
    FLAG_NAMES
        .iter()
        .filter(|(bit, _)| flags & bit != 0)
        .map(|(_, name)| *name)
        .collect()
}

fn u16_at(b: &[u8], off: usize) -> Result<u16, NtlmError> {
    b.get(off..off + 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
        .ok_or(NtlmError::Truncated(off))
}

fn u32_at(b: &[u8], off: usize) -> Result<u32, NtlmError> {
    b.get(off..off + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or(NtlmError::Truncated(off))
}

/// A security buffer (len u16, maxlen u16, offset u32) resolved to its bytes.
fn sec_buf<'a>(b: &'a [u8], at: usize, field: &'static str) -> Result<&'a [u8], NtlmError> {
    let len = u16_at(b, at)? as usize;
    let off = u32_at(b, at + 4)? as usize;
    if len == 0 {
        return Ok(&[]);
    }
    b.get(off..off.saturating_add(len))
        .ok_or(NtlmError::BadOffset { field })
}

/// The byte range a security buffer claims, unchecked against the message.
fn sec_span(b: &[u8], at: usize) -> Result<(usize, usize), NtlmError> {
    let len = u16_at(b, at)? as usize;
    let off = u32_at(b, at + 4)? as usize;
    Ok((off, off.saturating_add(len)))
}

/// Two non-empty byte ranges share a byte.
fn overlaps(a: (usize, usize), b: (usize, usize)) -> bool {
    a.0 < a.1 && b.0 < b.1 && a.0 < b.1 && b.0 < a.1
}

fn decode_str(bytes: &[u8], unicode: bool) -> Option<String> {
    if bytes.is_empty() {
        return None;
    }
    let s = if unicode {
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else {
        String::from_utf8_lossy(bytes).into_owned()
    };
    Some(s)
}

fn version_at(b: &[u8], off: usize, flags: u32) -> Option<String> {
    if flags & FLAG_VERSION == 0 {
        return None;
    }
    let v = b.get(off..off + 4)?;
    Some(format!(
        "{}.{}.{}",
        v[0],
        v[1],
        u16::from_le_bytes([v[2], v[3]])
    ))
}

/// Parses one NTLMSSP message (the raw bytes, already base64-decoded).
pub fn parse(b: &[u8]) -> Result<NtlmMessage, NtlmError> {
    if b.get(..8) != Some(SIGNATURE.as_slice()) {
        return Err(NtlmError::NoSignature);
    }
    let mut m = NtlmMessage {
        message_type: NtlmMessageType::Negotiate,
        flags: Vec::new(),
        domain: None,
        user: None,
        workstation: None,
        target_name: None,
        target_info: Vec::new(),
        nt_response: None,
        os_version: None,
    };
    match u32_at(b, 8)? {
        1 => {
            let flags = u32_at(b, 12)?;
            m.flags = flag_names(flags);
            // Domain and workstation are optional in old type 1 messages (16 bytes long).
            if b.len() >= 32 {
                m.domain = decode_str(sec_buf(b, 16, "domain")?, false);
                m.workstation = decode_str(sec_buf(b, 24, "workstation")?, false);
                m.os_version = version_at(b, 32, flags);
            }
        }
        2 => {
            m.message_type = NtlmMessageType::Challenge;
            let flags = u32_at(b, 20)?;
            m.flags = flag_names(flags);
            let unicode = flags & FLAG_UNICODE != 0;
            m.target_name = decode_str(sec_buf(b, 12, "target_name")?, unicode);
            if b.len() >= 48 {
                let info = sec_buf(b, 40, "target_info")?;
                m.target_info = av_pairs(info);
                m.os_version = version_at(b, 48, flags);
            }
        }
        3 => {
            m.message_type = NtlmMessageType::Authenticate;
            let flags = u32_at(b, 60)?;
            m.flags = flag_names(flags);
            let unicode = flags & FLAG_UNICODE != 0;
            // Only the length of the NT response is looked at, never its bytes.
            let nt_len = u16_at(b, 20)?;
            m.nt_response = Some(match nt_len {
                0 => NtResponseKind::Anonymous,
                24 => NtResponseKind::NTLMv1,
                _ => NtResponseKind::NTLMv2,
            });
            // The LM and NT responses and the session key are credentials. In a
            // corrupted message the names or the version may claim their bytes, and
            // would print them: such a name makes the message malformed, such a
            // version is not read.
            let secrets = [sec_span(b, 12)?, sec_span(b, 20)?, sec_span(b, 52)?];
            let name = |at: usize, field: &'static str| {
                let span = sec_span(b, at)?;
                if secrets.iter().any(|&s| overlaps(s, span)) {
                    return Err(NtlmError::Overlaps { field });
                }
                Ok(decode_str(sec_buf(b, at, field)?, unicode))
            };
            m.domain = name(28, "domain")?;
            m.user = name(36, "user")?;
            m.workstation = name(44, "workstation")?;
            if !secrets.iter().any(|&s| overlaps(s, (64, 68))) {
                m.os_version = version_at(b, 64, flags);
            }
        }
        t => return Err(NtlmError::UnknownType(t)),
    }
    Ok(m)
}

/// Names from the type 2 target info (MS-NLMP 2.2.2.1 AV_PAIR), bounded.
fn av_pairs(mut b: &[u8]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    while out.len() < 16 {
        let (Ok(id), Ok(len)) = (u16_at(b, 0), u16_at(b, 2)) else {
            break;
        };
        let Some(value) = b.get(4..4 + len as usize) else {
            break;
        };
        let name = match id {
            0 => break, // MsvAvEOL
            1 => "nb_computer",
            2 => "nb_domain",
            3 => "dns_computer",
            4 => "dns_domain",
            5 => "dns_tree",
            _ => "",
        };
        if !name.is_empty()
            && let Some(v) = decode_str(value, true)
        {
            out.push((name.to_string(), v));
        }
        b = b.get(4 + len as usize..).unwrap_or_default();
    }
    out
}

/// Finds an NTLMSSP message inside a SPNEGO (`Negotiate`) token, if one is wrapped.
pub fn find_in_spnego(token: &[u8]) -> Option<&[u8]> {
    let pos = token.windows(8).position(|w| w == SIGNATURE)?;
    token.get(pos..)
}

/// Kerberos V5 mechanism OID 1.2.840.113554.1.2.2 (and the MS variant 1.2.840.48018.1.2.2).
pub fn spnego_mentions_kerberos(token: &[u8]) -> bool {
    const KRB5: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02];
    const MS_KRB5: &[u8] = &[0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02];
    token.windows(KRB5.len()).any(|w| w == KRB5 || w == MS_KRB5)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
pub(crate) mod tests {
    use super::*;
    use crate::report::json::schema::Ntlm as Shown;

    fn sec(len: u16, off: u32) -> Vec<u8> {
        let mut v = len.to_le_bytes().to_vec();
        v.extend(len.to_le_bytes());
        v.extend(off.to_le_bytes());
        v
    }

    fn utf16(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
    }

    /// A type 1 message with OEM domain `CORP` and workstation `WS01`.
    pub(crate) fn type1() -> Vec<u8> {
        let mut m = SIGNATURE.to_vec();
        m.extend(1u32.to_le_bytes());
        m.extend(0xa208_b207u32.to_le_bytes());
        m.extend(sec(4, 40));
        m.extend(sec(4, 44));
        m.extend([10, 0, 0x61, 0x4a, 0, 0, 0, 0x0f]);
        m.extend(b"CORPWS01");
        m
    }

    /// A type 2 message with target name `CORP` and target info.
    pub(crate) fn type2() -> Vec<u8> {
        let name = utf16("CORP");
        let mut info = Vec::new();
        info.extend(2u16.to_le_bytes());
        info.extend((utf16("CORP").len() as u16).to_le_bytes());
        info.extend(utf16("CORP"));
        info.extend(4u16.to_le_bytes());
        info.extend((utf16("corp.example").len() as u16).to_le_bytes());
        info.extend(utf16("corp.example"));
        info.extend([0, 0, 0, 0]);
        let mut m = SIGNATURE.to_vec();
        m.extend(2u32.to_le_bytes());
        m.extend(sec(name.len() as u16, 56));
        m.extend(0x0281_0205u32.to_le_bytes());
        m.extend([0x11; 8]); // server challenge
        m.extend([0; 8]);
        m.extend(sec(info.len() as u16, 56 + name.len() as u32));
        m.extend([6, 1, 0xb1, 0x1d, 0, 0, 0, 0x0f]);
        m.extend(name);
        m.extend(info);
        m
    }

    /// A type 3 message from CORP\alice on WS01 with an NTLMv2 response holding `canary`.
    pub(crate) fn type3(canary: &[u8]) -> Vec<u8> {
        let dom = utf16("CORP");
        let user = utf16("alice");
        let ws = utf16("WS01");
        let lm = vec![0xaa; 24];
        let mut nt = canary.to_vec();
        nt.resize(48.max(canary.len()), 0xbb);
        let base = 72u32;
        let mut off = base;
        let mut m = SIGNATURE.to_vec();
        m.extend(3u32.to_le_bytes());
        let mut payload: Vec<u8> = Vec::new();
        for part in [&lm, &nt] {
            m.extend(sec(part.len() as u16, off));
            off += part.len() as u32;
            payload.extend(part.iter());
        }
        for part in [&dom, &user, &ws] {
            m.extend(sec(part.len() as u16, off));
            off += part.len() as u32;
            payload.extend(part.iter());
        }
        m.extend(sec(0, off)); // session key
        m.extend(0xa288_8205u32.to_le_bytes());
        m.extend([10, 0, 0x61, 0x4a, 0, 0, 0, 0x0f]);
        assert_eq!(m.len(), base as usize);
        m.extend(payload);
        m
    }

    #[test]
    fn ntlm_type1() {
        let m = parse(&type1()).unwrap();
        assert_eq!(m.message_type, NtlmMessageType::Negotiate);
        assert_eq!(m.domain.as_deref(), Some("CORP"));
        assert_eq!(m.workstation.as_deref(), Some("WS01"));
        assert!(m.flags.contains(&"NEGOTIATE_NTLM"));
        assert_eq!(m.os_version.as_deref(), Some("10.0.19041"));
    }

    #[test]
    fn ntlm_type2() {
        let m = parse(&type2()).unwrap();
        assert_eq!(m.message_type, NtlmMessageType::Challenge);
        assert_eq!(m.target_name.as_deref(), Some("CORP"));
        assert!(
            m.target_info
                .contains(&("dns_domain".to_string(), "corp.example".to_string()))
        );
    }

    #[test]
    fn ntlm_type3_keeps_no_response() {
        let canary = b"CANARY-NT-RESPONSE-1234";
        let m = parse(&type3(canary)).unwrap();
        assert_eq!(m.message_type, NtlmMessageType::Authenticate);
        assert_eq!(m.user.as_deref(), Some("alice"));
        assert_eq!(m.domain.as_deref(), Some("CORP"));
        assert_eq!(m.workstation.as_deref(), Some("WS01"));
        assert_eq!(m.nt_response, Some(NtResponseKind::NTLMv2));
        let dbg = format!("{m:?}");
        let json = serde_json::to_string(&Shown::from(&m)).unwrap();
        assert!(!dbg.contains("CANARY") && !json.contains("CANARY"));
    }

    #[test]
    fn ntlm_truncated_every_length() {
        for blob in [type1(), type2(), type3(b"x")] {
            for n in 0..blob.len() {
                let _ = parse(&blob[..n]); // must not panic
            }
        }
        assert_eq!(parse(&type3(b"x")[..30]), Err(NtlmError::Truncated(60)));
    }

    #[test]
    fn ntlm_impossible_offset() {
        let mut b = type3(b"x");
        b[40..44].copy_from_slice(&u32::MAX.to_le_bytes()); // user offset
        assert_eq!(parse(&b), Err(NtlmError::BadOffset { field: "user" }));
    }

    #[test]
    fn ntlm_type3_names_never_read_from_the_responses() {
        // Found by the secrets_leak fuzz target: a corrupted type 3 whose domain
        // pointed into the LM response printed the response as the domain, and a
        // version flag with no version field printed its first bytes as the version.
        let canary = b"CANARY-NT-RESPONSE-1234";
        let t3 = type3(canary);
        for (at, field) in [(28, "domain"), (36, "user"), (44, "workstation")] {
            // Onto the LM response (offset 72), onto the NT response (96).
            for off in [72u32, 90, 100] {
                let mut b = t3.clone();
                b[at..at + 8].copy_from_slice(&sec(12, off));
                assert_eq!(
                    parse(&b),
                    Err(NtlmError::Overlaps { field }),
                    "{field} at {off}"
                );
            }
        }
        // A session key spanning the names.
        let mut b = t3.clone();
        b[52..60].copy_from_slice(&sec(40, 150));
        assert_eq!(parse(&b), Err(NtlmError::Overlaps { field: "domain" }));
        // No version field: the payload (the LM response) starts at offset 64.
        let mut b = t3.clone();
        b.drain(64..72);
        for at in [12, 20, 28, 36, 44, 52] {
            let off = u32::from_le_bytes(b[at + 4..at + 8].try_into().unwrap());
            b[at + 4..at + 8].copy_from_slice(&(off - 8).to_le_bytes());
        }
        let m = parse(&b).unwrap();
        assert_eq!(m.user.as_deref(), Some("alice"));
        assert_eq!(m.os_version, None);
        // Names next to the responses, not on them, are kept.
        assert_eq!(
            parse(&t3).unwrap().os_version.as_deref(),
            Some("10.0.19041")
        );
    }

    #[test]
    fn ntlm_in_spnego() {
        let mut tok = vec![0xa1, 0x81, 0x99, 0x30];
        tok.extend(type1());
        assert_eq!(
            parse(find_in_spnego(&tok).unwrap()).unwrap().message_type,
            NtlmMessageType::Negotiate
        );
    }
}
