"""Which chunks a change can give other edges: what an incremental refresh re-resolves.

Resolution (resolve.py) reads the workspace through a few doors, and a change reaches a
chunk of an unchanged file only through one of them:

- a module's attributes: a dotted chain that goes through module M and then names X
  (`from M import X`, `import M as m` + `m.X.y`, a name arriving through `import *`)
  changes only if M's X changed — a definition of M named X (or inside X) appeared,
  vanished or moved, M's import of X changed, or M re-exports an X that changed; a module
  that appeared or vanished, or whose `import *` list changed, changes all of its names;
- a class's members (`self.x`, `super().x`, `T>x`): only if a definition named x appeared
  or vanished somewhere, or the class's ancestry changed;
- an attribute guess (`.x`): only if the set of functions and methods named x changed.

So a change is a set of (module, name) pairs, closed over re-exports (a module that
imports a changed pair, or star-imports a changed module, changes too, under its own
local names), plus the member and guess names. A chunk of an unchanged file is
re-resolved when one of its references goes through one of those; the rest keep their
edges, which equal what a fresh index gives (tests/unit/test_incremental.py,
tests/unit/test_branch_switch.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from aurora_lsp.index.resolve import Resolver, SymbolTable, segments
from aurora_lsp.records import ChunkId, FileSymbols, ParsedFile, RefSource, plain_qualname

EVERY_NAME = "*"  # a module all of whose attributes may have changed
PREFILTER_MAX_NAMES = 500  # past this many member names, a regex of them costs more than it saves
# past this many member and guess names, one pass over every chunk's refs costs less than a search for each
SPELLED_NAMES_AT_MOST = 16


@dataclass(slots=True)
class Definitions:
    """What resolution knows of one file: its chunks' (id, qualname, kind, parent) and its imports."""

    entries: set[tuple[str, str, str, str | None]]
    imports: dict[str, str]
    star_imports: tuple[str, ...]
    module: str = ""

    @classmethod
    def of(cls, parsed: ParsedFile, module: str) -> Definitions:
        entries = {(c.id, c.qualname, c.kind, c.parent) for c in parsed.chunks}
        return cls(entries, parsed.imports, parsed.star_imports, module)


NO_DEFINITIONS = Definitions(set(), {}, ())


@dataclass(slots=True)
class Change:
    """What a refresh changed, as resolution sees it."""

    # module -> its attributes that may resolve differently (EVERY_NAME: all of them)
    attributes: dict[str, set[str]] = field(default_factory=dict)
    members: set[str] = field(default_factory=set)  # names of definitions inside others that came or went
    guesses: set[str] = field(default_factory=set)  # names whose functions and methods changed
    hierarchy: set[str] = field(default_factory=set)  # classes whose ancestry changed

    def add(self, module: str, name: str) -> bool:
        """Mark module.name changed; whether it was not already."""
        names = self.attributes.setdefault(module, set())
        if EVERY_NAME in names or name in names:
            return False
        names.add(name)
        return True

    def through(self, parts: list[str]) -> bool:
        """Whether a dotted chain (as resolve_dotted splits it) may go through a changed attribute."""
        attributes = self.attributes
        for split in range(1, len(parts)):
            names = attributes.get(".".join(parts[:split]))
            if names and (EVERY_NAME in names or parts[split] in names):
                return True
        return False

    def of_module(self, module: str, name: str) -> bool:
        names = self.attributes.get(module)
        return names is not None and (EVERY_NAME in names or name in names)

    def touches(self, parts: list[str]) -> bool:
        """Whether a chain starting with these names may go through a changed attribute,
        whatever follows them (any prefix is a module with a changed attribute)."""
        attributes = self.attributes
        return any(".".join(parts[:split]) in attributes for split in range(1, len(parts) + 1))


def change_between(
    before: dict[str, Definitions], after: dict[str, Definitions], modules_before: dict[str, str]
) -> Change:
    """The change from `before` to `after` (the files that changed, appeared or vanished),
    before closing it over re-exports. `modules_before`: the module of each file before."""
    change = Change()
    callables_before: dict[str, set[str]] = {}
    callables_after: dict[str, set[str]] = {}
    for path in before.keys() | after.keys():
        old, new = before.get(path, NO_DEFINITIONS), after.get(path, NO_DEFINITIONS)
        old_module = modules_before.get(path, old.module)
        if path not in before or path not in after or old_module != new.module or old.star_imports != new.star_imports:
            # a module that appeared, vanished or was renamed (a package's __init__.py came
            # or went), or whose `import *` changed: all its names
            for module in {old_module, new.module} - {""}:
                change.add(module, EVERY_NAME)
        for _, qualname, _, _ in old.entries ^ new.entries:
            plain = plain_qualname(qualname)
            head, _, rest = plain.partition(".")
            for module in {old_module, new.module} - {""}:
                change.add(module, head)
            if rest:
                change.members.add(plain.rpartition(".")[2])
        for entries, callables in ((old.entries, callables_before), (new.entries, callables_after)):
            for chunk_id, qualname, kind, _ in entries:
                if kind != "class":
                    callables.setdefault(plain_qualname(qualname).rpartition(".")[2], set()).add(chunk_id)
        for local in old.imports.keys() | new.imports.keys():
            if old.imports.get(local) != new.imports.get(local):
                for module in {old_module, new.module} - {""}:
                    change.add(module, local)
    for name in callables_before.keys() | callables_after.keys():
        if callables_before.get(name) != callables_after.get(name):
            change.guesses.add(name)
    return change


def close_over_reexports(change: Change, files: Iterable[FileSymbols]) -> None:
    """Add what modules re-export of the changed attributes, to a fixed point."""
    importers = [symbols for symbols in files if symbols.module and (symbols.imports or symbols.star_imports)]
    grew = True
    while grew:
        grew = False
        for symbols in importers:
            module = symbols.module
            for local, target in symbols.imports.items():
                if not change.of_module(module, local) and change.through(segments(target)):
                    grew |= change.add(module, local)
            for star in symbols.star_imports:
                for name in list(change.attributes.get(star, ())):
                    if not name.startswith("_") or name == EVERY_NAME:
                        grew |= change.add(module, name)


def classes_with_new_ancestry(old: dict[str, tuple[str, ...]], new: dict[str, tuple[str, ...]]) -> set[str]:
    """The classes whose ancestry differs between two base maps. Only a class with a class
    whose own bases changed among its ancestors (before or after), or itself such a class,
    can have another ancestry: only those are compared."""
    differ = [class_id for class_id in old.keys() | new.keys() if old.get(class_id, ()) != new.get(class_id, ())]
    if not differ:
        return set()
    below: dict[str, set[str]] = {}
    for bases in (old, new):
        for class_id, direct in bases.items():
            for base in direct:
                below.setdefault(base, set()).add(class_id)
    candidates = set(differ)
    waiting = list(differ)
    while waiting:
        for class_id in below.get(waiting.pop(), ()):
            if class_id not in candidates:
                candidates.add(class_id)
                waiting.append(class_id)
    return {class_id for class_id in candidates if _ancestry(class_id, old) != _ancestry(class_id, new)}


def _ancestry(class_id: str, bases: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    seen: list[str] = []
    stack = list(bases.get(class_id, ()))
    while stack and len(seen) < 64:
        current = stack.pop(0)
        if current in seen:
            continue
        seen.append(current)
        stack.extend(bases.get(current, ()))
    return tuple(seen)


class Affected:
    """Decides, chunk by chunk, whether a change can give it other edges."""

    def __init__(self, change: Change, resolver: Resolver, changed_paths: set[str], kept: set[str]) -> None:
        """`kept`: chunks of the changed files whose text, refs, kind and parent stayed (and
        their edges with them): decided like a chunk of an unchanged file, with the file's own
        names and imports that changed. A file without a module name records no change of its
        names: its chunks are all resolved."""
        self.change = change
        self.resolver = resolver
        self.table: SymbolTable = resolver.table
        self.changed_paths = changed_paths
        files = self.table.files
        self.kept = {i for i in kept if (symbols := files.get(ChunkId.path(i))) is not None and symbols.module}
        self._file_reached: dict[str, bool] = {}
        # `import pkg` reaches pkg.mod's changed names too (`pkg.mod.Thing()`): the packages
        # that hold a changed module
        self._holding = {
            ".".join(parts[:end])
            for module in change.attributes
            if (parts := module.split("."))
            for end in range(1, len(parts))
        }
        # A chunk of a file no changed attribute reaches is affected only through a member
        # or guess name, which its refs must spell, or a typed ref (`T>x`) to a class whose
        # ancestry changed: a regex finds those few quickly.
        names = sorted(change.members | change.guesses)
        patterns = [re.escape(name) for name in names] + ([">"] if change.hierarchy else [])
        self._spelled = re.compile("|".join(patterns) or "(?!)") if len(names) <= PREFILTER_MAX_NAMES else None

    def files_to_read(self, most: int, spelling: Callable[[str], set[str]]) -> list[str] | None:
        """The files whose chunks may be affected, when they are at most `most`; else None (read
        every chunk). `spelling(name)`: the files with a chunk whose refs spell that name, which
        a changed member or guess name reaches only through (as `__call__` sees it); a changed
        ancestry, or more than SPELLED_NAMES_AT_MOST such names, reads every chunk."""
        change = self.change
        names = sorted(change.members | change.guesses)
        if change.hierarchy or self._spelled is None or len(names) > SPELLED_NAMES_AT_MOST:
            return None
        files: set[str] = set(self.changed_paths)
        for name in names:
            files |= spelling(name)
            if len(files) > most:
                return None
        for path in self.table.files:
            if path not in files and self._reached(path):
                files.add(path)
                if len(files) > most:
                    return None
        return sorted(files)

    def __call__(self, source: RefSource) -> bool:
        if (source.path in self.changed_paths and source.id not in self.kept) or self._in_changed_class(source.id):
            return True
        if not self._reached(source.path) and (
            self._spelled is not None and self._spelled.search("\n".join(source.refs)) is None
        ):
            return False
        symbols = self.table.files.get(source.path)
        return any(self._ref_may_change(source, ref[2:], symbols) for ref in source.refs)

    def _reached(self, path: str) -> bool:
        """Whether any import of the file, or its own names, go through a changed attribute."""
        found = self._file_reached.get(path)
        if found is None:
            symbols = self.table.files.get(path)
            found = symbols is None or (
                symbols.module in self.change.attributes
                or any(
                    self.change.touches(segments(target)) or target in self._holding
                    for target in symbols.imports.values()
                )
            )
            self._file_reached[path] = found
        return found

    def _ref_may_change(self, source: RefSource, chain: str, symbols: FileSymbols | None) -> bool:
        change = self.change
        if chain.startswith("."):
            return chain[1:] in change.guesses
        if ">" in chain:
            type_chain, _, attribute = chain.partition(">")
            if attribute in change.members or attribute in change.guesses:
                return True
            if self._ref_may_change(source, type_chain, symbols):
                return True
            found = self.resolver.resolve_ref(source.id, source.path, source.qualname, type_chain)
            return found is not None and found[0] in change.hierarchy
        parts = segments(chain)
        if parts[0] == "self":
            return len(parts) > 1 and (parts[1] in change.members or parts[1] in change.guesses)
        if parts[0] == "super" and len(parts) == 2:
            return parts[1] in change.members
        if symbols is None:
            return True
        if source.path in self.changed_paths and (
            parts[0] in change.members or change.of_module(symbols.module, parts[0])
        ):
            return True  # a kept chunk of a changed file: a name of its own file, or an import of it, changed
        # a definition of the (unchanged) file itself binds the same as before; else its imports
        target = symbols.imports.get(parts[0])
        if target is not None:
            return change.through(segments(target) + parts[1:])
        return change.of_module(symbols.module, parts[0])

    def _in_changed_class(self, chunk_id: str) -> bool:
        """Whether a class whose ancestry changed encloses the chunk, at any depth."""
        classes = self.change.hierarchy
        if not classes:
            return False
        parents = self.table.parents
        current = parents.get(chunk_id)
        while current is not None:
            if current in classes:
                return True
            current = parents.get(current)
        return False
