#!/usr/bin/python3
"""/ws approval client on Python's websockets (tests/integration/approval_ws.sh).

    approval_ws.py URL TOKEN MODE [DECISION]

Authenticates with a first frame {"op":"auth"}, subscribes to
evt.approval.>, prints {"subscribed": true} once it is, then waits for one
request's "requested" event.  MODE "watch" then waits for its "decided";
"answer" first sends cmd.approval.answer with DECISION as an
{"op":"req"} frame and prints its reply or error frame too; "try" sends the
answer, prints the reply or error and waits no more (a viewer's attempt).
Prints one JSON line and exits 0; every wait is bounded by $WS_DEADLINE
seconds (default 60).
"""
import asyncio
import json
import os
import sys

import websockets

DEADLINE = float(os.environ.get("WS_DEADLINE", "60"))


def out(obj):
    print(json.dumps(obj), flush=True)


async def main(url, token, mode, decision):
    async with websockets.connect(url, ping_interval=None, open_timeout=10) as ws:
        await ws.send(json.dumps({"op": "auth", "token": token}))
        res = {"requested": None, "decided": None, "reply": None}
        res["ready"] = json.loads(await asyncio.wait_for(ws.recv(), 10))
        await ws.send(json.dumps({"op": "sub", "sid": "p", "subject": "evt.approval.>"}))
        while True:
            f = json.loads(await ws.recv())
            if f.get("op") == "subscribed":
                out({"subscribed": True})
            elif f.get("op") == "msg" and f["subject"].endswith(".requested") and not res["requested"]:
                res["requested"] = f
                if mode in ("answer", "try"):
                    await ws.send(json.dumps({"op": "req", "id": "ans1", "subject": "cmd.approval.answer",
                                              "data": {"id": f["data"]["id"], "decision": decision,
                                                       "by": "python-ws"}}))
            elif f.get("op") == "msg" and f["subject"].endswith(".decided") and res["requested"] \
                    and f["data"]["id"] == res["requested"]["data"]["id"]:
                res["decided"] = f
            elif f.get("op") in ("reply", "error") and f.get("id") == "ans1":
                res["reply"] = f
            if mode == "try" and res["reply"]:
                return res
            if res["requested"] and res["decided"] and (mode == "watch" or res["reply"]):
                return res


url, token, mode = sys.argv[1:4]
decision = sys.argv[4] if len(sys.argv) > 4 else "deny"
try:
    out(asyncio.run(asyncio.wait_for(main(url, token, mode, decision), DEADLINE)))
except asyncio.TimeoutError:
    out({"error": "deadline"})
    sys.exit(1)
