#!/usr/bin/python3
"""A scripted fleet hub for the uplink plugin's tests (python3-websockets).

    uplink_hub.py serve DIR PORT [CERT KEY]   serve /fleet on 127.0.0.1:PORT
                                              (0: any; written to DIR/port),
                                              wss:// with CERT and KEY
    uplink_hub.py ctl DIR JSON                one control request, prints
                                              the JSON answer

It speaks the hub's side of bosun-fleet(7) just enough to judge a machine:
registration tokens listed in DIR/reg_tokens (one a line) are traded once
for a bsn_mch_ token; machine.events are "stored" (seqs kept per machine in
DIR/state.json, so that a restarted hub still knows its acked_seq) and
acknowledged by seq; heartbeats are counted.  Everything it sees goes to
DIR/log (JSON lines, with the time), and the control socket DIR/ctl lets
the test change its behaviour:

  {"op":"set", KEY: VALUE...}
      reject: true         answer every upgrade with HTTP 503
      refuse: CODE|null    answer machine.register with that error code
      silent: true         never answer machine.register
      ack: "all"|"none"|N  acknowledge (and store) events up to seq N only:
                           the rest are dropped, as a hub that crashed
                           before committing them would
  {"op":"status"}          links, registrations, heartbeats, counts...
  {"op":"seqs","machine":M}  the seqs stored for M, in order
  {"op":"cmd","subject":S,"data":D}   sends a command (reply h.<n>) to the
                           link and answers the machine's reply (15 s max)
  {"op":"close","reason":R}  machine.close {"reason":R} then a close
  {"op":"cut"}             drops the TCP connection, no close frame (logged
                           as "cut" with the time, the reference of the
                           tests that measure the machine's waits)
  {"op":"rawclose","code":C}  writes a close frame with code C as raw bytes
                           (websockets itself refuses to send 1005, 1006,
                           1015), then waits for the machine's close
  {"op":"revoke"}          every machine token issued so far is refused

Every wait is bounded; it exits by itself after 900 s.
"""
import asyncio
import http
import json
import os
import secrets
import ssl
import sys
import time

import websockets


def log(d, **kw):
    kw["t"] = time.time()
    with open(os.path.join(d, "log"), "a") as f:
        f.write(json.dumps(kw) + "\n")


class Hub:
    def __init__(self, d):
        self.d = d
        self.settings = {"reject": False, "refuse": None, "silent": False, "ack": "all"}
        self.state = {"machine_tokens": {}, "used": [], "revoked": []}
        p = os.path.join(d, "state.json")
        if os.path.exists(p):
            with open(p) as f:
                self.state = json.load(f)
        # Stored seqs: appended a batch a line to DIR/stored ("MACHINE s,s,..."),
        # before the ack, so that a killed hub keeps what it acknowledged.
        self.stored_l, self.stored_s = {}, {}
        p = os.path.join(d, "stored")
        if os.path.exists(p):
            with open(p) as f:
                for line in f:
                    m, _, seqs = line.strip().partition(" ")
                    for x in seqs.split(","):
                        if x:
                            self.stored(m).append(int(x))
                            self.stored_s[m].add(int(x))
        self.link = None  # the current websocket
        self.machine = None
        self.registers = []
        self.heartbeats = []
        self.received = []  # every event seq received, in order, dups included
        self.resent_stored = 0
        self.first_after_register = []
        self.replies = {}
        self.n = 0
        self.accepts = 0
        self.max_batch = [0, 0]  # events, bytes of the largest machine.events

    def save(self):
        p = os.path.join(self.d, "state.json")
        with open(p + ".tmp", "w") as f:
            json.dump(self.state, f)
        os.rename(p + ".tmp", p)

    def reg_tokens(self):
        try:
            with open(os.path.join(self.d, "reg_tokens")) as f:
                return [l.strip() for l in f if l.strip()]
        except OSError:
            return []

    def stored(self, m):
        self.stored_s.setdefault(m, set())
        return self.stored_l.setdefault(m, [])

    async def send(self, ws, subject, data, reply=None):
        f = {"subject": subject, "data": data, "time": time.time()}
        if reply:
            f["reply"] = reply
        await ws.send(json.dumps(f))

    def register(self, data):
        tok = data.get("token", "")
        mid = data.get("machine_id")
        if self.settings["refuse"]:
            return {"ok": False, "error": {"code": self.settings["refuse"], "message": "scripted"}}
        out = {"ok": True, "machine_id": mid}
        if tok.startswith("bsn_reg_"):
            if tok in self.state["used"]:
                return {"ok": False, "error": {"code": "token_used", "message": "used"}}
            if tok not in self.reg_tokens():
                return {"ok": False, "error": {"code": "token_invalid", "message": "unknown"}}
            self.state["used"].append(tok)
            mch = "bsn_mch_" + secrets.token_urlsafe(32)
            self.state["machine_tokens"][mch] = mid
            out["machine_token"] = mch
        elif tok in self.state["machine_tokens"]:
            if tok in self.state["revoked"]:
                return {"ok": False, "error": {"code": "token_revoked", "message": "revoked"}}
        else:
            return {"ok": False, "error": {"code": "token_invalid", "message": "unknown"}}
        st = self.stored(mid)
        out["acked_seq"] = st[-1] if st else 0
        self.save()
        return out

    def events(self, ws, data):
        st = self.stored(self.machine)
        ss = self.stored_s[self.machine]
        ack = self.settings["ack"]
        top = None
        new = []
        for e in data.get("events", []):
            s = e["seq"]
            self.received.append(s)
            if self.first_after_register and self.first_after_register[-1] is None:
                self.first_after_register[-1] = s
            if s in ss:
                self.resent_stored += 1
                continue
            if ack == "none" or (isinstance(ack, int) and s > ack):
                continue
            if st and s <= st[-1]:
                self.resent_stored += 1  # out of order: would be a gap
                continue
            st.append(s)
            ss.add(s)
            new.append(str(s))
            top = s
        if new:
            with open(os.path.join(self.d, "stored"), "a") as f:
                f.write("%s %s\n" % (self.machine, ",".join(new)))
        return top

    async def handler(self, ws, path=None):
        log(self.d, ev="link")
        reply_to = None
        try:
            async for text in ws:
                f = json.loads(text)
                subj = f.get("subject")
                data = f.get("data") or {}
                if subj == "machine.register":
                    self.registers.append({"token_kind": data.get("token", "")[:8],
                                           "machine_id": data.get("machine_id"),
                                           "name": data.get("name"),
                                           "version": data.get("version"),
                                           "agents": data.get("agents"), "t": time.time()})
                    log(self.d, ev="register", kind=data.get("token", "")[:8])
                    if self.settings["silent"]:
                        continue
                    out = self.register(data)
                    await self.send(ws, f.get("reply", "machine.register"), out)
                    if not out["ok"]:
                        await ws.close(1008, "refused")
                        return
                    self.link, self.machine = ws, data.get("machine_id")
                    self.first_after_register.append(None)
                elif self.link is not ws:
                    await self.send(ws, "machine.error", {"ok": False, "error": {
                        "code": "unauthorized", "message": "register first"}})
                    await ws.close(1008, "register first")
                    return
                elif subj == "machine.heartbeat":
                    self.heartbeats.append(data)
                elif subj == "machine.events":
                    n = len(data.get("events", []))
                    self.max_batch = [max(self.max_batch[0], n), max(self.max_batch[1], len(text))]
                    top = self.events(ws, data)
                    if top is not None:
                        await self.send(ws, "machine.ack", {"seq": top})
                elif subj in self.replies:
                    self.replies[subj].set_result(data)
        except websockets.ConnectionClosed:
            pass
        finally:
            log(self.d, ev="closed")
            if self.link is ws:
                self.link = None

    async def process_request(self, path, headers):
        self.accepts += 1
        log(self.d, ev="accept", path=path)
        if self.settings["reject"]:
            return http.HTTPStatus.SERVICE_UNAVAILABLE, [], b"scripted\n"
        if path != "/fleet":
            return http.HTTPStatus.NOT_FOUND, [], b"no such path\n"
        return None

    async def control(self, reader, writer):
        try:
            req = json.loads(await reader.readline())
            out = await self.op(req)
        except Exception as e:  # the test sees it
            out = {"error": "%s: %s" % (type(e).__name__, e)}
        writer.write((json.dumps(out) + "\n").encode())
        await writer.drain()
        writer.close()

    async def op(self, req):
        op = req.get("op")
        if op == "set":
            for k, v in req.items():
                if k != "op":
                    self.settings[k] = v
            return {"ok": True}
        if op == "status":
            return {"linked": self.link is not None, "machine": self.machine,
                    "registers": self.registers, "heartbeats": self.heartbeats[-3:],
                    "n_heartbeats": len(self.heartbeats),
                    "stored_n": {m: len(v) for m, v in self.stored_l.items()},
                    "stored_last": {m: (v[-1] if v else 0) for m, v in self.stored_l.items()},
                    "received_n": len(self.received),
                    "received_last": self.received[-1] if self.received else 0,
                    "resent_stored": self.resent_stored,
                    "first_after_register": self.first_after_register,
                    "accepts": self.accepts, "max_batch": self.max_batch}
        if op == "seqs":
            return {"seqs": self.stored_l.get(req.get("machine"), [])}
        if op == "revoke":
            self.state["revoked"] += list(self.state["machine_tokens"])
            self.save()
            return {"ok": True}
        ws = self.link
        if ws is None:
            return {"error": "no link"}
        if op == "cmd":
            self.n += 1
            reply = "h.%d" % self.n
            fut = asyncio.get_running_loop().create_future()
            self.replies[reply] = fut
            await self.send(ws, req["subject"], req.get("data", {}), reply)
            try:
                return {"reply": await asyncio.wait_for(fut, 15)}
            except asyncio.TimeoutError:
                return {"error": "no reply in 15 s"}
            finally:
                del self.replies[reply]
        if op == "close":
            await self.send(ws, "machine.close", {"reason": req.get("reason", "")})
            await ws.close(1008, req.get("reason", ""))
            return {"ok": True}
        if op == "cut":
            log(self.d, ev="cut")
            ws.transport.abort()
            return {"ok": True}
        if op == "rawclose":
            code = int(req["code"])
            ws.transport.write(bytes([0x88, 2, code >> 8, code & 0xff]))
            try:
                await asyncio.wait_for(ws.wait_closed(), 5)
            except asyncio.TimeoutError:
                ws.transport.abort()
            return {"ok": True, "close_rcvd": getattr(ws, "close_rcvd", None) and
                    {"code": ws.close_rcvd.code, "reason": ws.close_rcvd.reason}}
        return {"error": "unknown op"}


async def serve(d, port, cert, key):
    hub = Hub(d)
    kw = {}
    if cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        kw["ssl"] = ctx
    srv = await websockets.serve(hub.handler, "127.0.0.1", port, ping_interval=None,
                                 max_size=4 << 20, process_request=hub.process_request, **kw)
    ctl_path = os.path.join(d, "ctl")
    if os.path.exists(ctl_path):
        os.unlink(ctl_path)
    ctl = await asyncio.start_unix_server(hub.control, ctl_path)
    p = os.path.join(d, "port")
    with open(p + ".tmp", "w") as f:
        f.write("%d\n" % srv.sockets[0].getsockname()[1])
    os.rename(p + ".tmp", p)
    await asyncio.sleep(900)
    srv.close()
    ctl.close()


async def ctl(d, text):
    r, w = await asyncio.wait_for(asyncio.open_unix_connection(os.path.join(d, "ctl"), limit=64 << 20), 5)
    w.write((text.strip() + "\n").encode())
    await w.drain()
    line = await asyncio.wait_for(r.readline(), 20)
    sys.stdout.write(line.decode())
    w.close()


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "serve":
        cert, key = (sys.argv[4], sys.argv[5]) if len(sys.argv) >= 6 else (None, None)
        asyncio.run(serve(sys.argv[2], int(sys.argv[3]), cert, key))
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == "ctl":
        asyncio.run(ctl(sys.argv[2], sys.argv[3]))
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
