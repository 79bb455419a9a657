"""The workspace walk: ignores, excludes, size limit, symlinks; every skip counted."""

from __future__ import annotations

import os
from pathlib import Path

from aurora_lsp.index import scan


def write(path: Path, text: str = "def f():\n    pass\n") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_fixture_skips_are_reported_by_reason(shop: Path) -> None:
    result = scan.scan_workspace(shop)
    paths = [f.path for f in result.files]
    assert "shop/models/cart.py" in paths
    assert not any(p.startswith(("build/", "scratch/")) for p in paths)
    assert "shop/schema_generated.py" not in paths
    assert result.skipped[scan.SKIP_GITIGNORE] == 2
    assert result.skipped[scan.SKIP_FOLDER] == 1
    assert result.examples[scan.SKIP_GITIGNORE] == ["scratch/", "shop/schema_generated.py"]


def test_nested_gitignore_and_negation(tmp_path: Path) -> None:
    write(tmp_path / ".gitignore", "gen_*.py\n")
    write(tmp_path / "pkg" / ".gitignore", "!gen_keep.py\nlocal.py\n")
    for name in ("gen_a.py", "gen_keep.py", "local.py", "real.py"):
        write(tmp_path / "pkg" / name)
    write(tmp_path / "local.py")
    paths = [f.path for f in scan.scan_workspace(tmp_path).files]
    assert paths == ["local.py", "pkg/gen_keep.py", "pkg/real.py"]


def test_exclude_globs_size_limit_and_virtualenvs(tmp_path: Path) -> None:
    write(tmp_path / "app" / "main.py")
    write(tmp_path / "app" / "migrations" / "0001.py")
    write(tmp_path / "app" / "big.py", "x = 1\n" * 400)  # 2.4 KB
    write(tmp_path / "myenv" / "pyvenv.cfg", "home = /usr\n")
    write(tmp_path / "myenv" / "lib" / "mod.py")
    write(tmp_path / "node_modules" / "x.py")
    result = scan.scan_workspace(tmp_path, exclude=["migrations/"], max_file_size_kb=1)
    assert [f.path for f in result.files] == ["app/main.py"]
    assert result.skipped[scan.SKIP_EXCLUDE] == 1
    assert result.skipped[scan.SKIP_TOO_LARGE] == 1
    assert result.skipped[scan.SKIP_FOLDER] == 2


def test_symlink_loop_is_not_followed(tmp_path: Path) -> None:
    write(tmp_path / "pkg" / "mod.py")
    os.symlink(tmp_path, tmp_path / "pkg" / "loop")
    os.symlink(tmp_path / "pkg" / "mod.py", tmp_path / "alias.py")
    result = scan.scan_workspace(tmp_path)
    assert [f.path for f in result.files] == ["alias.py", "pkg/mod.py"]
    assert result.skipped[scan.SKIP_SYMLINK_DIR] == 1


def test_hostile_gitignore_ignores_nothing_it_cannot_parse(tmp_path: Path) -> None:
    write(tmp_path / ".gitignore", "[\n\\\n**/***\n" + "a" * 5000 + "\n")
    write(tmp_path / "keep.py")
    assert [f.path for f in scan.scan_workspace(tmp_path).files] == ["keep.py"]
