"""jedi's inference on editor buffers: the definition at a position, and the attributes of a
document resolved by inference. The only module that imports jedi; no jedi object leaves it.

jedi reads the workspace and never runs it:
- `InterpreterEnvironment`: jedi inspects compiled modules in this process, with Aurora's own
  `sys.path`. The default environment would start the Python of a virtualenv it finds, and a
  `.venv/bin/python` inside a cloned repository is a file of the workspace.
- `Project(load_unsafe_extensions=False)`: compiled extensions are loaded only from that
  `sys.path`, never from the workspace's folders.
- `settings.auto_import_modules = []`: jedi imports the modules named there for real.
- `settings.dynamic_params_for_other_modules = False`: inferring a parameter's type by reading
  the calls of every module in its folder costs seconds and reads files the scan may skip.

jedi cannot be interrupted inside a call, so the work is cut into calls that are each small:
a definition is one `goto`; a document's pass resolves its attribute names a few at a time
(`InferencePass.step`), the caller checking its clock between steps. Everything here runs on
one thread, the jedi thread (workspace/threads.py), so jedi's caches have one user.
"""

from __future__ import annotations

import keyword
import os
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

import jedi
from jedi.api.environment import InterpreterEnvironment
from parso.grammar import load_grammar

from aurora_lsp.index.inferred import Goto, InferredFile, InferredUse, Site, text_hash
from aurora_lsp.positions import codepoint_column, split_lines, utf16_column, utf16_length

jedi.settings.auto_import_modules = []
jedi.settings.dynamic_params_for_other_modules = False

MAX_NAMES_PER_PASS = 3000  # attribute names one pass resolves at most (a long file's first ones)
SCRIPTS_KEPT = 32  # documents whose jedi Script (and its inference caches) stay warm
_DEFINITION_TYPES = frozenset({"class", "function"})  # what a chunk can be
_OWN_INSTANCE = frozenset({"self", "cls"})  # static resolution reads these (`self` edges)
_JEDI_ERRORS = (ValueError, AttributeError, TypeError, KeyError, IndexError, RecursionError, NotImplementedError)


class InferencePass:
    """One document's attribute names, resolved a few at a time (`step`)."""

    def __init__(self, script: Any, inferred: InferredFile, names: list[tuple[int, int, str, bool]]) -> None:
        self._script = script
        self.inferred = inferred
        self._names = names  # (1-based line, code-point column, name, called), in source order
        self._next = 0

    @property
    def done(self) -> bool:
        return self._next >= len(self._names)

    def step(self, jedi_workspace: JediWorkspace, seconds: float) -> bool:
        """Resolve names until `seconds` have passed (at least one); True once all are done."""
        deadline = time.perf_counter() + seconds
        while not self.done:
            line, column, name, called = self._names[self._next]
            self._next += 1
            try:
                found = self._script.goto(line, column, follow_imports=True)
            except _JEDI_ERRORS:
                found = []
            if found:
                sites = tuple(site for site in map(jedi_workspace.site, found) if site is not None)
                inside = tuple(site for site in sites if site.in_workspace and site.type in _DEFINITION_TYPES)
                self.inferred.uses.append(InferredUse(line - 1, name, called, inside))
            else:
                self.inferred.uses.append(InferredUse(line - 1, name, called, None))
            if time.perf_counter() >= deadline:
                break
        self.inferred.complete = self.done and len(self._names) < MAX_NAMES_PER_PASS
        return self.done


class JediWorkspace:
    """jedi on one workspace folder: its Project, and the Scripts of recent buffers."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._project = jedi.Project(root, load_unsafe_extensions=False, smart_sys_path=True)
        self._environment = InterpreterEnvironment()
        self._scripts: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._relative: dict[str, str] = {}  # jedi's module path -> workspace-relative path or ""

    def _script(self, path: str, text: str) -> Any:
        """The Script of this version of a document; kept, so its inference caches stay warm."""
        key = (path, text_hash(text))
        script = self._scripts.get(key)
        if script is None:
            for old in [k for k in self._scripts if k[0] == path]:
                del self._scripts[old]  # an older version's caches are no use
            script = jedi.Script(text, path=self.root / path, project=self._project, environment=self._environment)
            self._scripts[key] = script
            while len(self._scripts) > SCRIPTS_KEPT:
                self._scripts.popitem(last=False)
        self._scripts.move_to_end(key)
        return script

    def forget(self, path: str) -> None:
        for key in [k for k in self._scripts if k[0] == path]:
            del self._scripts[key]

    def goto(self, path: str, text: str, line: int, character: int) -> Goto:
        """The definitions of the name at an LSP position (0-based line, UTF-16 column)."""
        lines = split_lines(text)
        if line >= len(lines):
            return Goto("", None)
        line_text = lines[line].rstrip("\r\n")
        if character > utf16_length(line_text):
            return Goto("", None)
        column = codepoint_column(line_text, character)
        word = _word_at(line_text, column)
        if not word.isidentifier() or keyword.iskeyword(word):
            return Goto(word, ())  # no name here (`def`, a number, a blank): no Script to make
        try:
            found = self._script(path, text).goto(line + 1, column, follow_imports=True)
        except _JEDI_ERRORS:
            found = []
        sites = tuple(site for site in map(self.site, found) if site is not None)
        return Goto(word, sites)

    def start(self, path: str, text: str) -> InferencePass:
        """A pass over the attribute names of a document (those not of `self` or `cls`)."""
        names: list[tuple[int, int, str, bool]] = []
        module = load_grammar().parse(text, error_recovery=True, cache=False)
        _attribute_names(module, names)
        inferred = InferredFile(path, text_hash(text))
        return InferencePass(self._script(path, text), inferred, names[:MAX_NAMES_PER_PASS])

    def site(self, name: Any) -> Site | None:
        """A jedi Name as a Site; None for a name with no place (a builtin's, a module's)."""
        module_path = name.module_path
        line, column = name.line, name.column
        if module_path is None or line is None or column is None:
            return None
        relative = self._relative_path(str(module_path))
        if not relative:
            return Site("", line - 1, column, column, name.name, name.type)
        try:
            code = name.get_line_code() if relative else ""
        except _JEDI_ERRORS:
            code = ""
        start = utf16_column(code, column) if code else column
        return Site(relative, line - 1, start, start + utf16_length(name.name), name.name, name.type)

    def _relative_path(self, module_path: str) -> str:
        """The workspace-relative POSIX path of a `.py` file inside the root, else ""."""
        known = self._relative.get(module_path)
        if known is None:
            real = os.path.realpath(module_path)
            try:
                known = Path(real).relative_to(self.root).as_posix() if real.endswith(".py") else ""
            except ValueError:
                known = ""
            self._relative[module_path] = known
        return known


def _word_at(line: str, column: int) -> str:
    """The identifier at (or just before) a code-point column of a line."""
    start = column
    while start > 0 and (line[start - 1].isalnum() or line[start - 1] == "_"):
        start -= 1
    end = column
    while end < len(line) and (line[end].isalnum() or line[end] == "_"):
        end += 1
    return line[start:end]


def _attribute_names(node: Any, names: list[tuple[int, int, str, bool]]) -> None:
    """Every `x.name` in source order (iteratively: deep trees must not overflow the stack)."""
    stack = [node]
    while stack and len(names) < MAX_NAMES_PER_PASS:
        current = stack.pop()
        if current.type == "trailer":
            children = current.children
            if len(children) == 2 and children[0].type == "operator" and children[0].value == ".":
                leaf = children[1]
                if leaf.type == "name" and not _on_own_instance(current):
                    following = current.get_next_sibling()
                    called = following is not None and following.type == "trailer" and following.children[0] == "("
                    names.append((leaf.start_pos[0], leaf.start_pos[1], leaf.value, called))
        children = getattr(current, "children", None)
        if children:
            stack.extend(reversed(children))


def _on_own_instance(trailer: Any) -> bool:
    """`self.x` or `cls.x` (the first trailer after `self`), which static resolution reads."""
    previous = trailer.get_previous_sibling()
    return previous is not None and previous.type == "name" and previous.value in _OWN_INSTANCE
