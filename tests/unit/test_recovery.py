"""A damaged, newer, foreign, unwritable or full database: detected, moved aside or kept in
memory, the person told once, and nothing lost that can be rebuilt."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest
from aurora_lsp.config import Settings
from aurora_lsp.store.recovery import open_store
from aurora_lsp.store.sqlite import SCHEMA_VERSION, StoreError
from aurora_lsp.workspace.service import WorkspaceService
from conftest import ask, dump_index


def _reopen_and_refresh(shop: Path, db: Path) -> tuple[str | None, dict[str, list[tuple[object, ...]]]]:
    with WorkspaceService.open(shop, Settings(database_path=str(db))) as workspace:
        notice = workspace.notice
        workspace.refresh()
        return notice, workspace.db.dump()


def _damage_truncate(db: Path) -> None:
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 3])


def _damage_garbage(db: Path) -> None:
    data = bytearray(db.read_bytes())
    data[100:4196] = b"\xde\xad\xbe\xef" * 1024  # the schema page and beyond
    db.write_bytes(bytes(data))


def _damage_future_schema(db: Path) -> None:
    with sqlite3.connect(db) as connection:
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")


def _damage_wrong_schema(db: Path) -> None:
    with sqlite3.connect(db) as connection:  # claims an older schema than its tables have
        connection.execute("PRAGMA user_version = 1")


@pytest.mark.parametrize("damage", [_damage_truncate, _damage_garbage, _damage_future_schema, _damage_wrong_schema])
def test_a_damaged_database_is_moved_aside_and_rebuilt(shop: Path, tmp_path: Path, damage: object) -> None:
    db = tmp_path / "index.sqlite3"
    fresh = dump_index(shop, db)
    damaged_bytes = None
    for side in ("-wal", "-shm"):
        Path(str(db) + side).unlink(missing_ok=True)
    damage(db)  # type: ignore[operator]
    damaged_bytes = db.read_bytes()
    notice, rebuilt = _reopen_and_refresh(shop, db)
    assert notice is not None and "\n" not in notice
    assert "moved to index.sqlite3.damaged-" in notice
    assert rebuilt == fresh
    kept = [
        path for path in tmp_path.iterdir() if ".damaged-" in path.name and not path.name.endswith(("-wal", "-shm"))
    ]
    assert len(kept) == 1 and kept[0].read_bytes() == damaged_bytes  # moved, never deleted
    # told once: the next open finds a healthy database
    again, _ = _reopen_and_refresh(shop, db)
    assert again is None


def test_someone_elses_database_is_left_alone(shop: Path, tmp_path: Path) -> None:
    db = tmp_path / "notes.sqlite3"
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE notes (text)")
        connection.execute("INSERT INTO notes VALUES ('mine')")
    with pytest.raises(StoreError, match="not Aurora's"):
        open_store(db)
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT text FROM notes").fetchall() == [("mine",)]
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.startswith("notes")) == ["notes.sqlite3"]


def test_an_unwritable_location_keeps_the_index_in_memory(shop: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the database folder should be")
    settings = Settings(database_path=str(blocker / "index.sqlite3"))
    with WorkspaceService.open(shop, settings) as workspace:
        assert workspace.notice is not None and "in memory" in workspace.notice
        report = workspace.refresh()
        assert report.chunks == 21
        assert workspace.db.memory_name is not None
        answer = ask(workspace, None, None, query="apply_discount")
        assert answer["items"][0]["id"] == "shop/services/pricing.py::apply_discount"
        assert workspace.figures().database.bytes > 0
    assert blocker.read_text().startswith("a file")


def test_a_full_disk_during_a_refresh_moves_the_index_to_memory(shop: Path, tmp_path: Path) -> None:
    db = tmp_path / "index.sqlite3"
    # more than the empty tables' first pages hold (shop alone fits in them)
    functions = (
        f'def step_{n}(value):\n    """Step {n} of the pipeline."""\n    return value + {n}\n' for n in range(300)
    )
    (shop / "shop" / "steps.py").write_text("\n\n".join(functions))
    fresh = dump_index(shop, tmp_path / "reference.sqlite3")
    with WorkspaceService.open(shop, Settings(database_path=str(db))) as workspace:
        assert workspace.notice is None
        pages = workspace.db.db.execute("PRAGMA page_count").fetchone()[0]
        workspace.db.db.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full: no page more
        report = workspace.refresh()
        assert workspace.notice is not None and "disk is full" in workspace.notice
        assert "in memory" in workspace.notice
        assert report.chunks == 21 + 300
        assert workspace.db.dump() == fresh


def test_the_database_is_readable_by_its_owner_only(shop: Path, tmp_path: Path) -> None:
    db = tmp_path / "cache" / "aurora" / "index.sqlite3"
    dump_index(shop, db)
    for path in [db, Path(str(db) + "-wal"), Path(str(db) + "-shm")]:
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700


def test_a_second_server_migrating_the_same_new_database_waits_and_skips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aurora_lsp.store.sqlite import SqliteStore

    path = tmp_path / "shared.sqlite3"
    SqliteStore(path).close()  # the first server created and migrated it
    real = SqliteStore.schema_version
    reads = []

    def stale_first_read(self: SqliteStore) -> int:
        """_migrate's first look, before taking the write lock, saw the database still new."""
        reads.append(1)
        return 0 if len(reads) == 2 else real(self)

    monkeypatch.setattr(SqliteStore, "schema_version", stale_first_read)
    second = SqliteStore(path)  # "table files already exists" before the version was read under the lock
    monkeypatch.setattr(SqliteStore, "schema_version", real)
    assert second.schema_version() == SCHEMA_VERSION
    assert second.counts()["chunks"] == 0
    second.close()
