#!/usr/bin/python3
"""Raw HTTP/1.1 clients for the http plugin's tests: what curl will not do
(pipelining, slow or broken requests, many connections at once).

  http_probe.py send HOST PORT DATA... [--gap S] [--wait S] [--body] [--tls]
      Sends each DATA (Python escapes: '\\r\\n') with S seconds between
      them, then reads responses until the server closes or --wait seconds
      pass without a byte.  Prints "status: 200 404 ...", "closed: yes|no"
      and "elapsed: SECONDS" (from the first byte sent to the close), and
      with --body the last response's body.
  http_probe.py trickle HOST PORT DATA --every S
      Sends DATA one byte every S seconds until the server answers or
      closes; prints the status (or "none") and how long it took.
  http_probe.py idle HOST PORT --wait S
      Sends GET /health, reads the answer, then waits at most S seconds for
      the server to close: prints "closed after X" or "open".
  http_probe.py conns HOST PORT N [--hold S] [--src ADDR] [--requests K]
      Opens N connections at once (from ADDR), sends GET /health on each, and counts
      the answers: "200=N 429=N 503=N none=N" (none: closed without one),
      holding every connection open S seconds more before closing them.
      With --requests K each connection answered 200 asks K times in all,
      one request after the other's answer (keep-alive), and the line
      ends with " answered=M": the responses read on all of them.
Every wait is bounded; the exit status is 0 unless a socket call fails
before anything could be sent."""
import codecs
import selectors
import socket
import ssl
import sys
import time


def arg(name, default, conv=float):
    if name in sys.argv:
        i = sys.argv.index(name)
        v = sys.argv[i + 1]
        del sys.argv[i:i + 2]
        return conv(v)
    return default


def flag(name):
    if name in sys.argv:
        sys.argv.remove(name)
        return True
    return False


def unescape(s):
    return codecs.decode(s, "unicode_escape").encode("latin-1")


def connect(host, port, tls=False):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect((host, port))
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s = ctx.wrap_socket(s)
    return s


def parse_responses(data):
    """Statuses and the last body of the complete responses in data."""
    statuses, body = [], b""
    while True:
        end = data.find(b"\r\n\r\n")
        if end < 0:
            break
        head = data[:end].decode("latin-1").split("\r\n")
        parts = head[0].split(" ")
        if len(parts) < 2 or not parts[0].startswith("HTTP/"):
            break
        status = int(parts[1])
        length = 0
        for line in head[1:]:
            k, _, v = line.partition(":")
            if k.strip().lower() == "content-length":
                length = int(v.strip())
        if status < 200:
            length = 0  # 100 Continue has no body
        if data[end + 4:end + 11] == b"HTTP/1.":
            length = 0  # the answer to a HEAD: another response follows at once
        if len(data) < end + 4 + length:
            break
        body = data[end + 4:end + 4 + length]
        statuses.append(status)
        data = data[end + 4 + length:]
    return statuses, body


def read_until_close(s, wait):
    data, closed = b"", False
    s.settimeout(wait)
    while True:
        try:
            chunk = s.recv(65536)
        except (socket.timeout, TimeoutError):
            break
        except (ConnectionResetError, ssl.SSLError, OSError):
            closed = True
            break
        if not chunk:
            closed = True
            break
        data += chunk
    return data, closed


def cmd_send(host, port, datas, gap, wait, body, tls):
    s = connect(host, port, tls)
    t0 = time.monotonic()
    for i, d in enumerate(datas):
        if i and gap:
            time.sleep(gap)
        try:
            s.sendall(unescape(d))
        except OSError:
            break
    data, closed = read_until_close(s, wait)
    elapsed = time.monotonic() - t0
    statuses, last = parse_responses(data)
    print("status: " + " ".join(str(x) for x in statuses))
    print("closed: " + ("yes" if closed else "no"))
    print("elapsed: %.2f" % elapsed)
    if body:
        print(last.decode("utf-8", "replace"))


def cmd_trickle(host, port, data, every):
    s = connect(host, port)
    s.setblocking(False)
    t0 = time.monotonic()
    got = b""
    deadline = t0 + 60
    for b in unescape(data):
        try:
            s.send(bytes([b]))
        except OSError:
            break
        time.sleep(every)
        try:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
            break
        except BlockingIOError:
            pass
        except OSError:
            break
        if time.monotonic() > deadline:
            break
    s.setblocking(True)
    more, _ = read_until_close(s, 2)
    statuses, _ = parse_responses(got + more)
    print("status: " + (" ".join(str(x) for x in statuses) or "none"))
    print("elapsed: %.2f" % (time.monotonic() - t0))


def cmd_idle(host, port, wait):
    s = connect(host, port)
    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    t0 = time.monotonic()
    s.settimeout(wait)
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                print("closed after %.2f" % (time.monotonic() - t0))
                return
    except (socket.timeout, TimeoutError):
        print("open")
    except OSError:
        print("closed after %.2f" % (time.monotonic() - t0))


def cmd_conns(host, port, n, hold, src, requests):
    sel = selectors.DefaultSelector()
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    socks, sent = {}, {}
    for _ in range(n):
        s = socket.socket(family, socket.SOCK_STREAM)
        if src:
            s.bind((src, 0))
        s.setblocking(False)
        s.connect_ex((host, port))
        socks[s] = b""
        sent[s] = 0
        sel.register(s, selectors.EVENT_WRITE)
    req = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    pending = set(socks)
    counts = {}
    answered = 0
    deadline = time.monotonic() + 60

    def finish(s, key_, n_answers):
        nonlocal answered
        counts[key_] = counts.get(key_, 0) + 1
        answered += n_answers
        pending.discard(s)
        sel.unregister(s)

    while pending and time.monotonic() < deadline:
        for key, ev in sel.select(timeout=1):
            s = key.fileobj
            if ev & selectors.EVENT_WRITE:
                try:
                    s.send(req)
                except OSError:
                    finish(s, "none", 0)
                    continue
                sent[s] = 1
                sel.modify(s, selectors.EVENT_READ)
                continue
            try:
                chunk = s.recv(65536)
            except OSError:
                chunk = b""
            statuses, _ = parse_responses(socks[s] + chunk)
            if not chunk:
                finish(s, str(statuses[0]) if statuses else "none", len(statuses))
                continue
            socks[s] += chunk
            if len(statuses) < sent[s]:
                continue
            if statuses[0] == 200 and sent[s] < requests:
                try:
                    s.send(req)
                    sent[s] += 1
                    continue
                except OSError:
                    pass
            finish(s, str(statuses[0]), len(statuses))
    counts["none"] = counts.get("none", 0) + len(pending)
    line = " ".join("%s=%d" % (k, counts.get(k, 0)) for k in ("200", "429", "503", "none"))
    if requests > 1:
        line += " answered=%d" % answered
    print(line)
    sys.stdout.flush()
    time.sleep(hold)
    for s in socks:
        s.close()


def main():
    gap = arg("--gap", 0.0)
    wait = arg("--wait", 2.0)
    every = arg("--every", 0.2)
    hold = arg("--hold", 0.0)
    body = flag("--body")
    tls = flag("--tls")
    src = arg("--src", None, str)
    requests = arg("--requests", 1, int)
    cmd, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rest = sys.argv[4:]
    if cmd == "send":
        cmd_send(host, port, rest, gap, wait, body, tls)
    elif cmd == "trickle":
        cmd_trickle(host, port, rest[0], every)
    elif cmd == "idle":
        cmd_idle(host, port, wait)
    elif cmd == "conns":
        cmd_conns(host, port, int(rest[0]), hold, src, requests)
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
