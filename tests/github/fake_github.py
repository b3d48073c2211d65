#!/usr/bin/python3
"""A fake of GitHub's REST API for the github plugin's tests: pull
requests, their diff, files, check runs, combined status and reviews, with
ETags and 304s, rate-limit headers and secondary limits on demand, and a
way for a test to deliver signed webhooks.  Listens on 127.0.0.1 only.

    fake_github.py PORT_FILE [--token TOKEN]

writes its port to PORT_FILE once it listens.  The test drives it over
HTTP under /_fake/ (JSON bodies):

    POST /_fake/pull      {"owner","repo","number", any field of the pull
                           request to set, "diff"?, "files"? (count),
                           "check_runs"?: [{"status","conclusion"}],
                           "status"?: "success"|..., "reviews"?: [...]}
                          -> the pull request (updated_at moves on); the
                          files, check runs and reviews are served a page
                          at a time (per_page, page) with Link next/last
    POST /_fake/limit     {"count": N, "status": 403|429, "retry_after"?: S,
                           "primary"?: bool}: the next N API requests are
                          refused as a (secondary or primary) limit would
    GET  /_fake/log       -> [{"method","path","query","status",
                           "if_none_match","authorization","accept",
                           "api_version","user_agent","time"}]
    POST /_fake/log/clear
    POST /_fake/webhook   {"url","secret","event","payload","delivery"?,
                           "signature"?: "bad"|"none"|"sha1"}: signs the
                          payload (X-Hub-Signature-256) and POSTs it to url;
                          -> {"status", "body"}
"""
import hashlib
import hmac
import json
import sys
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

LOCK = threading.Lock()
PULLS = {}  # (owner, repo, number) -> dict
LOG = []
LIMIT = {"count": 0}
RATE = {"limit": 5000, "remaining": 5000, "reset": int(time.time()) + 3600}
TOKEN = None


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def new_pull(owner, repo, number):
    sha = hashlib.sha1(f"{owner}/{repo}#{number}".encode()).hexdigest()
    return {
        "pull": {
            "number": number, "title": f"PR {number}", "state": "open", "draft": False,
            "merged": False, "merged_at": None, "mergeable": True, "mergeable_state": "clean",
            "user": {"login": "octocat"}, "html_url": f"https://github.com/{owner}/{repo}/pull/{number}",
            "updated_at": iso(time.time()), "requested_reviewers": [],
            "head": {"ref": "feature", "sha": sha}, "base": {"ref": "main"},
        },
        "diff": f"diff --git a/f.txt b/f.txt\n--- a/f.txt\n+++ b/f.txt\n@@ -1 +1 @@\n-old\n+new {number}\n",
        "files": 1, "check_runs": [], "status": "pending", "reviews": [],
    }


def etag_of(body):
    return '"' + hashlib.sha256(body).hexdigest()[:40] + '"'


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", ctype="application/json; charset=utf-8", headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if status != 304:
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
        else:
            self.send_header("Content-Length", "0")
        self.end_headers()
        if status != 304 and self.command != "HEAD":
            self.wfile.write(body)

    def json_reply(self, status, obj, headers=None):
        self.reply(status, json.dumps(obj).encode(), headers=headers)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    # ---------------------------------------------------- control

    def control(self, path):
        if path == "/_fake/log" and self.command == "GET":
            with LOCK:
                return self.json_reply(200, LOG)
        data = json.loads(self.body() or b"{}")
        if path == "/_fake/log/clear":
            with LOCK:
                LOG.clear()
            return self.json_reply(200, {})
        if path == "/_fake/limit":
            with LOCK:
                LIMIT.clear()
                LIMIT.update(data)
            return self.json_reply(200, LIMIT)
        if path == "/_fake/pull":
            key = (data.pop("owner"), data.pop("repo"), int(data.pop("number")))
            with LOCK:
                p = PULLS.setdefault(key, new_pull(*key))
                for k in ("diff", "files", "check_runs", "status", "reviews"):
                    if k in data:
                        p[k] = data.pop(k)
                p["pull"].update(data)
                p["pull"]["updated_at"] = iso(time.time())
                return self.json_reply(200, p["pull"])
        if path == "/_fake/webhook":
            return self.deliver(data)
        return self.json_reply(404, {"message": "no such control"})

    def deliver(self, d):
        raw = json.dumps(d["payload"]).encode()
        headers = {"Content-Type": "application/json", "X-GitHub-Event": d["event"],
                   "X-GitHub-Delivery": d.get("delivery") or str(uuid.uuid4()),
                   "User-Agent": "GitHub-Hookshot/fake"}
        sig = "sha256=" + hmac.new(d["secret"].encode(), raw, hashlib.sha256).hexdigest()
        how = d.get("signature")
        if how == "bad":
            sig = "sha256=" + hmac.new(b"another secret!!", raw, hashlib.sha256).hexdigest()
        elif how == "sha1":
            sig = "sha1=" + hmac.new(d["secret"].encode(), raw, hashlib.sha1).hexdigest()
        if how != "none":
            headers["X-Hub-Signature-256"] = sig
        req = urllib.request.Request(d["url"], data=raw, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                status, body = r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            status, body = e.code, e.read().decode()
        return self.json_reply(200, {"status": status, "body": body,
                                     "delivery": headers["X-GitHub-Delivery"]})

    # ---------------------------------------------------- API

    def rate_headers(self, spend):
        with LOCK:
            if spend and RATE["remaining"] > 0:
                RATE["remaining"] -= 1
            return {"X-RateLimit-Limit": str(RATE["limit"]),
                    "X-RateLimit-Remaining": str(RATE["remaining"]),
                    "X-RateLimit-Reset": str(RATE["reset"]), "X-RateLimit-Resource": "core"}

    def logged(self, status, url):
        h = self.headers
        with LOCK:
            LOG.append({"method": self.command, "path": url.path, "query": url.query,
                        "status": status, "if_none_match": h.get("If-None-Match"),
                        "authorization": h.get("Authorization"), "accept": h.get("Accept"),
                        "api_version": h.get("X-GitHub-Api-Version"),
                        "user_agent": h.get("User-Agent"), "time": time.time()})

    def limited(self, url):
        with LOCK:
            if LIMIT.get("count", 0) <= 0:
                return False
            LIMIT["count"] -= 1
            lim = dict(LIMIT)
        headers = self.rate_headers(False)
        if lim.get("primary"):
            headers["X-RateLimit-Remaining"] = "0"
            headers["X-RateLimit-Reset"] = str(int(time.time()) + int(lim.get("reset_in", 2)))
            msg = "API rate limit exceeded for user."
        else:
            msg = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
        if "retry_after" in lim:
            headers["Retry-After"] = str(lim["retry_after"])
        status = int(lim.get("status", 403))
        self.logged(status, url)
        self.json_reply(status, {"message": msg}, headers)
        return True

    def api(self, url):
        if TOKEN and self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.logged(401, url)
            return self.json_reply(401, {"message": "Bad credentials"})
        if self.limited(url):
            return
        parts = url.path.strip("/").split("/")
        q = parse_qs(url.query)
        if len(parts) < 5 or parts[0] != "repos":
            self.logged(404, url)
            return self.json_reply(404, {"message": "Not Found"})
        owner, repo = parts[1], parts[2]
        found = self.resource(owner, repo, parts[3:], q)
        if found is None:
            self.logged(404, url)
            return self.json_reply(404, {"message": "Not Found"}, self.rate_headers(True))
        body, ctype, extra = found
        tag = etag_of(body)
        if self.headers.get("If-None-Match") == tag:
            self.logged(304, url)
            headers = self.rate_headers(False)  # 304s do not count
            headers["ETag"] = tag
            return self.reply(304, headers=headers)
        self.logged(200, url)
        headers = self.rate_headers(True)
        headers["ETag"] = tag
        headers.update(extra)
        self.reply(200, body, ctype, headers)

    def resource(self, owner, repo, rest, q):
        with LOCK:
            if rest[0] == "pulls" and len(rest) >= 2 and rest[1].isdigit():
                p = PULLS.get((owner, repo, int(rest[1])))
                if not p:
                    return None
                if len(rest) == 2:
                    if "diff" in (self.headers.get("Accept") or ""):
                        return p["diff"].encode(), "text/plain; charset=utf-8", {}
                    return json.dumps(p["pull"]).encode(), "application/json", {}
                if rest[2] == "files":
                    return self.files_page(owner, repo, rest[1], p["files"], q)
                if rest[2] == "reviews":
                    items, extra = self.page_of(p["reviews"], q, f"/repos/{owner}/{repo}/pulls/{rest[1]}/reviews")
                    return json.dumps(items).encode(), "application/json", extra
                return None
            if rest[0] == "commits" and len(rest) == 3:
                p = next((v for (o, r, n), v in PULLS.items()
                          if o == owner and r == repo and v["pull"]["head"]["sha"] == rest[1]), None)
                if not p:
                    return None
                if rest[2] == "check-runs":
                    runs = [{"name": f"check {i}", **c} for i, c in enumerate(p["check_runs"])]
                    page, extra = self.page_of(runs, q, f"/repos/{owner}/{repo}/commits/{rest[1]}/check-runs")
                    return (json.dumps({"total_count": len(runs), "check_runs": page}).encode(),
                            "application/json", extra)
                if rest[2] == "status":
                    return (json.dumps({"state": p["status"], "total_count": 1}).encode(),
                            "application/json", {})
        return None

    def page_of(self, items, q, path):
        """The page of items that per_page and page ask for (GitHub's
        default 30, at most 100), and a Link header naming the next and
        the last page while there are more."""
        per = min(int(q.get("per_page", ["30"])[0]), 100)
        page = int(q.get("page", ["1"])[0])
        first = (page - 1) * per
        last = max(1, (len(items) + per - 1) // per)
        extra = {}
        if page < last:
            base = f"http://{self.headers.get('Host')}{path}"
            extra["Link"] = (f'<{base}?per_page={per}&page={page + 1}>; rel="next", '
                             f'<{base}?per_page={per}&page={last}>; rel="last"')
        return items[first:first + per], extra

    def files_page(self, owner, repo, number, count, q):
        # "files": a count of made-up files, or the files themselves.
        given = count if isinstance(count, list) else None
        count = len(given) if given is not None else count
        items = [given[i] if given is not None else
                 {"filename": f"src/file{i}.c", "status": "modified" if i % 2 else "added",
                  "additions": i + 1, "deletions": i, "changes": 2 * i + 1,
                  "patch": f"@@ -1 +1 @@\n-a{i}\n+b{i}"}
                 for i in range(count)]
        page, extra = self.page_of(items, q, f"/repos/{owner}/{repo}/pulls/{number}/files")
        return json.dumps(page).encode(), "application/json", extra

    def do_GET(self):
        url = urlsplit(self.path)
        if url.path.startswith("/_fake/"):
            return self.control(url.path)
        self.api(url)

    def do_POST(self):
        url = urlsplit(self.path)
        if url.path.startswith("/_fake/"):
            return self.control(url.path)
        self.json_reply(404, {"message": "Not Found"})


def main():
    global TOKEN
    if "--token" in sys.argv:
        TOKEN = sys.argv[sys.argv.index("--token") + 1]
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
