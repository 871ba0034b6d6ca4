//! How TLS numbers are written: versions as Wireshark/OpenSSL spell them, alerts in
//! Zeek's spelling, cipher suites by their IANA name. The facts keep the numbers;
//! the report and the findings' wording call these.

use super::fingerprint::is_grease;
use std::borrow::Cow;
use tls_parser::{
    TlsAlertDescription, TlsAlertSeverity, TlsCipherSuite, TlsCipherSuiteID, TlsVersion,
};

/// Version name as Wireshark/OpenSSL write it (`TLSv1.3`, `SSLv3`, `GREASE(0x1a1a)`,
/// TLS 1.3 drafts as Wireshark names them, `TLSv1.3 (draft 23)`; else 4-digit hex).
pub fn version_name(v: TlsVersion) -> Cow<'static, str> {
    Cow::Borrowed(match v.0 {
        0x0304 => "TLSv1.3",
        0x0303 => "TLSv1.2",
        0x0302 => "TLSv1.1",
        0x0301 => "TLSv1.0",
        0x0300 => "SSLv3",
        0x0002 => "SSLv2",
        v @ 0x7f0e..=0x7f1c => return Cow::Owned(format!("TLSv1.3 (draft {})", v & 0xff)),
        v @ (0xfb17 | 0xfb1a) => {
            return Cow::Owned(format!("TLSv1.3 (Facebook draft {})", v & 0xff));
        }
        v if is_grease(v) => return Cow::Owned(format!("GREASE(0x{v:04x})")),
        v => return Cow::Owned(format!("0x{v:04x}")),
    })
}

/// Cipher suite by its IANA name, or 4-digit hex when tls-parser does not know it.
pub fn cipher_name(c: TlsCipherSuiteID) -> Cow<'static, str> {
    match TlsCipherSuite::from_id(c.0) {
        Some(s) => Cow::Borrowed(s.name),
        None => Cow::Owned(format!("0x{:04x}", c.0)),
    }
}

/// `warning`, `fatal`, or `unknown_N`.
pub fn severity_name(s: TlsAlertSeverity) -> Cow<'static, str> {
    match s {
        TlsAlertSeverity::Warning => Cow::Borrowed("warning"),
        TlsAlertSeverity::Fatal => Cow::Borrowed("fatal"),
        TlsAlertSeverity(n) => Cow::Owned(format!("unknown_{n}")),
    }
}

/// Alert description name (RFC 8446 6, IANA TLS Alerts registry), Zeek's spelling;
/// `unknown_N` for an unassigned code.
pub fn alert_name(d: TlsAlertDescription) -> Cow<'static, str> {
    Cow::Borrowed(match d.0 {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        21 => "decryption_failed",
        22 => "record_overflow",
        30 => "decompression_failure",
        40 => "handshake_failure",
        41 => "no_certificate",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        60 => "export_restriction",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        109 => "missing_extension",
        110 => "unsupported_extension",
        111 => "certificate_unobtainable",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        114 => "bad_certificate_hash_value",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        n => return Cow::Owned(format!("unknown_{n}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_fallbacks() {
        assert_eq!(version_name(TlsVersion::Tls13), "TLSv1.3");
        assert_eq!(version_name(TlsVersion(0x2a2a)), "GREASE(0x2a2a)");
        assert_eq!(version_name(TlsVersion(0x7f17)), "TLSv1.3 (draft 23)");
        assert_eq!(version_name(TlsVersion(0x0305)), "0x0305");
        assert_eq!(
            cipher_name(TlsCipherSuiteID(0x1301)),
            "TLS_AES_128_GCM_SHA256"
        );
        assert_eq!(cipher_name(TlsCipherSuiteID(0xfefe)), "0xfefe");
        assert_eq!(severity_name(TlsAlertSeverity(2)), "fatal");
        assert_eq!(severity_name(TlsAlertSeverity(9)), "unknown_9");
        assert_eq!(alert_name(TlsAlertDescription(48)), "unknown_ca");
        assert_eq!(alert_name(TlsAlertDescription(200)), "unknown_200");
    }
}
