"""Question mode on a real workspace written by the test: the reading rules move the answer."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from aurora_lsp import protocol
from aurora_lsp.context.engine import ContextEngine, ContextRequest
from aurora_lsp.context.question import ALL_PARTS, QuestionParts
from conftest import open_workspace

FILES = {
    "tool/cli.py": '''
def add_options(parser):
    """Declare the command-line options."""
    parser.add_argument("--collect-only", action="store_true", help="only collect tests")
    parser.add_argument("--verbose", action="store_true")


def collect_items(session, only=None):
    """Collect the items of a session, only those asked for."""
    return [item for item in session.items if only is None or item in only]


def collect_only_marked(items, only_marked):
    return [item for item in items if item.marked or not only_marked]


@command("routes")
def routes_command(app):
    """Show the routes of the app."""
    for rule in app.rules:
        print(rule)


def list_routes(app):
    return sorted(rule.endpoint for rule in app.rules)
''',
    "tool/blueprints.py": """
class Blueprint:
    def __init__(self, name):
        if "." in name:
            raise ValueError(f"Blueprint names should not contain dots: {name!r}")
        self.name = name

    def register(self, app):
        app.blueprints[self.name] = self
""",
    "tool/info.py": """
class ExceptionInfo:
    def __init__(self, value):
        self._value = value

    @property
    def value(self):
        return self._value

    def __str__(self):
        return "<ExceptionInfo>"


class Record:
    def __str__(self):
        return "record"


class Row:
    def __str__(self):
        return "row"


class Recorder:
    def list(self):
        return []
""",
    "tool/chain.py": """
def a_start(x):
    return b_step(x)


def b_step(x):
    return c_divide(x)


def c_divide(x):
    return 1 / x
""",
}


def _answer(root: Path, tmp_path: Path, query: str, parts: QuestionParts = ALL_PARTS) -> list[tuple[str, str]]:
    """(id, why) of the answer's items, best first."""
    with open_workspace(root, tmp_path / f"index-{len(list(tmp_path.iterdir()))}.sqlite3") as workspace:
        workspace.refresh()
        engine = ContextEngine(workspace.shown_root, workspace.chunks)
        answer = engine.answer(ContextRequest(query=query, token_budget=2000), time.time(), None, parts)
    return [(item["id"], item["why"]) for item in protocol.to_wire(answer)["items"]]


def _workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    for path, text in FILES.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text.lstrip())
    return root


def test_an_option_the_question_quotes_names_the_chunk_that_declares_it(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    question = "pytest --collect-only needs a one char shortcut; I collect only a few items"
    first_id, why = _answer(root, tmp_path, question)[0]
    assert first_id == "tool/cli.py::add_options" and "says what the question quotes" in why
    without = _answer(root, tmp_path, question, QuestionParts(literals=False))
    assert all("quotes" not in why for _, why in without)


def test_a_subcommand_of_a_shell_line_names_the_command(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    question = "Routes should show their domain\n```\n$ tool routes\nEndpoint  Methods  Rule\n```"
    assert _answer(root, tmp_path, question)[0][0] == "tool/cli.py::routes_command"


def test_an_error_message_names_the_chunk_whose_string_says_it(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    question = "Registering fails:\nValueError: Blueprint names should not contain dots: 'admin.site'"
    first_id, why = _answer(root, tmp_path, question)[0]
    assert first_id == "tool/blueprints.py::Blueprint.__init__" and "quotes" in why


def test_str_of_a_variable_whose_attribute_is_named_means_that_class_s_str(tmp_path: Path) -> None:
    """`e.value` is ExceptionInfo.value; so `str(e)` is its `__str__`, not Record's or Row's;
    `list(range(3))` is Python's list, not Recorder.list."""
    root = _workspace(tmp_path)
    question = "str(e) prints something else than str(e.value) does; list(range(3)) works"
    ids = [cid for cid, _ in _answer(root, tmp_path, question)]
    assert set(ids[:3]) == {
        "tool/info.py::ExceptionInfo.value",
        "tool/info.py::ExceptionInfo.__str__",
        "tool/info.py::ExceptionInfo",
    }
    why = dict(_answer(root, tmp_path, question))
    assert "name matches exactly" not in why.get("tool/info.py::Recorder.list", "")
    off = dict(_answer(root, tmp_path, question, QuestionParts(siblings=False, python_names=False)))
    assert "name matches exactly" in off["tool/info.py::Recorder.list"]


def test_the_frame_nearest_the_error_comes_before_its_callers(tmp_path: Path) -> None:
    """a_start and c_divide each call or are called by b_step alone: without the order they
    tie, and the tie goes to the first id."""
    root = _workspace(tmp_path)
    question = """Traceback (most recent call last):
  File "tool/chain.py", line 2, in a_start
  File "tool/chain.py", line 6, in b_step
  File "tool/chain.py", line 10, in c_divide
ZeroDivisionError: division by zero"""
    ids = [cid for cid, _ in _answer(root, tmp_path, question)]
    assert ids.index("tool/chain.py::c_divide") < ids.index("tool/chain.py::a_start")
    unordered = [cid for cid, _ in _answer(root, tmp_path, question, QuestionParts(frame_order=False))]
    assert unordered.index("tool/chain.py::a_start") < unordered.index("tool/chain.py::c_divide")


def test_the_text_matches_are_fused_by_rank_and_score() -> None:
    """A chunk second in both lists outranks one first in names and last in text words; a
    chunk the question names gets the exact-name bonus on top."""
    from aurora_lsp.context.activation import ActivationParameters
    from aurora_lsp.context.ranking import QueryMatches, _fused

    found = QueryMatches(
        bm25={"a": -50.0, "b": -2.0, "c": -1.0},
        named={},
        how={},
        body={"c": -9.0, "b": -8.0, "d": -5.0, "a": -1.0},
    )
    fused = _fused(found, 4.0, 2.0, ActivationParameters())
    assert fused["b"] > fused["a"]
    named = _fused(QueryMatches(found.bm25, {"c": 1.0}, {}, found.body), 4.0, 2.0, ActivationParameters())
    assert named["c"] - fused["c"] == pytest.approx(2.0)


def test_several_best_matches_in_one_file_lift_that_file_s_matches() -> None:
    from aurora_lsp.context.ranking import _add_file_evidence

    contexts = {"a.py::x": 10.0, "a.py::y": 8.8, "b.py::z": 9.0}
    _add_file_evidence(contexts)
    assert contexts["b.py::z"] == 9.0 and contexts["a.py::x"] > 10.0
    assert contexts["a.py::y"] > contexts["b.py::z"]
