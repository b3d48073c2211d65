#!/usr/bin/python3
"""Runs a program (the real Claude Code CLI, interactive) under a
pseudo-terminal, as a person at a terminal would, for
tests/integration/claude_notify.sh.

    claude_tty.py DIR SECONDS CMD [ARGS...]

The program runs in this directory with this environment, on a 120x40
terminal; what it draws is appended to DIR/tty.log.  The test steers it
through files in DIR: DIR/keys, when it appears, is typed (its bytes, then
the file is removed); DIR/stop ends the run.  The run also ends when the
program exits or SECONDS pass: then SIGTERM, SIGKILL 5 s later.  Exit
status 0 when stopped or exited, 3 when SECONDS passed.
"""
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time


def main():
    d, secs, cmd = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
    pid, fd = pty.fork()
    if pid == 0:
        # The child's terminal has its size before the program looks.
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        os.environ["TERM"] = "xterm-256color"
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    end = time.monotonic() + secs
    status = 3
    with open(os.path.join(d, "tty.log"), "ab") as log:
        while time.monotonic() < end:
            if os.path.exists(os.path.join(d, "stop")):
                status = 0
                break
            keys = os.path.join(d, "keys")
            if os.path.exists(keys):
                with open(keys, "rb") as k:
                    data = k.read()
                os.unlink(keys)
                os.write(fd, data)
            r, _, _ = select.select([fd], [], [], 0.1)
            if not r:
                continue
            try:
                b = os.read(fd, 65536)
            except OSError:  # EIO: the program closed the terminal
                b = b""
            if not b:
                status = 0
                break
            log.write(b)
            log.flush()
    try:
        os.kill(pid, signal.SIGTERM)
        for _ in range(50):
            if os.waitpid(pid, os.WNOHANG)[0]:
                return status
            # what it draws while it ends is read, so it never blocks on it
            if select.select([fd], [], [], 0.1)[0]:
                try:
                    os.read(fd, 65536)
                except OSError:
                    time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
    return status


if __name__ == "__main__":
    sys.exit(main())
