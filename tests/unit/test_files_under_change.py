"""Files that vanish, change, turn into folders or FIFOs, grow huge or cannot be read while
the indexer works: each is skipped with its reason, nothing hangs, and the next refresh
gives exactly what a fresh index of the final files gives."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from aurora_lsp.config import Settings
from aurora_lsp.index import indexer
from aurora_lsp.workspace.service import WorkspaceService
from conftest import dump_index


def _make(root: Path, count: int = 30) -> None:
    for index in range(count):
        (root / f"m{index:02d}.py").write_text(f"def f{index}():\n    return {index}\n\n\nclass C{index}:\n    pass\n")


def test_files_changing_between_scan_and_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    _make(root)
    real_scan = indexer.scan_workspace

    def scan_then_change(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        result = real_scan(*args, **kwargs)  # type: ignore[arg-type]
        (root / "m01.py").unlink()  # vanished
        (root / "m02.py").unlink()
        (root / "m02.py").mkdir()  # turned into a folder
        (root / "m03.py").unlink()
        os.mkfifo(root / "m03.py")  # a FIFO: reading it would block forever
        (root / "m04.py").write_text("def changed_after_the_scan():\n    pass\n")
        (root / "m05.py").write_text("x = 1\n" * 20_000)  # grew past maxFileSizeKb (64)
        return result

    monkeypatch.setattr(indexer, "scan_workspace", scan_then_change)
    db = tmp_path / "index.sqlite3"
    with WorkspaceService.open(root, Settings(database_path=str(db), max_file_size_kb=64)) as workspace:
        report = workspace.refresh()
        assert report.skipped_examples["vanished while indexing"] == ["m01.py"]
        assert report.skipped_examples["not a regular file"] == ["m02.py", "m03.py"]
        assert report.skipped_examples["over maxFileSizeKb"] == ["m05.py"]
        ids = {chunk.id for chunk in workspace.db.iter_chunks()}
        assert "m04.py::changed_after_the_scan" in ids and "m04.py::f4" not in ids
        assert "m00.py::f0" in ids and not any(i.startswith(("m01.py", "m02.py", "m03.py", "m05.py")) for i in ids)
    monkeypatch.setattr(indexer, "scan_workspace", real_scan)
    with WorkspaceService.open(root, Settings(database_path=str(db), max_file_size_kb=64)) as workspace:
        workspace.refresh()
        assert workspace.db.dump() == dump_index(root, tmp_path / "fresh.sqlite3", max_file_size_kb=64)


def test_a_fifo_and_dangling_links_named_py_are_skipped(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    _make(root, 2)
    os.mkfifo(root / "pipe.py")
    (root / "dangling.py").symlink_to(root / "missing.py")
    with WorkspaceService.open(root, Settings(database_path=str(tmp_path / "index.sqlite3"))) as workspace:
        report = workspace.refresh()
    assert report.files == 2
    assert report.skipped_examples["not a regular file"] == ["pipe.py"]
    assert report.skipped_examples["vanished while scanning"] == ["dangling.py"]


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    """A folder another user can enter (pytest's own temporary folders are private)."""
    folder = Path(tempfile.mkdtemp(prefix="aurora-perm-"))
    folder.chmod(0o777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_an_unreadable_file_is_skipped_and_reported(shared_folder: Path) -> None:
    root = shared_folder / "ws"
    root.mkdir(mode=0o777)
    _make(root, 3)
    secret = root / "m01.py"
    secret.chmod(0o000)
    db = shared_folder / "index.sqlite3"
    dump_index(root, shared_folder / "warm-up.sqlite3")  # every module the refresh needs is imported
    # root reads any file: index as an ordinary user (effective uid only, restored after)
    demoted = os.geteuid() == 0
    if demoted:
        os.seteuid(65534)
    try:
        with WorkspaceService.open(root, Settings(database_path=str(db))) as workspace:
            report = workspace.refresh()
    finally:
        if demoted:
            os.seteuid(0)
    assert report.files == 2
    assert report.skipped_examples["unreadable"] == ["m01.py"]


def test_a_50_mb_generated_file_is_skipped_unread(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    _make(root, 2)
    with open(root / "schema_generated.py", "w", encoding="utf-8") as handle:
        line = "FIELD_%07d = {'type': 'string', 'max_length': 255}\n"
        handle.writelines(line % index for index in range(1_000_000))
    assert (root / "schema_generated.py").stat().st_size > 50 * 1024 * 1024
    with WorkspaceService.open(root, Settings(database_path=str(tmp_path / "index.sqlite3"))) as workspace:
        report = workspace.refresh()
    assert report.files == 2
    assert report.skipped_examples["over maxFileSizeKb"] == ["schema_generated.py"]
