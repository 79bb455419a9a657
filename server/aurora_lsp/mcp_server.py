"""`aurora-lsp mcp`: Aurora's memory for AI agents, as a Model Context Protocol server over stdio.

Four tools on the official MCP SDK (`mcp` 2.x, the `aurora-lsp[mcp]` extra): `context`,
`symbols`, `related` and `stats`, answered by the same WorkspaceService the language server
uses, from the same database (SQLite in WAL mode lets both run at once). Each result is
text an agent reads well and, as structured content (`protocol.to_wire` of the records
below), the chunk ids, detail levels and reasons of `aurora/context`. Both forms keep the
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

import asyncio
import functools
import json
import logging
import os
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, ParamSpec
from urllib.parse import unquote, urlparse

import anyio
import attrs
from mcp.server import MCPServer
from mcp.server.mcpserver.tools import Tool
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field, WithJsonSchema

from aurora_lsp import __version__, protocol
from aurora_lsp.config import LiveSettings, Settings
from aurora_lsp.context.accesses import shown_events
from aurora_lsp.context.engine import ContextRequest
from aurora_lsp.context.related import RelatedAnswer, related
from aurora_lsp.index.indexer import IndexReport
from aurora_lsp.protocol import ContextAnswer, Range, Stats
from aurora_lsp.records import Event
from aurora_lsp.search import TIER_EXACT
from aurora_lsp.tokens import count_tokens
from aurora_lsp.workspace import figures
from aurora_lsp.workspace.service import SymbolHit, WorkspaceService, resolved_root
from aurora_lsp.workspace.threads import READER, Threads, runs_on

logger = logging.getLogger(__name__)
P = ParamSpec("P")
Rendered = tuple[str, Any]  # a result's text and its structured content

# An agent's tool results are cut at 25,000 tokens (Claude Code's default); Aurora counts
# tokens as characters / 4, which real tokenizers exceed a little on code. 20,000 leaves room.
MAX_BUDGET = 20_000
MIN_BUDGET = 250  # room for one item by name, as structured content
DEFAULT_BUDGET = Settings().context_token_budget
MAX_LIMIT = 100
CODE_SHARE = 0.45  # a context result's code, of its size in tokens (Django: 0.4 to 0.5)
SYMBOLS_LIMIT = 20
RELATED_LIMIT = 10  # per relation
REFRESH_INTERVAL_SECONDS = 1.0
FRESH_WAIT_SECONDS = 0.05
AGENT_USE = "agent"
# An exact symbol hit is a use when it names at most this many chunks (as workspace/symbol).
EXACT_USES_AT_MOST = 3
TIER_WORDS = (
    "exact name",
    "name in another case",
    "name starts so",
    "qualified name ends so",
    "word starts",
    "letters in order",
)

INSTRUCTIONS = (
    "Aurora remembers this Python codebase: chunks for every class and function, their links, "
    "and what was used recently. Ask `context` before reading files; ids it returns work in `related`."
)


class ArgumentError(ValueError):
    """Arguments the schema allows but that do not make sense together; the message says why."""


# -- what the tools answer -------------------------------------------------------------------
# VS Code (1.139) and Claude Code give the model a result's structured content, as JSON, in
# place of its text. So these records keep what an agent acts on, with the field names of
# `aurora/context`: the id, detail level, text and reason of each chunk, its lines counted
# from 1. What the id already says (uri, names) and the ranking's inner figures (score,
# activation) are left out, and the budget goes to code: at 2,000 tokens the full context
# record left 400 tokens for it.


@attrs.frozen
class AgentContextItem:
    id: str
    detail: str  # "full" | "signature" | "name"
    lines: list[int]  # first and last, from 1
    text: str
    tokens: int
    why: str


@attrs.frozen
class AgentContextAnswer:
    """The `context` tool's answer: `aurora/context`'s, its items as AgentContextItem."""

    focus: str | None
    token_budget: int
    used_tokens: int
    items: list[AgentContextItem]

    @classmethod
    def of(cls, answer: ContextAnswer) -> AgentContextAnswer:
        items = [
            AgentContextItem(item.id, item.detail, _lines_of(item.range), item.text, item.tokens, item.why)
            for item in answer.items
        ]
        return cls(answer.focus, answer.token_budget, answer.used_tokens, items)


@attrs.frozen
class AgentSymbol:
    """A `symbols` hit: id, kind, lines (from 1), signature, docstring summary, how it matched."""

    id: str
    kind: str
    lines: list[int]
    signature: str
    summary: str
    why: str


@attrs.frozen
class AgentSymbols:
    query: str
    items: list[AgentSymbol]


def _lines_of(range_: Range) -> list[int]:
    return [range_.start.line + 1, range_.end.line + 1]


# -- the workspace behind the tools --------------------------------------------------------


class AgentWorkspace:
    """One workspace's service on its reader and writer threads, and when to refresh it.

    A workspace whose refresh finds nothing to do within FRESH_WAIT_SECONDS is *quick*: a
    call refreshes it first (at most once every REFRESH_INTERVAL_SECONDS) and answers from
    the fresh index. Any other is refreshed after the call has its answer, so no answer
    waits for a refresh or shares the interpreter with one; a change shows from the next
    call on. A workspace never indexed is indexed before its first answer.
    """

    def __init__(self, service: WorkspaceService, threads: Threads) -> None:
        self.service = service
        self.threads = threads
        self._refresh: asyncio.Task[IndexReport | None] | None = None
        self._refresh_started = -float("inf")
        self._indexed = False
        self.noop_seconds: float | None = None  # how long the last refresh that found no change took

    @property
    def root(self) -> Path:
        """The folder as it was named (perhaps through a symlink): what answers show."""
        return self.service.shown_root

    @property
    def refreshing(self) -> bool:
        return self._refresh is not None and not self._refresh.done()

    @property
    def quick(self) -> bool:
        return self.noop_seconds is not None and self.noop_seconds <= FRESH_WAIT_SECONDS

    async def open(self) -> None:
        """Open the database (the writer first: it repairs); index it now if it is empty."""
        await self.threads.run(self.service.open_writer)
        await self.threads.run(self.service.open_reader)
        self._tell_notice()
        self._indexed = (await self.threads.run(self.service.figures)).files > 0
        if not self._indexed:
            self._start_refresh()

    @asynccontextmanager
    async def answering(self) -> AsyncIterator[None]:
        """Around one call: refresh before it (quick, or never indexed) or after it."""
        if not self._indexed:
            if not self.refreshing:
                self._start_refresh()
            assert self._refresh is not None
            await asyncio.shield(self._refresh)
        elif self.quick and self._due():
            self._start_refresh()
            assert self._refresh is not None
            await asyncio.wait([self._refresh], timeout=FRESH_WAIT_SECONDS)
        try:
            yield
        finally:
            if self._due():
                self._start_refresh()

    def _due(self) -> bool:
        return not self.refreshing and time.monotonic() - self._refresh_started >= REFRESH_INTERVAL_SECONDS

    def _start_refresh(self) -> None:
        self._refresh_started = time.monotonic()
        self._refresh = asyncio.get_running_loop().create_task(self._refreshed())

    async def _refreshed(self) -> IndexReport | None:
        started = time.perf_counter()
        try:
            report = await self.threads.run(self.service.refresh)
            await self.threads.run(self.service.catch_up, report)
        except Exception as error:  # the tools answer from the index as it is; say why once per failure
            logger.warning("aurora-lsp mcp: refreshing the index failed: %s: %s", type(error).__name__, error)
            return None
        finally:
            self._tell_notice()
        if not (report.changed or report.removed):
            self.noop_seconds = time.perf_counter() - started
        self._indexed = True
        return report

    def record(self, events: list[Event]) -> None:
        """Queue uses on the writer thread; the answer does not wait for them."""
        if events:
            self.threads.submit(self.service.record_uses, events)

    def _tell_notice(self) -> None:
        notice = self.service.take_notice()
        if notice:
            logger.warning("%s", notice)

    async def close(self) -> bool:
        """Close both halves; False, leaving the writer open, while a refresh still runs on it."""
        await self.threads.run(self.service.close_reader)
        if self.refreshing:
            return False
        await self.threads.run(self.service.close_writer)
        self.threads.shutdown()
        return True


# -- what runs on the reader thread ----------------------------------------------------------


@runs_on(READER)
def find_related(service: WorkspaceService, symbol: str, limit: int) -> tuple[RelatedAnswer, bool]:
    """The chunks related to a chunk id or the best match for a name; True when it was named exactly."""
    if ".py::" in symbol:
        chunk = service.chunks.get(symbol)
        if chunk is None:
            raise ArgumentError(f"no chunk has the id {symbol!r}; ids come from `symbols` or `context`")
        return related(service.chunks, chunk, "the id given", symbol, limit), True
    hits = service.symbols(symbol, 5)
    if not hits:
        return RelatedAnswer(query=symbol, subject=None, items=[], totals={}), False
    best = hits[0]
    exact = best.match.tier == TIER_EXACT
    why = TIER_WORDS[best.match.tier] if exact else f"closest match ({TIER_WORDS[best.match.tier]})"
    others = [hit.chunk.id for hit in hits[1:] if hit.match.tier == best.match.tier]
    if others:
        why += f"; also: {', '.join(others)}"
    return related(service.chunks, best.chunk, why, symbol, limit), exact


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
            return _error(str(error))
        now = time.time()
        # The ids, reasons and fields take their room beside the code: the engine packs the code
        # into CODE_SHARE of the budget, and once more into the share it turned out to have
        # when that was far off (too much to cut well, or room left while it had more).
        budget = request.token_budget
        request.token_budget = max(1, int(budget * CODE_SHARE))
        answer = attrs.evolve(await threads.run(service.context, request, now), token_budget=budget)
        written = _size(_context_result(answer, root))
        filled = answer.used_tokens >= 0.9 * request.token_budget
        if answer.used_tokens and (written > 1.25 * budget or (written < 0.85 * budget and filled)):
            request.token_budget = max(1, budget * answer.used_tokens // written)
            answer = attrs.evolve(await threads.run(service.context, request, now), token_budget=budget)
        shown, (text, structured) = _largest_fitting(
            len(answer.items), lambda count: _context_result(_first(answer, count), root), budget
        )
        answer = _first(answer, shown)
        workspace.record([_as_agent(event) for event in shown_events(answer, now)])
        if not answer.items:
            text += "\n" + await _why_empty(workspace)
        return _result(text, structured)

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

        _, (text, structured) = _largest_fitting(len(items), render, MAX_BUDGET)
        if not hits:
            text += "\n" + await _why_empty(workspace)
        return _result(text, structured)

    async def related_(symbol: Symbol, limit: RelatedLimit = RELATED_LIMIT) -> CallToolResult:
        """Callers, callees, base classes, subclasses and other uses of one definition, from
        resolved references; each with its chunk id, signature and how the link was found."""
        try:
            answer, named = await threads.run(find_related, service, symbol.strip(), limit)
        except ArgumentError as error:
            return _error(str(error))
        if answer.subject is not None and named:
            workspace.record([(answer.subject.id, time.time(), AGENT_USE)])

        def render(count: int) -> Rendered:
            shown = attrs.evolve(answer, items=answer.items[:count])
            return related_text(shown), protocol.to_wire(shown)

        _, (text, structured) = _largest_fitting(len(answer.items), render, MAX_BUDGET)
        if answer.subject is None:
            text += "\n" + await _why_empty(workspace)
        return _result(text, structured)

    async def stats() -> CallToolResult:
        """What Aurora has indexed here: files, chunks, links, memory and the database."""
        folder = await threads.run(service.figures)
        answer = figures.stats([folder], service.indexing, service.settings.current)
        return _result(stats_text(answer, root, workspace.refreshing), protocol.to_wire(answer))

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


def agent_symbol(hit: SymbolHit) -> AgentSymbol:
    chunk = hit.chunk
    lines = [chunk.start_line + 1, chunk.end_line + 1]
    return AgentSymbol(chunk.id, chunk.kind, lines, chunk.signature, chunk.summary, TIER_WORDS[hit.match.tier])


async def _why_empty(workspace: AgentWorkspace) -> str:
    """One line on why nothing was found: an empty workspace, or no match."""
    folder = await workspace.threads.run(workspace.service.figures)
    if folder.files == 0:
        skipped = sum(folder.skipped.values())
        more = f" ({skipped} files skipped: see `stats`)" if skipped else ""
        return f"Aurora has indexed no Python files under {workspace.root}{more}."
    return f"Nothing matched among {folder.chunks} definitions in {folder.files} files."


# -- results -------------------------------------------------------------------------------


def _result(text: str, structured: Any) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=structured)


def _error(message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)


def _lines(lines: list[int]) -> str:
    first, last = lines
    return f"line {first}" if first == last else f"lines {first}–{last}"


def context_text(answer: AgentContextAnswer, root: Path) -> str:
    """The answer as an agent reads it: a heading, then each item with its id, detail and why."""
    focus = f"focus {answer.focus}" if answer.focus else "no focus"
    parts = [
        f"Aurora context for {root.name}: {focus}; {len(answer.items)} items, "
        f"{answer.used_tokens} of {answer.token_budget} tokens, best first."
    ]
    parts.extend(_context_item_text(item) for item in answer.items)
    return "\n".join(parts)


def _context_item_text(item: AgentContextItem) -> str:
    if item.detail == "name":
        return f"- {item.id} {_lines(item.lines)}: {item.why}"
    code = item.text.rstrip("\n")
    return f"\n## {item.id} · {item.detail} · {_lines(item.lines)}\nwhy: {item.why}\n```python\n{code}\n```"


def _context_result(answer: ContextAnswer, root: Path) -> Rendered:
    agent = AgentContextAnswer.of(answer)
    return context_text(agent, root), protocol.to_wire(agent)


def _first(answer: ContextAnswer, count: int) -> ContextAnswer:
    """The answer with its first `count` items, and their tokens."""
    items = answer.items[:count]
    return attrs.evolve(answer, items=items, used_tokens=sum(item.tokens for item in items))


def _compact(structured: Any) -> str:
    """Structured content as clients put it before a model: compact JSON."""
    return json.dumps(structured, ensure_ascii=False, separators=(",", ":"))


def _size(rendered: Rendered) -> int:
    """The tokens of the larger form of a result. VS Code (1.139) and Claude Code give the model
    the structured content, as JSON, when a result has one; other clients give it the text."""
    text, structured = rendered
    return max(count_tokens(text), count_tokens(_compact(structured)))


def _largest_fitting(count: int, render: Callable[[int], Rendered], budget: int) -> tuple[int, Rendered]:
    """The most leading items (of `count`, best first) whose result, in both forms, fits `budget`."""
    rendered = render(count)
    if _size(rendered) <= budget:
        return count, rendered
    low, high, best = 0, count, render(0)  # a result without items always fits: budgets start at MIN_BUDGET
    while high - low > 1:
        middle = (low + high) // 2
        candidate = render(middle)
        if _size(candidate) <= budget:
            low, best = middle, candidate
        else:
            high = middle
    return low, best


def symbols_text(query: str, items: list[AgentSymbol], found: int) -> str:
    if not found:
        return f"No definition matches {query!r}."
    more = f" (the first {len(items)}: the result keeps under {MAX_BUDGET} tokens)" if len(items) < found else ""
    lines = [f"{found} definitions match {query!r}, best first (id, kind, where, how it matched){more}:"]
    for item in items:
        lines.append(f"- {item.id} ({item.kind}, {_lines(item.lines)}; {item.why})\n  {item.signature}")
    return "\n".join(lines)


def related_text(answer: RelatedAnswer) -> str:
    subject = answer.subject
    if subject is None:
        return f"No definition matches {answer.query!r}; try `symbols` with part of the name."
    lines = [f"Related to {subject.id} ({subject.kind}, {_lines(subject.lines)}; {subject.why}):", subject.text]
    by_relation: dict[str, list[str]] = {}
    for item in answer.items:
        by_relation.setdefault(item.relation, []).append(f"- {item.id} ({_lines(item.lines)}): {item.why}")
    for relation, total in answer.totals.items():
        shown = by_relation.get(relation, [])
        if not total:
            continue
        count = f"{len(shown)} of {total}" if len(shown) < total else str(total)
        lines.append(f"{relation} ({count}):")
        lines.extend(shown)
    empty = [relation for relation, total in answer.totals.items() if not total]
    if empty:
        lines.append(f"none: {', '.join(empty)}")
    return "\n".join(lines)


def stats_text(stats: Stats, root: Path, refreshing: bool) -> str:
    mb = 1024 * 1024
    state = "refreshing now" if refreshing or stats.indexing.state == "indexing" else "idle"
    last = stats.indexing.last_run_seconds
    lines = [
        f"workspace {root}",
        f"{stats.files} files, {stats.chunks} definitions (chunks), {stats.edges} links",
        f"index: {state}" + (f"; last refresh took {last} s" if last is not None else ""),
        f"memory: {stats.resident_chunks} chunks resident, "
        f"{stats.resident_bytes / mb:.1f} of {stats.memory_budget_bytes / mb:.0f} MB",
        f"database: {stats.database.path} ({stats.database.bytes / mb:.1f} MB)",
    ]
    if stats.skipped:
        lines.append("skipped: " + ", ".join(f"{count} {reason}" for reason, count in stats.skipped.items()))
    return "\n".join(lines)


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
