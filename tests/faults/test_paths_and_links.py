"""Faults of paths and links: canonical inside, the editor's own form outside, nothing
read from outside the workspace roots.

- A workspace opened through a symlinked path (macOS /tmp and /var, symlinked home folders)
  works as if opened directly, and answers with the paths the editor used.
- A symlinked file whose target leaves the workspace is never read, and counted as skipped.
- A document URI that leaves the folder with `..` belongs to no folder.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from aurora_lsp.index.scan import SKIP_LINK_OUTSIDE, scan_workspace
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsp_client import eventually, outline, request, run_cli, start_server, symbols
from lsprotocol import types

SECRET = "exfiltrated_marker_value"


def _outside_secret(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir(exist_ok=True)
    secret = outside / "secret.py"
    secret.write_text(f'def secret_token():\n    return "{SECRET}"\n')
    return secret


@pytest.mark.asyncio
async def test_a_workspace_opened_through_a_symlink_works_and_answers_in_its_form(shop: Path, tmp_path: Path) -> None:
    link = tmp_path / "link-to-shop"
    link.symlink_to(shop, target_is_directory=True)
    client = await start_server(link, tmp_path / "index.sqlite3")
    try:
        pricing = link / "shop" / "services" / "pricing.py"
        # a file not open: its outline comes from the index
        assert [symbol.name for symbol in await outline(client, pricing)]
        found = await symbols(client, "Cart")
        assert found and found[0].location.uri == (link / "shop" / "models" / "cart.py").as_uri()
        line = next(i for i, text in enumerate(pricing.read_text().splitlines()) if "def " in text)
        answer = await request(
            client,
            "aurora/context",
            {"textDocument": {"uri": pricing.as_uri()}, "position": {"line": line + 1, "character": 4}},
        )
        assert answer["focus"] is not None and answer["focus"].startswith("shop/services/pricing.py::")
        assert all(item["uri"].startswith(link.as_uri() + "/") for item in answer["items"])
        # unsaved edits reach workspace/symbol
        uri = pricing.as_uri()
        text = pricing.read_text() + "\n\ndef only_in_the_editor_buffer():\n    return 1\n"
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text))
        )

        async def edited() -> bool:
            return [s.location.uri for s in await symbols(client, "only_in_the_editor_buffer")] == [uri]

        await eventually(edited)
    finally:
        await client.shutdown_session()


def test_a_symlinked_file_leaving_the_workspace_is_never_read(shop: Path, tmp_path: Path) -> None:
    secret = _outside_secret(tmp_path)
    (shop / "leak.py").symlink_to(secret)
    (shop / "inside.py").symlink_to(shop / "shop" / "models" / "cart.py")  # inside: read as usual
    db = str(tmp_path / "index.sqlite3")
    indexed = run_cli("index", str(shop), "--db", db, "--json")
    assert indexed.returncode == 0, indexed.stderr
    assert '"symlink leaving the workspace": 1' in indexed.stdout
    for query in (["symbols", str(shop), "secret_token"], ["context", str(shop), "--query", "secret token"]):
        answer = run_cli(*query, "--db", db, "--json", "--no-refresh")
        assert answer.returncode == 0 and SECRET not in answer.stdout and "secret_token" not in answer.stdout
    assert "inside.py" in run_cli("symbols", str(shop), "Cart", "--db", db, "--no-refresh").stdout


@pytest.mark.asyncio
async def test_uris_leaving_the_folder_with_dot_dot_or_a_link_get_nothing_in(shop: Path, tmp_path: Path) -> None:
    secret = _outside_secret(tmp_path)
    (shop / "leak.py").symlink_to(secret)
    client = await start_server(shop, tmp_path / "index.sqlite3")
    try:
        escaping = f"{shop.as_uri()}/shop/../../outside/escaped.py"
        for uri in (escaping, (shop / "leak.py").as_uri()):
            text = "def opened_outside_the_folder():\n    return 1\n"
            client.text_document_did_open(
                types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, text))
            )
        await request(client, "aurora/reindex", {})
        assert await symbols(client, "opened_outside_the_folder") == []
        # (the test client turns stats' reason keys into _0, _1: read them as JSON from the same database)
        stats = run_cli("stats", str(shop), "--db", str(tmp_path / "index.sqlite3"), "--json", "--no-refresh")
        assert json.loads(stats.stdout)["skipped"][SKIP_LINK_OUTSIDE] == 1
        answer = await request(
            client, "aurora/context", {"textDocument": {"uri": escaping}, "position": {"line": 0, "character": 4}}
        )
        assert answer["focus"] is None
    finally:
        await client.shutdown_session()


layouts = st.lists(
    st.tuples(
        st.sampled_from(["a.py", "b.py", "sub/c.py", "sub/d.py", "sub/deeper/e.py", "loop.py", "sub"]),
        st.sampled_from(["inside-file", "inside-folder", "outside-file", "outside-folder", "self", "dangling"]),
    ),
    max_size=6,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(layouts)
def test_random_symlink_layouts_never_read_outside(tmp_path: Path, layout: list[tuple[str, str]]) -> None:
    base = Path(tempfile.mkdtemp(dir=tmp_path))  # hypothesis runs many examples in one tmp_path
    root, outside = base / "root", base / "outside"
    for folder in (root / "sub" / "deeper", outside / "pkg"):
        folder.mkdir(parents=True, exist_ok=True)
    (root / "real.py").write_text("def real():\n    return 1\n")
    (outside / "pkg" / "far.py").write_text(f"X = '{SECRET}'\n")
    (outside / "far.py").write_text(f"X = '{SECRET}'\n")
    targets = {
        "inside-file": root / "real.py",
        "inside-folder": root / "sub",
        "outside-file": outside / "far.py",
        "outside-folder": outside / "pkg",
        "dangling": base / "nowhere.py",
    }
    for name, kind in layout:
        link = root / name
        if link.exists() or link.is_symlink():
            continue
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(link if kind == "self" else targets[kind])
    result = scan_workspace(root)
    real_root = os.path.realpath(root)
    for scanned in result.files:
        assert os.path.realpath(scanned.absolute).startswith(real_root + os.sep), scanned
        assert not os.path.islink(scanned.absolute)  # what is read is never a link
    outside_links = sum(
        1
        for name, kind in layout
        if kind in ("outside-file", "dangling") and (root / name).is_symlink() and name.endswith(".py")
    )
    assert result.skipped[SKIP_LINK_OUTSIDE] <= outside_links
    shutil.rmtree(base)
