"""Aurora: a language server that remembers a Python codebase."""

from __future__ import annotations

__version__ = "0.1.0"
