"""How chunk text is kept on disk: each text once, compressed.

A class's text holds its methods' texts, and a function's its inner functions': stored as
they are, a file's text was written once per level of nesting (Django's chunk texts came
to 1.6× the source). So a chunk whose text lies inside its parent's text keeps only where
(`at`, `size`: characters into the parent's text); the others keep their text, compressed
with zlib (the standard library's), about a quarter of its size. Pure functions: no SQLite.
"""

from __future__ import annotations

import zlib
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

_ENCODING = "utf-8"
_ERRORS = "surrogatepass"  # a file's undecodable bytes survive as lone surrogates


class StoredText(NamedTuple):
    """A chunk's text as stored: its own bytes (zlib), or a span of its parent's text."""

    data: bytes | None
    at: int | None
    size: int | None


def compress(text: str) -> bytes:
    return zlib.compress(text.encode(_ENCODING, _ERRORS))


def decompress(data: bytes) -> str:
    return zlib.decompress(data).decode(_ENCODING, _ERRORS)


def place(texts: Mapping[str, str], parents: Mapping[str, str | None]) -> dict[str, int]:
    """Where each text of one file's chunks (id → text) lies in its parent's text (characters
    in), or -1 where it is stored whole: pack's choice, without compressing anything."""
    return {
        chunk_id: -1 if (parent := parents.get(chunk_id)) is None or parent not in texts else texts[parent].find(text)
        for chunk_id, text in texts.items()
    }


def pack(texts: Mapping[str, str], parents: Mapping[str, str | None]) -> dict[str, StoredText]:
    """How to store each text of one file's chunks (id → text), given each chunk's parent id."""
    return {
        chunk_id: StoredText(None, at, len(texts[chunk_id]))
        if at >= 0
        else StoredText(compress(texts[chunk_id]), None, None)
        for chunk_id, at in place(texts, parents).items()
    }


class Decompressed:
    """The texts decompressed last, by their compressed bytes (so never stale): the chunks one
    context answer shows are often methods of one class, each a span of its text."""

    def __init__(self, entries: int = 16) -> None:
        self.entries = entries
        self._texts: OrderedDict[bytes, str] = OrderedDict()

    def __call__(self, data: bytes) -> str:
        text = self._texts.get(data)
        if text is None:
            text = self._texts[data] = decompress(data)
            if len(self._texts) > self.entries:
                self._texts.popitem(last=False)
        else:
            self._texts.move_to_end(data)
        return text


def unpack(
    first: tuple[StoredText, int | None],
    stored: Callable[[int], tuple[StoredText, int | None] | None],
    decompressed: Callable[[bytes], str] = decompress,
) -> str | None:
    """A chunk's text from its (StoredText, parent key), where `stored(key)` reads the same of
    another chunk; None if a parent on the way is missing."""
    spans: list[tuple[int, int]] = []
    found: tuple[StoredText, int | None] | None = first
    while found is not None:
        text, parent = found
        if text.data is not None:
            whole = decompressed(text.data)
            for at, size in reversed(spans):
                whole = whole[at : at + size]
            return whole
        spans.append((text.at or 0, text.size or 0))
        found = None if parent is None else stored(parent)
    return None


def unpack_file(rows: Sequence[tuple[int, int | None, StoredText]]) -> dict[int, str]:
    """Every text of one file's chunks, from their (key, parent key, StoredText) rows."""
    by_key = {key: (text, parent) for key, parent, text in rows}
    texts: dict[int, str] = {}

    def text_of(key: int) -> str:
        known = texts.get(key)
        if known is not None:
            return known
        text, parent = by_key[key]
        if text.data is not None:
            made = decompress(text.data)
        elif parent is None or parent not in by_key:
            made = ""  # a span without its parent: only a damaged database holds one
        else:
            at, size = text.at or 0, text.size or 0
            made = text_of(parent)[at : at + size]
        texts[key] = made
        return made

    for key in by_key:
        text_of(key)
    return texts
