"""The pinned real workspaces: published archives, downloaded, sha256-checked and unpacked.

Wheels (WHEELS: Django, sympy, pytest and the scale benchmark's 25) are fetched with
`pip download --no-deps --only-binary=:all:`, the flask sdist (SDISTS) with
`--no-binary=:all:`; each archive is checked against its pinned sha256 and unpacked under
benchmarks/.cache/src (reused once an unpack completed; file times kept from the archive,
as `unzip` does). Every script that measures real code gets its workspace here.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

from harness.paths import CACHE

ARCHIVES = CACHE / "wheels"  # the downloaded archives (wheels and sdists)
SOURCES = CACHE / "src"  # their unpacked trees

WHEELS: dict[str, dict[str, str]] = {
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
    # the branch switch of refresh_bench.py: this tree indexed, then replaced by 1.14.0's
    "sympy-1.13.3": {
        "requirement": "sympy==1.13.3",
        "wheel": "sympy-1.13.3-py3-none-any.whl",
        "sha256": "54612cf55a62755ee71824ce692986f23c88ffa77207b30c1368eda4a7060f73",
    },
    # the co-change evaluation's workspace (context_quality.py); not indexed by index_bench.py by default
    "pytest": {
        "requirement": "pytest==8.3.5",
        "wheel": "pytest-8.3.5-py3-none-any.whl",
        "sha256": "c69214aa47deac29fad6c2a4f590b9c4a9fdb16a403176fe154b79c0b4d4d820",
    },
    # the scale benchmark's wheels (scale_bench.py), each sha256 checked against PyPI's;
    # not indexed by index_bench.py by default
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
# Source distributions: the project's tree as its authors ship it (sources, tests, docs,
# examples), not an installed package. lsp_bench.py's flask workspace; the digest is PyPI's.
SDISTS: dict[str, dict[str, str]] = {
    "flask": {
        "requirement": "flask==3.1.3",
        "sdist": "flask-3.1.3.tar.gz",
        "sha256": "0ef0e52b8a9cd932855379197dd8f94047b359ca0a78695144304cb45f87c9eb",
    },
}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(requirement: str, filename: str, sha256: str, *, binary: bool) -> Path:
    """A pinned archive, downloaded with pip unless already cached; its sha256 checked."""
    archive = ARCHIVES / filename
    if not archive.exists():
        ARCHIVES.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable, "-m", "pip", "download", "--no-deps",
            "--only-binary=:all:" if binary else "--no-binary=:all:",
            "--disable-pip-version-check", "--no-input", "--dest", str(ARCHIVES), requirement,
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
    spec = WHEELS[name]
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


def unpack_wheel(name: str, wheel: Path) -> Path:
    """The wheel unpacked into its own folder (reused when a previous unpack completed)."""

    def extract(into: Path) -> Path:
        with zipfile.ZipFile(wheel) as archive:
            for info in archive.infolist():
                written = Path(archive.extract(info, into))
                stamp = time.mktime((*info.date_time, 0, 0, -1))
                os.utime(written, (stamp, stamp))
        return into

    return _unpacked(SOURCES / wheel.name.removesuffix(".whl"), WHEELS[name]["sha256"], extract)


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


def wheel_workspace(name: str) -> tuple[Path, Path]:
    """(the unpacked tree, the wheel) of the pinned wheel `name`, fetched and unpacked if need be."""
    wheel = fetch_wheel(name)
    return unpack_wheel(name, wheel), wheel


OUTSIDE_GIT = Path(tempfile.gettempdir()) / "aurora-lsp-bench-src"


def outside_git(root: Path) -> Path:
    """A copy of an unpacked workspace (hard links where the file system allows) outside this repository.

    The unpacked trees live under benchmarks/.cache/, which this repository's .gitignore
    ignores; a server that honours the ignore files of an enclosing git repository (ty
    does) would see almost none of the workspace there, which is no editor's situation.
    The copy is made afresh each time, so it always matches the checked archive.
    """
    target = OUTSIDE_GIT / root.name
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)

    def link(source: str, destination: str) -> None:
        try:
            os.link(source, destination)
        except OSError:
            shutil.copy2(source, destination)

    shutil.copytree(root, target, copy_function=link)
    return target.resolve()
