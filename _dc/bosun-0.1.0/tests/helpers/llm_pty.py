#!/usr/bin/python3
"""Drives `bosunctl chat RUN` on a pseudo-terminal (tests/integration/llm_chat.sh).

    llm_pty.py BOSUNCTL SOCKET RUN AGENT LINE

Starts the prompt, waits for "> ", types LINE, waits until the daemon has
the message (the prompt says "sent"), then plays the run's part with
`bosunctl pub`: two message_delta events, the whole message and a status
idle.  Waits for the next "> ", sends end-of-file, and prints one JSON line
{"output", "exit"}.  Every wait is bounded (30 s).
"""
import json
import os
import pty
import select
import subprocess
import sys
import time

ctl, sock, run, agent, line = sys.argv[1:6]
pid, fd = pty.fork()
if pid == 0:
    os.execv(ctl, [ctl, "-s", sock, "chat", run])

out = b""


def until(needle, count=1, limit=30):
    global out
    end = time.time() + limit
    while out.count(needle) < count and time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                out += os.read(fd, 4096)
            except OSError:
                break
    return out.count(needle) >= count


def pub(kind, data):
    subprocess.run([ctl, "-s", sock, "pub", "evt.run.%s.%s.%s" % (agent, run, kind), json.dumps(data)],
                   check=True, timeout=30, capture_output=True)


until(b"> ")
os.write(fd, line.encode() + b"\n")
until(b"sent (message")
time.sleep(0.3)  # the subscription sees what follows
pub("message_delta", {"text": "Hel"})
pub("message_delta", {"text": "lo, human"})
pub("message", {"text": "Hello, human"})
pub("status", {"status": "idle"})
until(b"> ", 2)
os.write(fd, b"\x04")
until(b"\x00", 1, 3)
_, status = os.waitpid(pid, 0)
print(json.dumps({"output": out.decode(errors="replace"), "exit": os.waitstatus_to_exitcode(status)}))
