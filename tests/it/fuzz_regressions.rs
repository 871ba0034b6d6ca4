//! Replays every input under tests/regressions/<target>/ through the same code the
//! fuzz target runs (fuzz/targets.rs): inputs that once crashed trafficdoc, minimised
//! by `cargo fuzz tmin`, and hand-made edge cases of fixed bugs. A folder that is empty
//! (or missing) fails the test: every target keeps at least one guard.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

#[test]
fn every_fuzz_regression_input_replays_without_a_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut failures = Vec::new();
    let mut total = 0;
    for target in crate::targets::TARGETS {
        let dir = root.join(target);
        let mut inputs: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .collect();
        inputs.sort();
        assert!(
            !inputs.is_empty(),
            "{}: no regression inputs: every fuzz target keeps at least one",
            dir.display()
        );
        for p in inputs {
            let data = std::fs::read(&p).unwrap();
            total += 1;
            if catch_unwind(AssertUnwindSafe(|| crate::targets::run(target, &data))).is_err() {
                failures.push(p.display().to_string());
            }
        }
    }
    assert!(failures.is_empty(), "panicked on: {failures:#?}");
    eprintln!("{total} regression inputs replayed");
}

/// The http2_frames seeds are worth something: two streams decode (the second from
/// the header table the first filled), and a lost record stops the server's headers.
#[test]
fn http2_seeds_decode_streams_and_a_lost_record() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions/http2_frames");
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    let (ex, notes) = crate::targets::http2_frames_facts(&read("two-streams-429-goaway"));
    let got: Vec<_> = ex
        .iter()
        .map(|e| (e.host.as_deref(), e.status, e.error_message.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            (Some("api.example"), Some(429), Some("slow down")),
            (Some("api.example"), Some(200), None),
        ],
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|n| n.contains("ENHANCE_YOUR_CALM")),
        "{notes:?}"
    );
    let (ex, notes) = crate::targets::http2_frames_facts(&read("server-record-lost"));
    assert!(ex.iter().all(|e| e.status.is_none()), "{ex:?}");
    assert!(
        notes.iter().any(|n| n.contains("header compression")),
        "{notes:?}"
    );
}

/// The secrets_leak seeds are worth something: the decoder does see the credentials
/// around which the fuzzer corrupts the dialogue.
#[test]
fn secrets_leak_seeds_carry_credentials_the_decoder_sees() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions/secrets_leak");
    let facts =
        |name: &str| crate::targets::secrets_leak_facts(&std::fs::read(dir.join(name)).unwrap());
    let f = facts("connect-basic-407");
    assert_eq!(
        f.http[0].credentials[0].user.as_deref(),
        Some("bob"),
        "{f:?}"
    );
    assert_eq!(f.http[0].status, Some(407), "{f:?}");
    let f = facts("post-bearer-apikey-cookie-401");
    let ex = &f.http[0];
    assert_eq!(&*ex.credentials[0].scheme, "Bearer", "{f:?}");
    assert_eq!(ex.api_key.as_deref(), Some("sk-proj-…7Kp1"), "{f:?}");
    assert!(ex.has_cookie, "{f:?}");
    assert!(
        ex.error_message
            .as_deref()
            .is_some_and(|m| m.contains("sk-proj-…7Kp1")),
        "{f:?}"
    );
    let f = facts("get-ntlm-type3-200");
    assert_eq!(
        f.http[0].credentials[0].user.as_deref(),
        Some("alice"),
        "{f:?}"
    );
    let f = facts("digest-and-negotiate-pieces-of-7");
    let users: Vec<_> = f.http[0]
        .credentials
        .iter()
        .map(|c| c.user.as_deref())
        .collect();
    // Proxy-Authorization (the NTLM one) is listed before Authorization.
    assert_eq!(users, [Some("alice"), Some("bob")], "{f:?}");
    // The whole pipeline sees them too: the reports the target checks hold the facts.
    for (seed, shown) in [
        ("connect-basic-407", "\"bob\""),
        ("post-bearer-apikey-cookie-401", "sk-proj-…7Kp1"),
        ("get-ntlm-type3-200", "\"alice\""),
    ] {
        let reports = crate::targets::secrets_leak_reports(&std::fs::read(dir.join(seed)).unwrap());
        assert!(reports[0].1.contains(shown), "{seed}: {}", reports[0].1);
        assert!(reports[1].1.contains(":3128"), "{seed}: {}", reports[1].1);
    }
}

/// The secrets_leak check does fail when a canary is printed, in each encoding.
#[test]
fn secrets_leak_check_catches_a_printed_canary() {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    for text in [
        "user bob, password CANARYpw-Basic-5d2e81a7".to_string(),
        format!("token {}", b64.encode("bob:CANARYpw-Basic-5d2e81a7")),
        format!("token {}", b64.encode("carol:CANARYpw-Basic-5d2e81a7")),
        "key sk-proj-CANARYapikeyMIDDLE0b8d4e21-end7Kp1".to_string(),
        "nt 4c4d524553502d43414e4152592d30313233343536373839".to_string(),
        "nt 4C4D524553502D43414E4152592D30313233343536373839".to_string(),
        "user NTRESP-CANARY-v2proof".to_string(),
        format!("cookie {}", b64.encode("s=CANARYcookie-4a9f0c7e2b")),
    ] {
        let r = catch_unwind(AssertUnwindSafe(|| {
            crate::targets::secrets_leak_check(&text)
        }));
        assert!(r.is_err(), "not caught: {text}");
    }
    // What the project prints on purpose is no leak.
    crate::targets::secrets_leak_check(
        "Bearer sk-ant-oat01-…9x2Q, api key sk-proj-…7Kp1, user bob",
    );
}
