#!/usr/bin/python3
"""Property test of cmd.llm.files.replay (tests/integration/llm_files.sh).

    llm_replay.py BOSUNCTL SOCKET RUN SEED OPS

Records OPS random changes (writes of random content, edits of a few
bytes, deletes of existing paths, over a handful of paths in two
directories) to RUN's session, remembering the workspace after each one,
then replays every version N from 0 to the last and compares the files
with the state after the Nth change.  Prints one JSON line:
{"ops", "versions", "mismatches": [N...], "first_version"}.
"""
import base64
import json
import random
import subprocess
import sys

ctl, sock, run, seed, n_ops = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
rnd = random.Random(seed)
paths = ["a.txt", "b.txt", "src/c.py", "src/d.bin", "src/deep/e.md"]


def request(subject, data):
    out = subprocess.run([ctl, "-s", sock, "request", subject, json.dumps(data), "--json"],
                         capture_output=True, timeout=60, check=True).stdout
    return json.loads(out)["data"]


first = None
state = {}
states = []
for i in range(n_ops):
    p = rnd.choice(paths)
    if p in state and rnd.random() < 0.25:
        del state[p]
        r = request("cmd.llm.files.record", {"run": run, "path": p, "op": "delete"})
    else:
        if p in state and rnd.random() < 0.5:
            b = bytearray(state[p])
            b[rnd.randrange(len(b))] = rnd.randrange(256)
            content = bytes(b)
        else:
            content = bytes(rnd.randrange(256) for _ in range(rnd.randrange(0, 600)))
        state[p] = content
        r = request("cmd.llm.files.record", {"run": run, "path": p, "op": "write",
                                             "content_base64": base64.b64encode(content).decode(),
                                             "round": i, "tool_call": "c%d" % i})
    if first is None:
        first = r["version"]
    states.append(dict(state))

mismatches = []
for k in range(len(states) + 1):
    version = first - 1 + k
    got = request("cmd.llm.files.replay", {"run": run, "version": version})
    files = {f["path"]: base64.b64decode(f["content_base64"]) for f in got["files"]}
    want = states[k - 1] if k > 0 else {}
    if files != want:
        mismatches.append(version)
print(json.dumps({"ops": n_ops, "versions": len(states) + 1, "mismatches": mismatches,
                  "first_version": first}))
