"""aurora/stats and aurora/reindex, as the contract gives them."""

from __future__ import annotations

from typing import Any

from pygls.exceptions import JsonRpcInvalidParams

from aurora_lsp.server import AuroraServer
from aurora_lsp.workspace import process_rss_bytes

SUMMED = ("files", "chunks", "residentChunks", "residentBytes", "evictions", "hits", "misses")


def register(server: AuroraServer) -> None:
    @server.feature("aurora/stats")
    async def stats(ls: AuroraServer, params: Any) -> dict[str, Any]:
        await ls.folders_ready.wait()
        totals: dict[str, Any] = {key: 0 for key in SUMMED}
        databases = []
        for folder in list(ls.folders.values()):
            figures = await ls.threads.on_reader(folder.figures)
            for key in SUMMED:
                totals[key] += figures[key]
            databases.append(figures["database"])
        first = databases[0] if databases else {"path": None, "bytes": 0}
        return {
            **totals,
            "memoryBudgetBytes": ls.settings.memory_budget_bytes,
            "maxChunks": ls.settings.max_chunks,
            "processRssBytes": process_rss_bytes(),
            "database": {"path": first["path"], "bytes": sum(d["bytes"] for d in databases)},
            "indexing": dict(ls.indexing),
        }

    @server.feature("aurora/reindex")
    async def reindex(ls: AuroraServer, params: Any) -> dict[str, Any]:
        full = _field(params, "full", False)
        if not isinstance(full, bool):
            raise JsonRpcInvalidParams("full must be true or false")
        await ls.folders_ready.wait()
        return await ls.refresh_all(full=full, show_progress=True)


def _field(params: Any, name: str, default: Any) -> Any:
    if params is None:
        return default
    if isinstance(params, dict):
        return params.get(name, default)
    return getattr(params, name, default)
