"""Differential: random LSP edits (inserts, deletions, replacements across lines, with
characters outside the BMP) leave the server with exactly the chunks of the final text
chunked from scratch."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from aurora_lsp.convert import document_symbols
from aurora_lsp.index.chunker import chunk_text
from aurora_lsp.positions import codepoint_column, split_lines, utf16_length
from lsp_client import start_server
from lsprotocol import types

SEED_TEXT = """# A module édité à la main.


class Basket:
    # Holds 🍎 and 🍐.

    def add(self, fruit: str) -> None:
        self.items.append(fruit)

    @property
    def size(self) -> int:
        return len(self.items)


def total(baskets: list[Basket]) -> int:
    def one(b: Basket) -> int:
        return b.size

    return sum(one(b) for b in baskets)
"""

FRAGMENTS = [
    "def añadir(x):\n    return x\n",
    "class Ω:\n    pass\n",
    "    def method_𝒳(self):\n        return '🍌'\n",
    "\n",
    "x = 1\n",
    "    ",
    "@decorator\n",
    "async def go():\n    await thing()\n",
    "é",
    "𝔘",
    "# comment ✓\n",
    "\r\n",
    "def broken(:\n",
]
RARE = ["(", ")", "[", '"""']  # unbalanced: the rest of the file may stop parsing


def _position(text: str, offset: int) -> types.Position:
    """The LSP position (UTF-16) of a code-point offset."""
    before = text[:offset]
    lines = split_lines(before)
    return types.Position(len(lines) - 1, utf16_length(lines[-1]))


def _offset(text: str, position: types.Position) -> int:
    lines = split_lines(text)
    return sum(len(line) for line in lines[: position.line]) + codepoint_column(
        lines[position.line], position.character
    )


def _random_edit(rng: random.Random, text: str) -> tuple[types.Range, str]:
    start = rng.randrange(len(text) + 1)
    # never split a \r\n pair: LSP counts it as one line break
    while 0 < start < len(text) and text[start - 1] == "\r" and text[start] == "\n":
        start = rng.randrange(len(text) + 1)
    end = min(len(text), start + rng.choice([0, 0, 0, 1, 3, 10, 40]))
    while 0 < end < len(text) and text[end - 1] == "\r" and text[end] == "\n":
        end += 1
    inserted = "".join(
        rng.choice(RARE if rng.random() < 0.05 else FRAGMENTS) for _ in range(rng.choice([0, 1, 1, 2, 3]))
    )
    return types.Range(_position(text, start), _position(text, end)), inserted


def _plain(symbols: list[types.DocumentSymbol]) -> list[object]:
    return [(s.name, s.kind, s.range, s.selection_range, s.detail, _plain(list(s.children or []))) for s in symbols]


@pytest.mark.asyncio
async def test_random_edits_equal_a_fresh_parse_of_the_final_text(shop: Path, tmp_path: Path) -> None:
    client = await start_server(shop, tmp_path / "index.sqlite3")
    with_chunks = 0
    try:
        for seed in range(25):
            rng = random.Random(seed)
            path = shop / f"scratch_{seed}.py"
            uri = path.as_uri()
            text = SEED_TEXT
            client.text_document_did_open(
                types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, text))
            )
            for version in range(2, 2 + rng.randrange(5, 30)):
                changes: list[types.TextDocumentContentChangeEvent] = []
                for _ in range(rng.choice([1, 1, 2, 3])):  # several changes in one message apply in order
                    where, inserted = _random_edit(rng, text)
                    text = text[: _offset(text, where.start)] + inserted + text[_offset(text, where.end) :]
                    changes.append(types.TextDocumentContentChangePartial(range=where, text=inserted))
                client.text_document_did_change(
                    types.DidChangeTextDocumentParams(
                        types.VersionedTextDocumentIdentifier(version=version, uri=uri), changes
                    )
                )
                if rng.random() < 0.3:  # sometimes ask in the middle, so the diff parser has a base
                    await client.text_document_document_symbol_async(
                        types.DocumentSymbolParams(types.TextDocumentIdentifier(uri))
                    )
            served = await client.text_document_document_symbol_async(
                types.DocumentSymbolParams(types.TextDocumentIdentifier(uri))
            )
            expected = document_symbols(chunk_text(path.name, text).chunks)
            assert _plain(list(served or [])) == _plain(expected), (seed, text)  # type: ignore[arg-type]
            with_chunks += bool(expected)
            client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))
    finally:
        await client.shutdown_session()
    assert with_chunks >= 20  # the comparison was about real outlines, not empty ones
