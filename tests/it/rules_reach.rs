//! Refused connections on synthetic captures: a local proxy helper that is down, the
//! user's `--proxy` / `--gateway` hints, and happy eyeballs (a refused address the
//! client made good on at once on the other family) that must not read as a failure.

use std::net::{IpAddr, Ipv6Addr};
use trafficdoc::analyze::endpoint::Endpoint;
use trafficdoc::analyze::{self, Config, Finding, FindingKind, Severity};
use trafficdoc::flow::table::TableConfig;
use trafficdoc::pipeline;

use crate::common::synth::Pcap;

const V4: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
const V6: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);

fn findings(p: &Pcap, cfg: &Config) -> Vec<Finding> {
    let c = pipeline::analyze_reader(
        "synthetic.pcap",
        std::io::Cursor::new(p.bytes.clone()),
        TableConfig::default(),
        &mut |_| {},
    )
    .unwrap();
    analyze::analyze(&[c], cfg)
}

fn kinds(f: &[Finding]) -> Vec<(FindingKind, Severity)> {
    f.iter().map(|x| (x.kind, x.severity)).collect()
}

fn ep(s: &str) -> Endpoint {
    Endpoint::parse(s).unwrap()
}

#[test]
fn a_local_proxy_helper_that_is_down_is_section_1() {
    let mut p = Pcap::new();
    p.refused((V4, 40000), (V4, 3128));
    p.refused((V6, 40001), (V6, 3128));
    let f = findings(&p, &Config::default());
    assert_eq!(
        kinds(&f),
        vec![
            (FindingKind::ProxyConnectionRefused, Severity::Error),
            (FindingKind::ProxyConnectionRefused, Severity::Error)
        ]
    );
    assert!(f.iter().all(|x| x.guide_section == Some(1)));
    assert!(f[0].title.contains("127.0.0.1:3128") || f[1].title.contains("127.0.0.1:3128"));
}

#[test]
fn a_refused_connection_elsewhere_is_a_warning_naming_it() {
    let mut p = Pcap::new();
    p.refused((V4, 40000), (V4, 5555));
    let f = findings(&p, &Config::default());
    assert_eq!(
        kinds(&f),
        vec![(FindingKind::ConnectionRefused, Severity::Warning)]
    );
    assert_eq!(f[0].title, "Connection to 127.0.0.1:5555 refused");
    assert_eq!(f[0].guide_section, None);
}

#[test]
fn the_proxy_hint_makes_any_port_the_proxy() {
    let mut p = Pcap::new();
    p.refused((V4, 40000), (V4, 5555));
    p.refused((V6, 40001), (V6, 5555));
    for hint in ["127.0.0.1:5555", "localhost:5555"] {
        let cfg = Config {
            proxy_hints: vec![ep(hint)],
            ..Config::default()
        };
        let f = findings(&p, &cfg);
        let want = if hint.starts_with("localhost") { 2 } else { 1 };
        let refused = f
            .iter()
            .filter(|x| x.kind == FindingKind::ProxyConnectionRefused)
            .count();
        assert_eq!(refused, want, "{hint}: {:?}", kinds(&f));
        assert!(
            f.iter()
                .all(|x| x.severity != Severity::Error || x.guide_section == Some(1))
        );
    }
    // A name the capture's DNS never answered cannot be matched to an address.
    let cfg = Config {
        proxy_hints: vec![ep("cntlm.corp.example:5555")],
        ..Config::default()
    };
    let f = findings(&p, &cfg);
    assert!(
        f.iter().all(|x| x.kind == FindingKind::ConnectionRefused),
        "{:?}",
        kinds(&f)
    );
}

#[test]
fn the_gateway_hint_makes_any_port_the_gateway() {
    let mut p = Pcap::new();
    p.refused((V4, 40000), (V4, 5000));
    let cfg = Config {
        gateway_hints: vec![ep("127.0.0.1:5000")],
        ..Config::default()
    };
    let f = findings(&p, &cfg);
    assert_eq!(
        kinds(&f),
        vec![(FindingKind::GatewayNotListening, Severity::Error)]
    );
    assert_eq!(f[0].guide_section, Some(4));
}

#[test]
fn happy_eyeballs_to_the_gateway_is_info() {
    let mut p = Pcap::new();
    p.refused((V6, 40000), (V6, 4000));
    p.accepted((V4, 40001), (V4, 4000));
    let f = findings(&p, &Config::default());
    assert_eq!(
        kinds(&f),
        vec![(FindingKind::ListensOnOneFamily, Severity::Info)]
    );
    assert!(f[0].title.contains("IPv4 only"), "{}", f[0].title);
    assert_eq!(f[0].evidence[0].frames, vec![1, 2, 3]);
    assert!(!analyze::has_error(&f));
}

#[test]
fn happy_eyeballs_to_the_proxy_is_info_either_way_round() {
    for (refused, ok, only) in [(V6, V4, "IPv4 only"), (V4, V6, "IPv6 only")] {
        let mut p = Pcap::new();
        p.refused((refused, 40000), (refused, 3128));
        p.accepted((ok, 40001), (ok, 3128));
        let f = findings(&p, &Config::default());
        assert_eq!(
            kinds(&f),
            vec![(FindingKind::ListensOnOneFamily, Severity::Info)]
        );
        assert!(f[0].title.starts_with("Proxy "), "{}", f[0].title);
        assert!(f[0].title.contains(only), "{}", f[0].title);
    }
}

#[test]
fn a_success_too_late_or_on_another_port_is_no_fallback() {
    // More than a second later: the gateway was down when asked.
    let mut p = Pcap::new();
    p.refused((V6, 40000), (V6, 4000));
    p.usec += 2_000_000;
    p.accepted((V4, 40001), (V4, 4000));
    let f = findings(&p, &Config::default());
    assert_eq!(
        kinds(&f),
        vec![(FindingKind::GatewayNotListening, Severity::Error)]
    );
    // Another port, or the same family: not the same service.
    let mut p = Pcap::new();
    p.refused((V6, 40000), (V6, 4000));
    p.accepted((V4, 40001), (V4, 4001));
    p.refused((V4, 40002), (V4, 3128));
    p.accepted((V4, 40003), (V4, 3128));
    let f = findings(&p, &Config::default());
    let k = kinds(&f);
    assert!(
        k.contains(&(FindingKind::GatewayNotListening, Severity::Error)),
        "{k:?}"
    );
    assert!(
        k.contains(&(FindingKind::ProxyConnectionRefused, Severity::Error)),
        "{k:?}"
    );
    assert!(
        !k.iter().any(|(x, _)| *x == FindingKind::ListensOnOneFamily),
        "{k:?}"
    );
}
