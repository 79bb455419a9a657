"""Navigation from the edges on a real index: which chunk a cursor names, where users spell it.

The positions are LSP's (0-based lines, UTF-16 columns); the workspace has a character
outside the BMP before a call, a name in a comment and a string, and a nested function.
"""

from __future__ import annotations

from pathlib import Path

from aurora_lsp.context.navigation import Cursor
from aurora_lsp.workspace.service import WorkspaceService
from conftest import open_workspace

SOURCE = """\
def helper(value):
    return value


def caller():
    label = "😀"; return helper(1)  # helper again in a comment


def outer():
    text = "helper"

    def inner():
        return helper(2)

    return inner() + helper(3)


class Base:
    pass


class Child(Base):
    def method(self):
        return helper(4)
"""


def workspace(tmp_path: Path) -> WorkspaceService:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "mod.py").write_text(SOURCE, encoding="utf-8")
    service = open_workspace(root, tmp_path / "index.sqlite3")
    service.refresh()
    return service


def test_references_are_the_places_each_user_spells_the_name(tmp_path: Path) -> None:
    with workspace(tmp_path) as service:
        subject, places = service.references(Cursor("mod.py", 0, 6), include_declaration=True)
        assert subject is not None and subject.id == "mod.py::helper"
        # caller: after "😀" (two UTF-16 units), not in the comment; outer: not in the string nor
        # in inner (which has its own edge); inner and Child.method: their own calls
        assert [place.range for place in places] == [
            (0, 4, 0, 10),
            (5, 25, 5, 31),
            (12, 15, 12, 21),
            (14, 21, 14, 27),
            (23, 15, 23, 21),
        ]
        _, without = service.references(Cursor("mod.py", 0, 6), include_declaration=False)
        assert [place.range for place in without] == [place.range for place in places[1:]]


def test_the_cursor_names_the_call_the_class_or_the_chunk_around_it(tmp_path: Path) -> None:
    with workspace(tmp_path) as service:
        assert service.subject_at(Cursor("mod.py", 5, 27)).id == "mod.py::helper"  # on the call, after 😀
        assert service.subject_at(Cursor("mod.py", 5, 4)) is None  # `label`, a local: names no chunk
        assert service.subject_at(Cursor("mod.py", 5, 19)).id == "mod.py::caller"  # on `return`, a keyword
        assert service.subject_at(Cursor("mod.py", 21, 13)).id == "mod.py::Base"  # `class Child(Base)`
        assert service.subject_at(Cursor("mod.py", 22, 8), classes_only=True).id == "mod.py::Child"
        assert service.subject_at(Cursor("mod.py", 40, 0)) is None
        # a closure, named in its parent; an open document's outline stands in for the stored one
        live = service.file_chunks("mod.py")
        assert service.subject_at(Cursor("mod.py", 14, 12, live, "    return inner() + helper(3)\n")).id == (
            "mod.py::outer.inner"
        )


def test_calls_and_types_follow_their_edges(tmp_path: Path) -> None:
    with workspace(tmp_path) as service:
        subject, callers = service.calls("mod.py::helper", incoming=True)
        assert [(call.chunk.id, call.ranges) for call in callers] == [
            ("mod.py::Child.method", ((23, 15, 23, 21),)),
            ("mod.py::caller", ((5, 25, 5, 31),)),
            ("mod.py::outer", ((14, 21, 14, 27),)),
            ("mod.py::outer.inner", ((12, 15, 12, 21),)),
        ]
        _, callees = service.calls("mod.py::outer", incoming=False)
        # a closure's call is no edge (resolution leaves names bound in the scope alone)
        assert [(call.chunk.id, call.ranges) for call in callees] == [("mod.py::helper", ((14, 21, 14, 27),))]
        _, subclasses = service.type_relatives("mod.py::Base", supertypes=False)
        assert [chunk.id for chunk in subclasses] == ["mod.py::Child"]
        _, bases = service.type_relatives(Cursor("mod.py", 21, 8), supertypes=True)
        assert [chunk.id for chunk in bases] == ["mod.py::Base"]
        assert service.calls("mod.py::nothing", incoming=True) == (None, [])
