"""A minimal QMP client (QEMU's JSON control socket) over a UNIX socket:
commands, HMP lines through it, and nothing else. It must not start QEMU
or decide what a scenario does; it only carries commands."""
from __future__ import annotations

import json
import socket
import time
from typing import Any


class QMP:
    """One connection; asynchronous events (STOP, RESUME) are skipped."""

    def __init__(self, path: str, timeout: float = 10.0) -> None:
        # QEMU creates the socket some time after it starts: connecting is
        # tried every 50 ms until then (bounded), and the tries are counted
        # (self.attempts) so that a caller can report them.
        deadline = time.monotonic() + timeout
        self.attempts = 0
        while True:
            self.attempts += 1
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.sock.settimeout(timeout + 60)
        self.buf = b""
        self._read()                      # greeting
        self.cmd("qmp_capabilities")

    def _read(self) -> dict[str, Any]:
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("QMP socket closed")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return json.loads(line)

    def cmd(self, name: str, **args: Any) -> Any:
        """Runs one command and returns its `return` value."""
        msg: dict[str, Any] = {"execute": name}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            r = self._read()
            if "return" in r:
                return r["return"]
            if "error" in r:
                raise RuntimeError(f"QMP {name}: {r['error'].get('desc')}")

    def hmp(self, line: str) -> str:
        """Runs a human-monitor command; its error text raises."""
        out = self.cmd("human-monitor-command", **{"command-line": line})
        if out and ("Error" in out or "error" in out):
            raise RuntimeError(f"{line}: {out.strip()}")
        return out

    def close(self) -> None:
        self.sock.close()
