"""`python -m aurora_lsp` and the `aurora-lsp` command.

Parsing processes re-import the main module of the process that starts them
(multiprocessing's forkserver does this), so this module imports nothing of Aurora until
it runs: a worker that imported the command line would carry the server's modules
(pygls, lsprotocol, sqlite-utils), about 20 MB it never uses.
"""

from __future__ import annotations

import os
import sys


def run() -> int:
    """The entry point: drop the current folder from sys.path, then the command line."""
    # `python -m` puts the current folder first on sys.path. Editors start the server
    # inside the workspace, so a workspace file named json.py or logging.py would be
    # imported, and run, in place of the real module: drop that entry first.
    if sys.path and os.path.realpath(sys.path[0] or os.curdir) == os.path.realpath(os.getcwd()):
        del sys.path[0]
    from aurora_lsp.cli import main

    return main()


if __name__ == "__main__":
    sys.exit(run())
