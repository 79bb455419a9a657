"""Aurora as the benchmarks use it: how its server is started, and every in-process use of its code.

This is the ONE module of benchmarks/ that imports `aurora_lsp`. When the server's
internal API moves, the imports in `__getattr__` below are what needs updating; the
scripts import these names from here only (`from harness.aurora import Workspace`).

The names are imported from `aurora_lsp` when a script first asks for one, not when this
module is imported, exactly where each script imported them before: lsp_bench.py's client
process never imports the server, and index_bench.py's measuring child imports it before
its clock starts, as it always did. (A name that cannot be imported raises ImportError at
that moment; context_quality.py reports its ablation as skipped then.)
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.paths import REPOSITORY

if TYPE_CHECKING:  # for readers and type checkers; at run time __getattr__ imports them
    from aurora_lsp.config import Settings
    from aurora_lsp.context.activation import ABLATIONS, ActivationParameters
    from aurora_lsp.context.question import PART_ABLATIONS
    from aurora_lsp.index.chunker import NotPythonSource, chunk_file, chunk_text
    from aurora_lsp.index.indexer import RACY_WINDOW_NS
    from aurora_lsp.index.scan import scan_workspace
    from aurora_lsp.records import ChunkId, name_words, plain_qualname
    from aurora_lsp.store.sqlite import body_words
    from aurora_lsp.workspace.learning import learn_now as learn_history

    split_id = ChunkId.split
    from aurora_lsp.workspace.figures import process_rss_bytes
    from aurora_lsp.workspace.service import WorkspaceService as Workspace

__all__ = [
    "ABLATIONS",
    "PART_ABLATIONS",
    "RACY_WINDOW_NS",
    "NotPythonSource",
    "ActivationParameters",
    "Settings",
    "Workspace",
    "ask",
    "chunk_file",
    "chunk_text",
    "learn_history",
    "ask_question",
    "body_words",
    "console_command",
    "importable",
    "module_command",
    "name_words",
    "plain_qualname",
    "process_rss_bytes",
    "scan_workspace",
    "source_digest",
    "split_id",
    "stop_forkserver",
]


def __getattr__(name: str) -> Any:
    """Aurora's own names, imported on first use (see the module docstring)."""
    if name == "Settings":
        from aurora_lsp.config import Settings

        return Settings
    if name == "Workspace":
        from aurora_lsp.workspace.service import WorkspaceService

        return WorkspaceService
    if name == "process_rss_bytes":
        from aurora_lsp.workspace.figures import process_rss_bytes

        return process_rss_bytes
    if name in ("chunk_file", "chunk_text", "NotPythonSource"):
        from aurora_lsp.index import chunker

        return getattr(chunker, name)
    if name == "RACY_WINDOW_NS":
        from aurora_lsp.index.indexer import RACY_WINDOW_NS

        return RACY_WINDOW_NS
    if name == "scan_workspace":
        from aurora_lsp.index.scan import scan_workspace

        return scan_workspace
    if name in ("plain_qualname", "split_id"):
        from aurora_lsp.records import ChunkId, plain_qualname

        return {"plain_qualname": plain_qualname, "split_id": ChunkId.split}[name]
    if name in ("ActivationParameters", "ABLATIONS"):
        from aurora_lsp.context import activation

        return getattr(activation, name)
    if name == "learn_history":
        from aurora_lsp.workspace.learning import learn_now

        return learn_now
    if name in ("name_words", "body_words"):  # what the full-text tables index (db_size.py)
        from aurora_lsp.records import name_words
        from aurora_lsp.store.sqlite import body_words

        return {"name_words": name_words, "body_words": body_words}[name]
    if name == "PART_ABLATIONS":
        from aurora_lsp.context.question import PART_ABLATIONS

        return PART_ABLATIONS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def ask(workspace: Workspace, path: str | None, line: int | None, budget: int, parameters: Any = None) -> Any:
    """The context answer at a 0-based line as the wire has it (JSON), its uses recorded as the CLI does."""
    from aurora_lsp import protocol
    from aurora_lsp.context.engine import ContextRequest

    request = ContextRequest(path=path, line=line, token_budget=budget)
    return protocol.to_wire(workspace.ask(request, parameters=parameters))


def ask_question(workspace: Workspace, query: str, budget: int, parts_off: dict[str, bool] | None = None) -> Any:
    """The context answer to a question as the wire has it (JSON), with some parts of question
    answering off (question.PART_ABLATIONS); nothing recorded. The same engine the server runs."""
    import time

    from aurora_lsp import protocol
    from aurora_lsp.context.engine import ContextEngine, ContextRequest
    from aurora_lsp.context.question import QuestionParts

    request = ContextRequest(query=query, token_budget=budget)
    engine = ContextEngine(workspace.shown_root, workspace.chunks)
    return protocol.to_wire(engine.answer(request, time.time(), None, QuestionParts(**(parts_off or {}))))


def answer_at(workspace: Workspace, path: str, line: int, budget: int, now: float, parameters: Any = None) -> Any:
    """The context answer at a 0-based line at time `now` (JSON, as the wire has it); it records no use."""
    from aurora_lsp import protocol
    from aurora_lsp.context.engine import ContextRequest

    request = ContextRequest(path=path, line=line, token_budget=budget)
    return protocol.to_wire(workspace.context(request, now, parameters))


def forget_uses(workspace: Workspace) -> None:
    """Delete every recorded use (the replay gives each commit only its author's own)."""
    store = workspace.db
    with store.transaction():
        store.db.execute("DELETE FROM accesses")


def importable() -> bool:
    """Whether `aurora_lsp` can be imported by this interpreter (the project's virtualenv)."""
    try:
        import aurora_lsp  # noqa: F401
    except ImportError:
        return False
    return True


# -- the server, as an editor starts it --------------------------------------------------


def module_command() -> list[str]:
    """The server run as a module of this interpreter (lsp_bench.py, load_bench.py with `serve --tcp`)."""
    return [sys.executable, "-m", "aurora_lsp"]


def console_command() -> list[str]:
    """The virtualenv's console script, else the module."""
    script = Path(sys.executable).with_name("aurora-lsp")
    return [str(script)] if script.exists() else module_command()


def source_digest() -> str:
    """sha256 over Aurora's source files as they are now (the git commit may move without them changing)."""
    digest = hashlib.sha256()
    for path in sorted((REPOSITORY / "server" / "aurora_lsp").rglob("*.py")):
        digest.update(path.relative_to(REPOSITORY).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def stop_forkserver() -> bool:
    """Stop multiprocessing's fork server, so that it and the workers it reaped count in RUSAGE_CHILDREN.

    Aurora's indexer parses in a pool whose workers are children of the fork server, which
    outlives the pool; until it has been waited for, their peak RSS is not in this
    process's RUSAGE_CHILDREN.
    """
    try:
        from multiprocessing import forkserver

        server = forkserver._forkserver  # type: ignore[attr-defined]
        if getattr(server, "_forkserver_pid", None) is not None:
            server._stop()
        return True
    except Exception:  # private API: if it moved, say so instead of failing
        return False
