#!/usr/bin/python3
"""A stand-in for bosund's HTTP API, for bosunctl --url's pause path.

A real daemon closes a /ws client as a slow consumer (1013) only after
megabytes queue up; this one does it on cue.  It serves GET
/api/v1/status, GET /api/v1/events?since=&limit= and /ws (ready, sub with
since, msg frames) like bosun-http(7) says, with events seq 1..3 stored.
The first /ws subscription gets seq 4 and 5 live, then 6..8 are stored
but not sent and the connection is closed with 1013; a later subscription
gets what is stored after its since, then 9 and 10 live.

usage: ws_pause_server.py TOKEN PORTFILE LOGFILE
Writes the port it listens on (127.0.0.1) to PORTFILE and, to LOGFILE, one
line per /ws subscription: "sub since=N".
"""
import asyncio
import http
import json
import os
import sys
from urllib.parse import parse_qs, urlparse

import websockets

TOKEN, PORTFILE, LOGFILE = sys.argv[1:4]
EVENTS = []
SUBS = []


def store(n):
    ev = {"seq": n, "time": 1700000000 + n, "subject": "evt.run.a.R1.output",
          "machine": "fake", "run": "R1", "task": None,
          "data": {"run": "R1", "stream": "stdout", "text": "line %d" % n}}
    EVENTS.append(ev)
    return ev


for i in range(1, 4):
    store(i)


def reply(status, obj):
    return (http.HTTPStatus(status), [("Content-Type", "application/json")],
            json.dumps(obj).encode())


async def process_request(path, headers):
    if headers.get("Authorization") != "Bearer " + TOKEN:
        return reply(401, {"error": {"code": "unauthorized", "message": "bad token"}})
    if path.startswith("/ws"):
        return None
    u = urlparse(path)
    q = parse_qs(u.query)
    if u.path == "/api/v1/status":
        return reply(200, {"version": "0", "machine_id": "fake"})
    if u.path == "/api/v1/events":
        since = int(q.get("since", ["0"])[0])
        items = [e for e in EVENTS if e["seq"] > since]
        return reply(200, {"items": items, "next": None, "last_seq": EVENTS[-1]["seq"]})
    return reply(404, {"error": {"code": "not_found", "message": "no route " + u.path}})


def frame(sid, ev):
    return json.dumps({"op": "msg", "sid": sid, "seq": ev["seq"], "subject": ev["subject"],
                       "time": ev["time"], "data": ev["data"]})


async def handler(ws, path):
    await ws.send(json.dumps({"op": "ready", "principal": {"kind": "admin"}}))
    sub = json.loads(await asyncio.wait_for(ws.recv(), 10))
    sid, since = sub["sid"], int(sub.get("since", 0))
    SUBS.append(since)
    with open(LOGFILE, "a") as f:
        f.write("sub since=%d\n" % since)
    await ws.send(json.dumps({"op": "subscribed", "sid": sid, "last_seq": EVENTS[-1]["seq"]}))
    for ev in [e for e in EVENTS if e["seq"] > since]:
        await ws.send(frame(sid, ev))
    if len(SUBS) == 1:
        for n in (4, 5):
            await ws.send(frame(sid, store(n)))
        for n in (6, 7, 8):
            store(n)  # stored while the client was "too slow"
        await ws.close(1013, "slow consumer")
        return
    for n in (9, 10):
        await asyncio.sleep(0.1)
        await ws.send(frame(sid, store(n)))
    await asyncio.sleep(60)


async def main():
    async with websockets.serve(handler, "127.0.0.1", 0,
                                process_request=process_request) as server:
        port = server.sockets[0].getsockname()[1]
        with open(PORTFILE + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.rename(PORTFILE + ".tmp", PORTFILE)
        await asyncio.sleep(120)


asyncio.run(main())
