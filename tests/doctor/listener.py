"""Tells whether a client went direct or through the proxy (doctor NO_PROXY tests).

Answers "direct" on [::]:4000 and [::]:80 (IPv4 too) and "proxy" on the proxy
address given; every request (and CONNECT tunnel) gets a 200 with that one word.
"""
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve(addr, family, word):
    class H(BaseHTTPRequestHandler):
        def do_GET(self):
            body = word.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

        def do_CONNECT(self):
            # undici tunnels plain HTTP too: open the "tunnel" and answer the
            # request inside it ourselves.
            self.send_response(200, "Connection established")
            self.end_headers()
            self.wfile.flush()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            body = word.encode()
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
            self.close_connection = True

        def log_message(self, *a):
            pass

    class S(ThreadingHTTPServer):
        address_family = family
        daemon_threads = True

        def server_bind(self):
            if family == socket.AF_INET6:
                self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            super().server_bind()

    srv = S(addr, H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()


proxy_host, proxy_port = sys.argv[1], int(sys.argv[2])
serve(("::", 4000), socket.AF_INET6, "direct")
serve(("::", 80), socket.AF_INET6, "direct")
serve((proxy_host, proxy_port), socket.AF_INET, "proxy")
print("ready", flush=True)
threading.Event().wait()
