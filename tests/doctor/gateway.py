"""A stand-in LLM gateway for the doctor tests: answers LiteLLM's health routes.

/health/liveliness and /health/readiness answer 200 (or --status), /health 401
(LiteLLM wants its master key there). With --tls CERT KEY it serves HTTPS and
answers every POST with --post-status (a provider rate-limiting with 429).
"""
import argparse
import ssl
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ap = argparse.ArgumentParser()
ap.add_argument("--bind", default="127.0.0.1")
ap.add_argument("--port", type=int, default=4000)
ap.add_argument("--status", type=int, default=200)
ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
ap.add_argument("--post-status", type=int, default=429)
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

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b'{"type": "error", "error": {"type": "rate_limit_error"}}'
        self.send_response(args.post_status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Retry-After", "30")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


srv = ThreadingHTTPServer((args.bind, args.port), H)
if args.tls:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*args.tls)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
