"""Pinned tools in virtualenvs of their own, under benchmarks/.cache/peers/.

The peer servers (peers.py) and py-spy (profiles.py) are installed on first use, each
with its own interpreter and dependencies, so that they never touch ours (nor ours them).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from harness.paths import BENCHMARKS, CACHE

VENVS = CACHE / "peers"


def _base_python() -> str:
    return str(getattr(sys, "_base_executable", None) or sys.executable)


def ensure_venv(package: str, version: str) -> Path:
    """A virtualenv of its own under benchmarks/.cache/peers with `package==version` installed."""
    venv = VENVS / f"{package}-{version}"
    marker = venv / ".installed"
    if marker.exists() and marker.read_text().splitlines()[:1] == [f"{package}=={version}"]:
        return venv
    shutil.rmtree(venv, ignore_errors=True)
    VENVS.mkdir(parents=True, exist_ok=True)
    print(f"[peer] creating {venv.relative_to(BENCHMARKS)} with {package}=={version}", file=sys.stderr)
    subprocess.run([_base_python(), "-m", "venv", str(venv)], check=True, stdout=sys.stderr)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
         f"{package}=={version}"],
        check=True,
        stdout=sys.stderr,
    )  # fmt: skip
    marker.write_text(f"{package}=={version}\n")
    return venv


def venv_facts(venv: Path) -> dict[str, Any]:
    """The virtualenv's folder, Python version and `pip freeze`, for the results' versions."""
    python = str(venv / "bin" / "python")
    freeze = subprocess.run([python, "-m", "pip", "freeze", "--disable-pip-version-check"], capture_output=True,
                            text=True, check=True).stdout.split()  # fmt: skip
    version = subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                             capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    return {"venv": str(venv), "python": version, "packages": freeze}
