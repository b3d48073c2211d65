#!/usr/bin/python3
"""A fake web server for the llm tools tests, on 127.0.0.1.

    llm_fetch_server.py PORT_FILE

Writes its port to PORT_FILE.  Routes: /pub/ok (text), /pub/big (2 MiB),
/pub/redir-in (302 to /pub/ok), /pub/redir-out (302 to /private/secret),
/pub/redir-loop (302 to itself), /pub/see-other (303 to /pub/echo),
/pub/echo (the method, body and X-Test header back), /pub/slow (answers
after 5 s), /private/secret.
"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path.split("?")[0]
        if path == "/pub/ok":
            self.reply(200, b"hello from the fake\n")
        elif path == "/pub/big":
            self.reply(200, b"a" * (2 * 1024 * 1024))
        elif path == "/pub/redir-in":
            self.reply(302, headers=[("Location", "/pub/ok")])
        elif path == "/pub/redir-out":
            self.reply(302, headers=[("Location", "/private/secret")])
        elif path == "/pub/redir-loop":
            self.reply(302, headers=[("Location", "/pub/redir-loop")])
        elif path == "/pub/see-other":
            self.reply(303, headers=[("Location", "/pub/echo")])
        elif path == "/pub/echo":
            text = "%s %s x-test=%s" % (self.command, body.decode(), self.headers.get("X-Test"))
            self.reply(200, text.encode())
        elif path == "/pub/slow":
            import time
            time.sleep(5)
            self.reply(200, b"late\n")
        elif path == "/private/secret":
            self.reply(200, b"the secret\n")
        else:
            self.reply(404, b"no such page\n")

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_OPTIONS = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # the fetch tool hangs up on a body past its limit: expected


def main():
    server = Server(("127.0.0.1", 0), Handler)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    import os
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    server.serve_forever()


if __name__ == "__main__":
    main()
