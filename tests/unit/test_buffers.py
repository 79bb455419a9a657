"""Editor buffers re-parsed with parso's diff parser give exactly what a fresh parse gives."""

from __future__ import annotations

import json.decoder
from pathlib import Path

from aurora_lsp.index.chunker import chunk_text, forget_buffer
from hypothesis import given, settings
from hypothesis import strategies as st

SOURCE = Path(json.decoder.__file__).read_text()
SNIPPETS = [
    "\ndef added(x):\n    return x\n",
    "\nclass Added:\n    def m(self):\n        pass\n",
    "",
    "    ",
    "(",
    "é😀",
]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(SOURCE)), st.integers(0, 40), st.sampled_from(SNIPPETS)), max_size=6))
def test_diff_parsed_buffer_equals_fresh_parse(edits: list[tuple[int, int, str]]) -> None:
    key = "file:///buffer-under-test.py"
    text = SOURCE
    chunk_text("decoder.py", text, buffer_key=key)
    try:
        for start, length, insert in edits:
            start = min(start, len(text))
            text = text[:start] + insert + text[start + length :]
            incremental = chunk_text("decoder.py", text, buffer_key=key)
            fresh = chunk_text("decoder.py", text)
            assert incremental.chunks == fresh.chunks
    finally:
        forget_buffer(key)
