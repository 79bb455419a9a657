"""References → dependency edges between chunks, by name, over the whole workspace.

The chunker records what each body uses ("c:self._filter", "b:models.Model", "r:.save");
this module turns those into chunk ids with the workspace's symbol table, the way Python
would bind them, and says how each edge was resolved:

- `local`: a definition in the same file (module level or an enclosing function),
- `import`: through the file's imports (following re-exports and `import *`),
- `self`: an attribute of the method's own class or one of its base classes (and
  `super().name`, looked up in the base classes),
- `typed`: an attribute of a local whose class is known from an annotation
  (`cart: Cart`) or a constructor call (`cart = Cart()`), looked up in that class,
- `attr-unique`: an attribute of an object of unknown type whose name only one method or
  function in the workspace has (a guess, marked as one).

Resolution is a pure function of (a chunk's refs, the symbol table), so re-resolving the
chunks whose refs mention a changed name gives exactly what a fresh index gives.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from aurora_lsp.index.builder import MAX_CHAIN_SEGMENTS
from aurora_lsp.records import ChunkId, Edge, FileSymbols, RefSource, plain_qualname

MAX_REEXPORT_DEPTH = 12  # rounds of following re-exports (chains longer than this are rare)
MAX_BASE_DEPTH = 8
EDGE_KINDS = {"c": "call", "b": "base", "d": "decorator", "r": "reference"}
# Attribute names too common to guess a target from, even when only one definition has them.
_MIN_GUESS_NAME_LENGTH = 4


@dataclass(slots=True)
class SymbolTable:
    """What resolution needs to know about every chunk and file of the workspace.

    At 262K chunks this table is the indexer's largest allocation, so it keeps only what
    resolution asks: one string object per chunk id (a parent is the object of its row,
    not a copy), class ids in a set, parents only where there is one, and for each
    callable name its one definition or "many".
    """

    # path -> qualname (no #n) -> id of its last definition (the one Python binds)
    qualnames: dict[str, dict[str, str]] = field(default_factory=dict)
    modules: dict[str, str] = field(default_factory=dict)  # dotted module -> path
    files: dict[str, FileSymbols] = field(default_factory=dict)
    classes: set[str] = field(default_factory=set)
    parents: dict[str, str] = field(default_factory=dict)  # id -> enclosing chunk's id
    # name -> the id of the one method/function so named, or MANY (for attribute guesses)
    callables: dict[str, str] = field(default_factory=dict)
    bases: dict[str, tuple[str, ...]] = field(default_factory=dict)  # class id -> base ids
    _file_ids: dict[str, str] = field(default_factory=dict)  # the current file's ids
    _file: str = ""

    def add_file(self, symbols: FileSymbols) -> None:
        self.files[symbols.path] = symbols
        self.qualnames.setdefault(symbols.path, {})
        if symbols.module:
            # A module found twice (two source roots) keeps its first path, in path order.
            self.modules.setdefault(symbols.module, symbols.path)

    def add_chunk(self, chunk_id: str, path: str, qualname: str, kind: str, parent: str | None) -> None:
        """Add one chunk; a file's chunks come together, in source order (parents first)."""
        if path != self._file:
            self._file = path
            self._file_ids = {}
        self._file_ids[chunk_id] = chunk_id
        self.qualnames.setdefault(path, {})[qualname] = chunk_id
        if kind == "class":
            self.classes.add(chunk_id)
        else:
            name = qualname.rpartition(".")[2]
            self.callables[name] = MANY if name in self.callables else chunk_id
        if parent is not None:
            self.parents[chunk_id] = self._file_ids.get(parent, parent)

    def is_class(self, chunk_id: str | None) -> bool:
        return chunk_id in self.classes


MANY = ""  # never a chunk id


def segments(dotted: str) -> list[str]:
    """The first MAX_CHAIN_SEGMENTS names of a dotted chain.

    Lookups try every prefix of a chain, so their cost is its length squared; the chunker
    stores chains cut to this length, and an index written before it did is cut here.
    """
    return dotted.split(".", MAX_CHAIN_SEGMENTS)[:MAX_CHAIN_SEGMENTS]


def module_name(path: str, package_dirs: set[str]) -> str:
    """Dotted module name of a workspace file: climb while the folder is a package.

    `src/pkg/mod.py` with `src/pkg/__init__.py` is `pkg.mod`; a file in a folder with no
    `__init__.py` is a top-level module named after the file.
    """
    parts = path[:-3].split("/") if path.endswith(".py") else path.split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
        start = len(parts) - 1
    else:
        start = len(parts) - 1
    # parts[:start] are folders; include each folder while it has an __init__.py
    while start > 0 and "/".join(parts[:start]) in package_dirs:
        start -= 1
    return ".".join(parts[start:]) if parts else ""


class Resolver:
    def __init__(self, table: SymbolTable) -> None:
        self.table = table
        self.exports = _module_exports(table)

    # -- dotted paths -------------------------------------------------------------------

    def resolve_dotted(self, parts: list[str]) -> str | None:
        """Chunk id for an absolute dotted path (`pkg.mod.Class.method`), following re-exports."""
        modules = self.table.modules
        for split in range(len(parts) - 1, 0, -1):
            path = modules.get(".".join(parts[:split]))
            if path is None:
                continue
            found = self.resolve_in_file(path, parts[split:])
            if found is not None:
                return found
        return None

    def resolve_in_file(self, path: str, parts: list[str]) -> str | None:
        """Chunk id for `parts` looked up at module level of `path` (longest prefix first)."""
        qualnames = self.table.qualnames.get(path, {})
        for end in range(len(parts), 0, -1):
            found = qualnames.get(".".join(parts[:end]))
            if found is not None:
                return found
        exported = self.exports.get(path, {}).get(parts[0])
        if exported is None:
            return None
        if len(parts) == 1:
            return exported
        # an attribute of a re-exported definition: look it up where it is defined
        target_path, target_qualname = ChunkId.split(exported)
        inner = self.table.qualnames.get(target_path, {})
        base = plain_qualname(target_qualname)
        for end in range(len(parts), 1, -1):
            found = inner.get(base + "." + ".".join(parts[1:end]))
            if found is not None:
                return found
        return exported

    # -- one reference ------------------------------------------------------------------

    def resolve_ref(self, chunk_id: str, path: str, qualname: str, chain: str) -> tuple[str, str] | None:
        """(target id, how) for one reference chain used in chunk `chunk_id`, or None."""
        if chain.startswith("."):
            return self._guess_attribute(chain[1:])
        if ">" in chain:
            return self._resolve_typed(chunk_id, path, qualname, chain)
        parts = segments(chain)
        if parts[0] == "self":
            return self._resolve_self(chunk_id, parts[1:])
        if parts[0] == "super" and len(parts) == 2:
            return self._resolve_super(chunk_id, parts[1])
        table = self.table
        qualnames = table.qualnames.get(path, {})
        # enclosing function scopes, innermost first (class bodies do not enclose methods)
        scope_id = table.parents.get(chunk_id)
        scopes: list[str] = []
        if not table.is_class(chunk_id):
            scopes.append(qualname)  # a function's own nested definitions
        while scope_id is not None:
            if not table.is_class(scope_id):
                scopes.append(ChunkId.plain_qualname(scope_id))
            scope_id = table.parents.get(scope_id)
        for scope in scopes:
            for end in range(len(parts), 0, -1):
                found = qualnames.get(scope + "." + ".".join(parts[:end]))
                if found is not None:
                    return found, "local"
        for end in range(len(parts), 0, -1):
            found = qualnames.get(".".join(parts[:end]))
            if found is not None:
                return found, "local"
        symbols = table.files.get(path)
        if symbols is None:
            return None
        target = symbols.imports.get(parts[0])
        if target is not None:
            found = self.resolve_dotted((segments(target) + parts[1:])[:MAX_CHAIN_SEGMENTS])
            return None if found is None else (found, "import")
        found = self.resolve_in_file(path, parts)  # names arriving through `import *`
        if found is not None:
            return found, "import"
        return None

    def _resolve_self(self, chunk_id: str, attributes: list[str]) -> tuple[str, str] | None:
        if not attributes:
            return None
        class_id = self._enclosing_class(chunk_id)
        if class_id is None:
            return None
        found = self._lookup_in_class(class_id, attributes[0], 0)
        if found is not None:
            return found, "self"
        return self._guess_attribute(attributes[0])

    def _resolve_typed(self, chunk_id: str, path: str, qualname: str, chain: str) -> tuple[str, str] | None:
        """`T>attr`: an attribute of an instance of T (from an annotation or `x = T()`)."""
        type_chain, _, attribute = chain.partition(">")
        found = self.resolve_ref(chunk_id, path, qualname, type_chain)
        if found is not None and self.table.is_class(found[0]):
            target = self._lookup_in_class(found[0], attribute, 0)
            if target is not None:
                return target, "typed"
        return self._guess_attribute(attribute)

    def _resolve_super(self, chunk_id: str, attribute: str) -> tuple[str, str] | None:
        class_id = self._enclosing_class(chunk_id)
        if class_id is None:
            return None
        for base in self.table.bases.get(class_id, ()):
            found = self._lookup_in_class(base, attribute, 1)
            if found is not None:
                return found, "self"
        return None

    def _enclosing_class(self, chunk_id: str) -> str | None:
        table = self.table
        current: str | None = table.parents.get(chunk_id)
        while current is not None:
            if table.is_class(current):
                return current
            current = table.parents.get(current)
        return None

    def _lookup_in_class(self, class_id: str, attribute: str, depth: int) -> str | None:
        if depth > MAX_BASE_DEPTH:
            return None
        path = ChunkId.path(class_id)
        found = self.table.qualnames.get(path, {}).get(ChunkId.plain_qualname(class_id) + "." + attribute)
        if found is not None:
            return found
        for base in self.table.bases.get(class_id, ()):
            found = self._lookup_in_class(base, attribute, depth + 1)
            if found is not None:
                return found
        return None

    def _guess_attribute(self, attribute: str) -> tuple[str, str] | None:
        if len(attribute) < _MIN_GUESS_NAME_LENGTH or (attribute.startswith("__") and attribute.endswith("__")):
            return None
        found = self.table.callables.get(attribute)
        return (found, "attr-unique") if found else None


def _module_exports(table: SymbolTable) -> dict[str, dict[str, str]]:
    """path -> name -> chunk id of every top-level definition a module makes visible.

    Its own definitions, the workspace definitions it imports by name, and the public
    names of modules it imports with `*`, to a fixed point: the answer does not depend on
    the order in which modules are visited, and import cycles end.
    """
    exports: dict[str, dict[str, str]] = {}
    for path, qualnames in table.qualnames.items():
        exports[path] = {q: i for q, i in qualnames.items() if "." not in q}
    modules = table.modules

    def lookup(dotted: str) -> str | None:
        parts = segments(dotted)
        for split in range(len(parts) - 1, 0, -1):
            path = modules.get(".".join(parts[:split]))
            if path is None:
                continue
            rest = parts[split:]
            found = table.qualnames.get(path, {}).get(".".join(rest))
            if found is None and len(rest) == 1:
                found = exports.get(path, {}).get(rest[0])
            if found is not None:
                return found
        return None

    # only imports of a workspace module can ever be found (most of a file's are not): the
    # others are left out of every round
    files = [(path, table.files[path]) for path in sorted(table.files)]
    imports = {
        path: [
            (local, target) for local, target in sorted(symbols.imports.items()) if _may_name_workspace(target, modules)
        ]
        for path, symbols in files
    }
    for _ in range(MAX_REEXPORT_DEPTH):
        changed = False
        for path, symbols in files:
            own = exports.setdefault(path, {})
            for local, target in imports[path]:
                if local in own:
                    continue
                found = lookup(target)
                if found is not None:
                    own[local] = found
                    changed = True
            for star in symbols.star_imports:
                star_path = modules.get(star)
                if star_path is None:
                    continue
                for name, found in sorted(exports.get(star_path, {}).items()):
                    if not name.startswith("_") and name not in own:
                        own[name] = found
                        changed = True
        if not changed:
            break
    return exports


def _may_name_workspace(dotted: str, modules: dict[str, str]) -> bool:
    """Whether a dotted name goes through a workspace module, as `lookup` in _module_exports
    tries them (a module followed by at least one name)."""
    parts = segments(dotted)
    return any(".".join(parts[:split]) in modules for split in range(1, len(parts)))


def resolve_bases(resolver: Resolver, sources: Iterable[RefSource]) -> None:
    """Fill the table's class → base classes map (needed before `self.` lookups)."""
    for source in sources:
        if source.kind != "class":
            continue
        bases: list[str] = []
        for ref in source.refs:
            if not ref.startswith("b:"):
                continue
            found = resolver.resolve_ref(source.id, source.path, source.qualname, ref[2:])
            if found is not None and found[1] != "attr-unique" and found[0] != source.id:
                bases.append(found[0])
        # sorted, so the order is the same however the table was built
        resolver.table.bases[source.id] = tuple(sorted(set(bases)))


def resolve_edges(resolver: Resolver, sources: Iterable[RefSource]) -> Iterator[Edge]:
    """Every dependency edge of these chunks; one edge per (source, target), strongest kind."""
    rank = {"b": 0, "d": 1, "c": 2, "r": 3}
    for source in sources:
        best: dict[str, tuple[str, str]] = {}
        for ref in source.refs:
            kind, _, chain = ref.partition(":")
            found = resolver.resolve_ref(source.id, source.path, source.qualname, chain)
            if found is None or found[0] == source.id:
                continue
            target, how = found
            previous = best.get(target)
            if previous is None or rank[kind] < rank[previous[0]]:
                best[target] = (kind, how)
        for target in sorted(best):
            kind, how = best[target]
            yield (source.id, target, EDGE_KINDS[kind], how)


def ref_names(refs: Iterable[str]) -> set[str]:
    """Every identifier a chunk's refs mention (to find chunks a changed name may affect)."""
    names: set[str] = set()
    for ref in refs:
        for part in ref[2:].replace(">", ".").split("."):
            if part:
                names.add(part)
    return names
