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
if got["retransmissions"] != want["retransmissions"] and got["retransmissions"] == truth["retransmissions"] + truth.get("reordered", 0):
    print(f"  note: retransmissions = {truth['retransmissions']} duplicated + {truth['reordered']} reordered segments: "
          "analyze counts the late half of a swapped pair as a retransmission (Wireshark calls it out-of-order)")
kinds = {}
for f in report.get("findings", []):
    kinds[f["id"]] = kinds.get(f["id"], 0) + 1
if kinds:
    print("  findings (not checked): " + ", ".join(f"{k} x{n}" for k, n in kinds.items()))
print(f"{len(want) - bad} passed, {bad} failed")
sys.exit(1 if bad else 0)
