"""`python -m aurora_lsp`: the same as the `aurora-lsp` command."""

from __future__ import annotations

import os
import sys

# `python -m` puts the current folder first on sys.path. Editors start the server inside
# the workspace, so a workspace file named json.py or logging.py would be imported, and
# run, in place of the real module: drop that entry before importing anything else.
if sys.path and os.path.realpath(sys.path[0] or os.curdir) == os.path.realpath(os.getcwd()):
    del sys.path[0]

from aurora_lsp.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
