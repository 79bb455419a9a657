"""Token-budget packing: never over the budget, tiers degrade in order, repeats are not uses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from aurora_lsp.context.accesses import repeats_removed, shown_events
from aurora_lsp.context.packing import QUESTION_CLASS_FULL_TOKENS, QUESTION_SIGNATURE_SHARE, pack
from aurora_lsp.context.ranking import Scored
from aurora_lsp.protocol import Activation, ContextAnswer, ContextItem, Range
from aurora_lsp.records import Chunk
from aurora_lsp.tokens import count_tokens
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path("/workspace")


def _chunk(index: int, parent: str | None = None, name: str | None = None) -> Chunk:
    qualname = name or f"f{index}"
    return Chunk(
        f"m.py::{qualname}", "function", index, 0, index, 1, index, 4, f"def {qualname}()", "", (), parent, "h", 1
    )


def _entries(sizes: list[tuple[int, int, int]]) -> tuple[list[Scored], dict[str, dict[str, str]]]:
    entries = []
    texts: dict[str, dict[str, str]] = {}
    for index, (full, signature, name) in enumerate(sizes):
        chunk = _chunk(index)
        entries.append(Scored(chunk.id, base=0.0, spreading=float(len(sizes) - index), context=0.0, chunk=chunk))
        texts[chunk.id] = {"full": "x" * full, "signature": "s" * signature, "name": "n" * name}
    return entries, texts


def _render(texts: dict[str, dict[str, str]]):  # type: ignore[no-untyped-def]
    return lambda chunk, detail: texts[chunk.id][detail]


sizes = st.lists(
    st.tuples(st.integers(1, 4000), st.integers(1, 400), st.integers(1, 60)).map(
        lambda t: (max(t), sorted(t)[1], min(t))
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(sizes, st.integers(1, 9000))
def test_never_over_budget_and_tokens_add_up(size_list: list[tuple[int, int, int]], budget: int) -> None:
    entries, texts = _entries(size_list)
    items = pack(entries, budget, None, _render(texts), ROOT)
    assert sum(item.tokens for item in items) <= budget
    for item in items:
        assert item.tokens == count_tokens(item.text)
    ranks = [int(item.id.split("::f")[1]) for item in items]
    assert ranks == sorted(ranks)  # best first, as ranked


def test_tiers_degrade_in_order_as_the_budget_shrinks() -> None:
    entries, texts = _entries([(400, 40, 8)] * 10)  # 100, 10 and 2 tokens per item
    details = {
        budget: [item.detail for item in pack(entries, budget, None, _render(texts), ROOT)]
        for budget in (2000, 700, 200, 40, 10)
    }
    assert details[2000] == ["full"] * 10
    # full text while its share lasts, then signatures, then names
    assert details[700] == ["full"] * 4 + ["signature"] * 6
    assert details[200] == ["full"] + ["signature"] * 7 + ["name"] * 2
    assert details[40] == ["signature"] * 3 + ["name"] * 5
    assert details[10] == ["name"] * 5
    # a smaller budget never shows an item in more detail than a larger one did
    order = {"full": 2, "signature": 1, "name": 0}
    budgets = sorted(details, reverse=True)
    for larger, smaller in zip(budgets, budgets[1:], strict=False):
        for rich, poor in zip(details[larger], details[smaller], strict=False):
            assert order[poor] <= order[rich]


def test_a_big_item_drops_a_tier_instead_of_swallowing_the_budget() -> None:
    entries, texts = _entries([(40_000, 40, 8), (400, 40, 8)])
    items = pack(entries, 2000, None, _render(texts), ROOT)
    assert [item.detail for item in items] == ["signature", "full"]


def test_a_chunk_inside_one_shown_in_full_is_named_only() -> None:
    outer = _chunk(0, name="Cart")
    inner = _chunk(1, parent=outer.id, name="Cart.add")
    entries = [Scored(outer.id, 0.0, 2.0, 0.0, chunk=outer), Scored(inner.id, 0.0, 1.0, 0.0, chunk=inner)]
    texts = {
        outer.id: {"full": "c" * 80, "signature": "s", "name": "n"},
        inner.id: {"full": "a" * 40, "signature": "s", "name": "n"},
    }
    items = pack(entries, 2000, None, _render(texts), ROOT)
    assert [item.detail for item in items] == ["full", "name"]


def test_an_entry_whose_chunk_left_the_index_is_passed_over() -> None:
    entries, texts = _entries([(40, 8, 4)] * 3)
    entries[1].chunk = None  # ranked, then deleted before packing read it
    items = pack(entries, 2000, None, _render(texts), ROOT)
    assert [item.id for item in items] == [entries[0].chunk_id, entries[2].chunk_id]


def test_packing_stops_reading_entries_once_the_answer_is_full() -> None:
    entries, texts = _entries([(400, 40, 8)] * 50)
    read: list[str] = []

    def ranked() -> Iterator[Scored]:
        for entry in entries:
            read.append(entry.chunk_id)
            yield entry

    items = pack(ranked(), 150, None, _render(texts), ROOT)
    # the answer fills well before the 50th entry; one more is read to see that, not the rest
    assert len(read) == len(items) + 1 < len(entries)


def test_limit_caps_the_items() -> None:
    entries, texts = _entries([(40, 8, 4)] * 10)
    assert len(pack(entries, 2000, 3, _render(texts), ROOT)) == 3


def test_an_answer_records_its_focus_and_full_items_but_not_names() -> None:
    def item(chunk_id: str, detail: str) -> ContextItem:
        activation = Activation(0.0, 0.0, 0.0, 0.0)
        return ContextItem(chunk_id, "", Range.of(0, 0, 0, 0), "", "", "function", detail, "", 1, 0.0, activation, "")

    details = [("m.py::f0", "full"), ("m.py::f1", "full"), ("m.py::f2", "signature"), ("m.py::f3", "name")]
    answer = ContextAnswer("m.py::f0", 2000, 4, [item(chunk_id, detail) for chunk_id, detail in details])
    assert shown_events(answer, 100.0) == [("m.py::f0", 100.0, "focus"), ("m.py::f1", 100.0, "context")]


def test_repeated_answers_are_not_repeated_uses() -> None:
    last: dict[tuple[str, str], float] = {}
    first = repeats_removed([("a", 0.0, "context"), ("b", 0.0, "edit")], last)
    assert len(first) == 2
    # the same answer a minute later: shown chunks stay within their 10-minute window
    again = repeats_removed([("a", 60.0, "context"), ("b", 61.0, "edit")], last)
    assert again == [("b", 61.0, "edit")]
    assert repeats_removed([("a", 700.0, "context")], last) == [("a", 700.0, "context")]


def test_a_question_shows_signatures_to_the_end_of_the_budget_where_a_focus_shows_names() -> None:
    entries, texts = _entries([(400, 40, 10)] * 60)  # 100 tokens in full, 10 as a signature, 3 as a name
    focus_items = pack(entries, 1000, None, _render(texts), ROOT)
    question_items = pack(entries, 1000, None, _render(texts), ROOT, QUESTION_SIGNATURE_SHARE)
    assert [item.detail for item in question_items] == ["full"] * 6 + ["signature"] * 40
    assert [item.detail for item in focus_items] == ["full"] * 6 + ["signature"] * 25 + ["name"] * 29


def test_a_question_shows_a_large_class_by_its_signature_at_every_budget_and_its_method_as_code() -> None:
    big = Chunk("m.py::Big", "class", 0, 0, 90, 1, 0, 6, "class Big:", "", (), None, "h", 500)
    method = Chunk("m.py::Big.run", "method", 10, 4, 20, 1, 10, 8, "def run(self)", "", (), "m.py::Big", "h", 50)
    entries = [
        Scored(big.id, base=0.0, spreading=2.0, context=0.0, chunk=big),
        Scored(method.id, base=0.0, spreading=1.0, context=0.0, chunk=method),
    ]
    texts = {big.id: {"full": "x" * 2000, "signature": "s" * 40, "name": "n" * 12}}
    texts[method.id] = {"full": "y" * 200, "signature": "t" * 40, "name": "o" * 12}
    for budget in (2000, 8000):
        shown = pack(entries, budget, None, _render(texts), ROOT, QUESTION_SIGNATURE_SHARE, QUESTION_CLASS_FULL_TOKENS)
        assert [(item.id, item.detail) for item in shown] == [(big.id, "signature"), (method.id, "full")]
    # a focus answer still shows the class whole where it fits, and the method inside it by name
    shown = pack(entries, 8000, None, _render(texts), ROOT)
    assert [(item.id, item.detail) for item in shown] == [(big.id, "full"), (method.id, "name")]
