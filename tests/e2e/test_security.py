"""Aurora reads workspace code and never runs it: modules that would leave a mark if
imported or executed are indexed, searched and given as context, and no mark appears."""

from __future__ import annotations

import json
from pathlib import Path

from lsp_client import run_cli

PAYLOAD = """
import pathlib
pathlib.Path({marker!r}).write_text("executed")


def {name}():
    return 1
"""


def test_indexing_searching_and_context_never_execute_workspace_code(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    (root / "pkg").mkdir(parents=True)
    markers = []
    # modules named like ones Aurora imports: run from inside the workspace they must not shadow them
    shadows = ["json.py", "logging.py", "sqlite_utils.py", "pygls.py", "attrs.py", "platformdirs.py", "tqdm.py"]
    files = ["pkg/__init__.py", "setup.py", "conftest.py", "sitecustomize.py", *shadows, "pkg/mod.py"]
    for index, relative in enumerate(files):
        marker = tmp_path / f"executed-{index}"
        markers.append(marker)
        (root / relative).write_text(PAYLOAD.format(marker=str(marker), name=f"payload_{index}"))
    last = len(files) - 1
    (root / "pkg" / "uses.py").write_text(
        f"from pkg.mod import payload_{last}\n\n\ndef caller():\n    return payload_{last}()\n"
    )
    db = str(tmp_path / "index.sqlite3")

    def aurora(*args: str) -> str:
        result = run_cli(*args, "--db", db, "--json", cwd=root)  # even run from inside the workspace
        assert result.returncode == 0, result.stderr
        return result.stdout

    last = len(files) - 1
    assert json.loads(aurora("index", str(root)))["chunks"] == len(files) + 1
    assert json.loads(aurora("symbols", str(root), f"payload_{last}"))[0]["id"] == f"pkg/mod.py::payload_{last}"
    answer = json.loads(aurora("context", str(root), "--file", "pkg/uses.py", "--line", "5"))
    assert f"pkg/mod.py::payload_{last}" in [item["id"] for item in answer["items"]]
    assert [marker for marker in markers if marker.exists()] == []
