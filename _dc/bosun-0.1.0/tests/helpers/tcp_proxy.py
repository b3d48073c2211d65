#!/usr/bin/python3
"""A TCP proxy for the fleet tests, on 127.0.0.1 only.

    tcp_proxy.py PORT_FILE TARGET_PORT [MAX_SECONDS]

Listens on a free loopback port (written to PORT_FILE once listening) and
forwards each accepted connection to 127.0.0.1:TARGET_PORT.  Controlled by
signals, so a test needs nothing but kill:

    SIGUSR1  freeze: stop reading and writing on every connection and stop
             accepting, without closing anything (a link cut the way a dead
             network cuts it: no FIN, no RST; only heartbeats can notice)
    SIGUSR2  thaw: forward again, including what was buffered meanwhile
    SIGHUP   cut: close every forwarded connection at once (keep listening)
    SIGTERM  exit

Every accepted connection is logged on stdout as "accept <unix time>" and a
failed connect to the target as "refused <unix time>", so a test can
measure the gaps between a client's attempts.  It exits by itself after
MAX_SECONDS (default 900): a test that forgets it leaves nothing behind.
"""
import os
import selectors
import signal
import socket
import sys
import time

BUF = 65536
MAX_PENDING = 4 << 20  # bytes buffered per direction before reading stops


class Pipe:
    """One accepted connection and its connection to the target."""

    def __init__(self, down, up):
        self.socks = (down, up)
        self.out = {down: bytearray(), up: bytearray()}  # to write to each
        self.closed = False

    def peer(self, s):
        return self.socks[1] if s is self.socks[0] else self.socks[0]


def main():
    if len(sys.argv) < 3:
        sys.stderr.write("usage: tcp_proxy.py PORT_FILE TARGET_PORT [MAX_SECONDS]\n")
        return 2
    port_file, target = sys.argv[1], int(sys.argv[2])
    deadline = time.monotonic() + (float(sys.argv[3]) if len(sys.argv) > 3 else 900.0)
    state = {"frozen": False, "cut": False, "stop": False}

    def on_signal(num, _frame):
        if num == signal.SIGUSR1:
            state["frozen"] = True
        elif num == signal.SIGUSR2:
            state["frozen"] = False
        elif num == signal.SIGHUP:
            state["cut"] = True
        else:
            state["stop"] = True

    rfd, wfd = os.pipe()
    os.set_blocking(rfd, False)
    os.set_blocking(wfd, False)
    signal.set_wakeup_fd(wfd)
    for s in (signal.SIGUSR1, signal.SIGUSR2, signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
        signal.signal(s, on_signal)

    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(128)
    lsock.setblocking(False)
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % lsock.getsockname()[1])
    os.rename(tmp, port_file)

    pipes = {}  # socket -> Pipe
    sel = selectors.DefaultSelector()

    def log(word):
        sys.stdout.write("%s %.3f\n" % (word, time.time()))
        sys.stdout.flush()

    def close(p):
        if p.closed:
            return
        p.closed = True
        for s in p.socks:
            pipes.pop(s, None)
            try:
                sel.unregister(s)
            except (KeyError, ValueError):
                pass
            s.close()

    def accept():
        try:
            down, _ = lsock.accept()
        except BlockingIOError:
            return
        log("accept")
        up = socket.socket()
        up.settimeout(5)
        try:
            up.connect(("127.0.0.1", target))
        except OSError:
            log("refused")
            up.close()
            down.close()
            return
        for s in (down, up):
            s.setblocking(False)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        p = Pipe(down, up)
        pipes[down] = pipes[up] = p

    def pump(s, mask):
        p = pipes.get(s)
        if p is None:
            return
        if mask & selectors.EVENT_READ:
            try:
                data = s.recv(BUF)
            except (BlockingIOError, InterruptedError):
                data = None
            except OSError:
                data = b""
            if data == b"":
                # Flush what the other side still has to get, then close.
                peer = p.peer(s)
                try:
                    peer.setblocking(True)
                    peer.settimeout(2)
                    peer.sendall(bytes(p.out[peer]))
                except OSError:
                    pass
                close(p)
                return
            if data:
                p.out[p.peer(s)] += data
        if mask & selectors.EVENT_WRITE and p.out[s]:
            try:
                n = s.send(p.out[s])
                del p.out[s][:n]
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                close(p)

    sel.register(rfd, selectors.EVENT_READ)
    listening = False
    while not state["stop"] and time.monotonic() < deadline:
        if state["cut"]:
            state["cut"] = False
            for p in list(set(pipes.values())):
                close(p)
        frozen = state["frozen"]
        # (Re)register each socket for what it may do now: nothing while
        # frozen, and no reading while the peer's queue is full.
        if listening and frozen:
            sel.unregister(lsock)
            listening = False
        elif not listening and not frozen:
            sel.register(lsock, selectors.EVENT_READ)
            listening = True
        for s, p in list(pipes.items()):
            mask = 0
            if not frozen:
                if len(p.out[p.peer(s)]) < MAX_PENDING:
                    mask |= selectors.EVENT_READ
                if p.out[s]:
                    mask |= selectors.EVENT_WRITE
            try:
                key = sel.get_key(s)
                if mask == 0:
                    sel.unregister(s)
                elif key.events != mask:
                    sel.modify(s, mask)
            except KeyError:
                if mask:
                    sel.register(s, mask)
        for key, mask in sel.select(timeout=0.5):
            if key.fileobj == rfd:
                try:
                    os.read(rfd, 512)
                except BlockingIOError:
                    pass
            elif key.fileobj is lsock:
                accept()
            else:
                pump(key.fileobj, mask)
    for p in list(set(pipes.values())):
        close(p)
    lsock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
