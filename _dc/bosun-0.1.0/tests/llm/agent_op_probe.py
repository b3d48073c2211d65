# A run's program on the agent socket with {"op": "agent"}: prints one
# "name: outcome" line per probe for tests/integration/llm_agent_op.sh.
# argv: the other run's id.
import json
import os
import socket
import sys

other = sys.argv[1]
run = os.environ["BOSUN_RUN_ID"]


class Conn:
    def __init__(self):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(10)
        self.s.connect(os.environ["BOSUN_SOCKET"])
        self.f = self.s.makefile("rb")
        self.n = 0

    def call(self, **req):
        self.n += 1
        req["id"] = self.n
        self.s.sendall((json.dumps(req) + "\n").encode())
        while True:
            r = json.loads(self.f.readline())
            if r.get("id") == self.n:
                return r


def outcome(r):
    return "ok" if r.get("ok") else r["error"]["code"]


c = Conn()
print("bad token:", outcome(c.call(op="agent", token="bat_" + "0" * 60)), flush=True)
r = c.call(op="agent", token=os.environ["BOSUN_AGENT_TOKEN"])
print("agent:", outcome(r), flush=True)
print("agent run:", "own" if r.get("result", {}).get("run") == run else "other", flush=True)
print("again:", outcome(c.call(op="agent", token=os.environ["BOSUN_AGENT_TOKEN"])), flush=True)
r = c.call(op="request", subject="cmd.input.create",
           data={"run": other, "question": "forged for the other run?"})
print("input:", outcome(r), flush=True)
input_id = r.get("result", {}).get("data", {}).get("input", "")
print("input id:", input_id, flush=True)
r = c.call(op="request", subject="cmd.store.inputs", data={"run": other})
runs = sorted({i["run"] for i in r.get("result", {}).get("data", {}).get("inputs", [])})
print("store inputs:", outcome(r), flush=True)
print("store input runs:", ",".join("own" if x == run else "other" for x in runs) or "none", flush=True)
print("sub input:", outcome(c.call(op="sub", pattern="evt.input.%s.>" % input_id)), flush=True)
print("sub all inputs:", outcome(c.call(op="sub", pattern="evt.input.>")), flush=True)
print("sub other run:", outcome(c.call(op="sub", pattern="evt.run.*.%s.>" % other)), flush=True)
print("sub own run:", outcome(c.call(op="sub", pattern="evt.run.*.%s.>" % run)), flush=True)
print("task create:", outcome(c.call(op="request", subject="cmd.task.create",
                                     data={"title": "x"})), flush=True)
r = c.call(op="request", subject="cmd.approval.request",
           data={"agent": "idle", "run": other, "tool": "bash", "input": {"command": "ls"}})
print("approval:", outcome(r), flush=True)
print("approval behavior:", r.get("result", {}).get("data", {}).get("behavior"), flush=True)
print("publish:", outcome(c.call(op="pub", subject="evt.run.x.%s.state" % run, data={})), flush=True)
print("status:", outcome(c.call(op="status")), flush=True)
print("done", flush=True)
