"""The wire format of Aurora's own requests and results: typed records, camelCase on the wire.

The one module that knows the JSON shapes of `aurora/context`, `aurora/stats`,
`aurora/reindex` and the command line's `--json` output (docs/protocol.md). The domain
builds these records and never a JSON dict; the edges (features/, cli.py) read params with
`read_params` and write results with `to_wire`. `client-vscode/src/common/protocol.ts`
mirrors every record here, field for field.
"""

from __future__ import annotations

from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

CONTEXT = "aurora/context"
STATS = "aurora/stats"
REINDEX = "aurora/reindex"

T = TypeVar("T")


def camel(name: str) -> str:
    """A Python field name as the wire spells it: `token_budget` → `tokenBudget`."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class ParamsError(ValueError):
    """Params that do not fit their record; the message says which field and why."""


# -- shared shapes -------------------------------------------------------------------------


@attrs.frozen
class Position:
    """0-based line and UTF-16 character, as LSP counts."""

    line: int
    character: int


@attrs.frozen
class Range:
    start: Position
    end: Position

    @classmethod
    def of(cls, start_line: int, start_char: int, end_line: int, end_char: int) -> Range:
        return cls(Position(start_line, start_char), Position(end_line, end_char))


@attrs.frozen
class TextDocument:
    uri: str


# -- aurora/context --------------------------------------------------------------------------


# Upper bounds: LSP's uinteger for positions; far above any real answer for the rest. A
# number past them is a mistake that would otherwise overflow far from the request.
MAX_POSITION = 2**31 - 1
MAX_TOKEN_BUDGET = 1_000_000
MAX_LIMIT = 100_000


def _whole(minimum: int, maximum: int, within: str = "") -> Any:
    def check(instance: object, attribute: attrs.Attribute[Any], value: int | None) -> None:
        if value is not None and not minimum <= value <= maximum:
            name = f"{within}{camel(attribute.name)}"
            raise ParamsError(f"{name} must be a whole number from {minimum:,} to {maximum:,}")

    return check


@attrs.frozen
class ContextPosition:
    line: int = attrs.field(validator=_whole(0, MAX_POSITION, "position."))
    character: int = attrs.field(validator=_whole(0, MAX_POSITION, "position."))


@attrs.frozen
class ContextParams:
    """A position (with its document), a query, or both."""

    text_document: TextDocument | None = None
    position: ContextPosition | None = None
    query: str | None = None
    token_budget: int | None = attrs.field(default=None, validator=_whole(1, MAX_TOKEN_BUDGET))
    limit: int | None = attrs.field(default=None, validator=_whole(1, MAX_LIMIT))

    def __attrs_post_init__(self) -> None:
        if self.position is not None and self.text_document is None:
            raise ParamsError("a position needs a textDocument")
        if self.position is None and not (self.query and self.query.strip()):
            raise ParamsError("give a position (with textDocument), a query, or both")


@attrs.frozen
class Activation:
    base: float
    spreading: float
    context: float
    total: float


@attrs.frozen
class ContextItem:
    id: str
    uri: str
    range: Range
    name: str
    qualified_name: str
    kind: str
    detail: str  # "full" | "signature" | "name"
    text: str
    tokens: int
    score: float
    activation: Activation
    why: str


@attrs.frozen
class ContextAnswer:
    focus: str | None
    token_budget: int
    used_tokens: int
    items: list[ContextItem]
    # how much of used_tokens is items shown by name only (where to look, not the code)
    names_only_tokens: int = 0


# -- aurora/stats -----------------------------------------------------------------------------


@attrs.frozen
class DatabaseFigures:
    path: str | None
    bytes: int


@attrs.frozen
class RunCounts:
    """What the last refresh did to files."""

    changed: int = 0
    unchanged: int = 0
    removed: int = 0


@attrs.frozen
class IndexingState:
    state: str = "idle"  # "idle" | "indexing"
    done: int = 0
    total: int = 0
    last_run_seconds: float | None = None  # of the last refresh this process ran; null before one
    last_run: RunCounts | None = None


@attrs.frozen
class MemoryFigures:
    """The memory tier's own figures."""

    resident_chunks: int
    resident_bytes: int
    memory_budget_bytes: int
    max_chunks: int
    evictions: int
    hits: int
    misses: int


@attrs.frozen
class Stats:
    files: int
    chunks: int
    edges: int
    resident_chunks: int
    resident_bytes: int
    memory_budget_bytes: int
    max_chunks: int
    evictions: int
    hits: int
    misses: int
    process_rss_bytes: int
    database: DatabaseFigures
    indexing: IndexingState
    skipped: dict[str, int]  # of the last refresh: reason -> files


# -- aurora/reindex and `aurora-lsp index --json` ---------------------------------------------------


@attrs.frozen
class ReindexParams:
    full: bool = False


@attrs.frozen
class ReindexResult:
    files: int
    chunks: int
    seconds: float


@attrs.frozen
class HistorySummary:
    """What `aurora-lsp index` learned from the git history: the commits counted in all, those
    counted by this run, and how long reading them took."""

    commits: int
    new_commits: int
    seconds: float


@attrs.frozen
class IndexSummary:
    """`aurora-lsp index --json`: what one refresh did (and, in a git repository with the
    `history` setting on, what was learned from the history)."""

    files: int
    chunks: int
    edges: int
    changed: int
    removed: int
    unchanged: int
    skipped: dict[str, int]
    skipped_examples: dict[str, list[str]]
    problems: dict[str, list[str]]
    seconds: float
    database: DatabaseFigures
    history: HistorySummary | None = None


# -- `aurora-lsp symbols --json` ----------------------------------------------------------------


@attrs.frozen
class SymbolItem:
    """A chunk as the command line lists it: the contract's chunk fields and where it sits."""

    id: str
    path: str
    qualified_name: str
    name: str
    kind: str
    range: Range
    selection_range: Range
    signature: str
    summary: str
    decorators: list[str]
    parent: str | None
    content_hash: str
    tokens: int
    container_name: str
    uri: str


# -- reading and writing ---------------------------------------------------------------------


def _strict_int(value: object, _type: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected a whole number, got {value!r}")
    return value


def _strict_str(value: object, _type: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _strict_bool(value: object, _type: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, got {value!r}")
    return value


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=False)
    converter.register_structure_hook(int, _strict_int)
    converter.register_structure_hook(str, _strict_str)
    converter.register_structure_hook(bool, _strict_bool)

    def renamed(cls: type) -> dict[str, Any]:
        return {field.name: override(rename=camel(field.name)) for field in attrs.fields(cls)}

    converter.register_unstructure_hook_factory(
        attrs.has, lambda cls: make_dict_unstructure_fn(cls, converter, **renamed(cls))
    )
    converter.register_structure_hook_factory(
        attrs.has, lambda cls: make_dict_structure_fn(cls, converter, **renamed(cls))
    )
    return converter


_converter = _make_converter()


def to_wire(record: object) -> Any:
    """The JSON value of a record (or a list of records), camelCase keys."""
    return _converter.unstructure(record)


def from_wire(value: object, cls: type[T]) -> T:
    """A record from its JSON value; ParamsError (one line) when it does not fit."""
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise ParamsError("params must be an object")
    try:
        return _converter.structure(value, cls)
    except ParamsError:
        raise
    except cattrs.BaseValidationError as error:
        raise ParamsError(_first_reason(error)) from None
    except (TypeError, ValueError, KeyError) as error:
        raise ParamsError(str(error)) from None


def _first_reason(error: cattrs.BaseValidationError) -> str:
    """Our own message where a validator gave one, else cattrs's account of the first
    problem, named by its wire path: `position.line: invalid value for type, expected int`."""
    own = _own_message(error)
    if own is not None:
        return own
    message = cattrs.transform_error(error, path="")[0]
    text, _, where = message.rpartition(" @ ")
    wire = ".".join(camel(part) for part in where.strip(".").split(".") if part)
    return f"{wire}: {text}" if wire else text


def _own_message(error: BaseException) -> str | None:
    if isinstance(error, ParamsError):
        return str(error)
    for inner in getattr(error, "exceptions", ()):
        found = _own_message(inner)
        if found is not None:
            return found
    return None


# Each custom request's params record, read from the raw JSON before pygls sees it.
REQUEST_PARAMS: dict[str, type] = {CONTEXT: ContextParams, STATS: type(None), REINDEX: ReindexParams}
