"""Chunks from Python's own `ast`: every file on disk that Python compiles (up to 256 KB).

A bare parso parse takes several times the CPU of `ast.parse`. parso reads editor buffers (error
recovery, a diff parser) and what Python cannot compile; parso 0.8 does not know some newer
syntax (the body of a `match` statement, `*Ts`, PEP 695), for which a buffer comes here
too. This walk reports the same definitions, uses and imports as the parso walk in
`chunker.py`, by its rules (a chain is read as parso's `atom_expr`, f-strings are not
looked into), to the same `ChunkBuilder` (`builder.py`), which makes the records for both:
`tests/unit/test_walk_equivalence.py` holds them equal. It knows nothing of parso or of
the parso walk.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize

from aurora_lsp.index.builder import (
    MAX_CHAIN_SEGMENTS,
    ChunkBuilder,
    Scope,
    cap_signature,
    capped_dotted,
    dotted_name,
    module_base,
)

_DEFINITION = re.compile(r"(?:async\s+)?(?:def|class)\s+([^\W\d]\w*)")
_WHITESPACE = re.compile(r"\s+")
Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


def parse_module(text: str, path: str) -> ast.Module | None:
    """Python's own tree of `text`, or None when Python cannot compile it either."""
    try:
        tree = compile(text, path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    return tree if isinstance(tree, ast.Module) else None


class AstWalk:
    """One walk of an `ast` tree, reporting definitions, uses and imports to the builder."""

    def __init__(self, builder: ChunkBuilder) -> None:
        self.builder = builder
        self.lines = builder.lines

    def walk(self, tree: ast.Module) -> None:
        """Visit with an explicit stack, like the parso walk."""
        module_scope = Scope(None, None, False)
        stack: list[tuple[ast.AST, Scope, str]] = [(tree, module_scope, "r")]
        while stack:
            node, scope, usage = stack.pop()
            kind = type(node)  # by type, not isinstance: ast's classes are never subclassed
            if kind is ast.Name:
                assert isinstance(node, ast.Name)
                if type(node.ctx) is ast.Store:
                    scope.bound.add(node.id)
                else:  # `del x` uses x, as parso reads it
                    _add_ref(scope, usage, node.id)
            elif kind in _TRAILED:
                assert isinstance(node, _TRAILED)
                self._use_chain(node, scope, usage, stack)
            elif kind in _DEFINITIONS:
                assert isinstance(node, _DEFINITIONS)
                self._define(node, scope, stack)
            elif kind is ast.Import or kind is ast.ImportFrom:
                assert isinstance(node, (ast.Import, ast.ImportFrom))
                self._record_import(node, scope)
            elif kind is not ast.JoinedStr:  # the parso walk does not look inside f-strings either
                if kind in _BINDS:
                    self._bind(node, scope)
                children = _children(node)
                if children:
                    stack.extend((child, scope, usage) for child in reversed(children))

    # -- definitions --------------------------------------------------------------------

    def _define(self, node: Definition, outer: Scope, stack: list[tuple[ast.AST, Scope, str]]) -> None:
        if self.builder.too_deep(outer):
            self._walk_as_code(node, outer, stack)
            return
        is_class = isinstance(node, ast.ClassDef)
        name, start, end, (def_line, name_col) = self.place(node)
        def_col = self._column(node.lineno, node.col_offset)
        decorators = tuple(_WHITESPACE.sub(" ", self._source(d)).strip() for d in node.decorator_list)
        chunk = self.builder.add_chunk(
            outer,
            name,
            is_class,
            start=start,
            end=end,
            name_start=(def_line, name_col),
            signature=self._signature(node, def_line, def_col),
            docstring=ast.get_docstring(node, clean=True) or "",
            decorators=decorators,
        )
        self_name = None
        if chunk.kind == "method" and "staticmethod" not in decorators and not is_class:
            assert not isinstance(node, ast.ClassDef)
            positional = [*node.args.posonlyargs, *node.args.args]
            if positional:
                self_name = positional[0].arg
        scope = self.builder.open_scope(outer, chunk, self_name, is_class)
        stack.extend((statement, scope, "r") for statement in reversed(node.body))
        if isinstance(node, ast.ClassDef):
            stack.extend((base, scope, "b") for base in reversed(node.bases))
            stack.extend((keyword.value, scope, "b") for keyword in reversed(node.keywords))
        else:
            arguments = node.args
            every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
            every += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
            for argument in every:
                scope.bound.add(argument.arg)
                if argument.annotation is not None:
                    type_name = _type_name(argument.annotation)
                    if type_name is not None:
                        scope.types.setdefault(argument.arg, type_name)
                    stack.append((argument.annotation, scope, "r"))
            defaults = [*arguments.defaults, *(d for d in arguments.kw_defaults if d is not None)]
            stack.extend((default, scope, "r") for default in defaults)
            if node.returns is not None:
                stack.append((node.returns, scope, "r"))
        stack.extend((decorator, scope, "d") for decorator in node.decorator_list)

    def place(self, node: Definition) -> tuple[str, tuple[int, int], tuple[int, int], tuple[int, int]]:
        """A definition's name, start (its first decorator), end and the name's own start
        (1-based lines, code-point columns), as the parso walk places them."""
        def_line, def_col = node.lineno, self._column(node.lineno, node.col_offset)
        start = (def_line, def_col)
        if node.decorator_list:
            first = node.decorator_list[0]
            line_text = self.lines[first.lineno - 1]
            at = line_text.rfind("@", 0, self._column(first.lineno, first.col_offset))
            start = (first.lineno, max(at, 0))
        end_line = node.end_lineno or node.lineno
        end = (end_line, self._column(end_line, node.end_col_offset or 0))
        match = _DEFINITION.match(self.lines[def_line - 1], def_col)
        name = match.group(1) if match else node.name
        name_col = match.start(1) if match else def_col
        return name, start, end, (def_line, name_col)

    def _walk_as_code(self, node: Definition, outer: Scope, stack: list[tuple[ast.AST, Scope, str]]) -> None:
        """A definition past MAX_DEFINITION_DEPTH: its name, parameters and code belong to `outer`."""
        outer.bound.add(node.name)
        if not isinstance(node, ast.ClassDef):
            arguments = node.args
            every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, arguments.vararg, arguments.kwarg]
            outer.bound.update(argument.arg for argument in every if argument is not None)
        stack.extend((child, outer, "r") for child in reversed(list(ast.iter_child_nodes(node))))

    def _source(self, node: ast.expr) -> str:
        """The source text of an expression (ast.get_source_segment splits the whole file per call)."""
        if node.end_lineno is None or node.end_col_offset is None:
            return ast.unparse(node)
        start = (node.lineno, self._column(node.lineno, node.col_offset))
        return self.builder.source(start, (node.end_lineno, self._column(node.end_lineno, node.end_col_offset)))

    def _signature(self, node: Definition, def_line: int, def_col: int) -> str:
        """The header as the parso walk writes it: tokens joined by single spaces, no comments."""
        plain = self._plain_header(def_line, def_col)
        if plain is not None:
            return cap_signature(plain)
        body_line = node.body[0].lineno if node.body else (node.end_lineno or def_line)
        source = "".join(self.lines[def_line - 1 : body_line])
        parts: list[str] = []
        depth = 0
        previous = ""
        previous_end: tuple[int, int] | None = None
        try:
            for token in tokenize.generate_tokens(io.StringIO(source).readline):
                if token.start[0] == 1 and token.start[1] < def_col:
                    continue
                if token.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
                    continue
                text = token.string
                if token.type == tokenize.OP:
                    if text in "([{":
                        depth += 1
                    elif text in ")]}":
                        depth -= 1
                    elif text == ":" and depth == 0:
                        break
                spaced = previous_end is not None and token.start != previous_end
                if parts and spaced and previous not in ("(", "[") and text not in (")", "]", ",", ":"):
                    parts.append(" ")
                parts.append(text)
                previous, previous_end = text, token.end
        except (tokenize.TokenError, SyntaxError):
            pass  # the body was cut off mid-statement; the header before it is complete
        return cap_signature(" ".join("".join(parts).split()))

    def _plain_header(self, def_line: int, def_col: int) -> str | None:
        """The signature of a header without strings, comments or backslashes, read without the
        tokenizer (a fifth of the walk's time): its whitespace squashed as the tokens' gaps are,
        none after `(` or `[` or before `)`, `]`, `,` or `:`. None for any other header."""
        pieces: list[str] = []
        depth = 0
        column = def_col
        for text in self.lines[def_line - 1 : def_line - 1 + _PLAIN_HEADER_MAX_LINES]:
            for mark in _HEADER_MARK.finditer(text, column):
                character = mark.group()
                if character in "([{":
                    depth += 1
                elif character in ")]}":
                    depth -= 1
                elif character == ":":
                    if depth == 0:
                        pieces.append(text[column : mark.start()])
                        header = " ".join("".join(pieces).split())
                        return _SPACE_BEFORE_CLOSE.sub(r"\1", _SPACE_AFTER_OPEN.sub(r"\1", header))
                else:
                    return None  # a string, a comment or a backslash: the tokenizer reads those
            pieces.append(text[column:])
            column = 0
        return None

    # -- uses ---------------------------------------------------------------------------

    def _use_chain(self, node: ast.expr, scope: Scope, usage: str, stack: list[tuple[ast.AST, Scope, str]]) -> None:
        """A name followed by trailers (`.name`, calls, subscripts), read as parso reads its
        `atom_expr`: the dotted part is one ref, called if the first other trailer is a call;
        the first attribute after that is an attribute of an unknown object; arguments and
        subscripts are plain uses."""
        head, trailers = _trailers(node)
        if not isinstance(head, ast.Name) or (head.lineno, head.col_offset) != (node.lineno, node.col_offset):
            # parso walks such a head and its trailers' contents as they are; attribute names give nothing
            stack.extend((part, scope, usage) for trailer in reversed(trailers) for part in reversed(_inside(trailer)))
            stack.append((head, scope, usage))
            return
        chain = [head.id]
        called = False
        after_call_attribute: str | None = None
        rest: list[ast.expr] = []
        for trailer in trailers:
            if rest:
                rest.append(trailer)
                if after_call_attribute is None and isinstance(trailer, ast.Attribute):
                    after_call_attribute = trailer.attr
            elif isinstance(trailer, ast.Attribute):
                if len(chain) < MAX_CHAIN_SEGMENTS:
                    chain.append(trailer.attr)
            else:
                called = isinstance(trailer, ast.Call)
                rest.append(trailer)
        if chain == ["super"] and after_call_attribute is not None:
            _add_ref(scope, "c", f"super.{after_call_attribute}")  # the method as the bases define it
        else:
            _add_ref(scope, "c" if called and usage == "r" else usage, dotted_name(chain))
            if after_call_attribute is not None:
                _add_ref(scope, "r", "." + after_call_attribute)
        stack.extend((part, scope, "r") for trailer in reversed(rest) for part in reversed(_inside(trailer)))

    def _bind(self, node: ast.AST, scope: Scope) -> None:
        """Names bound by forms whose targets are not Name nodes, and local types."""
        if isinstance(node, ast.ExceptHandler) and node.name:
            scope.bound.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            scope.bound.update(node.names)
        elif isinstance(node, ast.Lambda):
            arguments = node.args
            every = [*arguments.posonlyargs, *arguments.args, arguments.vararg, *arguments.kwonlyargs, arguments.kwarg]
            scope.bound.update(argument.arg for argument in every if argument is not None)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            scope.bound.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            scope.bound.add(node.rest)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            constructed = self._constructed_type(node.value)
            if constructed is not None:
                scope.types.setdefault(node.targets[0].id, constructed)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            type_name = _type_name(node.annotation)
            if type_name is not None:
                scope.types.setdefault(node.target.id, type_name)

    def _constructed_type(self, value: ast.expr) -> str | None:
        """`T` for a value written `T(...)` or `mod.T(...)`, without parentheses around any part
        (parso reads `(T(...))` as an atom, not a call)."""
        if not isinstance(value, ast.Call):
            return None
        head, trailers = _trailers(value)
        if not isinstance(head, ast.Name) or (head.lineno, head.col_offset) != (value.lineno, value.col_offset):
            return None
        if not all(isinstance(trailer, ast.Attribute) for trailer in trailers[:-1]):
            return None
        before = self.lines[value.lineno - 1].encode("utf-8")[: value.col_offset].rstrip()
        if before.endswith(b"("):
            return None  # `x = (T(...))`
        return dotted_name(
            [head.id, *(trailer.attr for trailer in trailers[:-1] if isinstance(trailer, ast.Attribute))]
        )

    def _record_import(self, node: ast.Import | ast.ImportFrom, scope: Scope) -> None:
        builder = self.builder
        if isinstance(node, ast.ImportFrom):
            base = module_base(builder.module, builder.is_package, node.level) if node.level else ""
            prefix = capped_dotted(".".join(p for p in (base, node.module or "") if p))
            for alias in node.names:
                if alias.name == "*":
                    builder.add_star_import(prefix)
                    continue
                target = f"{prefix}.{alias.name}" if prefix else alias.name
                builder.bind_import(alias.asname or alias.name, target, scope)
            return
        for alias in node.names:
            if alias.asname:
                builder.bind_import(alias.asname, alias.name, scope)
            else:
                first = alias.name.partition(".")[0]
                builder.bind_import(first, first, scope)

    def _column(self, line: int, utf8_offset: int) -> int:
        """ast counts columns in UTF-8 bytes; the builder takes code points."""
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        if text.isascii():
            return utf8_offset
        return len(text.encode("utf-8")[:utf8_offset].decode("utf-8", "ignore"))


def outline(builder: ChunkBuilder, tree: ast.Module) -> None:
    """Only the definitions of a tree, into the builder (`add_outline`): the first pass.

    Definitions are statements, so only statement lists are walked, in source order as
    the full walk meets them: the ids (`#2` included) and ranges are the full walk's.
    """
    walk = AstWalk(builder)
    stack: list[tuple[ast.AST, Scope]] = [(tree, Scope(None, None, False))]
    while stack:
        node, scope = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if builder.too_deep(scope):
                continue  # everything inside is deeper still: code of the enclosing chunk
            name, start, end, name_start = walk.place(node)
            is_class = isinstance(node, ast.ClassDef)
            chunk = builder.add_outline(scope, name, is_class, start=start, end=end, name_start=name_start)
            scope = builder.open_scope(scope, chunk, None, is_class)
        children = [child for child in ast.iter_child_nodes(node) if isinstance(child, _HOLDS_STATEMENTS)]
        stack.extend((child, scope) for child in reversed(children))


_HOLDS_STATEMENTS = (ast.stmt, ast.excepthandler, ast.match_case)


def _add_ref(scope: Scope, usage: str, chain: str) -> None:
    if scope.chunk is not None:
        scope.refs.add(f"{usage}:{chain}")


_TRAILED = (ast.Attribute, ast.Call, ast.Subscript)
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_BINDS = frozenset(
    (ast.ExceptHandler, ast.Global, ast.Nonlocal, ast.Lambda, ast.MatchAs, ast.MatchStar, ast.MatchMapping)
    + (ast.Assign, ast.AnnAssign)
)
# Nodes with nothing to walk inside: contexts, operators, constants.
_NOTHING_INSIDE = (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop, ast.Constant)
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}
_HEADER_MARK = re.compile(r"[()\[\]{}:#'\"\\]")
_SPACE_AFTER_OPEN = re.compile(r"([(\[]) ")
_SPACE_BEFORE_CLOSE = re.compile(r" ([)\],]|:(?!=))")
_PLAIN_HEADER_MAX_LINES = 50


def _children(node: ast.AST) -> list[ast.AST]:
    """`ast.iter_child_nodes` without what has nothing inside (three times faster, a list)."""
    fields = _CHILD_FIELDS.get(type(node))
    if fields is None:
        fields = _CHILD_FIELDS[type(node)] = tuple(name for name in node._fields if name not in ("ctx", "op", "ops"))
    children: list[ast.AST] = []
    for name in fields:
        value = getattr(node, name, None)
        if type(value) is list:
            children.extend(v for v in value if isinstance(v, ast.AST) and not isinstance(v, _NOTHING_INSIDE))
        elif isinstance(value, ast.AST) and not isinstance(value, _NOTHING_INSIDE):
            children.append(value)
    return children


def _trailers(node: ast.expr) -> tuple[ast.expr, list[ast.expr]]:
    """The head of a chain and its trailers in source order, as parso's `atom_expr` has them.

    A part in parentheses is a head of its own (`(a.b)(c)`, `(a).b`): the trailer around
    it starts at the parenthesis, before it.
    """
    trailers: list[ast.expr] = []
    while isinstance(node, _TRAILED):
        inner = node.func if isinstance(node, ast.Call) else node.value
        trailers.append(node)
        if (inner.lineno, inner.col_offset) != (node.lineno, node.col_offset):
            node = inner
            break
        node = inner
    trailers.reverse()
    return node, trailers


def _inside(trailer: ast.expr) -> list[ast.expr]:
    """What a call's or a subscript's brackets hold; nothing for an attribute."""
    if isinstance(trailer, ast.Call):
        return [*trailer.args, *(keyword.value for keyword in trailer.keywords)]
    if isinstance(trailer, ast.Subscript):
        return [trailer.slice]
    return []


def _chain(node: ast.AST) -> list[str] | None:
    """`a.b.c` as ["a", "b", "c"] when it is names and attributes only."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


_WRAPPERS = ("Optional", "Final", "ClassVar", "Annotated", "Type", "type")


def _type_name(node: ast.AST) -> str | None:
    """The class an annotation names, by the rules of the parso walk's `_type_name`."""
    pending = [node]  # the parts still to try, first on top: a stack, not recursion
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str) and node.value.replace(".", "").replace("_", "").isalnum():
                return capped_dotted(node.value)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            pending += (node.right, node.left)
        elif isinstance(node, ast.Subscript):
            outer = _chain(node.value)
            if outer is not None and outer[-1] in _WRAPPERS:
                inside = node.slice
                pending.append(inside.elts[0] if isinstance(inside, ast.Tuple) and inside.elts else inside)
        else:
            chain = _chain(node)
            if chain is not None and chain != ["None"]:
                return dotted_name(chain)
    return None
