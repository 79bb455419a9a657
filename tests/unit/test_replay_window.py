"""The replay benchmark's view of history (benchmarks/harness/replay.py): which earlier commits
stand for an author's recent work, read from a real git repository made here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from harness.replay import Commit, author_log, changed_qualnames, previous_commits  # noqa: E402

DAY = 86400


def _commit(sha: str, author: str, at: int, files: int = 1) -> Commit:
    return Commit(sha, author, at, tuple((f"f{n}.py", (1,)) for n in range(files)))


def test_previous_commits_are_the_authors_last_few_within_the_window() -> None:
    now = 100 * DAY
    log = [
        _commit("old", "ann", now - 20 * DAY),  # outside 14 days
        _commit("a1", "ann", now - 10 * DAY),
        _commit("bob", "bob", now - 3 * DAY),  # another author
        _commit("a2", "ann", now - 5 * DAY),
        _commit("huge", "ann", now - 4 * DAY, files=11),  # a mass change: not work looked at
        _commit("a3", "ann", now - 2 * DAY),
        _commit("a4", "ann", now - 1),
        _commit("same", "ann", now),  # not strictly earlier
        _commit("later", "ann", now + 1),
    ]
    commit = _commit("now", "ann", now)
    assert [c.sha for c in previous_commits(log, commit)] == ["a2", "a3", "a4"]  # oldest first
    assert [c.sha for c in previous_commits(log, commit, count=10)] == ["a1", "a2", "a3", "a4"]
    assert [c.sha for c in previous_commits(log, commit, window_seconds=3 * DAY)] == ["a3", "a4"]
    assert previous_commits(log, commit, count=0) == []
    assert previous_commits(log, _commit("first", "ann", now - 30 * DAY)) == []
    assert [c.sha for c in previous_commits(log, _commit("b", "bob", now))] == ["bob"]


def _git(repo: Path, *args: str, author: str = "Ann", at: int = 0) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME=author, GIT_AUTHOR_EMAIL=f"{author.lower()}@example.invalid",
               GIT_COMMITTER_NAME="c", GIT_COMMITTER_EMAIL="c@example.invalid",
               GIT_AUTHOR_DATE=f"@{at} +0000", GIT_COMMITTER_DATE=f"@{at} +0000")  # fmt: skip
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env).stdout


def test_the_log_of_a_real_repository_gives_authors_times_and_changed_lines(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    source = repo / "mod.py"
    source.write_text("def first():\n    return 1\n\n\nclass Box:\n    def size(self):\n        return 2\n")
    _git(repo, "add", "mod.py")
    _git(repo, "commit", "-q", "-m", "one", author="Ann", at=1_000_000)
    source.write_text(source.read_text().replace("return 2", "return 3"))
    (repo / "notes.txt").write_text("not python\n")
    _git(repo, "add", "mod.py", "notes.txt")
    _git(repo, "commit", "-q", "-m", "two", author="Bob", at=1_000_000 + DAY)
    source.write_text(source.read_text().replace("return 1", "return 0"))
    _git(repo, "commit", "-q", "-am", "three", author="Ann", at=1_000_000 + 2 * DAY)

    log = author_log(repo / ".git", "main")
    assert [(c.author, c.at) for c in log] == [
        ("Ann", 1_000_000),
        ("Bob", 1_000_000 + DAY),
        ("Ann", 1_000_000 + 2 * DAY),
    ]
    assert log[1].changes == (("mod.py", (7,)),)  # .py files only, the line as the commit left it
    assert log[2].changes == (("mod.py", (2,)),)
    assert [c.sha for c in previous_commits(log, log[2])] == [log[0].sha]  # Ann's, not Bob's
    text = _git(repo, "show", f"{log[1].sha}:mod.py")
    assert changed_qualnames(text, [7, 2, 5]) == ["Box.size", "first", "Box"]
    assert changed_qualnames("print 'python 2'\n", [1]) == []
