//! What `scripts/install` puts in place comes from the clap definitions: the man pages
//! and the shell completions know every command and flag, and stay out of `--help`.

use crate::common::*;

#[test]
fn man_page_and_completions_follow_the_command_line() {
    let man = run(&["man"]);
    assert_eq!(man.code, 0);
    assert!(man.stdout.starts_with(".ie") || man.stdout.contains(".TH trafficdoc 1"));
    assert!(man.stdout.contains("analyze"), "{}", man.stdout);
    let dir = tempfile::tempdir().unwrap();
    let r = run(&["man", "--dir", dir.path().to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let page = std::fs::read_to_string(dir.path().join("trafficdoc-analyze.1")).unwrap();
    for flag in ["summary", "fail\\-on", "severity", "Exit codes"] {
        assert!(page.contains(flag), "{flag} missing in the analyze page");
    }
    for shell in ["bash", "zsh", "fish"] {
        let c = run(&["completions", shell]);
        assert_eq!(c.code, 0);
        for word in ["analyze", "explain", "fail-on", "summary"] {
            assert!(c.stdout.contains(word), "{shell}: {word} missing");
        }
    }
    // Tools for installing, not for people at a prompt.
    use clap::Parser;
    let help = trafficdoc::cli::Cli::try_parse_from(["trafficdoc", "--help"])
        .unwrap_err()
        .to_string();
    let listed = |c: &str| help.lines().any(|l| l.trim_start().starts_with(c));
    assert!(listed("analyze"), "{help}");
    assert!(!listed("completions") && !listed("man "), "{help}");
}
