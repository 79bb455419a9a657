"""matplotlib for the benchmarks' plots: the `bench` extra of pyproject.toml, installed when missing."""

from __future__ import annotations

import subprocess
import sys

MATPLOTLIB = "matplotlib>=3.8,<4"  # the `bench` extra


def ensure_matplotlib() -> bool:
    """Whether matplotlib can be imported, after installing it into this interpreter if need be."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print(f"[plot] installing {MATPLOTLIB} into {sys.prefix}", file=sys.stderr, flush=True)
        done = subprocess.run([sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
                               MATPLOTLIB], stdout=sys.stderr, check=False)  # fmt: skip
        if done.returncode != 0:
            return False
    return True
