"""The base level on a real workspace: a use recorded days before a request lifts the chunk used."""

from __future__ import annotations

from pathlib import Path

from aurora_lsp import protocol
from aurora_lsp.context.activation import ABLATIONS, ActivationParameters
from aurora_lsp.context.engine import ContextRequest
from aurora_lsp.workspace.service import WorkspaceService
from conftest import open_workspace

PRICING = "shop/services/pricing.py"


def test_an_edit_days_ago_lifts_a_chunk_at_a_position_and_only_through_the_base_level(
    shop: Path, tmp_path: Path
) -> None:
    """The replay benchmark's claim in miniature: what the person edited yesterday ranks higher
    at a position today, and turning the base level off (ABLATIONS["base"]) takes that away."""
    now = 2_000_000_000.0
    line = next(n for n, text in enumerate((shop / PRICING).read_text().splitlines()) if "cart.total_cents()" in text)
    request = ContextRequest(PRICING, line, token_budget=4000, limit=50)
    base_off = ActivationParameters().without(**ABLATIONS["base"])

    def ranking(workspace: WorkspaceService, parameters: ActivationParameters | None = None) -> list[str]:
        return [item["id"] for item in protocol.to_wire(workspace.context(request, now, parameters))["items"]]

    with open_workspace(shop, tmp_path / "index.sqlite3") as workspace:
        workspace.refresh()
        before = ranking(workspace)
        # the last chunk of another file in the answer, so there is room to rise
        edited = next(cid for cid in reversed(before) if not cid.startswith(PRICING))
        workspace.record_uses([(edited, now - 86400 - 600, "open"), (edited, now - 86400, "edit")])
        after = ranking(workspace)
        without_base = ranking(workspace, base_off)
    assert after.index(edited) < before.index(edited)
    assert after[0] == before[0] == f"{PRICING}::total_price"  # the focus stays first
    # a day-old use is older than the recent-sources window: the base level is its only way in
    assert without_base == before
