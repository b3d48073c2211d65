#!/usr/bin/python3
"""A raw /fleet client for the fleet tests (Debian's python3-websockets).

    fleet_client.py URL SECONDS FRAME...

Connects to URL (wss:// verified against $SSL_CERT_FILE), sends each FRAME
(a JSON text; "time" is added when missing) in turn, then reads what the
hub sends for SECONDS at most or until it closes, and prints one JSON
object: {"frames":[...], "close_code":C|null, "close_reason":R, "error":E}.
A FRAME "@wait" instead waits for the next frame from the hub before going
on (e.g. for the reply to a register), "@sleep:S" waits S seconds (reading
what comes meanwhile), "@raw:TEXT" sends TEXT as it is (not JSON, say) and
"@burst:N:FRAME" sends FRAME N times without waiting.  Every wait is
bounded.
"""
import asyncio
import datetime
import json
import ssl
import sys

import websockets


def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def run(url, secs, frames):
    res = {"frames": [], "close_code": None, "close_reason": "", "error": None}
    kw = {}
    if url.startswith("wss:"):
        kw["ssl"] = ssl.create_default_context()
    loop = asyncio.get_running_loop()
    end = loop.time() + secs
    try:
        ws = await websockets.connect(url, ping_interval=None, max_size=None, open_timeout=10, **kw)
    except Exception as e:  # refused, TLS, HTTP status: the test judges it
        res["error"] = "%s: %s" % (type(e).__name__, e)
        return res

    async def recv(limit):
        try:
            f = await asyncio.wait_for(ws.recv(), max(0.01, limit))
            try:
                res["frames"].append(json.loads(f))
            except ValueError:
                res["frames"].append({"raw": f if isinstance(f, str) else repr(f)})
            return True
        except asyncio.TimeoutError:
            return False
        except websockets.ConnectionClosed:
            return False

    try:
        for f in frames:
            if f == "@wait":
                await recv(end - loop.time())
                continue
            if f.startswith("@sleep:"):
                until = min(end, loop.time() + float(f[7:]))
                while loop.time() < until and await recv(until - loop.time()):
                    pass
                continue
            if f.startswith("@raw:"):
                await ws.send(f[5:])
                continue
            count = 1
            if f.startswith("@burst:"):
                n, f = f[7:].split(":", 1)
                count = int(n)
            m = json.loads(f)
            m.setdefault("time", now())
            for _ in range(count):
                await ws.send(json.dumps(m))
        while loop.time() < end and await recv(end - loop.time()):
            pass
    except websockets.ConnectionClosed:
        pass
    await asyncio.wait_for(ws.close(), 5)
    res["close_code"] = ws.close_code
    res["close_reason"] = ws.close_reason or ""
    return res


def main():
    if len(sys.argv) < 3:
        sys.stderr.write("usage: fleet_client.py URL SECONDS FRAME...\n")
        return 2
    res = asyncio.run(run(sys.argv[1], float(sys.argv[2]), sys.argv[3:]))
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
