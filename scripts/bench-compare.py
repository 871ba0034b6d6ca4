#!/usr/bin/env python3
"""Compares a `trafficdoc analyze --format json` report with gen-capture's ground truth.

    scripts/bench-compare.py TRUTH.json REPORT.json

Prints one line per count (ok or MISMATCH, got vs truth) and exits 1 on any mismatch.
Used by scripts/bench-check and scripts/bench; the captures are GENERATED.
"""
import json, sys
from collections import Counter
truth = json.load(open(sys.argv[1]))
report = json.load(open(sys.argv[2]))
flows = report["flows"]
tcp = [f for f in flows if f["transport"] == "tcp"]
http = [x for f in flows for x in f.get("http", [])]
tls = [f["tls"] for f in flows if f.get("tls")]
dns = [d for f in flows for d in f.get("dns", [])]
got = {
    "frames": report["input"]["packets"],
    "bytes": report["input"]["bytes"],
    "tcp_connections": dict(Counter(f["state"] for f in tcp)),
    "udp_flows": sum(f["transport"] == "udp" for f in flows),
    "connects": sum(x.get("method") == "CONNECT" for x in http),
    "status": {str(k): v for k, v in Counter(x["status"] for x in http if x.get("status")).items()},
    "client_hellos": sum(t.get("client_hello_frame") is not None for t in tls),
    "server_hellos": sum(t.get("server_hello_frame") is not None for t in tls),
    "certificates": sum(len(t.get("certificates", [])) for t in tls),
    "tls_alerts": sum(len(t.get("alerts", [])) for t in tls),
    "rst_connections": sum(f["rst"] is not None for f in tcp),
    "dns_queries": sum(d.get("query_frame") is not None for d in dns),
    "nxdomain": sum(d.get("rcode") == "NXDOMAIN" for d in dns),
    "retransmissions": sum(f["retransmissions"]["client"] + f["retransmissions"]["server"] for f in tcp),
    "syn_retransmissions": sum(f["syn_retransmissions"] for f in tcp),
    "gaps": sum(f["gaps"]["client"] + f["gaps"]["server"] for f in tcp),
    "partial_flows": sum(f["partial"] for f in flows),
}
want = {k: truth[k] for k in got if k in truth}
# Zeek's (and analyze's) retransmission: a data segment that does not advance the highest
# sequence number seen (zeek TCPSessionAdapter update_last_seq -> DidRxmit), so the late
# half of each swapped pair counts as well as each duplicated segment. Wireshark would
# call the former out-of-order.
want["retransmissions"] = truth["retransmissions"] + truth.get("reordered", 0)
want["gaps"] = 0          # the generator loses nothing
want["partial_flows"] = 0 # nor exceeds a buffer
print(f"ground truth check on {report['input']['files'][0]['path']} (GENERATED, seed {truth['seed']}):")
bad = 0
for k, w in want.items():
    g = got[k]
    ok = g == w
    bad += not ok
    if isinstance(w, dict):
        keys = sorted(set(w) | set(g))
        detail = ", ".join(f"{x} {g.get(x, 0)}/{w.get(x, 0)}" for x in keys)
        print(f"  {'ok ' if ok else 'MISMATCH'} {k}: {detail}  (got/truth)")
    else:
        print(f"  {'ok ' if ok else 'MISMATCH'} {k}: got {g}, truth {w}")
extra = truth.get("tls_encrypted_alerts")
if extra is not None:
    print(f"  note: the capture also holds {extra} encrypted TLS 1.2 close_notify alerts (after the handshake); "
          f"tls_alerts truth counts the plaintext ones")
print(f"  note: retransmissions truth = {truth['retransmissions']} duplicated + {truth.get('reordered', 0)} reordered "
      "segments (Zeek's meaning; Wireshark calls the reordered ones out-of-order)")
# Findings: flows named by each kind, where the workload says how many there must be.
# Every 407 in the workload is followed by a retry with credentials that gets a 200
# (on the same connection or the client's next one), so none is "auth missing".
states = truth["tcp_connections"]
expect_flows = {
    "proxy_connection_refused": states.get("REJ", 0),
    "proxy_connection_filtered": states.get("S0", 0),
    "proxy_reset_after_request": states.get("RSTR", 0),
    "tls_certificate_rejected": truth["tls_alerts"],
    "proxy_auth_missing": 0,
}
flows_by_kind = {}
for f in report.get("findings", []):
    flows_by_kind.setdefault(f["id"], set()).update(f.get("flows", []))
for k, w in expect_flows.items():
    g = len(flows_by_kind.get(k, ()))
    ok = g == w
    bad += not ok
    print(f"  {'ok ' if ok else 'MISMATCH'} finding {k}: {g} flows, expected {w}")
others = {k: len(v) for k, v in flows_by_kind.items() if k not in expect_flows}
if others:
    print("  other findings (not checked): " + ", ".join(f"{k} ({n} flows)" for k, n in others.items()))
want.update({f"finding {k}": v for k, v in expect_flows.items()})
print(f"{len(want) - bad} passed, {bad} failed")
sys.exit(1 if bad else 0)
