"""`chiso publish` freezes a period; later scoring shows what changed since and why."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner

from chiso.cli import main
from conftest import Workspace
from test_scoring import DOSSIERS, d, load_province


def cli(ws: Workspace, *args: str) -> str:
    r = CliRunner().invoke(main, ["--workspace", str(ws.store.workspace), *args], catch_exceptions=False)
    assert r.exit_code == 0, r.stderr
    return r.stdout


def test_changes_since_publication(ws: Workspace) -> None:
    load_province(ws)
    out = cli(ws, "publish", "--period", "2025-09", "--as-of", "2025-10-15")
    assert "Đã công bố kết quả kỳ 2025-09: số 1" in out
    # After publication: X3 is finished on 20/9 (late, due 15/9) and X6 arrives (PB, early, nothing digital).
    from chiso.store.db import Store

    with Store.open(ws.store.workspace) as store:
        ws.store = store
        x3 = next(r for r in DOSSIERS if r["dossier_id"] == "X3") | {"finished_at": "2025-09-20 10:00"}
        ws.load("dossiers", [x3, d("X6", "03646", "PB", "online", "2025-09-20 09:00", "2025-09-22 10:00")])
    results: dict[str, Any] = {u["code"]: u for u in json.loads(
        cli(ws, "score", "--period", "2025-09", "--as-of", "2025-10-15", "--format", "json"))}
    x = results["03646"]
    # By hand: handled X1, X2, X3, X5, X6; received X1, X2, X3, X6. CKMB 5.40 + 3.50 + 6 x 2/4 = 11.90;
    # TDGQ 20 x 3/5 = 12; CLGQ 6; TTTT 7; MDSH 1.20 + 0.80 + 0.40 + 1 + 2 = 5.40; MDHL 6 x 0.6/0.9 + 12 = 16.
    assert x["total"] == 58.30
    pub = x["since_publication"]
    assert (pub["published_total"], pub["change"]) == (57.23, 1.07)
    assert (pub["dossiers_added"], pub["dossiers_changed"], pub["dossiers_removed"]) == (1, 1, 0)
    assert pub["examples"] == {"added": ["X6"], "changed": ["X3"]}
    province = results["14"]["since_publication"]
    assert (province["dossiers_added"], province["dossiers_changed"]) == (1, 1)  # counted up the tree
    assert results["03667"]["since_publication"]["dossiers_added"] == 0
    table = cli(ws, "score", "--period", "2025-09", "--as-of", "2025-10-15", "--unit", "03646")
    assert "đã công bố 57,23 điểm" in table and "+1,07 điểm do 1 hồ sơ mới, 1 hồ sơ thay đổi" in table
