"""What each of Aurora's processes loads: the peak memory targets depend on it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from aurora_lsp.index.indexer import make_pool
from aurora_lsp.index.worker import chunk_batch

# Under pytest a worker also re-imports pytest and its plugins (pytest-lsp brings pygls), so
# the check is on what Aurora's own modules would pull in.
HEAVY = ("sqlite_utils", "sqlite3", "aurora_lsp.store.sqlite", "aurora_lsp.server", "aurora_lsp.cli")


def _python(code: str, **env: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={**os.environ, **env}
    )
    return result.stdout.strip()


def test_a_parsing_process_loads_the_chunker_and_not_the_server() -> None:
    with make_pool(1) as pool:
        modules = pool.submit(eval, "sorted(__import__('sys').modules)").result(timeout=60)
        parsed = pool.submit(chunk_batch, [("m.py", b"def f():\n    return 1\n", "m", False)]).result(timeout=60)
    assert "parso" in modules
    assert [chunk.qualname for chunk in parsed[0].chunks] == ["f"]  # type: ignore[union-attr]
    assert [name for name in HEAVY if name in modules] == []


def test_the_main_module_imports_the_command_line_only_when_it_runs() -> None:
    # multiprocessing re-imports the starting process's main module in every worker
    loaded = _python("import sys, aurora_lsp.__main__; print('aurora_lsp.cli' in sys.modules)")
    assert loaded == "False"
    version = subprocess.run(
        [sys.executable, "-m", "aurora_lsp", "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.startswith("aurora-lsp ")


def test_sqlite_utils_loads_without_numpy_or_pandas_but_they_stay_importable(tmp_path: Path) -> None:
    for name in ("numpy", "pandas"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("VERSION = 'installed'\n")
    code = (
        "import sys, aurora_lsp.store.sqlite;"
        "print('numpy' in sys.modules, 'pandas' in sys.modules);"
        "import numpy, pandas; print(numpy.VERSION, pandas.VERSION)"
    )
    out = _python(code, PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    assert out.splitlines() == ["False False", "installed installed"]


def test_indexing_and_the_command_line_never_load_lsprotocol(tmp_path: Path) -> None:
    """lsprotocol's types cost 0.4 s to import: only the language server needs them, not a
    parsing process, the workspace service or any command of the command line as it runs."""
    (tmp_path / "shop.py").write_text("class Cart:\n    def total(self):\n        return 1\n")
    db = tmp_path / "index.sqlite3"
    code = (
        "import io, sys, aurora_lsp.index.worker, aurora_lsp.workspace.service\n"
        "from aurora_lsp.cli import main\n"
        f"on = [{str(tmp_path)!r}, '--db', {str(db)!r}]\n"
        "out = io.StringIO()\n"
        "codes = [main(['index', *on], out), main(['symbols', *on, 'total'], out),\n"
        "         main(['context', *on, '--query', 'cart total'], out), main(['stats', *on], out)]\n"
        "print(codes, 'Cart.total' in out.getvalue())\n"
        "print(sorted(name for name in sys.modules if name.startswith(('lsprotocol', 'pygls'))))"
    )
    assert _python(code).splitlines() == ["[0, 0, 0, 0] True", "[]"]


def test_the_command_line_loads_what_a_command_uses_only_when_it_runs() -> None:
    """`--version`, `--help` and a usage error answer before any of Aurora's services,
    SQLite, parso or cattrs is imported: each command pays for its own modules."""
    code = (
        "import sys\n"
        "from aurora_lsp.cli import main\n"
        "def loaded():\n"
        "    heavy = ('aurora_lsp.', 'sqlite_utils', 'cattrs', 'parso', 'lsprotocol', 'pygls')\n"
        "    return sorted(name for name in sys.modules if name.startswith(heavy))\n"
        "print(loaded())\n"
        "for argv in (['--version'], ['symbols', '--help'], ['symbols']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit as stop:\n"
        "        print(stop.code, loaded())\n"
    )
    lines = _python(code).splitlines()
    assert lines[0] == "['aurora_lsp.cli']"
    assert [line for line in lines[1:] if line.startswith(("0 ", "2 "))] == [
        "0 ['aurora_lsp.cli']",
        "0 ['aurora_lsp.cli']",
        "2 ['aurora_lsp.cli']",
    ]
