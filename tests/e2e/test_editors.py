"""A second real editor: Neovim's own LSP client drives the server (headless)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

NVIM = shutil.which("nvim")
SCRIPT = Path(__file__).parent / "editors" / "neovim_check.lua"


@pytest.mark.skipif(NVIM is None and not os.environ.get("CI"), reason="Neovim is not installed (CI installs it)")
def test_neovim_client_gets_outline_symbols_definition_references_and_calls(shop: Path, tmp_path: Path) -> None:
    assert NVIM is not None, "CI must install Neovim (apt-get install neovim)"
    out = tmp_path / "neovim.json"
    env = {
        **os.environ,
        "AURORA_ROOT": str(shop),
        "AURORA_DB": str(tmp_path / "nvim.sqlite3"),
        "AURORA_OUT": str(out),
        "AURORA_PYTHON": sys.executable,
    }
    result = subprocess.run(
        [NVIM, "--headless", "--clean", "-u", "NONE", "-c", f"luafile {SCRIPT}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(out.read_text())
    assert seen["indexed"] is True
    assert seen["outline"] == [
        {"name": "CartLine", "children": ["__init__", "subtotal_cents"]},
        {"name": "Cart", "children": ["__init__", "add", "total_cents"]},
    ]
    assert seen["workspace_symbol"] == {"name": "line_total", "container": "Cart.total_cents"}
    assert seen["chunks"] == 21
    # Neovim's client asks references and the call hierarchy; Aurora answers from the edges
    assert seen["references"] == [
        {"file": "base.py", "line": 22, "character": 14},
        {"file": "cart.py", "line": 16, "character": 11},
    ]
    assert seen["definition"] == [{"file": "base.py", "line": 7}]
    assert seen["incoming"] == {
        "item": "CartLine",
        "calls": [
            {"name": "add", "file": "cart.py", "line": 24},
            {"name": "make_line", "file": "pricing.py", "line": 27},
        ],
    }
    assert seen["outgoing"] == {
        "item": "add",
        "calls": [{"name": "save", "file": "base.py", "line": 26}, {"name": "CartLine", "file": "cart.py", "line": 24}],
    }
