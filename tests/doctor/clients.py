"""Runs Python requests and urllib on NO_PROXY cases (doctor tests).

Reads JSON cases [{"env": {...}, "url": "..."}] on stdin, prints one line per
case: "<requests answer> <urllib answer>", each "direct", "proxy" or "error".
"""
import json
import os
import sys
import urllib.request

import requests

VARS = ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
        "ALL_PROXY", "no_proxy", "NO_PROXY"]


def ask(fn):
    try:
        return fn().strip() or "error"
    except Exception:
        return "error"


for case in json.load(sys.stdin):
    for v in VARS:
        os.environ.pop(v, None)
    os.environ.update(case["env"])
    url = case["url"]
    a = ask(lambda: requests.get(url, timeout=3).text)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler())
    b = ask(lambda: opener.open(url, timeout=3).read().decode())
    print(a, b, flush=True)
