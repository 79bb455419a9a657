"""Learning from git history: real repositories built here with `git`, real SQLite."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from aurora_lsp.context.related import related
from aurora_lsp.index import history
from aurora_lsp.store.sqlite import SCHEMA_VERSION, SqliteStore
from aurora_lsp.workspace.learning import learn_now

from tests.conftest import ask

A_PY = """\
def alpha():
    return 1


def beta():
    return 2


class Gamma:
    def run(self):
        return 3
"""

B_PY = """\
def helper():
    return "h"


def other():
    return "o"
"""


def git(repo: Path, *args: str) -> str:
    environment = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    done = subprocess.run(["git", *args], cwd=repo, env=environment, capture_output=True, text=True, check=True)
    return done.stdout


def edit(repo: Path, path: str, old: str, new: str) -> None:
    file = repo / path
    file.write_text(file.read_text().replace(old, new))


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """a.py and b.py; alpha and helper changed together twice after the first commit, Gamma.run alone once."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "a.py").write_text(A_PY)
    (root / "b.py").write_text(B_PY)
    commit(root, "first")
    for number in (10, 20):
        edit(root, "a.py", "return 1" if number == 10 else "return 10", f"return {number}")
        edit(root, "b.py", '"h"' if number == 10 else '"h10"', f'"h{number}"')
        commit(root, f"alpha and helper {number}")
    edit(root, "a.py", "return 3", "return 30")
    commit(root, "run alone")
    return root


def test_hunks_map_to_the_innermost_chunks_they_touch(repo: Path) -> None:
    mined = history.mine(repo)
    assert mined is not None and mined.complete
    assert mined.commits == 4
    assert mined.chunk_changes["a.py::alpha"] == 3  # added, then changed twice
    assert mined.chunk_changes["b.py::helper"] == 3
    assert mined.chunk_changes["a.py::Gamma.run"] == 2
    assert mined.chunk_changes["a.py::Gamma"] == 1  # only when added: a method's change is the method's
    assert mined.chunk_changes["a.py::beta"] == 1
    assert mined.pairs[("a.py::alpha", "b.py::helper")] == 3
    assert mined.pairs[("a.py::Gamma.run", "b.py::helper")] == 1
    assert mined.pairs[("a.py", "b.py")] == 3  # the file grain


def test_progress_is_told_the_commits_read(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history, "PROGRESS_EVERY", 3)
    told: list[int] = []
    mined = history.mine(repo, progress=told.append)
    assert mined is not None and mined.seen == 4
    assert told == [3, 4]  # every third commit, and the total at the end


def test_a_rename_is_followed_to_todays_path(repo: Path) -> None:
    (repo / "lib").mkdir()
    git(repo, "mv", "b.py", "lib/b.py")
    commit(repo, "move b")
    mined = history.mine(repo)
    assert mined is not None
    assert mined.chunk_changes["lib/b.py::helper"] == 3
    assert "b.py::helper" not in mined.chunk_changes
    assert mined.pairs[("a.py::alpha", "lib/b.py::helper")] == 3


def test_a_huge_commit_and_a_merge_are_not_counted(repo: Path) -> None:
    for index in range(history.MAX_FILES + 1):
        (repo / f"gen_{index}.py").write_text(f"def made_{index}():\n    return {index}\n")
    edit(repo, "a.py", "return 2\n", "return 22\n")
    commit(repo, "vendoring")
    git(repo, "checkout", "-q", "-b", "side")
    edit(repo, "a.py", "return 20", "return 21")
    commit(repo, "side change")
    git(repo, "checkout", "-q", "main")
    edit(repo, "b.py", '"o"', '"o2"')
    commit(repo, "main change")
    git(repo, "merge", "-q", "--no-ff", "-m", "merge side", "side")
    mined = history.mine(repo)
    assert mined is not None
    assert mined.skipped == 1
    assert "gen_0.py::made_0" not in mined.chunk_changes
    assert mined.chunk_changes["a.py::beta"] == 1  # the huge commit's change to beta is not counted
    assert mined.chunk_changes["a.py::alpha"] == 4  # the side commit once, not again through its merge
    assert mined.seen == 7  # four, the huge one, side, main: no merge


def test_learning_is_incremental_and_a_co_changed_chunk_in_another_file_is_explained(
    repo: Path, workspace_factory
) -> None:
    workspace = workspace_factory(repo)
    workspace.refresh()
    first = learn_now(workspace)
    assert first is not None and first.seen == 4
    edit(repo, "a.py", "return 20", "return 40")
    edit(repo, "b.py", '"h20"', '"h40"')
    commit(repo, "once more")
    workspace.refresh()
    second = learn_now(workspace)
    assert second is not None and second.seen == 1  # only the new commit
    assert workspace.db.history_partners(["a.py::alpha"], 5)[0][:3] == ("a.py::alpha", "b.py::helper", 4)
    answer = ask(workspace, "a.py", 0)
    items = {item["id"]: item for item in answer["items"]}
    assert "b.py::helper" in items
    assert "changed together with alpha in 4 of 4 commits" in items["b.py::helper"]["why"]
    assert learn_now(workspace) is not None and workspace.db.history_rows()["pairs"] > 0  # nothing new: no change


def test_related_lists_what_changed_together_most_often_first(repo: Path, workspace_factory) -> None:
    workspace = workspace_factory(repo)
    workspace.refresh()
    subject = workspace.chunks.get("b.py::helper")
    assert subject is not None
    before = related(workspace.chunks, subject, "the id given", "b.py::helper", 10)
    assert before.totals["changedWith"] == 0 and not [i for i in before.items if i.relation == "changedWith"]
    learn_now(workspace)
    answer = related(workspace.chunks, subject, "the id given", "b.py::helper", 10)
    changed = [item for item in answer.items if item.relation == "changedWith"]
    # alpha changed with helper in all 3 of helper's commits, Gamma.run and beta in 1
    assert [item.id for item in changed][:1] == ["a.py::alpha"]
    assert changed[0].why == "changed together with helper in 3 of 3 commits"
    assert changed[0].how == "history"
    assert {item.id for item in changed} >= {"a.py::alpha", "a.py::Gamma.run"}
    assert answer.totals["changedWith"] == len(changed)
    one = related(workspace.chunks, subject, "the id given", "b.py::helper", 1)
    assert [item.id for item in one.items if item.relation == "changedWith"] == ["a.py::alpha"]
    assert one.totals["changedWith"] == answer.totals["changedWith"]


def test_history_off_learns_nothing_and_drops_what_was_learned(repo: Path, workspace_factory) -> None:
    workspace = workspace_factory(repo, history=False)
    workspace.refresh()
    assert learn_now(workspace) is None
    assert workspace.db.history_rows() == {"changes": 0, "pairs": 0}
    items = {item["id"]: item for item in ask(workspace, "a.py", 0)["items"]}
    assert "changed together" not in items.get("b.py::helper", {}).get("why", "")
    on = workspace_factory(repo, "on.sqlite3")
    on.refresh()
    learn_now(on)
    assert on.db.history_rows()["pairs"] > 0
    on.settings.current = workspace.settings.current  # the setting turned off
    assert learn_now(on) is None
    assert on.db.history_rows() == {"changes": 0, "pairs": 0}


def test_no_git_program_or_no_repository_is_no_error(
    repo: Path, tmp_path: Path, workspace_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "a.py").write_text(A_PY)
    workspace = workspace_factory(plain, "plain.sqlite3")
    workspace.refresh()
    assert learn_now(workspace) is None  # not a repository
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    in_repo = workspace_factory(repo, "repo.sqlite3")
    in_repo.refresh()
    assert learn_now(in_repo) is None  # no git program
    assert in_repo.db.history_rows() == {"changes": 0, "pairs": 0}


def test_a_schema_6_database_gains_the_history_tables(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    shutil.copyfile(Path(__file__).parents[1] / "fixtures" / "databases" / "shop-schema-7.sqlite3", path)
    connection = sqlite3.connect(path)  # a schema-7 database as schema 6 left it: no history
    connection.execute("INSERT INTO meta (key, value) VALUES ('kept', 'yes')")
    connection.execute("DROP TABLE history_changes")
    connection.execute("DROP TABLE history_pairs")
    connection.execute("PRAGMA user_version = 6")
    connection.commit()
    connection.close()
    migrated = SqliteStore(path)
    assert migrated.schema_version() == SCHEMA_VERSION == 8
    assert migrated.get_meta("kept") == "yes"
    with migrated.transaction():
        migrated.add_history([("a.py::f", 2), ("a.py::f", 1)], [("a.py::f", "b.py::g", 2, 1.5)])
    assert migrated.history_changes(["a.py::f"]) == {"a.py::f": 3}
    assert migrated.history_partners(["b.py::g"], 5) == [("b.py::g", "a.py::f", 2, 1.5)]
    migrated.close()
