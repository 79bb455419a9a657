"""Reading a question: the code it names before the prose around it."""

from __future__ import annotations

from aurora_lsp.context.question import path_suffixes, read_question

ISSUE = """\
Session.request breaks with bytes

When I call `requests.get(url)` the method goes through builtin_str in requests/sessions.py:

Traceback (most recent call last):
  File "/usr/lib/python3/site-packages/requests/sessions.py", line 12, in request
    method = builtin_str(method)
src/_pytest/python.py:120: in collect
"""


def test_mentions_come_first_and_prose_words_are_not_mentions() -> None:
    question = read_question(ISSUE)
    assert {"request", "Session", "get", "requests", "builtin_str", "collect"} <= set(question.mentions)
    assert "bytes" not in question.mentions and "When" not in question.mentions
    assert "bytes" in question.words
    assert question.words[: len(question.mentions)] == question.mentions
    assert ("request", "Session.request") in question.qualified


def test_traceback_frames_nearest_the_error_first_and_files_named() -> None:
    question = read_question(ISSUE)
    assert question.frames == (
        ("src/_pytest/python.py", "collect"),
        ("/usr/lib/python3/site-packages/requests/sessions.py", "request"),
    )
    assert "requests/sessions.py" in question.paths
    assert path_suffixes("/usr/lib/requests/sessions.py") == [
        "usr/lib/requests/sessions.py",
        "lib/requests/sessions.py",
        "requests/sessions.py",
        "sessions.py",
    ]


def test_a_few_words_are_all_names() -> None:
    assert read_question("flush buffer").mentions == ("flush", "buffer")


def test_hostile_text_is_read_and_names_no_file() -> None:
    """The patterns are linear: quadratic ones took minutes on these (no clock asserted here)."""
    hostile = ("a" * 50_000, "." * 50_000, "x.py" * 20_000, 'File "' * 20_000, "a(" * 30_000, "ab.cd" * 20_000)
    for text in hostile + ("A" * 50_000 + "Error", "$ " + "a" * 50_000, "--a" * 20_000, "aa-" * 30_000):
        question = read_question(text)
        assert question.frames == () and question.paths == ()


def test_each_reading_part_can_be_turned_off_for_the_ablation() -> None:
    from aurora_lsp.context.question import QuestionParts

    assert read_question(ISSUE, QuestionParts(tracebacks=False)).frames == ()
    assert "requests/sessions.py" not in read_question(ISSUE, QuestionParts(tracebacks=False)).paths
    no_mentions = read_question("the `flush` of Session.request breaks", QuestionParts(mentions=False))
    assert no_mentions.mentions == ("flush",) and no_mentions.qualified == ()
    assert read_question("the `flush` of x breaks badly", QuestionParts(backticks=False)).mentions == ()


def test_python_s_own_names_and_variables_are_not_mentions() -> None:
    """`list(` and `e` name nothing of the workspace; `str(e)` asks `__str__`; the head `app`
    of `app.register_blueprint` is a variable, the tail and a class head are code."""
    question = read_question(
        "str(e) is not e.value: list(range(3)) and app.register_blueprint(bp) and Config.from_file"
    )
    assert {"__str__", "value", "register_blueprint", "Config", "from_file"} <= set(question.mentions)
    assert not {"str", "e", "list", "range", "app"} & set(question.mentions)
    from aurora_lsp.context.question import QuestionParts

    plain = read_question("str(e) and app.run", QuestionParts(python_names=False)).mentions
    assert {"str", "app"} <= set(plain)


def test_options_subcommands_and_error_messages_are_literals() -> None:
    text = """`pytest --collect-only` is long to type
```
$ flask routes --all
$ pip list
ValueError: Blueprint names should not contain dots: 'a.b'
AttributeError: 'Logger' has no attribute 'store'
```"""
    question = read_question(text)
    assert question.literals == ("--collect-only", "--all", "routes", "Blueprint names should not contain dots")
    from aurora_lsp.context.question import QuestionParts

    assert read_question(text, QuestionParts(literals=False)).literals == ()


def test_the_standard_library_stop_words_and_hyphens() -> None:
    """`os.mkdir(` is Python's; "re-writer" is also read as "rewriter"; "the" and "a" give no word."""
    question = read_question("the os.mkdir(out) call and a monkeypatch.chdir(d) in the assertion re-writer")
    assert "mkdir" not in question.mentions and "chdir" in question.mentions
    assert "rewriter" in question.words and not {"the", "a", "and", "in", "os"} & set(question.words)
    from aurora_lsp.context.question import QuestionParts

    assert "rewriter" not in read_question("the re-writer", QuestionParts(hyphenated=False)).words
    assert "the" in read_question("the re-writer", QuestionParts(stop_words=False)).words
