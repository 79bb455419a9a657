"""The VS Code extension (client-vscode): its own checks, and an end-to-end run in real VS Code.

The real VS Code is code-server (VS Code's workbench, from npm) driven by Playwright in
Debian's Chromium; `scripts/setup-vscode-test.sh` installs them (CI runs it first). Without
them these tests are skipped, except under CI, where they must run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "client-vscode"
CACHE = Path(os.environ.get("AURORA_CI_CACHE", Path.home() / ".cache" / "aurora-ci"))
NODE_BIN = CACHE / "node-24.21.0" / "bin"
CODE_SERVER = CACHE / "code-server-4.139.1" / "bin" / "code-server"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
NPM = shutil.which("npm")
ARTIFACTS = CLIENT / "test-artifacts" / "vscode-e2e"

REQUIRED = {
    "npm": Path(NPM) if NPM else None,
    "Node 24": NODE_BIN / "node",
    "code-server": CODE_SERVER,
    "Chromium": CHROMIUM,
    "the extension's npm packages": CLIENT / "node_modules" / ".package-lock.json",
}
MISSING = [name for name, path in REQUIRED.items() if path is None or not path.exists()]
SETUP_HINT = "run `bash scripts/setup-vscode-test.sh` (CI runs it in .ci/run)"

pytestmark = pytest.mark.skipif(
    bool(MISSING) and not os.environ.get("CI"),
    reason=f"VS Code test tools missing ({', '.join(MISSING)}): {SETUP_HINT}",
)


def _require_tools() -> None:
    assert not MISSING, f"missing for the VS Code tests: {', '.join(MISSING)}; {SETUP_HINT}"


def _npm(script: str, env_extra: dict[str, str] | None = None, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    assert NPM is not None
    env = {
        **os.environ,
        "PATH": f"{NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "npm_config_nodedir": str(NODE_BIN.parent),
        **(env_extra or {}),
    }
    return subprocess.run(
        [NPM, "run", "--silent", script],
        cwd=CLIENT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_extension_typechecks_lints_and_passes_its_unit_tests() -> None:
    """Strict tsc, eslint, and node's test runner on the settings mapping and interpreter choice."""
    _require_tools()
    result = _npm("check")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-4000:]
    assert "ℹ fail 0" in result.stdout, result.stdout[-3000:]


@pytest.mark.slow
def test_vscode_end_to_end(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Build and package the .vsix, install it into code-server, and use it on the shop workspace."""
    _require_tools()
    result = _npm(
        "test:e2e",
        {
            "AURORA_PYTHON": sys.executable,
            "AURORA_WORKSPACE": str(shop),
            "AURORA_E2E_ARTIFACTS": str(ARTIFACTS),
            "CODE_SERVER": str(CODE_SERVER),
            "CHROMIUM": str(CHROMIUM),
        },
        timeout=600,
    )
    steps = [line for line in result.stdout.splitlines() if line.startswith("vscode-e2e:")]
    with capsys.disabled():
        print(f"\nVS Code end-to-end: screenshots, the Aurora log and result.json in {ARTIFACTS}")
    assert result.returncode == 0, "\n".join(steps) + "\n" + result.stdout[-4000:] + result.stderr[-4000:]
    summary = [m for line in steps if (m := re.fullmatch(r"vscode-e2e: (\d+) passed, 0 failed", line))]
    assert summary and int(summary[0].group(1)) >= 15, "\n".join(steps)
    # Agent mode finds Aurora's MCP server with no setup: listed, started, its four tools discovered.
    results = json.loads((ARTIFACTS / "result.json").read_text())["steps"]
    mcp = next(step for step in results if step["name"] == "mcp-server")
    assert mcp["ok"] and "Discovered 4 tools" in mcp["detail"], mcp
    shots = {shot.name.split("-", 1)[1] for shot in ARTIFACTS.glob("*.png")}
    assert {"mcp-list-servers.png", "mcp-server-running.png"} <= shots, shots
