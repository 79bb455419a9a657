"""Indexing benchmark: Aurora against pinned real code, with jedi and parso as peers.

    python benchmarks/index_bench.py                  # Django and sympy, one repetition
    python benchmarks/index_bench.py --only django --repeat 3

Each workspace is a pinned wheel fetched with `pip download --no-deps`, checked against
its sha256 and unpacked under benchmarks/.cache/ (reused when already there; file times
are kept from the archive, as `unzip` does). Every measurement runs in a fresh Python
process of its own, so that the peak RSS figures belong to that run alone:

  cold         Workspace.open + refresh() into a fresh temporary database
  refresh      the same, again, in a new process (a restart with nothing changed)
  memory       every chunk read into the in-memory tier with chunks.warm()
  memory-trace the same warm() measured with tracemalloc, for comparison
  jedi         jedi.Script(path=...).get_names(all_scopes=True, definitions=True) per
               file, one process (what jedi-language-server does for document symbols),
               with an empty jedi cache folder (a first start, like Aurora's cold index)
  parso        a bare parso parse of every file, one process

Peers read exactly the files Aurora's scan selects. Results (every run, plus medians when
--repeat > 1) go to benchmarks/results/index.json with machine facts and versions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import hashlib
import json
import os
import platform
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
WHEELS = CACHE / "wheels"
SOURCES = CACHE / "src"
RESULTS = HERE / "results" / "index.json"

WORKSPACES: dict[str, dict[str, str]] = {
    "django": {
        "requirement": "django==5.2.19",
        "wheel": "django-5.2.19-py3-none-any.whl",
        "sha256": "5965d974a5218a2b68a11dd1276434707f23886525c23f0598eccedaf4f4ca00",
    },
    "sympy": {
        "requirement": "sympy==1.14.0",
        "wheel": "sympy-1.14.0-py3-none-any.whl",
        "sha256": "e091cc3e99d2141a0ba2847328f5479b05d94a6635cb96148ccb3f34671bd8f5",
    },
    # the co-change evaluation's workspace (context_quality.py); not indexed by default here
    "pytest": {
        "requirement": "pytest==8.3.5",
        "wheel": "pytest-8.3.5-py3-none-any.whl",
        "sha256": "c69214aa47deac29fad6c2a4f590b9c4a9fdb16a403176fe154b79c0b4d4d820",
    },
    # the scale benchmark's wheels (scale_bench.py), each sha256 checked against PyPI's;
    # not indexed by default here
    "ansible-core": {
        "requirement": "ansible-core==2.17.7",
        "wheel": "ansible_core-2.17.7-py3-none-any.whl",
        "sha256": "64d4f0a006687a5621aa80dca54fd0c5ae75145b7aac8c1b8d7f07a1399c4705",
    },
    "astroid": {
        "requirement": "astroid==3.3.6",
        "wheel": "astroid-3.3.6-py3-none-any.whl",
        "sha256": "db676dc4f3ae6bfe31cda227dc60e03438378d7a896aec57422c95634e8d722f",
    },
    "bokeh": {
        "requirement": "bokeh==3.6.2",
        "wheel": "bokeh-3.6.2-py3-none-any.whl",
        "sha256": "fddc4b91f8b40178c0e3e83dfcc33886d7803a3a1f041a840834255e435a18c2",
    },
    "botocore": {
        "requirement": "botocore==1.35.76",
        "wheel": "botocore-1.35.76-py3-none-any.whl",
        "sha256": "b4729d12d00267b3185628f83543917b6caae292385230ab464067621aa086af",
    },
    "celery": {
        "requirement": "celery==5.4.0",
        "wheel": "celery-5.4.0-py3-none-any.whl",
        "sha256": "369631eb580cf8c51a82721ec538684994f8277637edde2dfc0dacd73ed97f64",
    },
    "dask": {
        "requirement": "dask==2024.12.0",
        "wheel": "dask-2024.12.0-py3-none-any.whl",
        "sha256": "e038e87b9f06e7927b81ecde6cf2b49aa699bb902fec11abba5697cb48baeb8d",
    },
    "docutils": {
        "requirement": "docutils==0.21.2",
        "wheel": "docutils-0.21.2-py3-none-any.whl",
        "sha256": "dafca5b9e384f0e419294eb4d2ff9fa826435bf15f15b7bd45723e8ad76811b2",
    },
    "hypothesis": {
        "requirement": "hypothesis==6.122.1",
        "wheel": "hypothesis-6.122.1-py3-none-any.whl",
        "sha256": "59e52da0f2529b40f0b7bd0c3c61d8b3fe3337102800bf3534c53d4a8bdf8a6d",
    },
    "ipython": {
        "requirement": "ipython==8.30.0",
        "wheel": "ipython-8.30.0-py3-none-any.whl",
        "sha256": "85ec56a7e20f6c38fce7727dcca699ae4ffc85985aa7b23635a8008f918ae321",
    },
    "kubernetes": {
        "requirement": "kubernetes==31.0.0",
        "wheel": "kubernetes-31.0.0-py2.py3-none-any.whl",
        "sha256": "bf141e2d380c8520eada8b351f4e319ffee9636328c137aa432bc486ca1200e1",
    },
    "moto": {
        "requirement": "moto==5.0.22",
        "wheel": "moto-5.0.22-py3-none-any.whl",
        "sha256": "defae32e834ba5674f77cbbe996b41dc248dd81289af8032fa3e847284409b29",
    },
    "networkx": {
        "requirement": "networkx==3.4.2",
        "wheel": "networkx-3.4.2-py3-none-any.whl",
        "sha256": "df5d4365b724cf81b8c6a7312509d0c22386097011ad1abe274afd5e9d3bbc5f",
    },
    "nltk": {
        "requirement": "nltk==3.9.1",
        "wheel": "nltk-3.9.1-py3-none-any.whl",
        "sha256": "4fa26829c5b00715afe3061398a8989dc643b92ce7dd93fb4585a70930d168a1",
    },
    "openpyxl": {
        "requirement": "openpyxl==3.1.5",
        "wheel": "openpyxl-3.1.5-py2.py3-none-any.whl",
        "sha256": "5282c12b107bffeef825f4617dc029afaf41d0ea60823bbb665ef3079dc79de2",
    },
    "pip": {
        "requirement": "pip==24.3.1",
        "wheel": "pip-24.3.1-py3-none-any.whl",
        "sha256": "3790624780082365f47549d032f3770eeb2b1e8bd1f7b2e02dace1afa361b4ed",
    },
    "prompt-toolkit": {
        "requirement": "prompt-toolkit==3.0.48",
        "wheel": "prompt_toolkit-3.0.48-py3-none-any.whl",
        "sha256": "f49a827f90062e411f1ce1f854f2aedb3c23353244f8108b89283587397ac10e",
    },
    "pygments": {
        "requirement": "pygments==2.18.0",
        "wheel": "pygments-2.18.0-py3-none-any.whl",
        "sha256": "b8e6aca0523f3ab76fee51799c488e38782ac06eafcf95e7ba832985c8e7b13a",
    },
    "pylint": {
        "requirement": "pylint==3.3.2",
        "wheel": "pylint-3.3.2-py3-none-any.whl",
        "sha256": "77f068c287d49b8683cd7c6e624243c74f92890f767f106ffa1ddf3c0a54cb7a",
    },
    "setuptools": {
        "requirement": "setuptools==75.6.0",
        "wheel": "setuptools-75.6.0-py3-none-any.whl",
        "sha256": "ce74b49e8f7110f9bf04883b730f4765b774ef3ef28f722cce7c273d253aaf7d",
    },
    "sphinx": {
        "requirement": "sphinx==8.1.3",
        "wheel": "sphinx-8.1.3-py3-none-any.whl",
        "sha256": "09719015511837b76bf6e03e42eb7595ac8c2e41eeb9c29c5b755c6b677992a2",
    },
    "textual": {
        "requirement": "textual==1.0.0",
        "wheel": "textual-1.0.0-py3-none-any.whl",
        "sha256": "2d4a701781c05104925e463ae370c630567c70c2880e92ab838052e3e23c986f",
    },
    "twisted": {
        "requirement": "twisted==24.11.0",
        "wheel": "twisted-24.11.0-py3-none-any.whl",
        "sha256": "fe403076c71f04d5d2d789a755b687c5637ec3bcd3b2b8252d76f2ba65f54261",
    },
}
DEFAULT_WORKSPACES = ("django", "sympy")

# Source distributions: the project's tree as its authors ship it (sources, tests, docs,
# examples), not an installed package. lsp_bench.py's flask workspace; the digest is PyPI's.
SDISTS: dict[str, dict[str, str]] = {
    "flask": {
        "requirement": "flask==3.1.3",
        "sdist": "flask-3.1.3.tar.gz",
        "sha256": "0ef0e52b8a9cd932855379197dd8f94047b359ca0a78695144304cb45f87c9eb",
    },
}

# What the team wants to know about (Django).
TARGETS = {
    "django_cold_seconds_max": 5.0,
    "django_refresh_seconds_max": 0.5,
    "django_resident_bytes_max": 12 * 1024 * 1024,
}

# Room for every chunk of any workspace here: warm() must not evict.
WARM_BUDGET_MB = 4096.0
WARM_MAX_CHUNKS = 10_000_000
CHILD_TIMEOUT_S = 3600
MIB = 1024 * 1024


# -- fetching ------------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(requirement: str, filename: str, sha256: str, *, binary: bool) -> Path:
    """A pinned archive, downloaded with pip unless already cached; its sha256 checked."""
    archive = WHEELS / filename
    if not archive.exists():
        WHEELS.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable, "-m", "pip", "download", "--no-deps",
            "--only-binary=:all:" if binary else "--no-binary=:all:",
            "--disable-pip-version-check", "--no-input", "--dest", str(WHEELS), requirement,
        ]  # fmt: skip
        print(f"[fetch] {' '.join(command[2:])}", file=sys.stderr)
        subprocess.run(command, check=True, stdout=sys.stderr)
        if not archive.exists():
            raise SystemExit(f"pip download did not produce {archive.name}")
    actual = sha256_of(archive)
    if actual != sha256:
        archive.unlink()
        raise SystemExit(f"{archive.name}: sha256 {actual} is not the pinned {sha256}; deleted it, rerun")
    return archive


def fetch_wheel(name: str) -> Path:
    """The pinned wheel, downloaded with pip unless already cached; its sha256 checked."""
    spec = WORKSPACES[name]
    return _download(spec["requirement"], spec["wheel"], spec["sha256"], binary=True)


def fetch_sdist(name: str) -> Path:
    """The pinned source distribution (SDISTS), like fetch_wheel."""
    spec = SDISTS[name]
    return _download(spec["requirement"], spec["sdist"], spec["sha256"], binary=False)


def _unpacked(target: Path, sha256: str, extract: Callable[[Path], Path]) -> Path:
    """`target`, filled by `extract` (given a fresh folder, it returns the folder that becomes
    `target`) unless a previous unpack of the same archive completed; never half-written."""
    marker = target / ".unpacked-sha256"
    if marker.exists() and marker.read_text().strip() == sha256:
        return target
    SOURCES.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=SOURCES))
    tree = extract(partial)
    (tree / marker.name).write_text(sha256 + "\n")
    if target.exists():
        shutil.rmtree(target)
    tree.rename(target)
    shutil.rmtree(partial, ignore_errors=True)  # left over when the tree was a folder inside it
    return target


def unpack(name: str, wheel: Path) -> Path:
    """The wheel unpacked into its own folder (reused when a previous unpack completed)."""

    def extract(into: Path) -> Path:
        with zipfile.ZipFile(wheel) as archive:
            for info in archive.infolist():
                written = Path(archive.extract(info, into))
                stamp = time.mktime((*info.date_time, 0, 0, -1))
                os.utime(written, (stamp, stamp))
        return into

    return _unpacked(SOURCES / wheel.name.removesuffix(".whl"), WORKSPACES[name]["sha256"], extract)


def unpack_sdist(name: str, sdist: Path) -> Path:
    """The sdist unpacked; its one top folder (flask-3.1.3/) is the returned tree, file times kept."""
    top = sdist.name.removesuffix(".tar.gz")

    def extract(into: Path) -> Path:
        with tarfile.open(sdist, "r:gz") as archive:
            for member in archive.getmembers():
                parts = Path(member.name).parts
                if parts[:1] != (top,) or ".." in parts or not (member.isfile() or member.isdir()):
                    raise SystemExit(f"{sdist.name}: unexpected member {member.name!r}")
            if hasattr(tarfile, "data_filter"):  # Python 3.11.4+: refuses links and special files once more
                archive.extractall(into, filter="data")
            else:
                archive.extractall(into)  # the members were checked above
        return into / top

    return _unpacked(SOURCES / top, SDISTS[name]["sha256"], extract)


# -- measurements, each run in a child process ---------------------------------------------


def _rusage() -> dict[str, Any]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "peak_rss_bytes": me.ru_maxrss * 1024,
        "children_peak_rss_bytes": children.ru_maxrss * 1024,
        "cpu_seconds": me.ru_utime + me.ru_stime,
        "children_cpu_seconds": children.ru_utime + children.ru_stime,
    }


def _stop_forkserver() -> bool:
    """Stop multiprocessing's fork server, so that it and the workers it reaped count in RUSAGE_CHILDREN.

    The pool's workers are children of the fork server, which outlives the pool; until it
    has been waited for, their peak RSS is not in this process's RUSAGE_CHILDREN.
    """
    try:
        from multiprocessing import forkserver

        server = forkserver._forkserver  # type: ignore[attr-defined]
        if getattr(server, "_forkserver_pid", None) is not None:
            server._stop()
        return True
    except Exception:  # private API: if it moved, say so instead of failing
        return False


def _settings(db: str, warm: bool = False) -> Any:
    from aurora_lsp.config import Settings

    if warm:
        return Settings(database_path=db, memory_budget_mb=WARM_BUDGET_MB, max_chunks=WARM_MAX_CHUNKS)
    return Settings(database_path=db)


def _index_run(root: Path, db: str, *, cold: bool) -> dict[str, Any]:
    from aurora_lsp.index.indexer import RACY_WINDOW_NS
    from aurora_lsp.workspace import Workspace

    if cold:
        for suffix in ("", "-wal", "-shm"):
            Path(db + suffix).unlink(missing_ok=True)
    started = time.perf_counter()
    workspace = Workspace.open(root, _settings(db))
    opened = time.perf_counter()
    states = workspace.db.file_states()
    trusted = sum(1 for s in states.values() if s.checked_ns - s.mtime_ns > RACY_WINDOW_NS)
    before_refresh = time.perf_counter()
    report = workspace.refresh()
    refreshed = time.perf_counter()
    size_open = workspace.db.size_bytes()
    workspace.close()
    closed = time.perf_counter()
    size_closed = sum(Path(db + s).stat().st_size for s in ("", "-wal", "-shm") if Path(db + s).exists())
    server_stopped = _stop_forkserver()
    seconds = (opened - started) + (refreshed - before_refresh)
    return {
        "seconds": seconds,
        "open_seconds": opened - started,
        "refresh_seconds": refreshed - before_refresh,
        "indexer_reported_seconds": report.seconds,
        "close_seconds": closed - refreshed,
        "files": report.files,
        "chunks": report.chunks,
        "edges": report.edges,
        "changed": report.changed,
        "unchanged": report.unchanged,
        "removed": report.removed,
        "stat_trusted_files": trusted,
        "skipped": dict(report.skipped),
        "files_with_problems": len(report.problems),
        "chunks_per_second": report.chunks / seconds if seconds else None,
        "db_bytes": size_closed,
        "db_bytes_before_close": size_open,
        "worker_processes": os.cpu_count(),
        "children_rss_complete": server_stopped,
        **_rusage(),
    }


def child_cold(root: Path, db: str) -> dict[str, Any]:
    return _index_run(root, db, cold=True)


def child_refresh(root: Path, db: str) -> dict[str, Any]:
    return _index_run(root, db, cold=False)


def _rss_now() -> int:
    from aurora_lsp.workspace import process_rss_bytes

    return process_rss_bytes()


def child_memory(root: Path, db: str) -> dict[str, Any]:
    from aurora_lsp.workspace import Workspace

    with Workspace.open(root, _settings(db, warm=True)) as workspace:
        chunks = workspace.db.counts()["chunks"]
        gc.collect()
        rss_before = _rss_now()
        started = time.perf_counter()
        read = workspace.chunks.warm()
        seconds = time.perf_counter() - started
        gc.collect()
        rss_after = _rss_now()
        tier = workspace.chunks.tier
        resident = tier.resident_bytes
        result = {
            "chunks": chunks,
            "warm_read": read,
            "resident_chunks": len(tier),
            "evictions": tier.evictions,
            "all_resident": len(tier) == chunks and tier.evictions == 0,
            "resident_bytes": resident,
            "bytes_per_chunk": resident / len(tier) if len(tier) else None,
            "warm_seconds": seconds,
            "rss_delta_bytes": rss_after - rss_before,
        }
    return {**result, **_rusage()}


def child_memory_trace(root: Path, db: str) -> dict[str, Any]:
    import tracemalloc

    from aurora_lsp.workspace import Workspace

    with Workspace.open(root, _settings(db, warm=True)) as workspace:
        gc.collect()
        tracemalloc.start()
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        workspace.chunks.warm()
        gc.collect()
        after, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        tier = workspace.chunks.tier
        result = {
            "resident_chunks": len(tier),
            "tracemalloc_warm_bytes": after - before,
            "tracemalloc_warm_peak_bytes": peak - before,
            "tracemalloc_bytes_per_chunk": (after - before) / len(tier) if len(tier) else None,
            "tier_resident_bytes": tier.resident_bytes,
        }
    return {**result, **_rusage()}


def _peer_files(root: Path) -> list[str]:
    from aurora_lsp.index.scan import scan_workspace

    return [f.absolute for f in scan_workspace(root).files]


def child_jedi(root: Path, db: str) -> dict[str, Any]:
    import jedi

    files = _peer_files(root)
    cache = tempfile.mkdtemp(prefix="aurora-bench-jedi-")
    jedi.settings.cache_directory = cache
    names = 0
    failures: dict[str, int] = {}
    examples: list[str] = []
    try:
        started = time.perf_counter()
        for path in files:
            try:
                names += len(jedi.Script(path=path).get_names(all_scopes=True, definitions=True))
            except Exception as error:  # jedi's own failures are counted, as an editor would log them
                kind = type(error).__name__
                failures[kind] = failures.get(kind, 0) + 1
                if len(examples) < 5:
                    examples.append(f"{os.path.relpath(path, root)}: {kind}: {error}")
        seconds = time.perf_counter() - started
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return {
        "seconds": seconds,
        "files": len(files),
        "names": names,
        "failed_files": sum(failures.values()),
        "failures": failures,
        "failure_examples": examples,
        **_rusage(),
    }


def child_parso(root: Path, db: str) -> dict[str, Any]:
    import parso
    from parso.utils import python_bytes_to_unicode

    files = _peer_files(root)
    grammar = parso.load_grammar()
    total_bytes = 0
    started = time.perf_counter()
    for path in files:
        with open(path, "rb") as handle:
            data = handle.read()
        total_bytes += len(data)
        text = python_bytes_to_unicode(data, errors="replace")
        grammar.parse(text, error_recovery=True, cache=False)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "files": len(files),
        "bytes": total_bytes,
        "mb_per_second": total_bytes / MIB / seconds if seconds else None,
        **_rusage(),
    }


CHILDREN = {
    "cold": child_cold,
    "refresh": child_refresh,
    "memory": child_memory,
    "memory-trace": child_memory_trace,
    "jedi": child_jedi,
    "parso": child_parso,
}


def _loadavg() -> float | None:
    """The 1-minute load average: other work on the machine shows here."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def run_child(mode: str, root: Path, db: str) -> dict[str, Any]:
    """One measurement in a fresh process; adds the wall time and whole-tree peak RSS seen from here."""
    with tempfile.NamedTemporaryFile(prefix="aurora-bench-", suffix=".json", delete=False) as out:
        out_path = out.name
    command = [sys.executable, str(Path(__file__).resolve()), "--child", mode, "--root", str(root), "--db", db,
               "--out", out_path]  # fmt: skip
    load_before = _loadavg()
    started = time.perf_counter()
    process = subprocess.Popen(command)
    deadline = started + CHILD_TIMEOUT_S
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            process.kill()
            pid, status, usage = os.wait4(process.pid, 0)
            break
        time.sleep(0.01)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    try:
        if process.returncode != 0:
            raise SystemExit(f"{mode} on {root.name} failed (exit {process.returncode})")
        with open(out_path, encoding="utf-8") as handle:
            result: dict[str, Any] = json.load(handle)
    finally:
        os.unlink(out_path)
    result["process_wall_seconds"] = wall
    result["loadavg_1min_before"] = load_before
    result["loadavg_1min_after"] = _loadavg()
    result["process_tree_peak_rss_bytes"] = usage.ru_maxrss * 1024
    return result


# -- the driver ----------------------------------------------------------------------------


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Field by field: the median of numbers, the first run's value otherwise."""
    merged: dict[str, Any] = {}
    for key, value in runs[0].items():
        values = [run.get(key) for run in runs]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            merged[key] = statistics.median(values)  # type: ignore[type-var]
        else:
            merged[key] = value
    return merged


def bench_workspace(name: str, repeat: int, with_jedi: bool) -> dict[str, Any]:
    wheel = fetch_wheel(name)
    root = unpack(name, wheel)
    phases = ["cold", "refresh", "memory", "memory-trace", "parso"] + (["jedi"] if with_jedi else [])
    runs: dict[str, list[dict[str, Any]]] = {phase: [] for phase in phases}
    for index in range(repeat):
        folder = tempfile.mkdtemp(prefix=f"aurora-bench-{name}-")
        db = os.path.join(folder, "index.sqlite3")
        try:
            for phase in phases:
                print(f"[{name} {index + 1}/{repeat}] {phase} …", file=sys.stderr, flush=True)
                result = run_child(phase, root, db)
                runs[phase].append(result)
                print(f"[{name} {index + 1}/{repeat}] {phase}: {_brief(phase, result)}", file=sys.stderr, flush=True)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    medians = {phase: _median(results) for phase, results in runs.items()}
    cold, refresh, memory, trace = medians["cold"], medians["refresh"], medians["memory"], medians["memory-trace"]
    parso_run = medians["parso"]
    jedi_run = medians.get("jedi")
    summary: dict[str, Any] = {
        "root": str(root),
        "wheel": wheel.name,
        "wheel_sha256": WORKSPACES[name]["sha256"],
        "files": cold["files"],
        "source_bytes": parso_run["bytes"],
        "chunks": cold["chunks"],
        "edges": cold["edges"],
        "cold_seconds": cold["seconds"],
        "cold_process_wall_seconds": cold["process_wall_seconds"],
        "cold_chunks_per_second": cold["chunks_per_second"],
        "cold_peak_rss_bytes": cold["peak_rss_bytes"],
        "cold_workers_peak_rss_bytes": cold["children_peak_rss_bytes"],
        "cold_cpu_seconds": cold["cpu_seconds"] + cold["children_cpu_seconds"],
        "refresh_seconds": refresh["seconds"],
        "refresh_process_wall_seconds": refresh["process_wall_seconds"],
        "refresh_peak_rss_bytes": refresh["peak_rss_bytes"],
        "refresh_changed": refresh["changed"],
        "refresh_stat_trusted_files": refresh["stat_trusted_files"],
        "db_bytes": cold["db_bytes"],
        "resident_bytes": memory["resident_bytes"],
        "resident_bytes_per_chunk": memory["bytes_per_chunk"],
        "resident_all_chunks": memory["all_resident"],
        "tracemalloc_warm_bytes": trace["tracemalloc_warm_bytes"],
        "tracemalloc_bytes_per_chunk": trace["tracemalloc_bytes_per_chunk"],
        "warm_seconds": memory["warm_seconds"],
        "warm_rss_delta_bytes": memory["rss_delta_bytes"],
        "parso_seconds": parso_run["seconds"],
        "parso_peak_rss_bytes": parso_run["peak_rss_bytes"],
        "ratio_cold_over_parso": cold["seconds"] / parso_run["seconds"],
        "ratio_cold_cpu_over_parso_cpu": (cold["cpu_seconds"] + cold["children_cpu_seconds"])
        / parso_run["cpu_seconds"],
    }
    if jedi_run is not None:
        summary.update(
            {
                "jedi_seconds": jedi_run["seconds"],
                "jedi_names": jedi_run["names"],
                "jedi_failed_files": jedi_run["failed_files"],
                "jedi_peak_rss_bytes": jedi_run["peak_rss_bytes"],
                "ratio_cold_over_jedi": cold["seconds"] / jedi_run["seconds"],
                "ratio_cold_cpu_over_jedi_cpu": (cold["cpu_seconds"] + cold["children_cpu_seconds"])
                / jedi_run["cpu_seconds"],
                "ratio_cold_peak_rss_over_jedi": cold["peak_rss_bytes"] / jedi_run["peak_rss_bytes"],
            }
        )
    if name == "django":
        summary["targets"] = {
            "cold_seconds_le_5": cold["seconds"] <= TARGETS["django_cold_seconds_max"],
            "refresh_seconds_le_0_5": refresh["seconds"] <= TARGETS["django_refresh_seconds_max"],
            "resident_le_12_mib": memory["resident_bytes"] <= TARGETS["django_resident_bytes_max"],
        }
    return {"summary": summary, "median": medians, "runs": runs}


def _brief(phase: str, result: dict[str, Any]) -> str:
    if phase in ("cold", "refresh"):
        return (
            f"{result['seconds']:.2f} s, {result['files']} files, {result['chunks']} chunks, "
            f"{result['edges']} edges, changed {result['changed']}, peak {result['peak_rss_bytes'] / MIB:.0f} MiB"
        )
    if phase == "memory":
        return f"{result['resident_bytes'] / MIB:.2f} MiB resident, {result['bytes_per_chunk']:.0f} B/chunk"
    if phase == "memory-trace":
        return f"tracemalloc {result['tracemalloc_warm_bytes'] / MIB:.2f} MiB"
    if phase == "jedi":
        return f"{result['seconds']:.2f} s, {result['names']} names, {result['failed_files']} files failed"
    return f"{result['seconds']:.2f} s"


def machine_facts() -> dict[str, Any]:
    model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) * 1024
                break
    except OSError:
        pass
    return {
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": model,
        "memory_total_bytes": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
    }


def versions() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for package in ("aurora-lsp", "jedi", "parso", "sqlite-utils", "pygls"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = None
    found["sqlite3_library"] = sqlite3.sqlite_version
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=HERE, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "diff", "HEAD", "--", "../server"], cwd=HERE, capture_output=True,
                               text=True, check=True)  # fmt: skip
        found["aurora_git_commit"] = head.stdout.strip()
        found["aurora_server_dirty"] = bool(dirty.stdout.strip())
        found["aurora_server_diff_sha256"] = hashlib.sha256(dirty.stdout.encode()).hexdigest()[:16]
    except (OSError, subprocess.CalledProcessError):
        pass
    return found


def print_table(results: dict[str, Any]) -> None:
    names = list(results)
    rows: list[tuple[str, list[str]]] = []

    def row(label: str, key: str, fmt: str, scale: float = 1.0) -> None:
        cells = []
        for name in names:
            value = results[name]["summary"].get(key)
            cells.append("—" if value is None else format(value / scale if scale != 1.0 else value, fmt))
        rows.append((label, cells))

    row("files", "files", "d")
    row("chunks", "chunks", "d")
    row("edges", "edges", "d")
    row("cold index, s", "cold_seconds", ".2f")
    row("cold, process wall, s", "cold_process_wall_seconds", ".2f")
    row("cold, chunks/s", "cold_chunks_per_second", ".0f")
    row("cold, peak RSS main, MiB", "cold_peak_rss_bytes", ".1f", MIB)
    row("cold, peak RSS workers, MiB", "cold_workers_peak_rss_bytes", ".1f", MIB)
    row("cold, CPU s (all processes)", "cold_cpu_seconds", ".2f")
    row("no-change refresh, s", "refresh_seconds", ".3f")
    row("refresh, process wall, s", "refresh_process_wall_seconds", ".2f")
    row("refresh, peak RSS, MiB", "refresh_peak_rss_bytes", ".1f", MIB)
    row("database, MiB", "db_bytes", ".1f", MIB)
    row("resident (all chunks), MiB", "resident_bytes", ".2f", MIB)
    row("resident bytes/chunk", "resident_bytes_per_chunk", ".0f")
    row("tracemalloc of warm(), MiB", "tracemalloc_warm_bytes", ".2f", MIB)
    row("tracemalloc bytes/chunk", "tracemalloc_bytes_per_chunk", ".0f")
    row("warm(), s", "warm_seconds", ".2f")
    row("jedi get_names, s", "jedi_seconds", ".2f")
    row("jedi failed files", "jedi_failed_files", "d")
    row("jedi peak RSS, MiB", "jedi_peak_rss_bytes", ".1f", MIB)
    row("parso parse, s", "parso_seconds", ".2f")
    row("Aurora/jedi (wall)", "ratio_cold_over_jedi", ".3f")
    row("Aurora/jedi (CPU)", "ratio_cold_cpu_over_jedi_cpu", ".3f")
    row("Aurora/parso (wall)", "ratio_cold_over_parso", ".3f")
    row("Aurora/parso (CPU)", "ratio_cold_cpu_over_parso_cpu", ".3f")
    width = max(len(label) for label, _ in rows)
    cell = max(12, *(len(c) for _, cells in rows for c in cells))
    print(f"{'':<{width}}  " + "  ".join(f"{n:>{cell}}" for n in names))
    for label, cells in rows:
        print(f"{label:<{width}}  " + "  ".join(f"{c:>{cell}}" for c in cells))
    if "django" in results:
        targets = results["django"]["summary"]["targets"]
        print("Django targets: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in targets.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", choices=sorted(WORKSPACES), help="workspace(s) to run")
    parser.add_argument("--repeat", type=int, default=1, help="repetitions; the report gives medians")
    parser.add_argument(
        "--jedi",
        choices=("all", "django", "none"),
        default="all",
        help="where to run the jedi peer (it takes about 2 minutes on sympy)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON results file")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        result = CHILDREN[args.child](args.root, args.db)
        with open(args.out, "w", encoding="utf-8") as handle:
            json.dump(result, handle)
        return 0

    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    try:
        import aurora_lsp  # noqa: F401
    except ImportError:
        parser.error("aurora_lsp is not importable: run with the project's virtualenv (.venv/bin/python)")
    chosen = args.only or list(DEFAULT_WORKSPACES)
    versions_at_start = versions()
    results: dict[str, Any] = {}
    for name in chosen:
        with_jedi = args.jedi == "all" or (args.jedi == "django" and name == "django")
        results[name] = bench_workspace(name, args.repeat, with_jedi)
    report = {
        "benchmark": "index",
        "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "repeat": args.repeat,
        "jedi": args.jedi,
        "machine": machine_facts(),
        "versions": versions_at_start,
        "code_changed_during_run": versions() != versions_at_start,
        "targets": TARGETS,
        "notes": [
            "seconds = Workspace.open + refresh() inside the process; process_wall_seconds adds interpreter start, "
            "imports and close.",
            "Aurora parses with one worker process per core; jedi and parso run in one process: see the CPU ratios.",
            "jedi runs with an empty cache folder (a first start); files jedi fails on are counted, not retried.",
            "resident_bytes is the memory tier's own accounting (LruTier.resident_bytes); tracemalloc_warm_bytes "
            "is what tracemalloc sees retained by the warm() call.",
            "MiB = 1024*1024 bytes.",
        ],
        "workspaces": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print_table(results)
    if report["code_changed_during_run"]:
        print("WARNING: Aurora's code changed during the run; the figures mix versions", file=sys.stderr)
    print(f"\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
