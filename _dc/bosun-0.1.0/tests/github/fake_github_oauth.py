#!/usr/bin/python3
"""A fake of GitHub's OAuth side for the login tests: the authorize page
(which approves at once, as the configured user), the token endpoint (code
with PKCE and client secret, and the device grant following a script),
the device code endpoint, GET /user and GET /user/orgs.  127.0.0.1 only.

Usage: fake_github_oauth.py PORTFILE CLIENT_ID CLIENT_SECRET
It writes its port to PORTFILE once listening.  The test steers it with
POST /_fake/config {"user", "orgs", "device_script", "interval", "delay"}
(seconds the device grant waits before it answers), "fail" (paths that
answer 500) and reads
what it saw with GET /_fake/log (a list of {"path", "grant", "time",
"answer"}).  device_script is a list of answers the device grant gives in
turn: "authorization_pending", "slow_down", "expired_token",
"access_denied" or "ok" (the last one repeats)."""
import base64
import hashlib
import json
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORTFILE, CLIENT_ID, CLIENT_SECRET = sys.argv[1:4]
LOCK = threading.Lock()
STATE = {
    "user": "alice",
    "orgs": [],
    "device_script": ["ok"],
    "interval": 1,
    "delay": 0,
    "fail": [],
    "codes": {},    # code -> {challenge, user, redirect_uri}
    "tokens": {},   # access token -> user
    "devices": {},  # device_code -> {user, step}
    "log": [],
}


def challenge_of(verifier):
    d = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(d).rstrip(b"=").decode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body, headers=()):
        data = json.dumps(body).encode() if not isinstance(body, bytes) else body
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def note(self, grant, answer):
        with LOCK:
            STATE["log"].append({"path": self.path.split("?")[0], "grant": grant,
                                 "time": time.time(), "answer": answer})

    def form(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n).decode() if n else ""
        return {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}, raw

    def bearer_user(self):
        auth = self.headers.get("Authorization") or ""
        parts = auth.split(" ", 1)
        if len(parts) != 2 or parts[0].lower() not in ("bearer", "token"):
            return None
        with LOCK:
            return STATE["tokens"].get(parts[1])

    # ---------------------------------------------------------------- GET
    def failing(self, path):
        with LOCK:
            if path not in STATE["fail"]:
                return False
        self.note("fail", path)
        self.reply(500, {"message": "Server Error"})
        return True

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if self.failing(url.path):
            return
        q = {k: v[0] for k, v in urllib.parse.parse_qs(url.query).items()}
        if url.path == "/login/oauth/authorize":
            return self.authorize(q)
        if url.path == "/user":
            user = self.bearer_user()
            self.note("user", user or "unauthorized")
            if not user:
                return self.reply(401, {"message": "Bad credentials"})
            return self.reply(200, {"login": user, "id": abs(hash(user)) % 100000,
                                    "name": user.title(), "type": "User"})
        if url.path == "/user/orgs":
            user = self.bearer_user()
            self.note("orgs", user or "unauthorized")
            if not user:
                return self.reply(401, {"message": "Bad credentials"})
            with LOCK:
                orgs = list(STATE["orgs"])
            return self.reply(200, [{"login": o, "id": i} for i, o in enumerate(orgs)])
        if url.path == "/_fake/log":
            with LOCK:
                return self.reply(200, STATE["log"])
        return self.reply(404, {"message": "Not Found"})

    def authorize(self, q):
        problems = []
        if q.get("client_id") != CLIENT_ID:
            problems.append("client_id")
        if q.get("code_challenge_method") != "S256" or len(q.get("code_challenge", "")) != 43:
            problems.append("pkce")
        if not q.get("state") or not q.get("redirect_uri"):
            problems.append("state/redirect_uri")
        self.note("authorize", ",".join(problems) or q.get("scope", ""))
        if problems:
            return self.reply(400, {"error": "bad authorize request: " + ",".join(problems)})
        code = secrets.token_hex(10)
        with LOCK:
            STATE["codes"][code] = {"challenge": q["code_challenge"], "user": STATE["user"],
                                    "redirect_uri": q["redirect_uri"]}
        sep = "&" if "?" in q["redirect_uri"] else "?"
        loc = q["redirect_uri"] + sep + urllib.parse.urlencode({"code": code, "state": q["state"]})
        self.send_response(302)
        self.send_header("Location", loc)
        self.send_header("Content-Length", "0")
        self.end_headers()

    # ---------------------------------------------------------------- POST
    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/_fake/config":
            n = int(self.headers.get("Content-Length") or 0)
            conf = json.loads(self.rfile.read(n) or b"{}")
            with LOCK:
                for k in ("user", "orgs", "device_script", "interval", "delay", "fail"):
                    if k in conf:
                        STATE[k] = conf[k]
                if conf.get("clear_log"):
                    STATE["log"] = []
            return self.reply(200, {"ok": True})
        f, _ = self.form()
        if self.failing(url.path):
            return
        if self.headers.get("Accept", "").find("application/json") < 0:
            return self.reply(406, {"error": "the fake answers Accept: application/json only"})
        if url.path == "/login/device/code":
            if f.get("client_id") != CLIENT_ID:
                return self.reply(401, {"error": "incorrect_client_credentials"})
            dc = secrets.token_hex(20)
            with LOCK:
                STATE["devices"][dc] = {"user": STATE["user"], "step": 0}
                interval = STATE["interval"]
            self.note("device_code", f.get("scope", ""))
            port = self.server.server_address[1]
            return self.reply(200, {"device_code": dc, "user_code": "WDJB-MJHT",
                                    "verification_uri": "http://127.0.0.1:%d/login/device" % port,
                                    "expires_in": 900, "interval": interval})
        if url.path == "/login/oauth/access_token":
            if f.get("grant_type") == "urn:ietf:params:oauth:grant-type:device_code":
                return self.device_grant(f)
            return self.code_grant(f)
        return self.reply(404, {"message": "Not Found"})

    def code_grant(self, f):
        with LOCK:
            c = STATE["codes"].pop(f.get("code", ""), None)
        err = None
        if f.get("client_id") != CLIENT_ID or f.get("client_secret") != CLIENT_SECRET:
            err = "incorrect_client_credentials"
        elif not c:
            err = "bad_verification_code"
        elif challenge_of(f.get("code_verifier", "")) != c["challenge"]:
            err = "invalid_grant"
        elif f.get("redirect_uri") != c["redirect_uri"]:
            err = "redirect_uri_mismatch"
        self.note("code", err or "ok")
        if err:
            return self.reply(200, {"error": err, "error_description": err.replace("_", " ")})
        tok = "gho_" + secrets.token_hex(18)
        with LOCK:
            STATE["tokens"][tok] = c["user"]
        return self.reply(200, {"access_token": tok, "token_type": "bearer",
                                "scope": "read:user,read:org"})

    def device_grant(self, f):
        with LOCK:
            delay = STATE["delay"]
        if delay:
            self.note("device_wait", str(delay))
            time.sleep(delay)
        with LOCK:
            d = STATE["devices"].get(f.get("device_code", ""))
            script = STATE["device_script"]
            if d:
                answer = script[min(d["step"], len(script) - 1)]
                d["step"] += 1
            else:
                answer = "bad_device_code"
        if f.get("client_id") != CLIENT_ID:
            answer = "incorrect_client_credentials"
        self.note("device", answer)
        if answer != "ok":
            body = {"error": answer, "error_description": answer.replace("_", " ")}
            if answer == "slow_down":
                with LOCK:
                    body["interval"] = STATE["interval"] + 5
            return self.reply(200, body)
        tok = "gho_" + secrets.token_hex(18)
        with LOCK:
            STATE["tokens"][tok] = d["user"]
        return self.reply(200, {"access_token": tok, "token_type": "bearer", "scope": "read:user"})


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    with open(PORTFILE + ".tmp", "w") as fp:
        fp.write(str(srv.server_address[1]))
    import os
    os.rename(PORTFILE + ".tmp", PORTFILE)
    srv.serve_forever()


if __name__ == "__main__":
    main()
