#!/usr/bin/python3
"""A webhook and ntfy receiver for the notify tests, on 127.0.0.1.

Usage: receiver.py PORTFILE LOGFILE SECRET

Writes its port to PORTFILE, then appends one JSON line per request to
LOGFILE: the arrival time, path, headers (lower-case names), body, and
"sig_ok", whether X-Bosun-Signature-256 is the HMAC-SHA256 of the body
under SECRET (null when the request has none).

What a path answers:
  /ok...          200
  /fail-N/...     500 to the first N requests of that path, then 200
  /retry-after/.. 429 with Retry-After: 1 to the first request, then 200
  /hole...        reads the request and never answers (a black hole)
  /deny...        403 (a permanent refusal)
"""
import hashlib
import hmac
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORTFILE, LOGFILE, SECRET = sys.argv[1], sys.argv[2], sys.argv[3].encode()
LOCK = threading.Lock()
COUNTS = {}
STOP = threading.Event()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # Headers and body go out in one write, and without Nagle: a
        # receiver's delayed ACK must not be what the latency measures.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args):
        pass

    def answer(self, status, extra=None):
        body = b"ok\n" if status < 300 else b"no\n"
        head = "HTTP/1.1 %d %s\r\nContent-Length: %d\r\n" % (
            status, self.responses.get(status, ("",))[0], len(body))
        for k, v in (extra or {}).items():
            head += "%s: %s\r\n" % (k, v)
        self.wfile.write(head.encode() + b"\r\n" + body)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n) if n > 0 else b""
        now = time.time()
        sig = self.headers.get("X-Bosun-Signature-256")
        sig_ok = None
        if sig is not None:
            want = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
            sig_ok = hmac.compare_digest(sig, want)
        with LOCK:
            COUNTS[self.path] = COUNTS.get(self.path, 0) + 1
            seen = COUNTS[self.path]
            with open(LOGFILE, "a") as f:
                f.write(json.dumps({
                    "time": now, "path": self.path, "seen": seen,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body.decode("utf-8", "replace"), "sig_ok": sig_ok,
                }) + "\n")
        if self.path.startswith("/hole"):
            STOP.wait(600)
            return
        if self.path.startswith("/deny"):
            return self.answer(403)
        if self.path.startswith("/retry-after/") and seen == 1:
            return self.answer(429, {"Retry-After": "1"})
        if self.path.startswith("/fail-"):
            limit = int(self.path[6:].split("/")[0])
            if seen <= limit:
                return self.answer(500)
        self.answer(200)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog is 5: a burst of new connections
    # (the benchmark's 28 at once) would wait for SYN retransmits, 1 s.
    request_queue_size = 256


srv = Server(("127.0.0.1", 0), Handler)
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os  # noqa: E402

os.rename(PORTFILE + ".tmp", PORTFILE)
try:
    srv.serve_forever()
except KeyboardInterrupt:
    pass
