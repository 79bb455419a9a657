"""aurora/stats and aurora/reindex, as the contract gives them."""

from __future__ import annotations

from typing import Any

from aurora_lsp import protocol
from aurora_lsp.protocol import ReindexParams
from aurora_lsp.server import AuroraServer


def register(server: AuroraServer) -> None:
    @server.feature(protocol.STATS)
    async def stats(ls: AuroraServer, params: None) -> Any:
        await ls.folders.ready.wait()
        return protocol.to_wire(await ls.folders.stats())

    @server.feature(protocol.REINDEX)
    async def reindex(ls: AuroraServer, params: ReindexParams) -> Any:
        await ls.folders.ready.wait()
        return protocol.to_wire(await ls.refresh(full=params.full, progress=True))
