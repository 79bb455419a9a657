"""The fault matrix: one file per class of fault, each case a test that fails without its fix.

| file | class |
|---|---|
| test_paths_and_links.py | symlinked roots, symlinked files leaving the workspace, `..` in URIs |
| test_names_and_encodings.py | file names that are not UTF-8, lone surrogates, hostile names |
| test_settings.py | non-finite, out-of-range and wrongly typed settings, from every source |
| test_database.py | someone else's file as the database, locks held by other processes |
| test_sizes.py | pathological sizes: huge buffers, long chains, huge signatures |
| test_queries.py | queries that are huge, odd, or lost among many near matches |
| test_protocol.py | the LSP lifecycle: exit without shutdown, malformed params |

Older fault tests live beside the features they guard (tests/e2e/test_faults.py,
test_protocol_faults.py, test_security.py, tests/unit/test_recovery.py and
test_files_under_change.py); docs/reliability.md lists what Aurora promises under faults.
The LSP client helper is tests/e2e/lsp_client.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))  # lsp_client, the one LSP client helper
