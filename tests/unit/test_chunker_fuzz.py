"""Random Python-ish source, valid and broken, never crashes the chunker, and every chunk
lies inside the document with a parent that exists."""

from __future__ import annotations

from aurora_lsp.index.chunker import chunk_text
from aurora_lsp.positions import split_lines, utf16_length
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

PIECES = [
    "def f(a, b=1, *args, **kw):",
    "async def g():",
    "class C(Base, metaclass=M):",
    "class D:",
    "@decorator",
    "@property",
    "return x",
    "pass",
    "x = [",
    "]",
    "(",
    ")",
    "'''",
    '"""doc"""',
    "if x:",
    "else:",
    "match x:",
    "case [a, *rest]:",
    "lambda y: y",
    "type Alias[T] = list[T]",
    "def h[T](x: T) -> T:",
    "yield from z",
    "await q",
    "# ü 𝔘 comment",
    "s = '🍎'",
    "\\",
    "\t",
    "\f",
    "\x00",
    "é = 1",
]

lines = st.lists(
    st.tuples(st.integers(0, 6), st.sampled_from(PIECES) | st.text(max_size=12)),
    max_size=40,
)
endings = st.sampled_from(["\n", "\r\n", "\r"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines, endings)
def test_chunker_never_crashes_and_ranges_stay_inside(source_lines: list[tuple[int, str]], ending: str) -> None:
    text = ending.join("    " * depth + piece for depth, piece in source_lines)
    try:
        parsed = chunk_text("fuzz.py", text)
    except ValueError as error:  # the one refusal the chunker makes: binary content
        assert "\x00" in text, error
        return
    document = split_lines(text)
    ids = {chunk.id for chunk in parsed.chunks}
    assert len(ids) == len(parsed.chunks)
    for chunk in parsed.chunks:
        assert 0 <= chunk.start_line <= chunk.end_line < len(document), chunk
        assert 0 <= chunk.start_char <= utf16_length(document[chunk.start_line])
        assert 0 <= chunk.end_char <= utf16_length(document[chunk.end_line])
        assert chunk.start_line <= chunk.sel_line <= chunk.end_line
        assert chunk.parent is None or chunk.parent in ids
        assert chunk.text and chunk.tokens > 0
