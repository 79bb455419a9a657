"""The command line: argument parsing and output. The work is done by the same workspace
service the language server uses (workspace/service.py); JSON output is protocol.py's.

Each command imports what it uses when it runs: `--version` and a usage error load nothing
of Aurora's, `serve` loads the language server and not this module's services, and no
command but `serve` loads lsprotocol or pygls (tests/unit/test_process_weight.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from aurora_lsp import __version__

if TYPE_CHECKING:
    from aurora_lsp.config import Settings
    from aurora_lsp.index.indexer import IndexReport
    from aurora_lsp.protocol import HistorySummary, SymbolItem
    from aurora_lsp.records import Chunk
    from aurora_lsp.workspace.service import WorkspaceService

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
LOCK_WAIT_SECONDS = 300.0  # how long a command waits for another process's lock on the database


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aurora-lsp",
        description="Aurora: a language server that remembers a Python codebase.",
    )
    parser.add_argument("--version", action="version", version=f"aurora-lsp {__version__}")
    parser.add_argument("--stdio", action="store_true", help=argparse.SUPPRESS)  # `aurora-lsp --stdio` serves
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser("serve", help="the language server over stdio (the default with no command)")
    serve.add_argument("--tcp", action="store_true", help="listen on TCP instead of stdio")
    serve.add_argument("--stdio", action="store_true", help="use stdio (the default; for clients that pass it)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=2087)
    serve.add_argument("--log-file", type=Path, help="write the log here instead of stderr")
    serve.add_argument("--verbose", action="store_true", help="debug logging")

    workspace = argparse.ArgumentParser(add_help=False)  # what every command on a workspace takes
    workspace.add_argument("--db", type=Path, help="database file (default: one per workspace in the user cache)")
    workspace.add_argument(
        "--exclude", action="append", default=[], metavar="GLOB", help="extra glob to skip (repeatable)"
    )
    # no default here: Settings' own (config.py) apply, and parsing the arguments loads no Aurora module
    workspace.add_argument("--max-file-size-kb", type=int, metavar="KB", help="default: the setting maxFileSizeKb")
    workspace.add_argument("--memory-budget-mb", type=float, metavar="MB", help="default: the setting memoryBudgetMb")
    workspace.add_argument("--max-chunks", type=int, metavar="N", help="default: the setting maxChunks")
    workspace.add_argument("--verbose", action="store_true", help="tracebacks on failure")
    common = argparse.ArgumentParser(add_help=False, parents=[workspace])
    common.add_argument("path", type=Path, help="the workspace folder")
    common.add_argument("--json", action="store_true", help="machine-readable output on stdout")

    index = commands.add_parser("index", parents=[common], help="index or incrementally refresh a workspace")
    index.add_argument("--full", action="store_true", help="re-chunk every file")
    index.add_argument("--workers", type=int, default=None, help="parsing processes (default: one per core)")
    index.add_argument(
        "--no-history", action="store_true", help="do not read the git history this time (what was learned stays)"
    )

    symbols = commands.add_parser("symbols", parents=[common], help="workspace symbol search, best first")
    symbols.add_argument("query")
    symbols.add_argument("--limit", type=int, default=20)
    symbols.add_argument("--no-refresh", action="store_true", help="answer from the index as it is")

    context = commands.add_parser(
        "context", parents=[common], help="the code to see at a position or for a question, within a token budget"
    )
    context.add_argument("--query", help="a question or words to find code for")
    context.add_argument("--file", type=Path, help="the focus's file (relative to PATH or absolute)")
    context.add_argument("--line", type=int, help="the focus's line, 1-based")
    context.add_argument("--column", type=int, default=1, help="the focus's column, 1-based (default 1)")
    context.add_argument("--budget", type=int, default=None, metavar="TOKENS", help="token budget (default 2000)")
    context.add_argument("--limit", type=int, default=None, help="at most this many items")
    context.add_argument("--text", action="store_true", help="print the packed context itself, for pasting")
    context.add_argument("--no-refresh", action="store_true", help="answer from the index as it is")

    stats = commands.add_parser("stats", parents=[common], help="what is indexed; memory and database figures")
    stats.add_argument("--no-refresh", action="store_true", help="answer from the index as it is")

    mcp = commands.add_parser(
        "mcp", parents=[workspace], help="a Model Context Protocol server over stdio for AI agents (aurora-lsp[mcp])"
    )
    mcp.add_argument("path", type=Path, nargs="?", default=Path("."), help="the workspace folder (default: here)")
    mcp.add_argument("--no-record", action="store_true", help="record no uses: a read-only memory (recordAccesses)")
    return parser


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    parser = _parser()
    args = parser.parse_args(argv)  # exits with 2 on a usage error
    if args.command in (None, "serve"):
        return _serve(args)
    if args.command == "mcp":
        return _mcp(args)
    from aurora_lsp import protocol
    from aurora_lsp.store.sqlite import StoreError
    from aurora_lsp.workspace.service import WorkspaceError, WorkspaceService

    problem = _context_usage_problem(args) if args.command == "context" else None
    if args.command == "symbols" and not 1 <= args.limit <= protocol.MAX_LIMIT:
        problem = f"--limit must be from 1 to {protocol.MAX_LIMIT:,}"
    if problem:
        print(f"aurora-lsp {args.command}: error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    settings = _settings(args)
    if settings is None:
        return EXIT_USAGE
    try:
        with WorkspaceService.open(args.path, settings) as workspace:
            _tell_notice(workspace)
            if args.command == "index":
                return _index(workspace, args, out)
            if args.command == "symbols":
                return _symbols(workspace, args, out)
            if args.command == "context":
                return _context(workspace, args, out)
            return _stats(workspace, args, out)
    except (WorkspaceError, StoreError) as error:
        print(f"aurora-lsp: error: {error}", file=sys.stderr)
        if args.verbose:
            traceback.print_exc()
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("aurora-lsp: interrupted", file=sys.stderr)
        return EXIT_FAILURE
    except BrokenPipeError:  # `aurora-lsp context ... | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as error:  # one line, not a traceback, unless asked
        print(f"aurora-lsp: error: {type(error).__name__}: {error}", file=sys.stderr)
        if args.verbose:
            traceback.print_exc()
        return EXIT_FAILURE


def _serve(args: argparse.Namespace) -> int:
    import gc
    import logging

    # Importing pygls and lsprotocol (about 600 attrs classes) allocates hundreds of thousands
    # of objects that live as long as the process: collections while they load find nothing to
    # free, and cost a tenth of the import time.
    gc.disable()
    from aurora_lsp.features import create_server

    log_file = getattr(args, "log_file", None)
    # never stdout: it carries JSON-RPC
    if log_file:  # readable by its owner only: it names files and symbols of the workspace
        log_file.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(log_file, os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o600))
    handler: logging.Handler = logging.FileHandler(log_file) if log_file else logging.StreamHandler(sys.stderr)
    logging.basicConfig(
        level=logging.DEBUG if getattr(args, "verbose", False) else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=[handler],
    )
    if not getattr(args, "verbose", False):  # pygls logs every JSON-RPC message at INFO
        logging.getLogger("pygls").setLevel(logging.WARNING)
    server = create_server()
    # What is loaded by now (modules, classes, the server) lives as long as the process.
    # Frozen, it is left out of every later full collection, which then walks only what
    # requests and the memory tier create: 61K objects and 15 ms less each time. (The
    # services loaded in `initialized` are frozen after the first refresh: features/settings.py.)
    gc.freeze()
    gc.enable()
    transport = f"TCP {args.host}:{args.port}" if getattr(args, "tcp", False) else "stdio"
    logging.getLogger("aurora_lsp").info("aurora-lsp %s serving over %s", __version__, transport)
    if getattr(args, "tcp", False):
        server.start_tcp(args.host, args.port)
    else:
        server.start_io()
    return server.exit_code


MCP_INSTALL = "pip install 'aurora-lsp[mcp]'"


def _settings(args: argparse.Namespace, **more: bool) -> Settings | None:
    """The settings the common options give, or None after saying on stderr which is bad."""
    from aurora_lsp.config import Settings

    given = {"memory_budget_mb": args.memory_budget_mb, "max_chunks": args.max_chunks,
             "max_file_size_kb": args.max_file_size_kb}  # fmt: skip
    try:
        return Settings(
            database_path=str(args.db) if args.db else None,
            exclude=tuple(args.exclude),
            **{name: value for name, value in given.items() if value is not None},
            **more,
        )
    except ValueError as error:
        print(f"aurora-lsp: error: {error}", file=sys.stderr)
        return None


def _mcp(args: argparse.Namespace) -> int:
    """The MCP server; the SDK is imported only here, so no other command pays for it."""
    try:
        from mcp.server import MCPServer  # noqa: F401  (2.x; 1.x has no MCPServer)
    except ImportError:
        print(f"aurora-lsp mcp: needs the MCP Python SDK (mcp 2.x): {MCP_INSTALL}", file=sys.stderr)
        return EXIT_FAILURE
    from aurora_lsp.agent.tools import serve
    from aurora_lsp.store.sqlite import StoreError
    from aurora_lsp.workspace.service import WorkspaceError

    settings = _settings(args, record_accesses=not args.no_record)
    if settings is None:
        return EXIT_USAGE
    try:
        return serve(args.path, settings)
    except (WorkspaceError, StoreError) as error:
        print(f"aurora-lsp: error: {error}", file=sys.stderr)
        if args.verbose:
            traceback.print_exc()
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_OK


def _refresh(workspace: WorkspaceService, args: argparse.Namespace, full: bool = False) -> IndexReport:
    progress = _ProgressBar() if sys.stderr.isatty() and not args.json else None
    try:
        report = _refresh_until_done(workspace, progress, full, getattr(args, "workers", None))
        workspace.catch_up(report)
        _tell_notice(workspace)  # the disk may have filled up during the refresh
        return report
    finally:
        if progress is not None:
            progress.close()


def _refresh_until_done(
    workspace: WorkspaceService, progress: _ProgressBar | None, full: bool, workers: int | None
) -> IndexReport:
    """The refresh, tried again with backoff for up to LOCK_WAIT_SECONDS while another
    process holds the database's lock; said once on stderr while it waits."""
    from aurora_lsp.store.sqlite import busy_backoff, is_busy

    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    waited = False
    for delay in busy_backoff():
        try:
            return workspace.refresh(progress, full=full, workers=workers)
        except sqlite3.OperationalError as error:
            if not is_busy(error) or time.monotonic() + delay > deadline:
                raise
            if not waited:
                waited = True
                print(
                    f"aurora-lsp: {workspace.database_label()} is locked by another process; waiting", file=sys.stderr
                )
            time.sleep(delay)
    raise AssertionError("unreachable")


def _tell_notice(workspace: WorkspaceService) -> None:
    """Say once, on stderr, what happened to the database (moved aside, kept in memory)."""
    notice = workspace.take_notice()
    if notice:
        print(notice, file=sys.stderr)


def _index(workspace: WorkspaceService, args: argparse.Namespace, out: TextIO) -> int:
    from aurora_lsp import protocol
    from aurora_lsp.protocol import IndexSummary

    report = _refresh(workspace, args, full=args.full)
    history = None if args.no_history else _learn(workspace, args)
    database = workspace.chunks.database_figures()
    if args.json:
        summary = IndexSummary(
            files=report.files,
            chunks=report.chunks,
            edges=report.edges,
            changed=report.changed,
            removed=report.removed,
            unchanged=report.unchanged,
            skipped=dict(sorted(report.skipped.items())),
            skipped_examples=report.skipped_examples,
            problems=report.problems,
            seconds=round(report.seconds, 3),
            database=database,
            history=history,
        )
        _print_json(protocol.to_wire(summary), out)
        return EXIT_OK
    skipped = sum(report.skipped.values())
    reasons = ", ".join(f"{count} {reason}" for reason, count in sorted(report.skipped.items()))
    problems = f"; {len(report.problems)} files with problems (see --json)" if report.problems else ""
    learned = ""
    if history is not None:
        plural = "" if history.commits == 1 else "s"
        learned = f"; learned from {history.commits} commit{plural} of git history ({history.new_commits} new)"
    print(
        f"Indexed {report.files} files, {report.chunks} chunks, {report.edges} edges in {report.seconds:.2f} s "
        f"({report.changed} re-chunked, {report.unchanged} unchanged, {report.removed} removed; "
        f"skipped {skipped}{': ' + reasons if skipped else ''}){problems} → {database.path}{learned}",
        file=out,
    )
    return EXIT_OK


def _learn(workspace: WorkspaceService, args: argparse.Namespace) -> HistorySummary | None:
    """Mine the git history's new commits (workspace/learning.py), as the language server does
    in the background; None outside a git repository or with the `history` setting off."""
    from aurora_lsp.context.learned import COMMITS_KEY
    from aurora_lsp.protocol import HistorySummary
    from aurora_lsp.workspace.learning import learn_now

    progress = _ProgressBar("git history", " commits") if sys.stderr.isatty() and not args.json else None
    started = time.perf_counter()
    try:
        mined = learn_now(workspace, progress.count if progress is not None else None)
    finally:
        if progress is not None:
            progress.close()
    if mined is None or not mined.head:
        return None
    commits = int(workspace.db.get_meta(COMMITS_KEY) or 0)
    return HistorySummary(commits, mined.commits, round(time.perf_counter() - started, 3))


def _symbols(workspace: WorkspaceService, args: argparse.Namespace, out: TextIO) -> int:
    from aurora_lsp import protocol

    if not args.no_refresh:
        _refresh(workspace, args)
    items = [_symbol_item(workspace, hit.chunk, hit.container) for hit in workspace.symbols(args.query, args.limit)]
    if args.json:
        _print_json(protocol.to_wire(items), out)
        return EXIT_OK
    if not items:
        print(f"No symbol matches {args.query!r}.", file=out)
        return EXIT_OK
    width = max(len(item.qualified_name) for item in items)
    for item in items:
        name, path = shown(item.qualified_name), shown(item.path)
        print(f"{item.kind:<8} {name:<{width}}  {path}:{item.range.start.line + 1}", file=out)
    return EXIT_OK


def _symbol_item(workspace: WorkspaceService, chunk: Chunk, container: str) -> SymbolItem:
    from aurora_lsp.protocol import Range, SymbolItem

    return SymbolItem(
        id=chunk.id,
        path=chunk.path,
        qualified_name=chunk.qualname,
        name=chunk.name,
        kind=chunk.kind,
        range=Range.of(*chunk.range),
        selection_range=Range.of(*chunk.selection_range),
        signature=chunk.signature,
        summary=chunk.summary,
        decorators=list(chunk.decorators),
        parent=chunk.parent,
        content_hash=chunk.content_hash,
        tokens=chunk.tokens,
        container_name=container,
        uri=workspace.uri(chunk.path),
    )


def _context_usage_problem(args: argparse.Namespace) -> str | None:
    from aurora_lsp import protocol

    if args.query is None and args.file is None:
        return "give --query TEXT, or --file FILE --line N"
    if (args.file is None) != (args.line is None):
        return "--file and --line go together"
    if args.line is not None and not 1 <= args.line <= protocol.MAX_POSITION:
        return "--line counts from 1"
    if not 1 <= args.column <= protocol.MAX_POSITION:
        return "--column counts from 1"
    if args.budget is not None and not 1 <= args.budget <= protocol.MAX_TOKEN_BUDGET:
        return f"--budget must be from 1 to {protocol.MAX_TOKEN_BUDGET:,} tokens"
    if args.limit is not None and not 1 <= args.limit <= protocol.MAX_LIMIT:
        return f"--limit must be from 1 to {protocol.MAX_LIMIT:,}"
    return None


def _relative_file(workspace: WorkspaceService, file: Path) -> str:
    """The focus's file as a workspace-relative path; relative names are tried from PATH, then here."""
    candidates = [file] if file.is_absolute() else [workspace.root / file, Path.cwd() / file]
    for candidate in candidates:
        try:
            return candidate.resolve().relative_to(workspace.root).as_posix()
        except ValueError:
            continue
    from aurora_lsp.workspace.service import WorkspaceError

    raise WorkspaceError(f"{file} is not inside the workspace {workspace.root}")


def _context(workspace: WorkspaceService, args: argparse.Namespace, out: TextIO) -> int:
    from aurora_lsp import protocol
    from aurora_lsp.context.engine import ContextRequest
    from aurora_lsp.records import ChunkId

    if not args.no_refresh:
        _refresh(workspace, args)
    request = ContextRequest(
        path=_relative_file(workspace, args.file) if args.file is not None else None,
        line=args.line - 1 if args.line is not None else None,
        character=args.column - 1,
        query=args.query,
        token_budget=args.budget or workspace.settings.current.context_token_budget,
        limit=args.limit,
    )
    answer = workspace.ask(request)
    if args.json:
        _print_json(protocol.to_wire(answer), out)
        return EXIT_OK
    if args.text:
        for item in answer.items:
            print(f"# {shown(item.id)} (line {item.range.start.line + 1}, {item.detail})\n{item.text}\n", file=out)
        return EXIT_OK
    focus = shown(answer.focus) if answer.focus else "-"
    print(f"focus: {focus}   {answer.used_tokens} of {answer.token_budget} tokens", file=out)
    if not answer.items:
        print("Nothing to show: the workspace has no chunks that match.", file=out)
    for rank, item in enumerate(answer.items, 1):
        print(
            f"{rank:>3}. {item.score:7.2f}  {item.detail:<9} {shown(item.qualified_name)}  "
            f"{shown(ChunkId.path(item.id))}:{item.range.start.line + 1}  ({item.tokens} tokens) — {shown(item.why)}",
            file=out,
        )
    return EXIT_OK


def _stats(workspace: WorkspaceService, args: argparse.Namespace, out: TextIO) -> int:
    from aurora_lsp import protocol
    from aurora_lsp.workspace import figures

    if not args.no_refresh:
        _refresh(workspace, args)
    stats = figures.stats([workspace.figures(warm=True)], workspace.indexing, workspace.settings.current)
    if args.json:
        _print_json(protocol.to_wire(stats), out)
        return EXIT_OK
    mb = 1024 * 1024
    print(f"workspace       {workspace.shown_root}", file=out)
    print(f"files           {stats.files}", file=out)
    print(f"chunks          {stats.chunks} ({stats.edges} dependency edges)", file=out)
    print(
        f"resident        {stats.resident_chunks} chunks, {stats.resident_bytes / mb:.1f} MB "
        f"of a {stats.memory_budget_bytes / mb:.0f} MB budget (max {stats.max_chunks} chunks)",
        file=out,
    )
    print(f"cache           {stats.hits} hits, {stats.misses} misses, {stats.evictions} evictions", file=out)
    print(f"process RSS     {stats.process_rss_bytes / mb:.1f} MB", file=out)
    print(f"database        {stats.database.path} ({stats.database.bytes / mb:.1f} MB)", file=out)
    print(f"last index run  {stats.indexing.last_run_seconds} s", file=out)
    if stats.skipped:
        print("skipped         " + ", ".join(f"{n} {reason}" for reason, n in stats.skipped.items()), file=out)
    return EXIT_OK


_CONTROL = {code: f"\\x{code:02x}" for code in [*range(0x20), *range(0x7F, 0xA0)]}
_CONTROL.update({0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r", 0x2028: "\\u2028", 0x2029: "\\u2029"})


def shown(text: str) -> str:
    """A name or path for a terminal line: control characters escaped, so a file named
    with a newline or an escape sequence cannot break or repaint the output."""
    return text.translate(_CONTROL)


def _print_json(value: Any, out: TextIO) -> None:
    json.dump(value, out, indent=2, ensure_ascii=False)
    out.write("\n")


class _ProgressBar:
    """A progress bar on the terminal (stderr), drawn by tqdm."""

    def __init__(self, description: str = "indexing", unit: str = "file") -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=0, unit=unit, desc=description, file=sys.stderr, leave=False, dynamic_ncols=True)

    def __call__(self, done: int, total: int) -> None:
        if self._bar.total != total:
            self._bar.reset(total=total)
        self._bar.n = done
        self._bar.refresh()

    def count(self, done: int) -> None:
        """Progress without a known total (commits of a history): the count and its rate."""
        self(done, 0)

    def close(self) -> None:
        self._bar.close()
