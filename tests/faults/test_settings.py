"""Faults of settings: every numeric setting is finite and in range, or warned about and defaulted.

Settings come from initializationOptions, workspace/configuration, didChangeConfiguration
and the command line. A bad value never stops Aurora serving: over LSP it is one warning
and the default; on the command line it is a usage error (exit 2).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import attrs
import pytest
from aurora_lsp.config import Settings, settings_from_wire
from hypothesis import given
from hypothesis import strategies as st
from lsp_client import request, run_cli, start_server
from lsprotocol import types

NUMERIC = ["memoryBudgetMb", "maxChunks", "maxFileSizeKb", "contextTokenBudget"]
HOSTILE_NUMBERS = [float("nan"), float("inf"), -float("inf"), 1e308, -1e308, 10**400, -1, 0.5e-320]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


def _sound(settings: Settings) -> None:
    """What the rest of Aurora relies on: finite numbers in their ranges, a budget in bytes."""
    for field in attrs.fields(Settings):
        value = getattr(settings, field.name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            assert math.isfinite(value), field.name
    assert settings.memory_budget_bytes > 0
    assert 0 <= settings.max_chunks <= 100_000_000
    assert settings.max_file_size_kb >= 1 and settings.context_token_budget >= 1


@given(st.dictionaries(st.sampled_from([*NUMERIC, "exclude", "databasePath", "recordAccesses"]), json_values))
def test_settings_from_any_json_are_sound_or_warned(raw: dict[str, Any]) -> None:
    settings, warnings = settings_from_wire(raw)
    _sound(settings)
    defaults = Settings()
    for wire_name in raw:
        if not any(warning.startswith(f"aurora.{wire_name}:") for warning in warnings):
            continue  # accepted as given
        name = {"memoryBudgetMb": "memory_budget_mb", "maxChunks": "max_chunks"}.get(wire_name)
        if name:
            assert getattr(settings, name) == getattr(defaults, name)  # a warned value keeps its default


@pytest.mark.parametrize("value", HOSTILE_NUMBERS)
@pytest.mark.parametrize("name", NUMERIC)
def test_each_hostile_number_is_warned_and_defaulted(name: str, value: float) -> None:
    settings, warnings = settings_from_wire({name: value})
    _sound(settings)
    assert settings == Settings() and len(warnings) == 1 and warnings[0].startswith(f"aurora.{name}:")


def test_a_database_path_with_a_nul_character_is_warned_and_defaulted() -> None:
    settings, warnings = settings_from_wire({"databasePath": "index\x00.sqlite3"})
    assert settings.database_path is None and len(warnings) == 1 and "NUL" in warnings[0]


@pytest.mark.parametrize("value", ["nan", "inf", "1e308", "-5"])
def test_the_command_line_calls_a_hostile_budget_a_usage_error(shop: Path, tmp_path: Path, value: str) -> None:
    done = run_cli("stats", str(shop), "--db", str(tmp_path / "index.sqlite3"), "--memory-budget-mb", value)
    assert done.returncode == 2, done.stderr
    assert "memoryBudgetMb must be a number" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.asyncio
async def test_a_non_finite_budget_from_the_client_is_warned_and_the_server_serves(shop: Path, tmp_path: Path) -> None:
    client = await start_server(shop, tmp_path / "index.sqlite3", memoryBudgetMb=float("nan"), maxChunks=1e308)
    try:
        stats = await request(client, "aurora/stats", None)
        assert stats["files"] > 0 and stats["memoryBudgetBytes"] == 100 * 1024 * 1024
        assert stats["maxChunks"] == Settings().max_chunks
        warnings = [m.message for m in client.messages if m.type == types.MessageType.Warning]
        assert any("memoryBudgetMb" in w for w in warnings) and any("maxChunks" in w for w in warnings)
        # the same values later, through didChangeConfiguration
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"aurora": {"memoryBudgetMb": float("inf"), "maxChunks": -1}})
        )
        later = await request(client, "aurora/stats", None)
        assert later["memoryBudgetBytes"] == 100 * 1024 * 1024 and later["chunks"] == stats["chunks"]
        assert (await request(client, "aurora/context", {"query": "cart total"}))["items"]
    finally:
        await client.shutdown_session()
