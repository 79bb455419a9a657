"""What the MCP tools answer: lean records (the fields of `aurora/context` an agent acts on),
the text an agent reads, and the largest leading part of a result that fits a token budget."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
from mcp_types import CallToolResult, TextContent

from aurora_lsp import protocol
from aurora_lsp.context.related import RelatedAnswer
from aurora_lsp.protocol import ContextAnswer, Range, Stats
from aurora_lsp.tokens import count_tokens
from aurora_lsp.workspace.service import SymbolHit

Rendered = tuple[str, Any]  # a result's text and its structured content

# An agent's tool results are cut at 25,000 tokens (Claude Code's default); Aurora counts
# tokens as characters / 4, which real tokenizers exceed a little on code. 20,000 leaves room.
MAX_BUDGET = 20_000
TIER_WORDS = (
    "exact name",
    "name in another case",
    "name starts so",
    "qualified name ends so",
    "word starts",
    "letters in order",
)


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


def agent_symbol(hit: SymbolHit) -> AgentSymbol:
    chunk = hit.chunk
    lines = [chunk.start_line + 1, chunk.end_line + 1]
    return AgentSymbol(chunk.id, chunk.kind, lines, chunk.signature, chunk.summary, TIER_WORDS[hit.match.tier])


# -- results -------------------------------------------------------------------------------


def tool_result(text: str, structured: Any) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=structured)


def tool_error(message: str) -> CallToolResult:
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


def context_result(answer: ContextAnswer, root: Path) -> Rendered:
    agent = AgentContextAnswer.of(answer)
    return context_text(agent, root), protocol.to_wire(agent)


def first_items(answer: ContextAnswer, count: int) -> ContextAnswer:
    """The answer with its first `count` items, and their tokens."""
    items = answer.items[:count]
    return attrs.evolve(answer, items=items, used_tokens=sum(item.tokens for item in items))


def _compact(structured: Any) -> str:
    """Structured content as clients put it before a model: compact JSON."""
    return json.dumps(structured, ensure_ascii=False, separators=(",", ":"))


def result_size(rendered: Rendered) -> int:
    """The tokens of the larger form of a result. VS Code (1.139) and Claude Code give the model
    the structured content, as JSON, when a result has one; other clients give it the text."""
    text, structured = rendered
    return max(count_tokens(text), count_tokens(_compact(structured)))


def largest_fitting(count: int, render: Callable[[int], Rendered], budget: int) -> tuple[int, Rendered]:
    """The most leading items (of `count`, best first) whose result, in both forms, fits `budget`."""
    rendered = render(count)
    if result_size(rendered) <= budget:
        return count, rendered
    low, high, best = 0, count, render(0)  # a result without items always fits: budgets start at MIN_BUDGET
    while high - low > 1:
        middle = (low + high) // 2
        candidate = render(middle)
        if result_size(candidate) <= budget:
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
