#!/usr/bin/env python3
"""Runs a command in a pseudo-terminal, as a user's terminal would: the command's screen output
(raw bytes, escape sequences included) is copied to this script's stdout, and bytes written to
this script's stdin are typed into the terminal. Exits with the command's exit code.

usage: pty-run.py ROWS COLS -- COMMAND [ARGS...]
"""
import errno
import fcntl
import os
import pty
import select
import struct
import sys
import termios


def main() -> int:
    rows, cols = int(sys.argv[1]), int(sys.argv[2])
    cmd = sys.argv[sys.argv.index("--") + 1 :]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    stdin_open = True
    status = None
    while True:
        watch = [fd] + ([0] if stdin_open else [])
        try:
            ready, _, _ = select.select(watch, [], [], 0.2)
        except InterruptedError:
            continue
        if fd in ready:
            try:
                data = os.read(fd, 65536)
            except OSError as e:
                if e.errno != errno.EIO:
                    raise
                data = b""
            if not data:
                break
            os.write(1, data)
        if 0 in ready:
            data = os.read(0, 1024)
            if not data:
                stdin_open = False
            else:
                os.write(fd, data)
        if status is None:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
    if status is None:
        _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else (status >> 8)


if __name__ == "__main__":
    code = main()
    sys.exit(code if code >= 0 else 128 - code)
