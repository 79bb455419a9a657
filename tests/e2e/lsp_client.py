"""The one LSP client helper every e2e test uses: nothing else here launches Aurora or talks to it.

- `start_server`: the real server (`python -m aurora_lsp`) over stdio, driven by a typed
  pytest-lsp client, initialized on a workspace and database, returned once the first index
  is done.
- `request`: a custom request (`aurora/stats`, `aurora/context`); pygls hands its result over
  as namedtuples, `plain` turns them back into the JSON-like dicts and lists that were sent.
- `symbols`, `outline`: workspace and document symbols as lists.
- `wait_until` (on `aurora/stats`) and `eventually` (on any check): waiting, never sleeping
  a fixed time, each giving up after `TIMEOUT` seconds.
- `RawSession`: a bare JSON-RPC session over the server's stdio, for messages no typed client
  would send.
- `AURORA` and `run_cli`: the command that starts Aurora, and the command line run to the end.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

TIMEOUT = 60
AURORA = [sys.executable, "-m", "aurora_lsp"]


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, input: str | None = None, timeout: int = 120
) -> subprocess.CompletedProcess[str]:
    """`aurora-lsp *args` to the end, its output captured as text; `env` adds to the environment."""
    return subprocess.run(
        [*AURORA, *args],
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )


async def start_server(root: Path, db: Path, **options: Any) -> LanguageClient:
    """The server on `root`, its index in `db`, `options` as initializationOptions; after the first index."""
    client = await ClientServerConfig(server_command=AURORA).start()
    assert isinstance(client, LanguageClient)
    await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
            initialization_options={"databasePath": str(db), **options},
        )
    )
    await wait_until(client, lambda stats: stats["indexing"]["lastRunSeconds"] is not None)
    return client


def plain(value: Any) -> Any:
    """pygls hands a custom request's result over as namedtuples; JSON-like values are easier to check."""
    if hasattr(value, "_asdict"):
        return {key: plain(item) for key, item in value._asdict().items()}
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


async def request(client: LanguageClient, method: str, params: Any) -> Any:
    """A custom request's result as plain dicts and lists."""
    return plain(await client.protocol.send_request_async(method, params))


async def stats_of(client: LanguageClient) -> dict[str, Any]:
    result: dict[str, Any] = await request(client, "aurora/stats", None)
    return result


async def wait_until(client: LanguageClient, ready: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The stats once indexing is idle and `ready(stats)` holds."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        stats = await stats_of(client)
        if stats["indexing"]["state"] == "idle" and ready(stats):
            return stats
        assert time.monotonic() < deadline, stats
        await asyncio.sleep(0.05)


async def eventually(check: Callable[[], Awaitable[bool]]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not await check():
        assert time.monotonic() < deadline, "condition never held"
        await asyncio.sleep(0.1)


async def symbols(client: LanguageClient, query: str) -> list[types.SymbolInformation]:
    result = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query=query))
    return list(result or [])  # type: ignore[arg-type]


async def outline(client: LanguageClient, path: Path) -> list[Any]:
    result = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=path.as_uri()))
    )
    return list(result or [])


class RawSession:
    """A bare JSON-RPC session over the server's stdio, for messages no typed client would send."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.next_id = 0

    @classmethod
    async def start(cls) -> RawSession:
        process = await asyncio.create_subprocess_exec(
            *AURORA,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        return cls(process)

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    async def receive(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        length = 0
        while (line := await self.process.stdout.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return json.loads(await self.process.stdout.readexactly(length))

    async def initialize(self, root: Path, db: Path) -> dict[str, Any]:
        """`initialize` with no client capabilities, then `initialized`; the server's answer."""
        options = {"databasePath": str(db)}
        params = {"processId": None, "rootUri": root.as_uri(), "capabilities": {}, "initializationOptions": options}
        answer = await self.request("initialize", params)
        self.send({"method": "initialized", "params": {}})
        return answer

    async def request(self, method: str, params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        while True:
            message = await asyncio.wait_for(self.receive(), TIMEOUT)
            if message.get("id") == self.next_id and "method" not in message:
                return message
            if "method" in message and "id" in message:  # a request from the server: answer it
                self.send({"id": message["id"], "result": None})
