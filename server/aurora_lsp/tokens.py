"""Token counting: one deterministic, offline function used everywhere.

Aurora counts tokens as ceil(characters / 4), the usual rule of thumb for English and code
with BPE tokenizers (the co-change evaluation's baselines use the same rule). It needs no
model, is stable across versions, and slightly over-counts indented code, so a budget
measured with it is never exceeded by a real tokenizer by much.
"""

from __future__ import annotations

CHARS_PER_TOKEN = 4


def count_tokens(text: str) -> int:
    """Tokens in `text`: ceil(len(text) / 4), at least 1 for non-empty text."""
    return -(-len(text) // CHARS_PER_TOKEN)
