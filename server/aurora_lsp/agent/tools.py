"""`aurora-lsp mcp`: Aurora's memory for AI agents, as a Model Context Protocol server over stdio.

Four tools on the official MCP SDK (`mcp` 2.x, the `aurora-lsp[mcp]` extra): `context`,
`symbols`, `related` and `stats`, answered by the same WorkspaceService the language server
uses, from the same database (SQLite in WAL mode lets both run at once). Each result is
text an agent reads well and, as structured content (`protocol.to_wire` of the records
of agent/answers.py), the chunk ids, detail levels and reasons of `aurora/context`. Both forms keep the
budget, since some clients show the model the one and some the other.

Threads: the SDK's event loop never blocks. Reads run on the service's reader thread,
refreshes and recorded uses on its writer thread (workspace/threads.py), as in the server.

Freshness: there is no file watcher; a refresh walks the tree and compares file states.
Where that finds nothing to do within FRESH_WAIT_SECONDS (small and middling workspaces),
a call refreshes first and answers from a fresh index. Where it takes longer (Django's
2,500 folders: 85-130 ms), a call answers from the index as it is and the refresh runs
after it, so a change shows from the next call on (AgentWorkspace). At most one refresh a
REFRESH_INTERVAL_SECONDS either way; a workspace never indexed is indexed before its
first answer.

Uses: what an agent names (the focus of `context`, an exact `symbols` hit, the subject of
`related`) is recorded as a use of kind "agent"; what an answer showed in full counts as
"context", the weak kind that keeps answers from reinforcing themselves (accesses.py).
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, ParamSpec
from urllib.parse import unquote, urlparse

import anyio
import attrs
from mcp.server import MCPServer
from mcp.server.mcpserver.tools import Tool
from mcp_types import CallToolResult, ToolAnnotations
from pydantic import Field, WithJsonSchema

from aurora_lsp import __version__, protocol
from aurora_lsp.agent.answers import (
    MAX_BUDGET,
    AgentSymbols,
    Rendered,
    agent_symbol,
    context_result,
    first_items,
    largest_fitting,
    related_text,
    result_size,
    stats_text,
    symbols_text,
    tool_error,
    tool_result,
)
from aurora_lsp.agent.workspace import AgentWorkspace, ArgumentError, find_related, why_empty
from aurora_lsp.config import LiveSettings, Settings
from aurora_lsp.context.accesses import shown_events
from aurora_lsp.context.engine import ContextRequest
from aurora_lsp.records import Event
from aurora_lsp.search import TIER_EXACT
from aurora_lsp.workspace import figures
from aurora_lsp.workspace.service import WorkspaceService, resolved_root
from aurora_lsp.workspace.threads import Threads

logger = logging.getLogger(__name__)
P = ParamSpec("P")
MIN_BUDGET = 250  # room for one item by name, as structured content
DEFAULT_BUDGET = Settings().context_token_budget
MAX_LIMIT = 100
CODE_SHARE = 0.45  # a context result's code, of its size in tokens (Django: 0.4 to 0.5)
SYMBOLS_LIMIT = 20
RELATED_LIMIT = 10  # per relation
AGENT_USE = "agent"
# An exact symbol hit is a use when it names at most this many chunks (as workspace/symbol).
EXACT_USES_AT_MOST = 3

INSTRUCTIONS = (
    "Aurora remembers this Python codebase: chunks for every class and function, their links, "
    "and what was used recently. Ask `context` before reading files; ids it returns work in `related`."
)


# -- the tools -----------------------------------------------------------------------------


def _schema(schema: dict[str, Any]) -> WithJsonSchema:
    """A parameter's JSON schema as written here: short, no titles, `null` not spelled out."""
    return WithJsonSchema(schema)


Question = Annotated[
    str | None,
    _schema({"type": "string", "description": "What you are working on, in words or names."}),
]
File = Annotated[
    str | None,
    _schema({"type": "string", "description": "A file to focus on, relative to the workspace root."}),
]
Line = Annotated[
    int | None,
    Field(ge=1),
    _schema({"type": "integer", "minimum": 1, "description": "Line in `file`, from 1; its definition is the focus."}),
]
Budget = Annotated[
    int,
    Field(ge=MIN_BUDGET),
    _schema(
        {
            "type": "integer",
            "minimum": MIN_BUDGET,
            "maximum": MAX_BUDGET,
            "default": DEFAULT_BUDGET,
            "description": f"Tokens the answer may use; more than {MAX_BUDGET} is cut to {MAX_BUDGET}.",
        }
    ),
]


def _limit_schema(description: str, default: int | None = None) -> WithJsonSchema:
    schema: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "description": description}
    if default is not None:
        schema["default"] = default
    return _schema(schema)


ContextLimit = Annotated[int | None, Field(ge=1, le=MAX_LIMIT), _limit_schema("At most this many items.")]
SymbolsLimit = Annotated[int, Field(ge=1, le=MAX_LIMIT), _limit_schema("At most this many symbols.", SYMBOLS_LIMIT)]
RelatedLimit = Annotated[
    int, Field(ge=1, le=MAX_LIMIT), _limit_schema("At most this many per relation.", RELATED_LIMIT)
]
Query = Annotated[
    str,
    Field(min_length=1),
    _schema({"type": "string", "description": "A name or part of one: `Cart.add`, `total`, `QuerySet.filt`."}),
]
Symbol = Annotated[
    str,
    Field(min_length=1),
    _schema(
        {"type": "string", "description": "A chunk id from `symbols` or `context` (`path.py::Class.method`) or a name."}
    ),
]

READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)


def create_mcp_server(workspace: AgentWorkspace) -> MCPServer[Any]:
    """The MCP server with Aurora's four tools on `workspace`."""
    threads, service, root = workspace.threads, workspace.service, workspace.root

    async def context(
        question: Question = None,
        file: File = None,
        line: Line = None,
        budget: Budget = DEFAULT_BUDGET,
        limit: ContextLimit = None,
    ) -> CallToolResult:
        """The code to see for a question or at a file and line, best first within a token budget:
        full text, then signatures, then names, each with its chunk id and why it is here."""
        try:
            request = ContextRequest(
                path=_workspace_file(service.root, file, line),
                line=line - 1 if line is not None else None,
                query=_question(question, file),
                token_budget=min(budget, MAX_BUDGET),
                limit=limit,
            )
        except ArgumentError as error:
            return tool_error(str(error))
        now = time.time()
        # The ids, reasons and fields take their room beside the code: the engine packs the code
        # into CODE_SHARE of the budget, and once more into the share it turned out to have
        # when that was far off (too much to cut well, or room left while it had more).
        budget = request.token_budget
        request.token_budget = max(1, int(budget * CODE_SHARE))
        answer = attrs.evolve(await threads.run(service.context, request, now), token_budget=budget)
        written = result_size(context_result(answer, root))
        filled = answer.used_tokens >= 0.9 * request.token_budget
        if answer.used_tokens and (written > 1.25 * budget or (written < 0.85 * budget and filled)):
            request.token_budget = max(1, budget * answer.used_tokens // written)
            answer = attrs.evolve(await threads.run(service.context, request, now), token_budget=budget)
        shown, (text, structured) = largest_fitting(
            len(answer.items), lambda count: context_result(first_items(answer, count), root), budget
        )
        answer = first_items(answer, shown)
        workspace.record([_as_agent(event) for event in shown_events(answer, now)])
        if not answer.items:
            text += "\n" + await why_empty(workspace)
        return tool_result(text, structured)

    async def symbols(query: Query, limit: SymbolsLimit = SYMBOLS_LIMIT) -> CallToolResult:
        """Definitions whose names match, best first: exact, prefix, word starts, then fuzzy."""
        hits = await threads.run(service.symbols, query, limit)
        exact = [hit.chunk.id for hit in hits if hit.match.tier == TIER_EXACT]
        if 0 < len(exact) <= EXACT_USES_AT_MOST:
            now = time.time()
            workspace.record([(chunk_id, now, AGENT_USE) for chunk_id in exact])
        items = [agent_symbol(hit) for hit in hits]

        def render(count: int) -> Rendered:
            return symbols_text(query, items[:count], len(items)), protocol.to_wire(AgentSymbols(query, items[:count]))

        _, (text, structured) = largest_fitting(len(items), render, MAX_BUDGET)
        if not hits:
            text += "\n" + await why_empty(workspace)
        return tool_result(text, structured)

    async def related_(symbol: Symbol, limit: RelatedLimit = RELATED_LIMIT) -> CallToolResult:
        """Callers, callees, base classes, subclasses and other uses of one definition, from
        resolved references; each with its chunk id, signature and how the link was found."""
        try:
            answer, named = await threads.run(find_related, service, symbol.strip(), limit)
        except ArgumentError as error:
            return tool_error(str(error))
        if answer.subject is not None and named:
            workspace.record([(answer.subject.id, time.time(), AGENT_USE)])

        def render(count: int) -> Rendered:
            shown = attrs.evolve(answer, items=answer.items[:count])
            return related_text(shown), protocol.to_wire(shown)

        _, (text, structured) = largest_fitting(len(answer.items), render, MAX_BUDGET)
        if answer.subject is None:
            text += "\n" + await why_empty(workspace)
        return tool_result(text, structured)

    async def stats() -> CallToolResult:
        """What Aurora has indexed here: files, chunks, links, memory and the database."""
        folder = await threads.run(service.figures)
        answer = figures.stats([folder], service.indexing, service.settings.current)
        return tool_result(stats_text(answer, root, workspace.refreshing), protocol.to_wire(answer))

    tools = []
    for function, name in ((context, "context"), (symbols, "symbols"), (related_, "related"), (stats, "stats")):
        answered = _answering(workspace, function)
        tool = Tool.from_function(answered, name=name, description=_one_line(function.__doc__), annotations=READ_ONLY)
        tool.parameters = _tidy(tool.parameters)
        tools.append(tool)
    return MCPServer("aurora", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING", tools=tools)


def _answering(
    workspace: AgentWorkspace, tool: Callable[P, Awaitable[CallToolResult]]
) -> Callable[P, Awaitable[CallToolResult]]:
    """The tool, its call inside `workspace.answering()` (the refresh before or after it)."""

    @functools.wraps(tool)
    async def answered(*args: P.args, **kwargs: P.kwargs) -> CallToolResult:
        async with workspace.answering():
            return await tool(*args, **kwargs)

    return answered


def _tidy(schema: dict[str, Any]) -> dict[str, Any]:
    """A tool's input schema without what pydantic adds and an agent does not need: titles
    (the names say it) and `"default": null` (leaving a parameter out says it)."""
    properties = {
        name: {key: value for key, value in field.items() if key != "title" and (key, value) != ("default", None)}
        for name, field in schema.get("properties", {}).items()
    }
    return {key: value for key, value in schema.items() if key != "title"} | {"properties": properties}


def _one_line(docstring: str | None) -> str:
    return " ".join((docstring or "").split())


def _question(question: str | None, file: str | None) -> str | None:
    if question is not None and question.strip():
        return question
    if file is None:
        raise ArgumentError("give a `question`, or a `file` and `line`, or both")
    return None


def _workspace_file(root: Path, file: str | None, line: int | None) -> str | None:
    """`file` as a path relative to `root` (canonical); ArgumentError when it is not a file in the workspace."""
    if file is None:
        if line is not None:
            raise ArgumentError("`line` needs a `file`")
        return None
    if line is None:
        raise ArgumentError("`file` needs a `line` (from 1)")
    if file.startswith("file://"):
        file = unquote(urlparse(file).path)
    candidate = Path(file).expanduser()
    resolved = (candidate if candidate.is_absolute() else root / candidate).resolve()
    try:
        relative = resolved.relative_to(root).as_posix()
    except ValueError:
        raise ArgumentError(f"{file} is not inside the workspace {root}") from None
    if not resolved.is_file():
        raise ArgumentError(f"no such file in the workspace: {relative}")
    return relative


def _as_agent(event: Event) -> Event:
    """A context answer's focus was named by the agent: its own kind of use."""
    chunk_id, at, kind = event
    return (chunk_id, at, AGENT_USE if kind == "focus" else kind)


# -- running -------------------------------------------------------------------------------


def serve(root: Path, settings: Settings) -> int:
    """Serve the tools over stdio until the client closes stdin; the exit status."""
    shown = Path(os.path.abspath(root.expanduser()))  # as named; the service reads its canonical form
    service = WorkspaceService(resolved_root(root), LiveSettings(settings), shown_root=shown)

    async def main() -> bool:
        workspace = AgentWorkspace(service, Threads())
        await workspace.open()
        try:
            await create_mcp_server(workspace).run_stdio_async()
        finally:
            closed = await workspace.close()
        return closed

    if not anyio.run(main):
        # The client is gone and a refresh is writing: it cannot be interrupted, and a normal
        # exit would wait for it. Its transaction rolls back; the next start redoes the work.
        logger.warning("aurora-lsp mcp: stopped during a refresh; the next start finishes it")
        sys.stderr.flush()
        os._exit(0)
    return 0
