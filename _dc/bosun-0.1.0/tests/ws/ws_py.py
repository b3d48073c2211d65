#!/usr/bin/python3
"""/ws test client on Python's websockets (Debian python3-websockets).

    ws_py.py CASE URL TOKEN [ARGS...]

TOKEN is sent in the first frame {"op":"auth"} ("-" sends none).  Each case
prints one JSON object on stdout; tests/integration/ws*.sh judge it.  Every
wait is bounded.
"""
import asyncio
import json
import os
import socket
import sys
import time
from urllib.parse import urlparse

import websockets

DEADLINE = float(os.environ.get("WS_DEADLINE", "60"))


def out(obj):
    print(json.dumps(obj), flush=True)


async def connect(url, **kw):
    # $WS_LOCAL: the local address to connect from (the failed-auth limit
    # counts per address).
    if os.environ.get("WS_LOCAL"):
        kw["local_addr"] = (os.environ["WS_LOCAL"], 0)
    return await websockets.connect(url, ping_interval=None, max_size=None, open_timeout=10, **kw)


async def auth(ws, token):
    await ws.send(json.dumps({"op": "auth", "token": token}))
    return json.loads(await asyncio.wait_for(ws.recv(), 10))


async def until(ws, pred, secs=DEADLINE):
    """Frames up to and including the first matching pred."""
    seen = []
    end = time.monotonic() + secs
    while time.monotonic() < end:
        f = json.loads(await asyncio.wait_for(ws.recv(), end - time.monotonic()))
        seen.append(f)
        if pred(f):
            break
    return seen


async def closed(ws, secs):
    """The close code and reason once the server closes (None if it does not)."""
    try:
        await asyncio.wait_for(ws.wait_closed(), secs)
    except asyncio.TimeoutError:
        return {"code": None}
    return {"code": ws.close_code, "reason": ws.close_reason}


async def follow(url, token, pattern, since, count):
    """Auth by first frame, then replay-then-follow like the Node client."""
    ws = await connect(url)
    try:
        ready = await auth(ws, token)
        sub = {"op": "sub", "sid": "p1", "subject": pattern}
        if since != "-":
            sub["since"] = int(since)
        await ws.send(json.dumps(sub))
        want = int(count)
        seen = {"msg": 0, "subscribed": 0}

        def enough(f):
            seen[f.get("op")] = seen.get(f.get("op"), 0) + 1
            return seen["msg"] >= want and seen["subscribed"]
        frames = await until(ws, enough)
        msgs = [f for f in frames if f.get("op") == "msg"]
        subscribed = next((f for f in frames if f.get("op") == "subscribed"), None)
        q = {"subject": pattern, "since": 0 if since == "-" else int(since), "limit": 10000}
        await ws.send(json.dumps({"op": "req", "id": "q", "subject": "cmd.store.events", "data": q}))
        reply = (await until(ws, lambda f: f.get("id") == "q", 15))[-1]
        stored = [e["seq"] for e in reply.get("data", {}).get("events", [])]
        got = [m["seq"] for m in msgs]
        out({"ready": ready.get("principal"), "last_seq": subscribed and subscribed["last_seq"],
             "n": len(got), "got": got, "stored": stored[:len(got)]})
    finally:
        await ws.close()


async def slowfollow(url, token, pattern, count, delay):
    """A reader with a small receive buffer that takes delay seconds per
    message: a replay is paced to it, not refused.  The seqs it got."""
    u = urlparse(url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((u.hostname, u.port))
    ws = await websockets.connect(url, sock=sock, ping_interval=None, max_size=None,
                                  max_queue=1, read_limit=4096, open_timeout=10,
                                  extra_headers={"Authorization": "Bearer " + token})
    await ws.send(json.dumps({"op": "sub", "sid": "s", "subject": pattern, "since": 0}))
    got, errors = [], []
    try:
        while len(got) < int(count):
            f = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if f.get("op") == "msg":
                got.append(f["seq"])
                if len(got) == 1:
                    print("replaying", file=sys.stderr, flush=True)
                await asyncio.sleep(float(delay))
            errors += [f] if f.get("op") == "error" else []
        await ws.close()
    except (websockets.ConnectionClosed, asyncio.TimeoutError):
        pass
    out({"n": len(got), "got": got, "errors": errors, "code": ws.close_code})


async def first(url, token):
    """The answer to a first-frame auth; a bad token gets 1008."""
    ws = await connect(url)
    try:
        f = await auth(ws, token)
        await ws.close()
        out({"frame": f})
    except websockets.ConnectionClosed:
        out({"code": ws.close_code, "reason": ws.close_reason})


async def silent(url, token):
    """No credential, no frame: closed with 1008 within ws_auth_timeout."""
    ws = await connect(url)
    t0 = time.monotonic()
    r = await closed(ws, 20)
    r["secs"] = round(time.monotonic() - t0, 2)
    out(r)


async def early(url, token):
    """No credential and a first frame that is not auth: 1008 at once."""
    ws = await connect(url)
    await ws.send(json.dumps({"op": "sub", "sid": "1", "subject": "evt.>"}))
    out(await closed(ws, 10))


async def fragmented(url, token, n, size):
    """One message of n fragments of size bytes each (each within the frame
    bound); the close code when their sum passes the message bound."""
    ws = await connect(url, extra_headers={"Authorization": "Bearer " + token})
    try:
        await asyncio.wait_for(ws.recv(), 10)  # ready
        body = "x" * int(size)
        await ws.send(iter([body] * int(n)))
        await ws.send(json.dumps({"op": "nope"}))
        f = json.loads(await asyncio.wait_for(ws.recv(), 10))
        await ws.close()
        out({"answered": f.get("op") == "error"})
    except websockets.ConnectionClosed:
        out({"code": ws.close_code, "reason": ws.close_reason})


async def slow(url, token, pattern, flag):
    """A reader that stops reading (a tiny receive buffer), until the flag
    file appears; then it reads what comes: the close code it gets."""
    u = urlparse(url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((u.hostname, u.port))
    ws = await websockets.connect(url, sock=sock, ping_interval=None, max_size=None,
                                  max_queue=1, read_limit=4096, open_timeout=10,
                                  extra_headers={"Authorization": "Bearer " + token})
    await ws.send(json.dumps({"op": "sub", "sid": "s", "subject": pattern}))
    await until(ws, lambda f: f.get("op") == "subscribed", 15)
    print("subscribed", file=sys.stderr, flush=True)
    # Stop reading: the library stops once its queue of one is full.
    ws.transport.pause_reading()
    end = time.monotonic() + DEADLINE
    while not os.path.exists(flag) and time.monotonic() < end:
        await asyncio.sleep(0.1)
    ws.transport.resume_reading()
    n = 0
    try:
        while True:
            f = json.loads(await asyncio.wait_for(ws.recv(), 20))
            n += f.get("op") == "msg"
    except (websockets.ConnectionClosed, asyncio.TimeoutError):
        pass
    out({"code": ws.close_code, "reason": ws.close_reason, "msgs": n})


async def hold(url, token):
    """Authenticated and idle (answering pings) until the server closes."""
    ws = await websockets.connect(url, max_size=None, open_timeout=10, ping_interval=None,
                                  extra_headers={"Authorization": "Bearer " + token})
    await asyncio.wait_for(ws.recv(), 10)  # ready
    print("ready", file=sys.stderr, flush=True)
    out(await closed(ws, DEADLINE))


CASES = {"hold": hold, "slowfollow": slowfollow, "follow": follow, "first": first, "silent": silent, "early": early,
         "fragmented": fragmented, "slow": slow}

if __name__ == "__main__":
    case, url, token, *args = sys.argv[1:]
    asyncio.run(asyncio.wait_for(CASES[case](url, token, *args), DEADLINE + 30))
