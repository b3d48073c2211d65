#!/usr/bin/python3
"""One request on bosund's control socket, for data too large for an
argument of bosunctl: ctl_request.py SOCKET SUBJECT [TIMEOUT] reads the
request's data (JSON) from stdin and prints the daemon's answer line."""
import json
import socket
import sys

sock, subject = sys.argv[1], sys.argv[2]
timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 10
req = {"op": "request", "subject": subject, "timeout": timeout, "id": 1,
       "data": json.load(sys.stdin)}
s = socket.socket(socket.AF_UNIX)
s.settimeout(timeout + 10)
s.connect(sock)
s.sendall(json.dumps(req).encode() + b"\n")
buf = b""
while b"\n" not in buf:
    chunk = s.recv(65536)
    if not chunk:
        break
    buf += chunk
print(buf.split(b"\n")[0].decode())
