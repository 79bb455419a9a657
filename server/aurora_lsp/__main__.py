"""`python -m aurora_lsp`: the same as the `aurora-lsp` command."""

from __future__ import annotations

import sys

from aurora_lsp.cli import main

if __name__ == "__main__":
    sys.exit(main())
