"""aurora/context: the code to see at a position or for a question, within a token budget."""

from __future__ import annotations

from typing import Any

from pygls.exceptions import JsonRpcInvalidParams

from aurora_lsp.context.retrieve import ContextRequest
from aurora_lsp.server import AuroraServer


def register(server: AuroraServer) -> None:
    @server.feature("aurora/context")
    async def context(ls: AuroraServer, params: Any) -> dict[str, Any]:
        uri, request = read_params(params, ls.settings.context_token_budget)
        await ls.folders_ready.wait()
        return await ls.context(uri, request)


def read_params(params: Any, default_budget: int) -> tuple[str | None, ContextRequest]:
    """The document's URI and the request; InvalidParams for anything malformed."""
    if params is None:
        params = {}
    if hasattr(params, "_asdict"):  # pygls hands custom requests' params over as namedtuples
        params = params._asdict()
    if not isinstance(params, dict):
        raise JsonRpcInvalidParams("params must be an object")
    uri = None
    document = params.get("textDocument")
    if document is not None:
        uri = document.get("uri") if isinstance(document, dict) else getattr(document, "uri", None)
        if not isinstance(uri, str):
            raise JsonRpcInvalidParams("textDocument.uri must be a string")
    line: int | None = None
    character = 0
    position = params.get("position")
    if position is not None:
        if uri is None:
            raise JsonRpcInvalidParams("a position needs a textDocument")
        line = _natural(position, "line")
        character = _natural(position, "character")
    query = params.get("query")
    if query is not None and not isinstance(query, str):
        raise JsonRpcInvalidParams("query must be a string")
    if line is None and not (query and query.strip()):
        raise JsonRpcInvalidParams("give a position (with textDocument), a query, or both")
    budget = _positive(params.get("tokenBudget"), "tokenBudget", default_budget)
    limit = params.get("limit")
    limit = None if limit is None else _positive(limit, "limit", 0)
    return uri, ContextRequest(None, line, character, query, budget, limit)


def _natural(position: Any, key: str) -> int:
    value = position.get(key) if isinstance(position, dict) else getattr(position, key, None)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise JsonRpcInvalidParams(f"position.{key} must be a whole number ≥ 0")
    return value


def _positive(value: Any, name: str, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise JsonRpcInvalidParams(f"{name} must be a whole number ≥ 1")
    return value
