"""What each of Aurora's processes loads: the peak memory targets depend on it."""

from __future__ import annotations

import json
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
    loaded = "sorted(__import__('sys').modules)"
    with make_pool(1) as pool:
        parsed = pool.submit(chunk_batch, [("m.py", b"def f():\n    return 1\n", "m", False)]).result(timeout=60)
        modules = pool.submit(eval, loaded).result(timeout=60)
        broken = pool.submit(chunk_batch, [("b.py", b"def f(:\n    pass\ndef g():\n    pass\n", "b", False)])
        broken.result(timeout=60)
        after_broken = pool.submit(eval, loaded).result(timeout=60)
    assert "aurora_lsp.index.chunker" in modules
    assert "parso" not in modules  # Python's parser read the file; parso only for what it cannot compile
    assert "parso" in after_broken
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
    code = (  # a new database: sqlite-utils creates its schema
        f"import sys, aurora_lsp.store.sqlite as s; s.SqliteStore({str(tmp_path / 'new.sqlite3')!r}).close();"
        "print('sqlite_utils' in sys.modules, 'numpy' in sys.modules, 'pandas' in sys.modules);"
        "import numpy, pandas; print(numpy.VERSION, pandas.VERSION)"
    )
    out = _python(code, PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    assert out.splitlines() == ["True False False", "installed installed"]


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


SERVE_AND_REPORT = """
import json, os, sys, threading
from aurora_lsp.features import create_server

def loaded(*prefixes):
    return sorted(name for name in sys.modules if name.startswith(prefixes))

server = create_server()
to_server_r, to_server_w = os.pipe()
from_server_r, from_server_w = os.pipe()
serving = threading.Thread(target=server.start_io, args=(os.fdopen(to_server_r, "rb"), os.fdopen(from_server_w, "wb")))
serving.start()
to_server, from_server = os.fdopen(to_server_w, "wb"), os.fdopen(from_server_r, "rb")

def send(message):
    body = json.dumps({"jsonrpc": "2.0", **message}).encode()
    to_server.write(b"Content-Length: %d\\r\\n\\r\\n%s" % (len(body), body))
    to_server.flush()

def answer(request_id):
    while True:
        length = 0
        while (line := from_server.readline()) not in (b"\\r\\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        message = json.loads(from_server.read(length))
        if message.get("id") == request_id and "method" not in message:
            return message

root = sys.argv[1]
folder = {"uri": "file://" + root, "name": "ws"}
options = {"databasePath": sys.argv[2], "indexOnStartup": False}
send({"id": 1, "method": "initialize", "params": {"processId": None, "rootUri": folder["uri"], "capabilities": {},
      "workspaceFolders": [folder], "initializationOptions": options}})
assert "capabilities" in answer(1)["result"]
print(json.dumps(loaded(*HEAVY)))
send({"method": "initialized", "params": {}})
send({"id": 2, "method": "workspace/symbol", "params": {"query": "total"}})
print(json.dumps([symbol["containerName"] + "." + symbol["name"] for symbol in answer(2)["result"]]))
print(json.dumps(loaded(*HEAVY)))
send({"id": 3, "method": "shutdown"})
answer(3)
send({"method": "exit"})
serving.join(30)
"""


def test_initialize_is_answered_before_the_services_load(tmp_path: Path) -> None:
    """`initialize` is answered with pygls, lsprotocol and the settings only; the store loads for
    the first workspace/symbol (answered from the database before any refresh), and still no
    sqlite-utils (the schema is current), indexer, parser, context engine or jedi, which load
    when first used."""
    root = tmp_path / "ws"
    root.mkdir()
    (root / "shop.py").write_text("class Cart:\n    def total(self):\n        return 1\n")
    db = tmp_path / "index.sqlite3"
    subprocess.run([sys.executable, "-m", "aurora_lsp", "index", str(root), "--db", str(db)], check=True,
                   capture_output=True)  # fmt: skip
    heavy = ("sqlite_utils", "aurora_lsp.store", "aurora_lsp.search", "aurora_lsp.workspace.service",
             "aurora_lsp.index", "aurora_lsp.context", "parso", "jedi", "pathspec", "multiprocessing")  # fmt: skip
    code = f"HEAVY = {heavy!r}\n{SERVE_AND_REPORT}"
    result = subprocess.run([sys.executable, "-c", code, str(root), str(db)], capture_output=True, text=True,
                            check=True, timeout=120)  # fmt: skip
    at_initialize, symbols, after_symbols = (json.loads(line) for line in result.stdout.splitlines())
    assert at_initialize == []
    assert symbols == ["Cart.total"]
    assert "aurora_lsp.store.chunks" in after_symbols
    assert [name for name in after_symbols if name.startswith(("aurora_lsp.index.indexer", "aurora_lsp.context.engine",
            "sqlite_utils", "parso", "jedi", "pathspec", "multiprocessing"))] == []  # fmt: skip
