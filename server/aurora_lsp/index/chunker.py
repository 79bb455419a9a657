"""Source → chunks. With `inference.py`, the only module that reads code with parso.

A file on disk is read with Python's own parser (`ast`, walked by `chunker_ast.py`): a
bare parso parse takes several times its CPU. parso (jedi's parser, with error
recovery) reads what Python cannot compile, files larger than AST_MAX_BYTES (there ast's
tree takes twice the memory), and every editor buffer: a buffer is often mid-edit, and
parso's diff parser re-reads only what changed. Both walks report definitions, the names
each body uses and imports to the same `ChunkBuilder` (`builder.py`), and give the same
records for the same valid code (`tests/unit/test_walk_equivalence.py`,
`benchmarks/walk_equivalence.py`). parso is imported when it is first needed: a parsing
process that meets neither a broken nor a large file never loads it.
"""

from __future__ import annotations

import ast
import inspect
import re
import sys
from collections.abc import Callable, Iterator
from typing import Any

from aurora_lsp.index.builder import (
    MAX_CHAIN_SEGMENTS,
    SIGNATURE_MAX_CHARS,
    ChunkBuilder,
    Scope,
    cap_signature,
    capped_dotted,
    content_hash,
    dotted_name,
    module_base,
)
from aurora_lsp.index.chunker_ast import AstWalk, parse_module
from aurora_lsp.positions import is_utf8
from aurora_lsp.records import ParsedFile

__all__ = [
    "NotPythonSource",
    "chunk_file",
    "chunk_text",
    "content_hash",
    "decode_source",
    "forget_buffer",
    "load_grammar",
    "parso_version",
    "without_surrogates",
]

_BINARY_SNIFF_BYTES = 8192
_CODING_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
_WHITESPACE = re.compile(r"\s+")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATES_REPLACED = "lone UTF-16 surrogates replaced with U+FFFD"
# parso's tokenizer copies and rescans the rest of the line for every token inside an
# f-string, which is quadratic in the line's length. The walk never looks inside f-strings,
# so in a file with a line longer than this, parso is given all of them as plain (bytes)
# strings (one can begin on a short line and go on over a long one): the same length, the
# same positions, the same chunks; texts are read from the source itself.
LONG_LINE_CHARS = 1000
_FSTRING_PREFIX = re.compile(r"(?<!\w)([rR]?)([fF])(?=[rR]?['\"])")
# A larger file is read with parso first: such files are mostly generated expressions, where
# ast's tree peaks at twice parso's memory (sympy's two: 79 and 90 MB against 43 and 48 MB,
# for 0.3 against 0.7-1.4 CPU-seconds), and a parsing process keeps its peak.
AST_MAX_BYTES = 256 * 1024

_grammar: Any = None


def load_grammar() -> Any:
    """parso's grammar for the running Python, imported and loaded once per process, when first needed."""
    global _grammar
    if _grammar is None:
        from parso.grammar import load_grammar as parso_grammar

        _grammar = parso_grammar()
    return _grammar


class NotPythonSource(ValueError):
    """The bytes are not text Python could read (binary data)."""


def decode_source(data: bytes) -> tuple[str, tuple[str, ...]]:
    """Text of a Python file, and any problem met decoding it.

    Follows PEP 263: a BOM or coding cookie names the encoding, UTF-8 otherwise. Bytes
    that do not decode are replaced (and reported) so that the rest of the file still
    yields its chunks; NUL bytes mean binary data, which is refused.
    """
    if b"\x00" in data[:_BINARY_SNIFF_BYTES]:
        raise NotPythonSource("binary file (NUL bytes)")
    encoding = "utf-8"
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    else:
        for line in data.split(b"\n", 2)[:2]:
            match = _CODING_COOKIE.match(line)
            if match:
                encoding = match.group(1).decode("ascii")
                break
    problems: tuple[str, ...] = ()
    try:
        text = data.decode(encoding)
    except LookupError:
        text, problems = data.decode("utf-8", "replace"), (f"unknown encoding {encoding!r}; read as UTF-8",)
    except UnicodeDecodeError as error:
        problem = f"invalid {encoding} at byte {error.start}; undecodable bytes replaced"
        text, problems = data.decode(encoding, "replace"), (problem,)
    valid = without_surrogates(text)  # UTF-7 and the escape codecs can make them
    return valid, problems if valid is text else (*problems, _SURROGATES_REPLACED)


def without_surrogates(text: str) -> str:
    """`text` with each lone UTF-16 surrogate replaced by U+FFFD (`text` itself when it has none).

    JSON carries them (`"\\ud800"`) and some codecs make them; no UTF-8 or UTF-16 encoder
    takes them, so hashing, storing and mapping positions would fail. U+FFFD keeps every
    position: it is one code point and one UTF-16 unit, as the surrogate was.
    """
    return text if is_utf8(text) else _SURROGATE.sub("\ufffd", text)


def chunk_file(path: str, data: bytes, module: str = "", is_package: bool = False) -> ParsedFile:
    """Chunk one file. `path` is workspace-relative POSIX; `module` its dotted module name.

    Python's parser first; parso's error recovery only for a file Python cannot compile,
    and parso first for one larger than AST_MAX_BYTES.
    """
    file_hash = content_hash(data)
    text, problems = decode_source(data)
    builder = ChunkBuilder(path, text, file_hash, module, is_package, problems)
    if len(data) > AST_MAX_BYTES:
        return _chunk(builder, None)
    tree = parse_module(text, path)
    if tree is not None:
        AstWalk(builder).walk(tree)
        return builder.result()
    error_line = _walk_parso(builder, None)
    if error_line is not None:
        builder.problems.append(f"syntax error near line {error_line}; kept the definitions that parse")
    return builder.result()


def chunk_text(
    path: str, text: str, module: str = "", is_package: bool = False, buffer_key: str | None = None
) -> ParsedFile:
    """Chunk text already decoded (an editor buffer).

    With `buffer_key`, parso keeps the tree and re-parses only what changed next time
    (its diff parser: about 3 ms instead of 75 ms for an edit to Django's query.py).
    """
    valid = without_surrogates(text)
    problems = () if valid is text else (_SURROGATES_REPLACED,)
    file_hash = content_hash(valid.encode("utf-8"))
    return _chunk(ChunkBuilder(path, valid, file_hash, module, is_package, problems), buffer_key)


def forget_buffer(buffer_key: str) -> None:
    """Drop the tree parso keeps for an editor buffer (the document closed)."""
    cache = sys.modules.get("parso.cache")
    if cache is None:
        return  # parso never read a buffer in this process
    for trees in list(cache.parser_cache.values()):  # jedi's thread may add a grammar
        trees.pop(buffer_key, None)


def _chunk(builder: ChunkBuilder, buffer_key: str | None) -> ParsedFile:
    """Walk parso's tree; if parso found an error that Python does not, walk `ast` instead."""
    error_line = _walk_parso(builder, buffer_key)
    if error_line is None:
        return builder.result()
    tree = parse_module(builder.text, builder.path)
    if tree is None:
        builder.problems.append(f"syntax error near line {error_line}; kept the definitions that parse")
        return builder.result()
    # Valid Python that parso 0.8 cannot read (a `match` body, `*Ts`, PEP 695): Python's
    # own parser gives every definition instead.
    fresh = ChunkBuilder(
        builder.path, builder.text, builder.file_hash, builder.module, builder.is_package, tuple(builder.problems)
    )
    AstWalk(fresh).walk(tree)
    fresh.problems.append(f"parso cannot read the syntax near line {error_line} (valid Python); chunked with ast")
    return fresh.result()


def _walk_parso(builder: ChunkBuilder, buffer_key: str | None) -> int | None:
    """Walk parso's tree into the builder; the line of the first syntax error parso met, if any."""
    grammar = load_grammar()
    plain = _fstrings_as_plain_strings(builder.text, builder.lines)
    text = builder.text if plain is None else plain
    module_node = None
    if buffer_key is not None:
        try:
            module_node = grammar.parse(text, path=buffer_key, diff_cache=True, cache=False)
        except RecursionError:  # the diff parser recurses over a deeply nested old tree
            forget_buffer(buffer_key)
    if module_node is None:
        module_node = grammar.parse(text, error_recovery=True, cache=False)
    walk = _ParsoWalk(builder, texts_from_source=plain is not None)
    walk.walk(module_node)
    return walk.syntax_error_line


def _fstrings_as_plain_strings(text: str, lines: list[str]) -> str | None:
    """The text for parso of a file with a long line, its f-strings plain; None if it has none."""
    if all(len(line) <= LONG_LINE_CHARS for line in lines):
        return None
    plain = _FSTRING_PREFIX.sub(lambda m: m.group(1) + ("b" if m.group(2) == "f" else "B"), text)
    return None if plain == text else plain


_DEF_TYPES = ("funcdef", "classdef")
_SKIP_SUBTREE = ("import_name", "import_from", "string", "fstring", "number", "keyword", "operator")


class _ParsoWalk:
    """One walk of parso's tree, reporting definitions, uses and imports to the builder."""

    def __init__(self, builder: ChunkBuilder, texts_from_source: bool = False) -> None:
        self.builder = builder
        self.texts_from_source = texts_from_source  # parso read f-strings as plain strings
        self.syntax_error_line: int | None = None

    def walk(self, root: Any) -> None:
        """Visit the tree with an explicit stack: deeply nested code cannot exhaust recursion."""
        module_scope = Scope(None, None, False)
        stack: list[tuple[Any, Scope, str]] = [(root, module_scope, "r")]
        while stack:
            node, scope, usage = stack.pop()
            node_type = node.type
            if node_type in _DEF_TYPES:
                self._enter_definition(node, scope, stack)
                continue
            if node_type == "decorated" or node_type == "async_funcdef" or node_type == "async_stmt":
                # the definition itself handles its decorators and `async`
                stack.extend(
                    (child, scope, usage)
                    for child in reversed(node.children)
                    if child.type != "decorators" and child.type != "decorator"
                )
                continue
            if node_type in ("error_node", "error_leaf"):
                if self.syntax_error_line is None:
                    self.syntax_error_line = node.start_pos[0]
            if node_type == "name":
                self._use_name(node, scope, usage)
                continue
            if node_type in _SKIP_SUBTREE:
                if node_type == "import_name" or node_type == "import_from":
                    self._record_import(node, scope)
                continue
            if node_type == "atom_expr" or node_type == "power":
                self._use_chain(node, scope, usage, stack)
                continue
            children = getattr(node, "children", None)
            if not children:
                continue
            if (
                node_type == "expr_stmt"
                or node_type == "for_stmt"
                or node_type == "comp_for"
                or node_type == "sync_comp_for"
            ):
                self._bind_targets(node, scope)
            elif node_type in (
                "with_item",
                "except_clause",
                "namedexpr_test",
                "global_stmt",
                "nonlocal_stmt",
                "lambdef",
            ):
                self._bind_targets(node, scope)
            elif node_type == "argument" and len(children) >= 3 and children[1].type == "operator":
                if children[1].value == "=":
                    stack.append((children[2], scope, usage))  # skip the keyword's name
                    continue
                if children[1].value == ":=":  # f(x := ...) binds x, as parso reads it in arguments
                    self._bind_targets(node, scope)
            stack.extend((child, scope, usage) for child in reversed(children))

    def _enter_definition(self, node: Any, outer: Scope, stack: list[tuple[Any, Scope, str]]) -> None:
        is_class = node.type == "classdef"
        name_leaf = node.children[1]
        outer_node = node
        is_async = node.parent is not None and node.parent.type in ("async_funcdef", "async_stmt")
        if is_async:
            outer_node = node.parent
        decorators_node = None
        if outer_node.parent is not None and outer_node.parent.type == "decorated":
            decorators_node = outer_node.parent.children[0]
            outer_node = outer_node.parent
        decorator_nodes = (
            []
            if decorators_node is None
            else [decorators_node]
            if decorators_node.type == "decorator"
            else list(decorators_node.children)
        )
        if self.builder.too_deep(outer):
            self._walk_as_code(node, decorator_nodes, outer, stack)
            return
        source = self.builder.source
        decorators = tuple(_squash(source(d.start_pos, _decorator_end(d)))[1:].strip() for d in decorator_nodes)
        chunk = self.builder.add_chunk(
            outer,
            name_leaf.value,
            is_class,
            start=outer_node.start_pos,
            end=_last_code_leaf(node).end_pos,
            name_start=name_leaf.start_pos,
            signature=self._signature(node, is_async),
            docstring=_docstring(node, source),
            decorators=decorators,
        )
        kind = chunk.kind

        self_name = None
        if kind == "method" and "staticmethod" not in decorators:
            params = node.get_params()
            if params:
                self_name = params[0].name.value
        scope = self.builder.open_scope(outer, chunk, self_name, is_class)

        # Pushed in reverse: the stack pops the body last.
        if is_class:
            stack.append((node.children[-1], scope, "r"))
            if len(node.children) > 4 and node.children[2].type == "operator" and node.children[2].value == "(":
                stack.append((node.children[3], scope, "b"))
        else:
            stack.append((node.children[-1], scope, "r"))
            params_node = node.children[2]
            for param in node.get_params():
                scope.bound.add(param.name.value)
                annotation = param.annotation
                if annotation is not None:
                    type_name = _type_name(annotation)
                    if type_name is not None:
                        scope.types.setdefault(param.name.value, type_name)
            # annotations and defaults are evaluated where the def is, but they describe it
            for child in params_node.children:
                if child.type == "param":
                    first = child.children[0]
                    if first.type == "tfpdef":  # `name: annotation`
                        stack.extend((part, scope, "r") for part in first.children[2:])
                    stack.extend((part, scope, "r") for part in child.children[1:])
            if len(node.children) > 4 and node.children[3].type == "operator" and node.children[3].value == "->":
                stack.append((node.children[4], scope, "r"))
        for decorator in decorator_nodes:
            stack.append((decorator, scope, "d"))

    def _walk_as_code(
        self, node: Any, decorator_nodes: list[Any], outer: Scope, stack: list[tuple[Any, Scope, str]]
    ) -> None:
        """A definition past MAX_DEFINITION_DEPTH: its name, parameters and code belong to `outer`."""
        outer.bound.add(node.children[1].value)
        if node.type == "funcdef":
            outer.bound.update(param.name.value for param in node.get_params())
        stack.extend((child, outer, "r") for child in reversed(node.children[2:]))
        stack.extend((decorator, outer, "r") for decorator in decorator_nodes)

    def _signature(self, node: Any, is_async: bool) -> str:
        """The header up to its colon, one line: leaves joined by single spaces, comments dropped."""
        prefix = "async " if is_async else ""
        parts: list[str] = []
        previous = ""
        length = 0
        check_at = SIGNATURE_MAX_CHARS
        for leaf in _leaves_before(node, node.children[-2]):
            value = leaf.value
            if self.texts_from_source:
                value = self.builder.source(leaf.start_pos, leaf.end_pos)  # not the plain string parso read
            if parts and leaf.prefix and previous not in ("(", "[") and value not in (")", "]", ",", ":"):
                parts.append(" ")
                length += 1
            parts.append(value)
            length += len(value)
            previous = value
            if length > check_at:
                # Squashed, the header only grows: once past the cap, what follows is cut anyway.
                if len(prefix) + len(_squash("".join(parts))) > SIGNATURE_MAX_CHARS:
                    break
                check_at = 2 * length
        return cap_signature(prefix + _squash("".join(parts)))

    def _use_name(self, leaf: Any, scope: Scope, usage: str) -> None:
        if scope.chunk is None:
            return
        parent = leaf.parent
        if parent is not None and parent.type == "param" and parent.children[0] is leaf:
            return
        scope.refs.add(f"{usage}:{leaf.value}")

    def _use_chain(self, node: Any, scope: Scope, usage: str, stack: list[tuple[Any, Scope, str]]) -> None:
        children = node.children
        index = 0
        if children[0].type == "keyword":  # await
            index = 1
        head = children[index]
        if head.type != "name":
            # `"".join(...)`, `(a + b).expand()`: an attribute of such a head is no name of its own
            stack.extend((child, scope, usage) for child in reversed(children[index:]) if not _is_attribute(child))
            return
        chain = [head.value]
        called = False
        after_call_attribute: str | None = None
        rest: list[Any] = []
        for trailer in children[index + 1 :]:
            if trailer.type != "trailer":  # `a ** b` in a power node
                rest.append(trailer)
                continue
            first = trailer.children[0]
            if rest:
                rest.append(trailer)
                if after_call_attribute is None and first.value == "." and len(trailer.children) == 2:
                    after_call_attribute = trailer.children[1].value
                continue
            if first.value == "." and len(trailer.children) == 2:
                if len(chain) < MAX_CHAIN_SEGMENTS:
                    chain.append(trailer.children[1].value)
            else:
                if first.value == "(":
                    called = True
                rest.append(trailer)
        if scope.chunk is not None:
            kind = "c" if called and usage == "r" else usage
            if chain == ["super"] and after_call_attribute is not None:
                # super().method(...): the method as the base classes define it
                scope.refs.add(f"c:super.{after_call_attribute}")
            else:
                scope.refs.add(f"{kind}:{dotted_name(chain)}")
                if after_call_attribute is not None:
                    scope.refs.add(f"r:.{after_call_attribute}")
        for trailer in reversed(rest):
            if trailer.type != "trailer" or trailer.children[0].value != ".":
                stack.append((trailer, scope, "r"))

    def _bind_targets(self, node: Any, scope: Scope) -> None:
        """Names a statement binds become local to the scope (a later use is not a reference)."""
        node_type = node.type
        children = node.children
        targets: list[Any] = []
        if node_type == "expr_stmt":
            last_equal = max((i for i, c in enumerate(children) if c.type == "operator" and c.value == "="), default=-1)
            if last_equal > 0:
                targets = children[:last_equal]
                if last_equal == 1 and children[0].type == "name":  # x = T(...)
                    type_name = _constructed_type(children[2])
                    if type_name is not None:
                        scope.types.setdefault(children[0].value, type_name)
            elif len(children) > 1 and children[1].type == "annassign":
                targets = [children[0]]
                if children[0].type == "name" and len(children[1].children) > 1:  # x: T = ...
                    type_name = _type_name(children[1].children[1])
                    if type_name is not None:
                        scope.types.setdefault(children[0].value, type_name)
            elif len(children) > 1 and children[1].type == "operator":  # augmented: x += 1
                targets = [children[0]]
        elif node_type == "for_stmt" or node_type in ("comp_for", "sync_comp_for"):
            for i, child in enumerate(children):
                if child.type == "keyword" and child.value == "for" and i + 1 < len(children):
                    targets.append(children[i + 1])
        elif node_type in ("with_item", "except_clause"):
            for i, child in enumerate(children):
                if child.type == "keyword" and child.value == "as" and i + 1 < len(children):
                    targets.append(children[i + 1])
        elif node_type == "namedexpr_test" or node_type == "argument":
            targets = [children[0]]
        elif node_type in ("global_stmt", "nonlocal_stmt"):
            targets = children[1:]
        elif node_type == "lambdef":
            targets = [p.name for p in node.get_params()] if hasattr(node, "get_params") else []
        for target in targets:
            for name in _names_in(target):
                scope.bound.add(name)

    def _record_import(self, node: Any, scope: Scope) -> None:
        builder = self.builder
        if node.type == "import_from":
            # Not parso's get_paths: it copies the module's path once per imported name.
            try:
                level = node.level
                from_names = [n.value for n in node.get_from_names()]
                defined = node.get_defined_names()
            except (AttributeError, IndexError, TypeError):
                return  # a half-typed import statement
            base = module_base(builder.module, builder.is_package, level) if level else ""
            module = capped_dotted(".".join(p for p in [base, *from_names] if p))
            if node.is_star_import():
                builder.add_star_import(module)
                return
            for local in defined:
                parent = local.parent
                imported = parent.children[0] if parent is not None and parent.type == "import_as_name" else local
                builder.bind_import(local.value, ".".join(p for p in (module, imported.value) if p), scope)
            return
        try:
            defined = node.get_defined_names()
            paths = node.get_paths()
        except (AttributeError, IndexError, TypeError):
            return  # a half-typed import statement
        for local, path_names in zip(defined, paths, strict=False):
            dotted_path = [n.value for n in path_names]
            if local is path_names[0] and len(dotted_path) > 1:
                dotted_path = dotted_path[:1]  # `import a.b` binds `a` (`import a.b as a` binds a.b)
            builder.bind_import(local.value, dotted_name(dotted_path), scope)


def _is_attribute(node: Any) -> bool:
    """Whether a node is a `.name` trailer."""
    return bool(node.type == "trailer" and node.children[0].value == "." and len(node.children) == 2)


def _decorator_end(decorator: Any) -> tuple[int, int]:
    """Where a decorator's code ends: before the newline, whose prefix holds a comment after it."""
    last = decorator.children[-1]
    return tuple(decorator.children[-2].end_pos) if last.type == "newline" else tuple(decorator.end_pos)


def _names_in(node: Any) -> Iterator[str]:
    pending = [node]  # a stack, not recursion: a target can be nested deeper than Python's stack
    while pending:
        node = pending.pop()
        if node.type == "name":
            yield node.value
        elif node.type not in ("atom_expr", "power", "trailer"):  # x.attr = ... or x[i] = ... binds nothing
            pending.extend(reversed(getattr(node, "children", ())))


_OPTIONAL_WRAPPERS = ("Optional", "Final", "ClassVar", "Annotated", "Type", "type")


def _type_name(node: Any) -> str | None:
    """The class an annotation names: `Cart`, `models.Cart`, `Cart | None`, `Optional[Cart]`, `"Cart"`."""
    # The parts still to try, first on top; a stack, not recursion (`Optional[Optional[...`).
    pending = [node]
    while pending:
        node = pending.pop()
        node_type = node.type
        if node_type == "name":
            if node.value != "None":
                return str(node.value)
        elif node_type == "string":
            text = node.value.strip("'\"")
            if text.replace(".", "").replace("_", "").isalnum():
                return capped_dotted(text)
        elif node_type in ("expr", "or_expr"):  # A | B: the first part that is not None
            pending.extend(child for child in reversed(node.children) if child.type != "operator")
        elif node_type in ("atom_expr", "power"):
            found = _dotted_or_wrapped(node.children)
            if isinstance(found, str):
                return found
            if found is not None:
                pending.append(found)
    return None


def _dotted_or_wrapped(children: list[Any]) -> str | Any:
    """`a.b.C` as a dotted name; the node inside `Optional[...]` and the like; or None."""
    if children[0].type != "name":
        return None
    parts = [children[0].value]
    for trailer in children[1:]:
        if trailer.type != "trailer":
            return None
        first = trailer.children[0]
        if first.value == "." and len(trailer.children) == 2:
            parts.append(trailer.children[1].value)
        elif first.value == "[" and parts[-1] in _OPTIONAL_WRAPPERS and trailer is children[-1]:
            inner = trailer.children[1]
            return inner.children[0] if inner.type == "subscriptlist" else inner
        else:
            return None
    return dotted_name(parts)


def _constructed_type(node: Any) -> str | None:
    """`T` for a value written `T(...)` or `mod.T(...)` (a call of a dotted name)."""
    if node.type not in ("atom_expr", "power") or node.children[0].type != "name":
        return None
    trailers = node.children[1:]
    if not trailers or trailers[-1].type != "trailer" or trailers[-1].children[0].value != "(":
        return None
    parts = [node.children[0].value]
    for trailer in trailers[:-1]:
        if trailer.type != "trailer" or trailer.children[0].value != "." or len(trailer.children) != 2:
            return None
        parts.append(trailer.children[1].value)
    return dotted_name(parts)


def _leaves_before(node: Any, stop: Any) -> Iterator[Any]:
    """The leaves of `node` in order, up to `stop` (one of its children).

    parso's get_next_leaf finds a leaf among its siblings with list.index, which made a
    header of many parameters or bases quadratic; this walk visits each node once.
    """
    pending = list(reversed(node.children))
    while pending:
        current = pending.pop()
        if current is stop:
            return
        children = getattr(current, "children", None)
        if children is None:
            yield current
        else:
            pending.extend(reversed(children))


def _last_leaf(node: Any) -> Any:
    """parso's get_last_leaf without its recursion (code can nest deeper than the stack)."""
    while getattr(node, "children", None):
        node = node.children[-1]
    return node


def _last_code_leaf(node: Any) -> Any:
    leaf = _last_leaf(node)
    while leaf is not None and (
        leaf.type in ("newline", "endmarker") or (leaf.type == "error_leaf" and not leaf.value.strip())
    ):
        previous = leaf.get_previous_leaf()
        if previous is None:
            break
        leaf = previous
    return leaf


def _squash(code: str) -> str:
    return _WHITESPACE.sub(" ", code).strip()


def _docstring(node: Any, source: Callable[[tuple[int, int], tuple[int, int]], str]) -> str:
    try:
        doc_node = node.get_doc_node()
    except (AttributeError, IndexError):
        return ""
    if doc_node is None:
        doc_node = _concatenated_docstring(node)
    if doc_node is None:
        return ""
    code = source(doc_node.start_pos, doc_node.end_pos)
    try:
        value = ast.literal_eval(code.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return ""
    if isinstance(value, bytes):
        return ""
    return inspect.cleandoc(value) if isinstance(value, str) else ""


def _concatenated_docstring(node: Any) -> Any:
    """`"Part one. " "Part two."` as the first statement: Python joins them into __doc__."""
    suite = node.children[-1]
    if suite.type != "suite":
        return None
    for statement in suite.children:
        if statement.type == "newline":
            continue
        first = statement.children[0] if statement.type == "simple_stmt" else statement
        return first if first.type == "strings" else None
    return None


def parso_version() -> str:
    import parso

    return str(parso.__version__)
