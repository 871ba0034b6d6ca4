#!/usr/bin/env python3
"""Extracts fuzz seeds from fixtures/captures and ../shared/corpus into fuzz/corpus/<target>/.

The seeds are derived, not committed (fuzz/.gitignore): whole captures (reader, end to
end), single frames with their link type (link_frame), TCP payloads as direction-tagged
chunks (http_dialogue, tls_records), auth header values and NTLM blobs (auth_headers),
certificates out of TLS handshakes (x509_der) and DNS datagrams (dns_message).
secrets_leak has no derived seeds: its hand-made proxy dialogues (in its own op
language, fuzz/targets.rs) are committed under tests/regressions/secrets_leak/, which
scripts/fuzz copies into its corpus.

    python3 fuzz/seed.py
"""
import base64
import hashlib
import os
import re
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fuzz", "corpus")
# Order must match LINKS in fuzz_targets/link_frame.rs.
LINKS = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276]


def captures():
    dirs = [os.path.join(ROOT, "fixtures", "captures"), os.path.join(ROOT, "..", "shared", "corpus")]
    for d in dirs:
        for base, _, files in os.walk(d):
            for f in sorted(files):
                if f.endswith(".pcap") or f.endswith(".pcapng"):
                    yield os.path.join(base, f)


def frames(b):
    """(linktype, frame bytes) for each packet of a pcap or pcapng file."""
    if len(b) < 24:
        return
    if b[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = "<" if b[0] in (0xD4, 0x4D) else ">"
        link = struct.unpack(e + "I", b[20:24])[0] & 0xFFFF
        at = 24
        while at + 16 <= len(b):
            cap = struct.unpack(e + "I", b[at + 8 : at + 12])[0]
            yield link, b[at + 16 : at + 16 + cap]
            at += 16 + cap
    elif b[:4] == b"\x0a\x0d\x0d\x0a":
        at, e, ifaces = 0, "<", []
        while at + 12 <= len(b):
            ty = struct.unpack(e + "I", b[at : at + 4])[0]
            if ty == 0x0A0D0D0A:
                e = "<" if b[at + 8 : at + 12] == b"\x4d\x3c\x2b\x1a" else ">"
                ifaces = []
            ln = struct.unpack(e + "I", b[at + 4 : at + 8])[0]
            if ln < 12:
                return
            body = b[at + 8 : at + ln - 4]
            if ty == 1:
                ifaces.append(struct.unpack(e + "H", body[:2])[0])
            elif ty == 6 and len(body) >= 20:
                iface, cap = struct.unpack(e + "I", body[:4])[0], struct.unpack(e + "I", body[12:16])[0]
                yield (ifaces[iface] if iface < len(ifaces) else 1), body[20 : 20 + cap]
            at += ln


def l3(link, f):
    if link == 1:
        off, et = 12, None
        while off + 2 <= len(f):
            et = struct.unpack(">H", f[off : off + 2])[0]
            if et in (0x8100, 0x88A8):
                off += 4
                continue
            break
        return f[off + 2 :]
    if link == 113:
        return f[16:]
    if link == 276:
        return f[20:]
    if link in (0, 108):
        return f[4:]
    return f


def transport(p):
    """(proto, src, sport, dst, dport, payload) or None."""
    if not p:
        return None
    v = p[0] >> 4
    if v == 4 and len(p) >= 20:
        ihl = (p[0] & 15) * 4
        total = struct.unpack(">H", p[2:4])[0]
        proto, src, dst = p[9], p[12:16], p[16:20]
        seg = p[ihl : max(ihl, min(len(p), total))]
    elif v == 6 and len(p) >= 40:
        proto, src, dst, seg = p[6], p[8:24], p[24:40], p[40:]
    else:
        return None
    if proto == 6 and len(seg) >= 20:
        sport, dport = struct.unpack(">HH", seg[:4])
        return ("tcp", src, sport, dst, dport, seg[(seg[12] >> 4) * 4 :])
    if proto == 17 and len(seg) >= 8:
        sport, dport = struct.unpack(">HH", seg[:4])
        return ("udp", src, sport, dst, dport, seg[8:])
    return None


def save(target, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    if not data:
        return
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def chunks(pieces, maxk, shift, unit):
    """Direction-tagged chunks: ctl = dir | k << shift, length k*unit+1."""
    out = bytearray()
    for d, data in pieces:
        i = 0
        while i < len(data):
            left = len(data) - i
            k = min(maxk, (left - 1) // unit)
            out.append(d | (k << shift))
            out += data[i : i + k * unit + 1]
            i += k * unit + 1
    return bytes(out)


def certs(stream):
    """DER certificates in a TLS server stream (TLS 1.2 Certificate messages)."""
    hs, at = bytearray(), 0
    while at + 5 <= len(stream):
        ty, ln = stream[at], struct.unpack(">H", stream[at + 3 : at + 5])[0]
        if ty == 22:
            hs += stream[at + 5 : at + 5 + ln]
        at += 5 + ln
    at = 0
    while at + 4 <= len(hs):
        t, ln = hs[at], int.from_bytes(hs[at + 1 : at + 4], "big")
        if t == 11:
            body = hs[at + 4 : at + 4 + ln]
            i = 3
            while i + 3 <= len(body):
                cl = int.from_bytes(body[i : i + 3], "big")
                yield bytes(body[i + 3 : i + 3 + cl])
                i += 3 + cl
        at += 4 + ln


AUTH = re.compile(rb"^(proxy-authenticate|proxy-authorization|www-authenticate|authorization):[ \t]*(.*?)\r?$", re.I | re.M)
PICK = {b"proxy-authenticate": 0, b"www-authenticate": 1, b"proxy-authorization": 2, b"authorization": 3}


def main():
    n = 0
    for path in captures():
        b = open(path, "rb").read()
        if len(b) <= 64 * 1024:
            save("capture_reader", b)
            save("end_to_end", b)
        flows = {}
        for i, (link, f) in enumerate(frames(b)):
            if i < 40 and link in LINKS:
                save("link_frame", bytes([LINKS.index(link)]) + f)
            t = transport(l3(link, f))
            if not t:
                continue
            proto, src, sport, dst, dport, payload = t
            if proto == "udp" and 53 in (sport, dport):
                save("dns_message", payload)
            if proto == "tcp" and payload:
                key = tuple(sorted([(src, sport), (dst, dport)]))
                fl = flows.setdefault(key, {"client": (src, sport), "pieces": [], "server_port": dport})
                d = 0 if (src, sport) == fl["client"] else 1
                fl["pieces"].append((d, payload))
        for fl in list(flows.values())[:30]:
            pieces = fl["pieces"]
            whole = [b"".join(p for d, p in pieces if d == x) for x in (0, 1)]
            ports = [8080, 3128, 443, 1080, 53, 80, 8443, 9999]
            pick = ports.index(fl["server_port"]) if fl["server_port"] in ports else 7
            save("http_dialogue", bytes([pick]) + chunks(pieces, 63, 2, 4)[:200_000])
            if whole[0][:1] == b"\x16" or whole[1][:1] == b"\x16":
                save("tls_records", chunks(pieces, 127, 1, 8)[:200_000])
                for c in certs(whole[1]):
                    save("x509_der", c)
            for m in AUTH.finditer(whole[0] + b"\n" + whole[1]):
                name, value = m.group(1).lower(), m.group(2)
                save("auth_headers", bytes([PICK[name]]) + value)
                parts = value.split(None, 1)
                if len(parts) == 2 and parts[0].lower() in (b"ntlm", b"negotiate"):
                    try:
                        save("auth_headers", bytes([PICK[name]]) + base64.b64decode(parts[1] + b"==="))
                    except Exception:
                        pass
        n += 1
    for t in os.listdir(OUT):
        print(f"{t}: {len(os.listdir(os.path.join(OUT, t)))} seeds", file=sys.stderr)
    print(f"{n} captures read", file=sys.stderr)


if __name__ == "__main__":
    main()
