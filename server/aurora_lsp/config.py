"""Settings: attrs records, camelCase on the wire, a default for everything.

Bad values never stop Aurora: each one yields a warning and its default.
"""

from __future__ import annotations

import hashlib
import math
import os
from pathlib import Path
from typing import Any

import attrs
import cattrs
import platformdirs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from aurora_lsp.protocol import camel

APP_NAME = "aurora-lsp"


def _within(low: float, high: float, low_allowed: bool = True) -> Any:
    """A validator: a finite number in [low, high] (or (low, high] when `low_allowed` is false).

    Every numeric setting has both bounds: NaN, infinities and numbers like 1e308 are
    mistakes that would otherwise surface far away (a budget that cannot be turned into
    bytes, a tier that never evicts), never values anyone means.
    """

    def check(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
        try:
            finite = math.isfinite(value)
        except OverflowError:  # an integer too large for a float
            finite = False
        if finite and (low < value <= high or (low_allowed and value == low)):
            return
        if isinstance(value, float):
            shown = f"{value:g}"
        elif abs(value) < 10**15:
            shown = str(value)
        else:  # str() of a huge int is slow, or refused past 4,300 digits
            shown = f"about 10^{int(abs(value).bit_length() * math.log10(2))}"
        lowest = "above" if not low_allowed else "from"
        raise ValueError(f"{camel(attribute.name)} must be a number {lowest} {low:,} to {high:,}, got {shown}")

    return check


MAX_MEMORY_BUDGET_MB = 1024 * 1024  # 1 TiB: more than any machine this runs on
MAX_CHUNKS = 100_000_000
MAX_FILE_SIZE_KB = 1024 * 1024  # 1 GiB
MAX_CONTEXT_TOKEN_BUDGET = 1_000_000


@attrs.define(frozen=True)
class Settings:
    memory_budget_mb: float = attrs.field(default=100.0, validator=_within(0.001, MAX_MEMORY_BUDGET_MB))
    max_chunks: int = attrs.field(default=50000, validator=_within(0, MAX_CHUNKS))
    database_path: str | None = None
    exclude: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    max_file_size_kb: int = attrs.field(default=1024, validator=_within(0, MAX_FILE_SIZE_KB, False))
    index_on_startup: bool = True
    context_token_budget: int = attrs.field(default=2000, validator=_within(0, MAX_CONTEXT_TOKEN_BUDGET, False))
    record_accesses: bool = True  # false: a read-only memory (benchmarks, shared machines)
    history: bool = True  # learn associations from the workspace's git history (workspace/learning.py)

    @property
    def memory_budget_bytes(self) -> int:
        return int(self.memory_budget_mb * 1024 * 1024)


def _strict_int(value: object, _type: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise TypeError(f"expected an integer, got {value!r}")
    return value


def _strict_float(value: object, _type: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected a number, got {value!r}")
    try:
        return float(value)
    except OverflowError:  # an integer too large for a float (10**400)
        raise ValueError(f"expected a number, got one with {len(str(value))} digits") from None


def _strict_bool(value: object, _type: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, got {value!r}")
    return value


def _strict_patterns(value: object, _type: object) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise TypeError(f"expected a list of glob strings, got {value!r}")
    return tuple(value)


def _optional_str(value: object, _type: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise TypeError(f"expected a path string, got {value!r}")
    if "\x00" in value:
        raise ValueError("a path cannot hold a NUL character")
    return value


converter = cattrs.Converter()
converter.register_structure_hook(int, _strict_int)
converter.register_structure_hook(float, _strict_float)
converter.register_structure_hook(bool, _strict_bool)
converter.register_structure_hook_func(lambda t: t == tuple[str, ...], _strict_patterns)
converter.register_structure_hook_func(lambda t: t == (str | None), _optional_str)
_renames = {field.name: override(rename=camel(field.name)) for field in attrs.fields(Settings)}
converter.register_unstructure_hook(Settings, make_dict_unstructure_fn(Settings, converter, **_renames))  # type: ignore[arg-type]
converter.register_structure_hook(Settings, make_dict_structure_fn(Settings, converter, **_renames))  # type: ignore[arg-type]

WIRE_NAMES = {camel(field.name): field.name for field in attrs.fields(Settings)}


def settings_from_wire(raw: object) -> tuple[Settings, list[str]]:
    """Settings from a camelCase mapping; each bad value is a warning and keeps its default."""
    if raw is None:
        return Settings(), []
    if not isinstance(raw, dict):
        return Settings(), [f"aurora settings must be an object, got {type(raw).__name__}; using defaults"]
    warnings: list[str] = []
    accepted: dict[str, Any] = {}
    for wire_name, value in raw.items():
        if wire_name not in WIRE_NAMES:
            continue  # settings of other versions or other tools: not ours to judge
        try:
            one = converter.structure({wire_name: value}, Settings)
            accepted[wire_name] = value
            _ = one
        except (cattrs.BaseValidationError, ValueError, TypeError) as error:
            reason = _first_reason(error)
            warnings.append(f"aurora.{wire_name}: {reason}; using the default")
    return converter.structure(accepted, Settings), warnings


def _first_reason(error: BaseException) -> str:
    if isinstance(error, cattrs.BaseValidationError) and error.exceptions:
        return _first_reason(error.exceptions[0])
    return str(error)


def settings_to_wire(settings: Settings) -> dict[str, Any]:
    unstructured: dict[str, Any] = converter.unstructure(settings)
    return unstructured


def workspaces_cache_dir() -> Path:
    """Where the default databases live (the user cache folder); nothing else writes there."""
    return Path(platformdirs.user_cache_dir(APP_NAME)) / "workspaces"


def default_database_path(workspace: Path) -> Path:
    """One database per workspace under the user cache folder, keyed by its absolute path."""
    absolute = str(workspace.resolve())
    digest = hashlib.sha256(absolute.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in workspace.resolve().name)[:40] or "root"
    return workspaces_cache_dir() / f"{name}-{digest}.sqlite3"


def database_path(workspace: Path, settings: Settings, primary: bool = True) -> Path:
    """The database of a workspace; with `databasePath` set, the first workspace folder
    uses it and each further folder a sibling file named after its path's hash."""
    if settings.database_path:
        path = Path(os.path.expanduser(settings.database_path))
        if primary:
            return path
        digest = hashlib.sha256(str(workspace.resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:16]
        return path.with_name(f"{path.stem}-{digest}{path.suffix}")
    return default_database_path(workspace)


class LiveSettings:
    """The settings in force: the one holder every service reads, changed in one place.

    The server applies what the client sends (initializationOptions, workspace/configuration,
    didChangeConfiguration) here; later sources win field by field, and a bad value becomes
    its default and is told once.
    """

    def __init__(self, settings: Settings | None = None) -> None:
        self.current = settings or Settings()
        self._wire: dict[str, Any] = {}

    def apply(self, raw: object) -> tuple[list[str], bool]:
        """Take settings from the wire: (warnings to tell, whether the files to index changed)."""
        merged = {**self._wire, **raw} if isinstance(raw, dict) else raw
        settings, warnings = settings_from_wire(merged)
        if not isinstance(raw, dict):
            return warnings, False
        self._wire = settings_to_wire(settings)  # bad values are now their defaults: told once
        old, self.current = self.current, settings
        return warnings, (old.exclude, old.max_file_size_kb) != (settings.exclude, settings.max_file_size_kb)
