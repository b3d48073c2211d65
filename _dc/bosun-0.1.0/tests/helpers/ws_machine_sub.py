#!/usr/bin/python3
"""/ws "sub" with a "machine" filter, on Python's websockets (Debian
python3-websockets), for tests/integration/fleet_ws_machine.sh.

    ws_machine_sub.py URL TOKEN CAFILE READY_FILE SUBS_JSON WANT_JSON

SUBS_JSON is a list of "sub" frames (op and since added here: since 0).
Once every one is "subscribed" (its replay sent), READY_FILE is written;
the test then publishes live events.  The client reads until each sid has
WANT_JSON[sid] "msg" frames, then one second more (an event that should
not come has its chance to), and prints one JSON object: per sid the
[machine, data.i] of its msg frames in order, and the error frames.
Every wait is bounded by $WS_DEADLINE seconds (default 60).
"""
import asyncio
import json
import os
import ssl
import sys
import time

import websockets

DEADLINE = float(os.environ.get("WS_DEADLINE", "60"))


async def main(url, token, cafile, ready_file, subs, want):
    ctx = ssl.create_default_context(cafile=cafile) if url.startswith("wss:") else None
    end = time.monotonic() + DEADLINE
    got = {s["sid"]: [] for s in subs}
    errors = []
    subscribed = set()
    async with websockets.connect(url, ssl=ctx, ping_interval=None, max_size=None,
                                  open_timeout=10) as ws:
        await ws.send(json.dumps({"op": "auth", "token": token}))
        json.loads(await asyncio.wait_for(ws.recv(), 10))
        for s in subs:
            await ws.send(json.dumps(dict(s, op="sub", since=0)))
        quiet_until = None
        while time.monotonic() < end:
            if quiet_until is None and all(len(got.get(k, [])) >= n for k, n in want.items()):
                quiet_until = time.monotonic() + 1
            stop = min(end, quiet_until) if quiet_until else end
            left = stop - time.monotonic()
            if left <= 0:
                break
            try:
                f = json.loads(await asyncio.wait_for(ws.recv(), left))
            except asyncio.TimeoutError:
                break
            op = f.get("op")
            if op == "msg" and f.get("sid") in got:
                got[f["sid"]].append([f.get("machine"), (f.get("data") or {}).get("i")])
            elif op == "subscribed":
                subscribed.add(f.get("sid"))
                if subscribed >= {s["sid"] for s in subs} - {e.get("sid") for e in errors}:
                    with open(ready_file, "w") as r:
                        r.write("ready\n")
            elif op == "error":
                errors.append({"sid": f.get("sid"), "code": (f.get("error") or {}).get("code")})
                if subscribed >= {s["sid"] for s in subs} - {e.get("sid") for e in errors}:
                    with open(ready_file, "w") as r:
                        r.write("ready\n")
    print(json.dumps({"got": got, "errors": errors}), flush=True)


if __name__ == "__main__":
    url, token, cafile, ready, subs, want = sys.argv[1:7]
    asyncio.run(main(url, token, cafile, ready, json.loads(subs), json.loads(want)))
