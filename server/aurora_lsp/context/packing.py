"""Packing: the ranked candidates into a token budget, best first, as wire records.

Full text while the full-text share lasts, then signature and docstring, then names. An
item too large for the room its tier has left drops to the next tier, so one big class
does not swallow the budget; a chunk inside one already shown in full is named only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from aurora_lsp.context.explain import explain
from aurora_lsp.context.ranking import Scored
from aurora_lsp.protocol import Activation, ContextAnswer, ContextItem, Range
from aurora_lsp.records import Chunk, ChunkId
from aurora_lsp.tokens import count_tokens

# How many candidates in a row may fail to fit even by name before packing stops looking.
GIVE_UP_AFTER_MISSES = 40
# Share of the budget for full text, then cumulative share up to which signatures go.
FULL_TEXT_SHARE = 0.6
SIGNATURE_SHARE = 0.85
# A question without a focus has no neighbourhood whose shape names would sketch: what it
# needs is code, so past the full text its candidates are shown as signatures to the end of
# the budget, and named only when a signature no longer fits.
QUESTION_SIGNATURE_SHARE = 1.0
# In an answer to a question, a class larger than this is shown by its signature and
# docstring at every budget: its methods are the candidates, and a class shown whole at a
# larger budget would turn a method shown as code at a smaller one into a name.
QUESTION_CLASS_FULL_TOKENS = 400

Render = Callable[[Chunk, str], str]  # a chunk's text at a level of detail


def signature_text(chunk: Chunk, docstring: str, max_docstring_lines: int = 6) -> str:
    """The `signature` tier: the def line and the start of the docstring."""
    if not docstring:
        return chunk.signature
    lines = docstring.splitlines()
    shown = "\n".join(lines[:max_docstring_lines]) + ("\n…" if len(lines) > max_docstring_lines else "")
    return f'{chunk.signature}\n    """{shown}"""'


def name_text(chunk: Chunk) -> str:
    """The `name` tier: where to find it."""
    return f"{chunk.kind} {ChunkId.qualname(chunk.id)} — {chunk.path}:{chunk.start_line + 1}"


def pack(
    scored: Iterable[Scored],
    budget: int,
    limit: int | None,
    render: Render,
    root: Path,
    signature_share: float = SIGNATURE_SHARE,
    class_full_tokens: int | None = None,
) -> list[ContextItem]:
    """Best first under `budget`: full text within the full share, then signatures, then names.

    An entry without its chunk (gone from the index) is passed over. The sum of the
    items' tokens never exceeds the budget.
    """
    items: list[ContextItem] = []
    used = 0
    full_room = int(budget * FULL_TEXT_SHARE)
    signature_room = int(budget * signature_share)
    shown_full: list[tuple[str, str]] = []  # (path, "Qualname.") of chunks shown in full
    misses = 0
    for entry in scored:
        if limit is not None and len(items) >= limit:
            break
        if used >= budget or misses >= GIVE_UP_AFTER_MISSES:
            break
        chunk = entry.chunk
        if chunk is None:
            continue
        path, qualname = ChunkId.split(chunk.id)
        inside_full = any(path == other and qualname.startswith(prefix) for other, prefix in shown_full)
        chosen: tuple[str, str, int] | None = None
        for detail, room in (("full", full_room), ("signature", signature_room), ("name", budget)):
            if detail != "name" and (inside_full or used >= room):
                continue
            if detail == "full" and used + chunk.tokens > room:
                continue
            if detail == "full" and class_full_tokens is not None and chunk.kind == "class":
                if chunk.tokens > class_full_tokens:
                    continue  # the stored token count of its text says it cannot fit: do not read it
            text = render(chunk, detail)
            tokens = count_tokens(text)
            if used + tokens <= room:
                chosen = (detail, text, tokens)
                break
        if chosen is None:
            misses += 1
            continue  # not even its name fits; a shorter name further down may
        misses = 0
        detail, text, tokens = chosen
        used += tokens
        if detail == "full":
            shown_full.append((path, qualname + "."))
        items.append(context_item(root, entry, chunk, detail, text, tokens))
    return items


def context_item(root: Path, entry: Scored, chunk: Chunk, detail: str, text: str, tokens: int) -> ContextItem:
    return ContextItem(
        id=chunk.id,
        uri=(root / chunk.path).as_uri(),
        range=Range.of(chunk.start_line, chunk.start_char, chunk.end_line, chunk.end_char),
        name=chunk.name,
        qualified_name=chunk.qualname,
        kind=chunk.kind,
        detail=detail,
        text=text,
        tokens=tokens,
        score=round(entry.total, 4),
        activation=Activation(
            base=round(entry.base, 4),
            spreading=round(entry.spreading, 4),
            context=round(entry.context, 4),
            total=round(entry.total, 4),
        ),
        why=explain(entry),
    )


def merge_answers(answers: list[ContextAnswer], budget: int) -> ContextAnswer:
    """One answer from several folders' answers: best first, within the budget."""
    if len(answers) == 1:
        return answers[0]
    focus = next((answer.focus for answer in answers if answer.focus), None)
    items: list[ContextItem] = []
    used = 0
    for item in sorted((item for answer in answers for item in answer.items), key=lambda i: -i.score):
        if used + item.tokens <= budget:
            items.append(item)
            used += item.tokens
    names_only = sum(item.tokens for item in items if item.detail == "name")
    return ContextAnswer(focus=focus, token_budget=budget, used_tokens=used, items=items, names_only_tokens=names_only)
