"""Text positions as LSP counts them: lines split at LSP's line breaks, columns in UTF-16
code units. Pure functions of text, shared by the chunker, the records and convert.py."""

from __future__ import annotations

import re


def is_utf8(text: str) -> bool:
    """Whether `text` has a UTF-8 form: not with a lone surrogate (os.scandir's stand-in
    for undecodable bytes, or JSON's `"\\ud800"`), which SQLite and JSON output cannot hold."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# LSP counts a line break as \r\n, \n or \r, and nothing else (unlike str.splitlines).
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    """Lines of `text` as LSP sees them, each with its line break kept."""
    lines: list[str] = []
    start = 0
    for match in _LINE_BREAK.finditer(text):
        lines.append(text[start : match.end()])
        start = match.end()
    lines.append(text[start:])
    return lines


def utf16_length(text: str) -> int:
    """Length of `text` in UTF-16 code units (characters outside the BMP count two)."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


def utf16_column(line: str, codepoint_column: int) -> int:
    """The UTF-16 column of a code-point column within one line."""
    return utf16_length(line[:codepoint_column])


def codepoint_column(line: str, utf16_col: int) -> int:
    """The code-point column of a UTF-16 column within one line (clamped to the line)."""
    if line.isascii():
        return min(utf16_col, len(line))
    units = 0
    for index, char in enumerate(line):
        if units >= utf16_col:
            return index
        units += 2 if ord(char) > 0xFFFF else 1
    return len(line)
