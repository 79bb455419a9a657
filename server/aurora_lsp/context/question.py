"""Reading a question as a developer would: the code it names, before the words it uses.

An issue or a bug report names code exactly in a few places: identifiers in backticks,
dotted names (`Session.request`, `_pytest.fixtures`), calls (`iter_content(`), names no
prose has (`get_response`, `ExceptionInfo`), file paths, and the frames of a traceback
(`File ".../sessions.py", line 123, in request`; pytest's `src/_pytest/x.py:12: in f`).
Those are mentions, exact evidence; the rest is prose, whose words only BM25 weighs. A
question of a few words is read as names throughout ("flush buffer" names `flush`).
Python's own names are not the workspace's: `list(range(3))` names no chunk called `list`,
and `str(e)` names the `__str__` the builtin calls; in `app.register_blueprint` the
lowercase head `app` is a variable. What the code says in its strings is quoted exactly:
a command-line option (`--collect-only`) and the message of an error
(`ValueError: Blueprint names should not contain dots`) are literals to find in the code's
text as written, not bags of words. Pure text work: ranking.py looks the mentions up.
"""

from __future__ import annotations

import builtins
import re
import sys
from dataclasses import dataclass

# A question of at most this many words is a search for names, not prose.
SHORT_QUESTION_WORDS = 4
MAX_FRAMES = 24  # traceback frames looked up, the last (nearest the error) first
MAX_PATHS = 8  # files named outside a traceback
MAX_PATH_CHARS = 300
MAX_PATH_PARTS = 8  # a path's last parts that may match a workspace path

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# "re-writer", "sub-domain": prose splits a word the code spells whole (`AssertionRewriter`)
_HYPHENATED = re.compile(r"(?<![\w-])([A-Za-z]{2,})-([A-Za-z]{2,})(?![\w-])")
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
# `--collect-only`: a command-line option, spelled so in the code that declares it
_OPTION = re.compile(r"(?<![\w-])--[A-Za-z][A-Za-z0-9]*(?:[-_][A-Za-z0-9]+)*")
# `ValueError: message` (a traceback's last line, or quoted in prose): the message up to the line's end
_ERROR_LINE = re.compile(r"\b[A-Z]\w*(?:Error|Exception|Warning): ([^\n]{1,400})")
# what a message's literal text cannot hold as written: interpolated values, quotes, reprs
_NOT_LITERAL = re.compile(r"""['"`<>()\[\]{}]|\d+|\s-\s|[:;,.!?]\s|[:;,.!?]$""")
# `$ flask routes`: the subcommand of a shell line, spelled in quotes where the code declares it
_SHELL_LINE = re.compile(r"^[ \t]*\$[ \t]+([\w.-]+)[ \t]+([a-z][a-z0-9_-]*)\b", re.MULTILINE)
_GENERAL_TOOLS = {"pip", "pip3", "python", "python3", "git", "cd", "ls", "cat", "echo", "export", "source", "mkdir",
                  "rm", "cp", "mv", "conda", "docker", "sudo", "env"}  # fmt: skip
MIN_PHRASE_WORDS = 4  # shorter fragments ("has no attribute") are Python's own messages, not the code's
MAX_LITERALS = 6
# Lucene's English stop words: a long issue is read as its first words, and these would take
# their places while matching nothing the code is about
_STOP_WORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then there these they"
    " this to was will with".split()
)
# names Python gives: a call of one names no workspace chunk
_BUILTINS = frozenset(name for name in dir(builtins) if not name.startswith("_"))
_STANDARD_MODULES = frozenset(sys.stdlib_module_names)
# builtins that call a method of their argument: `str(e)` asks `__str__`
_PROTOCOL = {name: f"__{name}__" for name in ("str", "repr", "len", "iter", "next", "bool", "hash", "format",
                                                 "bytes", "int", "float", "abs", "reversed", "dir")}  # fmt: skip
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
    python_names: bool = True  # builtins and variables (`list(`, `app.` of `app.run`) are not the workspace's names
    siblings: bool = True  # a shared name means the one in the class of a chunk the question names
    file_cluster: bool = True  # several of the best matches in one file lift the file's matches
    rank_fusion: bool = True  # the text matches fused by rank (RRF), not summed as shares of the best score
    stop_words: bool = True  # prose words of one or two letters and English stop words left out
    hyphenated: bool = True  # "re-writer" read also as the word the code spells, "rewriter"
    frame_order: bool = True  # the frames nearest the error first, not every frame alike
    literals: bool = True  # options (`--collect-only`) and error messages found as written in the code's text
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
    "Python's own names and variables": {"python_names": False},
    "literals (options, error messages)": {"literals": False},
    "traceback order": {"frame_order": False},
    "siblings of named chunks": {"siblings": False},
    "hyphenated words joined": {"hyphenated": False},
    "stop words left out": {"stop_words": False},
    "rank fusion": {"rank_fusion": False},
    "several matches in one file": {"file_cluster": False},
}


@dataclass(frozen=True, slots=True)
class Question:
    words: tuple[str, ...]  # every identifier, mentions first, then the rest in order
    mentions: tuple[str, ...]  # names the question gives as code
    qualified: tuple[tuple[str, str], ...]  # (name, dotted suffix): ("request", "Session.request")
    frames: tuple[tuple[str, str], ...]  # (path as written, function), nearest the error first
    paths: tuple[str, ...]  # .py files named as written (posix separators), then module paths of dotted names
    literals: tuple[str, ...] = ()  # options and error-message fragments, as the code would spell them


def read_question(text: str, on: QuestionParts = ALL_PARTS) -> Question:
    """The mentions of code in `text`, and all its words."""
    placed = [(match.start(), match.group()) for match in _WORD.finditer(text)]
    if on.hyphenated:  # the joined word where it is written, after its parts
        placed += [(match.end(), match.group(1) + match.group(2)) for match in _HYPHENATED.finditer(text)]
    all_words = list(dict.fromkeys(word for _, word in sorted(placed)))
    frames = _frames(text) if on.tracebacks else []
    mentions: dict[str, None] = {}
    qualified: dict[tuple[str, str], None] = {}
    modules: dict[str, None] = {}  # `_pytest.fixtures` may be `_pytest/fixtures.py`

    def mention(word: str) -> None:
        if on.python_names and (word in _BUILTINS or len(word) == 1):  # `e` of `str(e)` is a variable
            if word in _PROTOCOL:
                mentions.setdefault(_PROTOCOL[word])
            return
        mentions.setdefault(word)

    for _, function in frames:
        mentions.setdefault(function)
    spans = _BACKTICKS.findall(text) if on.backticks else []
    for span in spans:
        for word in _WORD.findall(span):
            if not word.isdigit():
                mention(word)
    python_spans: list[tuple[int, int]] = []  # `os.getcwd(`: the standard library's, not the workspace's
    for match in _DOTTED.finditer(text) if on.mentions else []:
        dotted = match.group()
        parts = dotted.split(".")
        if on.python_names and parts[0] in _STANDARD_MODULES:
            python_spans.append(match.span())
            continue
        if parts[-1].lower() in _NOT_CODE_SUFFIXES or len(parts) > MAX_PATH_PARTS:
            continue  # a file or host name; or no code name (its module paths would cost n²)
        for part in parts[:-1]:
            # `app.run`: a lowercase plain head is a variable or a package, read as a path below
            if not on.python_names or part[:1].isupper() or looks_like_code(part):
                mention(part)
        mention(parts[-1])
        qualified.setdefault((parts[-1], ".".join(parts[-2:])))
        modules.update(dict.fromkeys("/".join(parts[:end]) + ".py" for end in range(len(parts), 1, -1)))
    for match in _CALL.finditer(text) if on.mentions else []:
        if not any(start <= match.start() < end for start, end in python_spans):
            mention(match.group(1))
    for word in all_words if on.mentions else []:
        if looks_like_code(word) or len(all_words) <= SHORT_QUESTION_WORDS:
            mention(word)
    # code named late in a long issue is read before the prose around it
    prose = (
        [word for word in all_words if len(word) > 2 and word.lower() not in _STOP_WORDS]
        if on.stop_words
        else all_words
    )
    words = list(dict.fromkeys([*mentions, *prose]))
    return Question(
        words=tuple(words),
        mentions=tuple(mentions),
        qualified=tuple(qualified),
        frames=tuple(frames),
        paths=(tuple(_paths(text)) if on.tracebacks else ()) + tuple(modules)[:MAX_PATHS],
        literals=tuple(_literals(text)) if on.literals else (),
    )


def _literals(text: str) -> list[str]:
    """Options (`--collect-only`), subcommands (`$ flask routes`) and the longest literal
    fragment of each error message, in the order written: what the code spells exactly in
    its strings. An option or subcommand is one word; a fragment is several."""
    found: dict[str, None] = {}
    for option in _OPTION.findall(text):
        found.setdefault(option)
    for program, subcommand in _SHELL_LINE.findall(text):
        if program not in _GENERAL_TOOLS:
            found.setdefault(subcommand)
    for message in _ERROR_LINE.findall(text):
        fragments = [" ".join(part.split()) for part in _NOT_LITERAL.split(message)]
        longest = max(fragments, key=lambda fragment: len(fragment.split()))
        if len(longest.split()) >= MIN_PHRASE_WORDS:
            found.setdefault(longest)
    return list(found)[:MAX_LITERALS]


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
