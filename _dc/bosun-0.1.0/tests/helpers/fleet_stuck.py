#!/usr/bin/python3
"""A /fleet machine whose reader is stuck, for the fleet tests.

    fleet_stuck.py URL REGISTER_FRAME MACHINE_ID BATCHES HOLD READY_FILE

Connects to URL (wss:// verified against $SSL_CERT_FILE) on a socket whose
receive buffer is as small as the kernel allows (set before connect, so
the TCP window stays small and the hub's kernel cannot take much for it),
sends REGISTER_FRAME and reads its reply, writes READY_FILE, then never
reads again: it forwards up to BATCHES machine.events batches of one
event each (seq 1, 2, ...), 16 every 20 ms (the hub holds at most 64
frames of a link at a time), each of which the hub acknowledges with a
machine.ack frame nobody takes.  On SIGUSR1 (the test has seen the hub
give up on it), or HOLD seconds after the last batch, it stops and reads
what the hub queued (bounded: 10 s, or until the hub's close frame or
EOF): a hub that closes a link keeps writing what it queued, the close
frame last, for a few seconds.  Prints one JSON object: {"registered",
"sent", "send_error", "acks", "last_ack", "close_code", "close_reason",
"error"}.

Raw sockets rather than python3-websockets: that library reads whatever
arrives in the background, which is the very thing this client must not
do.
"""
import datetime
import json
import os
import signal
import socket
import ssl
import struct
import sys
import time
import urllib.parse


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def frame(text):
    """A masked text frame (a client must mask)."""
    payload = text.encode()
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x81, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x81, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class Reader:
    """Frames from the hub (never masked), from a byte buffer."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no frame in time")
        self.sock.settimeout(left)
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("the hub closed the connection")
        self.buf += data

    def next(self, deadline):
        while True:
            if len(self.buf) >= 2:
                op, n = self.buf[0] & 0x0F, self.buf[1] & 0x7F
                off = 2
                if n == 126 and len(self.buf) >= 4:
                    n, off = struct.unpack("!H", self.buf[2:4])[0], 4
                elif n == 127 and len(self.buf) >= 10:
                    n, off = struct.unpack("!Q", self.buf[2:10])[0], 10
                if (n < 126 or off > 2) and len(self.buf) >= off + n:
                    payload = self.buf[off:off + n]
                    self.buf = self.buf[off + n:]
                    return op, payload
            self.fill(deadline)


def connect(url):
    u = urllib.parse.urlsplit(url)
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)  # the kernel's minimum
    raw.settimeout(10)
    raw.connect((u.hostname, u.port))
    sock = raw
    if u.scheme == "wss":
        sock = ssl.create_default_context().wrap_socket(raw, server_hostname=u.hostname)
    key = "c3R1Y2sgcmVhZGVyIGtleQ=="
    sock.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
                  % (u.path or "/", u.hostname, u.port, key)).encode())
    r = Reader(sock)
    deadline = time.monotonic() + 10
    while b"\r\n\r\n" not in r.buf:
        r.fill(deadline)
    head, r.buf = r.buf.split(b"\r\n\r\n", 1)
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError("upgrade refused: %s" % head.split(b"\r\n")[0].decode(errors="replace"))
    return sock, r


told = False


def on_usr1(signum, frame):
    global told
    told = True


def main():
    url, register, machine, batches, hold, ready = sys.argv[1:7]
    signal.signal(signal.SIGUSR1, on_usr1)
    res = {"registered": False, "sent": 0, "send_error": None, "acks": 0, "last_ack": 0,
           "close_code": None, "close_reason": "", "error": None}
    try:
        sock, r = connect(url)
        sock.sendall(frame(register))
        op, payload = r.next(time.monotonic() + 10)
        res["registered"] = op == 1 and json.loads(payload).get("data", {}).get("ok") is True
    except Exception as e:  # the test judges it
        res["error"] = "%s: %s" % (type(e).__name__, e)
        print(json.dumps(res))
        return
    with open(ready, "w") as f:
        f.write("registered\n")
    sock.settimeout(5)
    try:
        for seq in range(1, int(batches) + 1):
            if told:
                break
            ev = {"seq": seq, "subject": "evt.run.r1.stuck.output", "time": time.time(),
                  "data": {"line": "line %d of the stuck machine %s" % (seq, machine)}}
            sock.sendall(frame(json.dumps({"subject": "machine.events", "data": {"events": [ev]},
                                           "time": now_iso()})))
            res["sent"] = seq
            if seq % 16 == 0:
                time.sleep(0.02)
    except Exception as e:  # the hub closed: what it sent tells why
        res["send_error"] = "%s: %s" % (type(e).__name__, e)
    until = time.monotonic() + float(hold)
    while not told and time.monotonic() < until:
        time.sleep(0.05)
    deadline = time.monotonic() + 10
    try:
        while True:
            op, payload = r.next(deadline)
            if op == 8:
                if len(payload) >= 2:
                    res["close_code"] = struct.unpack("!H", payload[:2])[0]
                    res["close_reason"] = payload[2:].decode(errors="replace")
                break
            if op == 1:
                m = json.loads(payload)
                if m.get("subject") == "machine.ack":
                    res["acks"] += 1
                    res["last_ack"] = m.get("data", {}).get("seq", 0)
    except Exception as e:
        res["error"] = "%s: %s" % (type(e).__name__, e)
    print(json.dumps(res))


main()
