"""A stand-in LLM gateway for the doctor tests: answers LiteLLM's health routes.

/health/liveliness and /health/readiness answer 200 (or --status), /health 401
(LiteLLM wants its master key there).
"""
import argparse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ap = argparse.ArgumentParser()
ap.add_argument("--bind", default="127.0.0.1")
ap.add_argument("--port", type=int, default=4000)
ap.add_argument("--status", type=int, default=200)
args = ap.parse_args()


class H(BaseHTTPRequestHandler):
    def do_GET(self):
        code = 401 if self.path == "/health" else args.status
        body = b'"I\'m alive!"' if code == 200 else b'{"error": "unhealthy"}'
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


ThreadingHTTPServer((args.bind, args.port), H).serve_forever()
