"""Settings: attrs records, camelCase on the wire, a default for everything.

Bad values never stop Aurora: each one yields a warning and its default.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import attrs
import cattrs
import platformdirs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

APP_NAME = "aurora-lsp"


def _non_negative(instance: object, attribute: attrs.Attribute[Any], value: int) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must be ≥ 0, got {value}")


def _positive(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} must be > 0, got {value}")


@attrs.define(frozen=True)
class Settings:
    memory_budget_mb: float = attrs.field(default=100.0, validator=_positive)
    max_chunks: int = attrs.field(default=50000, validator=_non_negative)
    database_path: str | None = None
    exclude: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    max_file_size_kb: int = attrs.field(default=1024, validator=_positive)
    index_on_startup: bool = True
    context_token_budget: int = attrs.field(default=2000, validator=_positive)
    record_accesses: bool = True  # false: a read-only memory (benchmarks, shared machines)

    @property
    def memory_budget_bytes(self) -> int:
        return int(self.memory_budget_mb * 1024 * 1024)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _strict_int(value: object, _type: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise TypeError(f"expected an integer, got {value!r}")
    return value


def _strict_float(value: object, _type: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected a number, got {value!r}")
    return float(value)


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
    return value


converter = cattrs.Converter()
converter.register_structure_hook(int, _strict_int)
converter.register_structure_hook(float, _strict_float)
converter.register_structure_hook(bool, _strict_bool)
converter.register_structure_hook_func(lambda t: t == tuple[str, ...], _strict_patterns)
converter.register_structure_hook_func(lambda t: t == (str | None), _optional_str)
_renames = {field.name: override(rename=_camel(field.name)) for field in attrs.fields(Settings)}
converter.register_unstructure_hook(Settings, make_dict_unstructure_fn(Settings, converter, **_renames))  # type: ignore[arg-type]
converter.register_structure_hook(Settings, make_dict_structure_fn(Settings, converter, **_renames))  # type: ignore[arg-type]

WIRE_NAMES = {_camel(field.name): field.name for field in attrs.fields(Settings)}


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


def default_database_path(workspace: Path) -> Path:
    """One database per workspace under the user cache folder, keyed by its absolute path."""
    absolute = str(workspace.resolve())
    digest = hashlib.sha256(absolute.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in workspace.resolve().name)[:40] or "root"
    return Path(platformdirs.user_cache_dir(APP_NAME)) / "workspaces" / f"{name}-{digest}.sqlite3"


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
