//! The lab's variants of the wild cases (`fixtures/captures/v-*`, recorded by
//! fixtures/lab/scenarios/variants*.sh with other clients, proxies, ports, address
//! families and capture styles): what the report says in words, beyond the sections
//! and exit codes the diagnosis test checks (and of the section fixtures where the
//! same wording applies).

use crate::common::{fixture_file, run};
use serde_json::Value;

fn report(name: &str, extra: &[&str]) -> (u8, Value) {
    let path = fixture_file(name);
    let mut args = vec!["analyze", "--format", "json"];
    args.extend_from_slice(extra);
    args.push(path.to_str().unwrap());
    let r = run(&args);
    (r.code, serde_json::from_str(&r.stdout).unwrap())
}

fn findings(v: &Value) -> &Vec<Value> {
    v["findings"].as_array().unwrap()
}

fn of_kind<'a>(v: &'a Value, id: &str) -> Vec<&'a Value> {
    findings(v).iter().filter(|f| f["id"] == id).collect()
}

fn text(f: &Value) -> String {
    serde_json::to_string(f).unwrap()
}

#[test]
fn a_proxy_that_refuses_some_connections_is_intermittent_with_its_ratio() {
    let (code, v) = report("v-squid-refuses-some-python.pcap", &[]);
    assert_eq!(code, 1);
    let f = of_kind(&v, "proxy_connection_refused");
    assert_eq!(f.len(), 1, "{f:?}");
    let title = f[0]["title"].as_str().unwrap();
    assert!(
        title.contains("of 80 connections") && title.contains("intermittent"),
        "{title}"
    );
    let all = text(f[0]);
    assert!(!all.contains("nothing listens"), "{all}");
}

#[test]
fn a_lone_syn_to_the_gateway_at_the_capture_end_is_not_a_dead_gateway() {
    let (code, v) = report("v-capture-ends-after-syn-gateway.pcapng", &[]);
    assert_eq!(code, 0, "{v:#}");
    assert!(findings(&v).is_empty(), "{:#}", v["findings"]);
}

#[test]
fn a_local_ipv6_proxy_named_by_the_user_gets_a_bracketed_proxy_url() {
    let (code, v) = report(
        "v-local-proxy-down-v6-9090.pcapng",
        &["--proxy", "[::1]:9090", "--proxy", "127.0.0.1:9090"],
    );
    assert_eq!(code, 1);
    let f = of_kind(&v, "proxy_connection_refused");
    assert_eq!(f.len(), 2, "{f:?}");
    // The first to fail comes first: the client tried [::1] first.
    assert_eq!(
        v["summary"]["first_failure"]["title"],
        "Connection to proxy [::1]:9090 refused"
    );
    assert!(text(f[0]).contains("http://[::1]:9090"), "{}", text(f[0]));
    assert!(!text(&v["findings"]).contains("http://::1"));
    // Without the hint the refusals are still reported, as warnings naming --proxy.
    let (code, v) = report("v-local-proxy-down-v6-9090.pcapng", &[]);
    assert_eq!(code, 0);
    let f = of_kind(&v, "connection_refused");
    assert_eq!(f.len(), 2, "{f:?}");
    assert!(text(f[0]).contains("--proxy"), "{}", text(f[0]));
}

#[test]
fn a_helper_whose_parent_is_not_in_the_capture_is_fixed_in_cntlm_conf() {
    let (code, v) = report("v-cntlm-lo-only-parent-refuses.pcapng", &[]);
    assert_eq!(code, 1);
    let f = of_kind(&v, "proxy_helper_auth_rejected");
    assert_eq!(f.len(), 1, "{:#}", v["findings"]);
    let remedy = f[0]["remedy"].to_string();
    assert!(remedy.contains("cntlm.conf"), "{remedy}");
    assert!(!remedy.contains("PARENT "), "{remedy}");
    // The set-up step names the parent, never the helper as its own parent.
    assert!(!remedy.contains("`Proxy 127.0.0.1:3129`"), "{remedy}");
    assert!(!remedy.contains("@127.0.0.1"), "{remedy}");
}

#[test]
fn each_proxy_answering_with_its_own_error_has_its_finding_in_time_order() {
    let (code, v) = report("v-proxy-errors-tinyproxy-mitmproxy.pcapng", &[]);
    assert_eq!(code, 1);
    let f = of_kind(&v, "proxy_upstream_failed");
    let titles: Vec<&str> = f.iter().map(|f| f["title"].as_str().unwrap()).collect();
    assert_eq!(titles.len(), 2, "{titles:?}");
    assert!(titles[0].contains("10.200.1.1:8888"), "{titles:?}");
    assert!(titles[1].contains("10.200.1.1:8080"), "{titles:?}");
    assert_eq!(v["summary"]["first_failure"]["title"], titles[0]);
    // The answer that took the proxy's connect time-out says how long.
    let seen = text(f[0]);
    assert!(seen.contains("(after 7."), "{seen}");
}

#[test]
fn the_gateways_own_rate_limit_is_told_apart_from_the_providers() {
    let (code, v) = report("v-gateway-429-only.pcap", &[]);
    assert_eq!(code, 1);
    let f = of_kind(&v, "rate_limited");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["severity"], "error");
    assert!(
        f[0]["title"].as_str().unwrap().contains("gateway"),
        "{}",
        f[0]["title"]
    );
    let all = text(f[0]);
    assert!(all.contains("No deployments available"), "{all}");
    assert!(all.contains("rpm"), "{all}");
    // A provider's 429 through a proxy stays the provider's, a warning once it passed.
    let (code, v) = report("v-429-then-success-python.pcap", &[]);
    assert_eq!(code, 0);
    let f = of_kind(&v, "rate_limited");
    assert_eq!(f[0]["title"], "Rate limited by api.anthropic.com (429)");
    assert_eq!(f[0]["severity"], "warning");
}

#[test]
fn a_client_timing_out_on_the_whole_exchange_inside_a_tunnel_is_reported() {
    // Node's 2 s signal and curl's --max-time 1: curl spent part of its second on
    // CONNECT and the handshake, so it waited less than a second for the answer.
    let (code, v) = report("v-tunnel-silent-node-tinyproxy.pcapng", &[]);
    assert_eq!(code, 1);
    let f = of_kind(&v, "request_unanswered");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["flows"].as_array().unwrap().len(), 2, "{}", text(f[0]));
}

#[test]
fn a_client_refused_on_the_loopback_family_the_proxy_does_not_listen_on_is_told_where_it_does() {
    let (code, v) = report("v-local-proxy-ipv6-only.pcap", &[]);
    assert_eq!(code, 1);
    let f = of_kind(&v, "proxy_connection_refused");
    assert_eq!(f.len(), 1, "{:#}", v["findings"]);
    let title = f[0]["title"].as_str().unwrap();
    assert!(
        title.contains("listens on [::1]:8888 (IPv6) only"),
        "{title}"
    );
    assert!(
        f[0]["remedy"][0]
            .as_str()
            .unwrap()
            .contains("HTTPS_PROXY=http://[::1]:8888"),
        "{}",
        f[0]["remedy"]
    );
    // The clients that fell back are information, not errors.
    let info = of_kind(&v, "listens_on_one_family");
    assert_eq!(info.len(), 1);
    assert_eq!(info[0]["severity"], "info");
}

#[test]
fn a_helper_relaying_its_parents_upstream_error_sends_the_user_to_the_parent() {
    let (code, v) = report("v-cntlm-parent-upstream-fails.pcap", &[]);
    assert_eq!(code, 1);
    let f = of_kind(&v, "proxy_upstream_failed");
    assert_eq!(f.len(), 2, "{:#}", v["findings"]);
    for f in f {
        let remedy = f["remedy"].to_string();
        // tinyproxy's failure is named; IT is asked about the parent, not the helper.
        assert!(remedy.contains("Unable to connect"), "{remedy}");
        assert!(remedy.contains("10.200.1.1:8888 may reach it"), "{remedy}");
        assert!(!remedy.contains("403"), "{remedy}");
    }
}

#[test]
fn a_proxy_name_with_an_address_the_proxy_does_not_serve_is_information_about_dns() {
    let (code, v) = report("v-proxy-name-ipv6-refused-fallback.pcapng", &[]);
    assert_eq!(code, 0);
    let f = of_kind(&v, "listens_on_one_family");
    assert_eq!(f.len(), 1, "{:#}", v["findings"]);
    assert_eq!(f[0]["severity"], "info");
    let remedy = f[0]["remedy"].to_string();
    assert!(
        remedy.contains("proxy.corp.example resolves to 2001:db8:1::1"),
        "{remedy}"
    );
    assert!(!remedy.contains("loopback"), "{remedy}");
}

#[test]
fn a_request_the_client_closed_unanswered_says_the_client_gave_up_and_when() {
    // curl (--max-time 8) through squid, whose connection to the origin hangs.
    let (code, v) = report("s5-connect-blackhole.pcap", &[]);
    assert_eq!(code, 1);
    let f = of_kind(&v, "request_unanswered");
    let title = f[0]["title"].as_str().unwrap();
    assert!(title.contains("the client gave up after 8.0 s"), "{title}");
    assert!(
        text(f[0]).contains("the client closed 8.0 s after it"),
        "{}",
        text(f[0])
    );
}

#[test]
fn a_client_refused_by_a_gateway_on_the_other_loopback_family_is_told_where_it_listens() {
    let (code, v) = report("v-gateway-ipv6-only.pcapng", &[]);
    assert_eq!(code, 1);
    let f = of_kind(&v, "gateway_not_listening");
    assert_eq!(f.len(), 1, "{:#}", v["findings"]);
    let title = f[0]["title"].as_str().unwrap();
    assert!(
        title.contains("listens on [::1]:4000 (IPv6) only"),
        "{title}"
    );
    assert!(!text(f[0]).contains("not running"), "{}", text(f[0]));
}

#[test]
fn a_gateway_that_refuses_some_connections_is_intermittent_and_not_told_to_start() {
    let (code, v) = report("v-gateway-refuses-some.pcap", &[]);
    assert_eq!(code, 1);
    let f = of_kind(&v, "gateway_not_listening");
    assert_eq!(f.len(), 1, "{:#}", v["findings"]);
    let title = f[0]["title"].as_str().unwrap();
    assert!(
        title.contains("of 40 connections") && title.contains("intermittent"),
        "{title}"
    );
    let remedy = f[0]["remedy"].to_string();
    assert!(!remedy.contains("Start it"), "{remedy}");
    assert!(!text(f[0]).contains("not running"), "{}", text(f[0]));
}
