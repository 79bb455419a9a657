"""Context answers: the code to see at a position or for a question, within a token budget.

A request names a focus (a position in a file), a query, or both. The engine finds the
focus, ranks the candidates (ranking.py, spreading.py) and packs them best first
(packing.py). Every step is bounded by the neighbourhood of the request, not by the
repository, and reads the store only through ChunkStore.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from aurora_lsp.context.activation import ActivationParameters
from aurora_lsp.context.packing import (
    QUESTION_CLASS_FULL_TOKENS,
    QUESTION_SIGNATURE_SHARE,
    SIGNATURE_SHARE,
    name_text,
    pack,
    signature_text,
)
from aurora_lsp.context.question import ALL_PARTS, QuestionParts
from aurora_lsp.context.ranking import Focus, Scored, rank
from aurora_lsp.protocol import ContextAnswer
from aurora_lsp.records import Chunk
from aurora_lsp.store.chunks import ChunkStore

RESOLVE_BATCH = 64  # ranked candidates whose chunks are read together while packing


@dataclass(slots=True)
class ContextRequest:
    path: str | None = None  # workspace-relative POSIX path of the focus's file
    line: int | None = None  # 0-based
    character: int = 0
    query: str | None = None
    token_budget: int = 2000
    limit: int | None = None
    # jedi's definitions of the name at the position: (path, 0-based line, name), in the workspace
    definitions: tuple[tuple[str, int, str], ...] = ()


class ContextEngine:
    """Answers context requests from one workspace's chunk store (one thread at a time)."""

    def __init__(self, root: Path, chunks: ChunkStore) -> None:
        self.root = root
        self.chunks = chunks

    def answer(
        self,
        request: ContextRequest,
        now: float,
        parameters: ActivationParameters | None = None,
        parts: QuestionParts = ALL_PARTS,
    ) -> ContextAnswer:
        focus = self._focus(request)
        scored = rank(self.chunks, request.query, focus, now, parameters or ActivationParameters(), parts)
        question = bool(request.query) and focus.chunk is None and parts.question_packing
        items = pack(
            self._with_chunks(scored),
            request.token_budget,
            request.limit,
            self._render,
            self.root,
            QUESTION_SIGNATURE_SHARE if question else SIGNATURE_SHARE,
            QUESTION_CLASS_FULL_TOKENS if question else None,
        )
        return ContextAnswer(
            focus=focus.chunk.id if focus.chunk else None,
            token_budget=request.token_budget,
            used_tokens=sum(item.tokens for item in items),
            items=items,
            names_only_tokens=sum(item.tokens for item in items if item.detail == "name"),
        )

    def _focus(self, request: ContextRequest) -> Focus:
        """The innermost chunk at the position, the file's chunks, and where the position sits among them."""
        if request.path is None or request.line is None:
            return Focus()
        file_chunks = self.chunks.chunks_in_file(request.path)
        line = request.line
        focus: Chunk | None = None
        for chunk in file_chunks:  # source order: later matches are nested deeper
            if chunk.start_line <= line <= chunk.end_line:
                focus = chunk
        cursor = self._definition_chunks(request, focus)
        if focus is not None:
            return Focus(focus, tuple(file_chunks), file_chunks.index(focus), cursor)
        before = sum(1 for chunk in file_chunks if chunk.start_line <= line)
        return Focus(None, tuple(file_chunks), before, cursor)

    def _definition_chunks(self, request: ContextRequest, focus: Chunk | None) -> tuple[str, ...]:
        """The chunks of the definitions under the cursor: the chunk a definition names, else
        the innermost one holding it (an attribute set in `__init__`); never the focus."""
        found: dict[str, None] = {}
        for path, line, name in request.definitions:
            holding: Chunk | None = None
            for chunk in self.chunks.chunks_in_file(path):
                if chunk.sel_line == line and chunk.name == name:
                    holding = chunk
                    break
                if chunk.start_line <= line <= chunk.end_line:
                    holding = chunk
            if holding is not None and (focus is None or holding.id != focus.id):
                found[holding.id] = None
        return tuple(found)

    def _with_chunks(self, scored: list[Scored]) -> Iterator[Scored]:
        """The ranked entries with their chunks, read a batch at a time as packing reaches
        them: a request ranks hundreds of candidates and shows a few dozen, and each chunk
        read may come from SQLite and churn the memory tier."""
        for start in range(0, len(scored), RESOLVE_BATCH):
            batch = scored[start : start + RESOLVE_BATCH]
            chunks = {chunk.id: chunk for chunk in self.chunks.get_many([entry.chunk_id for entry in batch])}
            for entry in batch:
                entry.chunk = chunks.get(entry.chunk_id)
                yield entry

    def _render(self, chunk: Chunk, detail: str) -> str:
        if detail == "full":
            return self.chunks.text(chunk.id) or ""
        if detail == "signature":
            docstring = (self.chunks.docstring(chunk.id) or "").strip()
            return signature_text(chunk, docstring)
        return name_text(chunk)
