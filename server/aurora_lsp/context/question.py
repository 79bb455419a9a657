"""Reading a question as a developer would: the code it names, before the words it uses.

An issue or a bug report names code exactly in a few places: identifiers in backticks,
dotted names (`Session.request`, `_pytest.fixtures`), calls (`iter_content(`), names no
prose has (`get_response`, `ExceptionInfo`), file paths, and the frames of a traceback
(`File ".../sessions.py", line 123, in request`; pytest's `src/_pytest/x.py:12: in f`).
Those are mentions, exact evidence; the rest is prose, whose words only BM25 weighs. A
question of a few words is read as names throughout ("flush buffer" names `flush`).
Pure text work: ranking.py looks the mentions up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A question of at most this many words is a search for names, not prose.
SHORT_QUESTION_WORDS = 4
MAX_FRAMES = 24  # traceback frames looked up, the last (nearest the error) first
MAX_PATHS = 8  # files named outside a traceback
MAX_PATH_CHARS = 300
MAX_PATH_PARTS = 8  # a path's last parts that may match a workspace path

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BACKTICKS = re.compile(r"`([^`\n]+)`")
_DOTTED = re.compile(r"(?<![\w.])[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
_CALL = re.compile(r"(?<!\w)([A-Za-z_]\w*)\(")
# `File "/x/site-packages/requests/sessions.py", line 12, in request`; pytest's `x/y.py:12: in f`
# is a path token followed by _PYTEST_FRAME_END. Every pattern is linear in the text: a pasted
# page of dots or letters must not cost seconds.
_PY_FRAME = re.compile(r'File "([^"\n]{1,300}\.py)", line \d+, in ([A-Za-z_]\w*)')
_PATH_TOKEN = re.compile(r"[\w./\\-]+")
_PYTEST_FRAME_END = re.compile(r":\d+:? in ([A-Za-z_]\w*)")
_CAMEL = re.compile(r"[a-z0-9][A-Z]|[A-Z]{2}[a-z]")
# dotted words that are file or host names, not code
_NOT_CODE_SUFFIXES = {"py", "txt", "cfg", "toml", "ini", "md", "rst", "com", "org", "io", "html", "json", "yml"}


@dataclass(frozen=True, slots=True)
class QuestionParts:
    """Which parts of question answering are on: all of them, except in the ablation of
    benchmarks/question_quality.py, which turns each off in turn to show what it adds."""

    mentions: bool = True  # code names read as mentions (dotted names, calls, snake/Camel words)
    tracebacks: bool = True  # frames of a traceback, and file paths
    backticks: bool = True  # names in `backticks`
    body_index: bool = True  # the words of the chunks' text (identifiers used, strings, comments)
    file_evidence: bool = True  # chunks in files the question names
    spreading: bool = True  # from the best matches along links and class structure
    named_as_text: bool = True  # a chunk named outright (unique or dotted name, frame) as the best text match
    question_packing: bool = True  # code over names to the end of the budget, big classes as signatures


ALL_PARTS = QuestionParts()
# Each part off in turn (the ablation).
PART_ABLATIONS: dict[str, dict[str, bool]] = {
    "question reading: mentions": {"mentions": False},
    "question reading: tracebacks and paths": {"tracebacks": False},
    "question reading: backticks": {"backticks": False},
    "body index": {"body_index": False},
    "file-level evidence": {"file_evidence": False},
    "spreading": {"spreading": False},
    "named chunks as the best text match": {"named_as_text": False},
    "question packing": {"question_packing": False},
}


@dataclass(frozen=True, slots=True)
class Question:
    words: tuple[str, ...]  # every identifier, mentions first, then the rest in order
    mentions: tuple[str, ...]  # names the question gives as code
    qualified: tuple[tuple[str, str], ...]  # (name, dotted suffix): ("request", "Session.request")
    frames: tuple[tuple[str, str], ...]  # (path as written, function), nearest the error first
    paths: tuple[str, ...]  # .py files named as written (posix separators), then module paths of dotted names


def read_question(text: str, on: QuestionParts = ALL_PARTS) -> Question:
    """The mentions of code in `text`, and all its words."""
    all_words = list(dict.fromkeys(match.group() for match in _WORD.finditer(text)))
    frames = _frames(text) if on.tracebacks else []
    mentions: dict[str, None] = {}
    qualified: dict[tuple[str, str], None] = {}
    modules: dict[str, None] = {}  # `_pytest.fixtures` may be `_pytest/fixtures.py`
    for _, function in frames:
        mentions.setdefault(function)
    spans = _BACKTICKS.findall(text) if on.backticks else []
    for span in spans:
        for word in _WORD.findall(span):
            if not word.isdigit():
                mentions.setdefault(word)
    for dotted in _DOTTED.findall(text) if on.mentions else []:
        parts = dotted.split(".")
        if parts[-1].lower() in _NOT_CODE_SUFFIXES:
            continue
        for part in parts:
            mentions.setdefault(part)
        qualified.setdefault((parts[-1], ".".join(parts[-2:])))
        modules.update(dict.fromkeys("/".join(parts[:end]) + ".py" for end in range(len(parts), 1, -1)))
    for name in _CALL.findall(text) if on.mentions else []:
        mentions.setdefault(name)
    for word in all_words if on.mentions else []:
        if looks_like_code(word) or len(all_words) <= SHORT_QUESTION_WORDS:
            mentions.setdefault(word)
    # code named late in a long issue is read before the prose around it
    words = list(dict.fromkeys([*mentions, *all_words]))
    return Question(
        words=tuple(words),
        mentions=tuple(mentions),
        qualified=tuple(qualified),
        frames=tuple(frames),
        paths=(tuple(_paths(text)) if on.tracebacks else ()) + tuple(modules)[:MAX_PATHS],
    )


def looks_like_code(word: str) -> bool:
    """snake_case, a dunder or CamelCase inside a word: no prose word is so spelled."""
    return "_" in word.strip("_") or word.startswith("__") or _CAMEL.search(word) is not None


def _frames(text: str) -> list[tuple[str, str]]:
    """(path, function) of each traceback frame, the last written (nearest the error) first."""
    found = [(match.start(), match.group(1).replace("\\", "/"), match.group(2)) for match in _PY_FRAME.finditer(text)]
    for token in _PATH_TOKEN.finditer(text):
        end = _PYTEST_FRAME_END.match(text, token.end()) if token.group().endswith(".py") else None
        if end is not None:
            found.append((token.start(), token.group().replace("\\", "/"), end.group(1)))
    found.sort(reverse=True)
    unique = dict.fromkeys((path, function) for _, path, function in found if function != "<module>")
    return list(unique)[:MAX_FRAMES]


def _paths(text: str) -> list[str]:
    """Python files the question names, as written (module paths of dotted names not included)."""
    found: dict[str, None] = {}
    for token in _PATH_TOKEN.finditer(text):
        path = token.group().replace("\\", "/").lstrip("./")
        if path.endswith(".py") and 3 < len(path) <= MAX_PATH_CHARS:
            found.setdefault(path)
            if len(found) >= MAX_PATHS:
                break
    return list(found)


def path_suffixes(path: str) -> list[str]:
    """The ways a path as written may end a workspace path, longest first: `/a/b/c.py` →
    `a/b/c.py`, `b/c.py`, `c.py`."""
    parts = [part for part in path[-MAX_PATH_CHARS:].split("/") if part and part not in (".", "..")][-MAX_PATH_PARTS:]
    return ["/".join(parts[start:]) for start in range(len(parts))]
