"""Aurora's server over stdio with raw JSON-RPC, for start-up and latency figures that must not
include a client library's own cost; and how to start a version of it (the current tree, or
a commit's `server/` tree unpacked from git, on PYTHONPATH).

The server is started by command, never imported: harness/aurora.py stays the one module of
benchmarks/ that imports aurora_lsp.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from harness.paths import REPOSITORY
from harness.proc import status_kb, tree_by_children, tree_cpu_seconds


@dataclasses.dataclass(frozen=True)
class Launch:
    """How to start one version of Aurora: the command and what it adds to the environment."""

    command: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()

    def environment(self) -> dict[str, str]:
        return {**os.environ, **dict(self.env)}


def baseline_launch(commit: str, folder: Path) -> Launch:
    """A commit's server/ tree unpacked into `folder`, run as a module from PYTHONPATH."""
    archive = subprocess.run(["git", "-C", str(REPOSITORY), "archive", commit, "server"], capture_output=True,
                             check=True)  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return Launch((sys.executable, "-m", "aurora_lsp"), (("PYTHONPATH", str(folder / "server")),))


def _frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def _read_message(stream: Any) -> dict[str, Any]:
    length = 0
    while (line := stream.readline()) not in (b"\r\n", b""):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    if not length:
        raise RuntimeError("the server closed its output")
    result: dict[str, Any] = json.loads(stream.read(length))
    return result


class RawServer:
    """`aurora-lsp` over stdio with raw JSON-RPC: no client library's cost in the figures."""

    def __init__(self, root: Path, db: Path, index_on_startup: bool, launch: Launch) -> None:
        self.root = root
        self.started = time.perf_counter()
        self.process = subprocess.Popen([*launch.command], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, env=launch.environment())  # fmt: skip
        self._last_id = 0
        self.options = {"databasePath": str(db), "indexOnStartup": index_on_startup}

    def since_start(self) -> float:
        return time.perf_counter() - self.started

    def cpu(self) -> float:
        return tree_cpu_seconds(self.process.pid)

    def rss_mib(self) -> float:
        return sum(status_kb(pid)[0] for pid in tree_by_children(self.process.pid)) / 1024

    def figures(self) -> dict[str, float]:
        return {"wall_seconds": self.since_start(), "cpu_seconds": self.cpu(), "rss_mib": self.rss_mib()}

    def notify(self, method: str, params: Any) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(_frame({"jsonrpc": "2.0", "method": method, "params": params}))
        self.process.stdin.flush()

    def request(self, method: str, params: Any = None) -> Any:
        """Send a request and read until its answer; requests from the server get null."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self._last_id += 1
        sent = self._last_id
        self.process.stdin.write(_frame({"jsonrpc": "2.0", "id": sent, "method": method, "params": params}))
        self.process.stdin.flush()
        while True:
            message = _read_message(self.process.stdout)
            if "method" in message and "id" in message:
                self.process.stdin.write(_frame({"jsonrpc": "2.0", "id": message["id"], "result": None}))
                self.process.stdin.flush()
            elif message.get("id") == sent:
                if "error" in message:
                    raise RuntimeError(f"{method} failed: {message['error']}")
                return message.get("result")

    def initialize(self) -> None:
        folder = {"uri": self.root.as_uri(), "name": self.root.name}
        self.request("initialize", {"processId": os.getpid(), "rootUri": folder["uri"], "capabilities": {},
                                    "workspaceFolders": [folder], "initializationOptions": self.options})  # fmt: skip

    def close(self) -> None:
        try:
            self.request("shutdown")
            self.notify("exit", None)
            self.process.wait(30)
        except (OSError, RuntimeError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
