"""`chiso explain` on the hand-built province of test_scoring: commune X (03646), September 2025.

Hand-computed from the scores in test_scoring.test_commune_x (each lost = max - score) and the dossiers
behind each shortfall (in the denominator, not in the numerator)."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner

from chiso.cli import main
from conftest import Workspace
from test_scoring import load_province


def explain(ws: Workspace, *extra: str) -> Any:
    load_province(ws)
    r = CliRunner().invoke(main, ["--workspace", str(ws.store.workspace), "explain", "--unit", "03646",
                                  "--period", "2025-09", "--as-of", "2025-10-15", *extra], catch_exceptions=False)
    assert r.exit_code == 0, r.stderr
    return r.stdout


def test_shortfalls_and_dossiers(ws: Workspace) -> None:
    data = json.loads(explain(ws, "--format", "json"))
    assert data["total"] == 57.23 and data["lost"] == 42.77
    got = {s["code"]: (s["lost"], s["items"]) for s in data["shortfalls"]}
    assert got == {
        "PUBLISH_ON_TIME": (0.60, []),                    # inputs: no dossiers behind them
        "PUBLIC_UPDATE_ON_TIME": (0.50, []),
        "PUBLIC_CONTENT_FULL": (2.00, []),
        "DOSSIER_SYNC": (2.00, ["X3"]),                   # received in September, not synced
        "PROGRESS_ON_TIME": (10.00, ["X2", "X3"]),        # late, and open past its due date
        "ONLINE_FULL_PROCESS": (6.00, ["X2"]),            # eligible procedure, submitted directly
        "PAYMENT_ONLINE_DOSSIER": (3.00, ["X2"]),         # fee paid at the desk
        "ORIGINAL_RESULT_AVAILABLE": (4.50, ["X2", "X3", "X5"]),
        "SO_HOA_GIAY_TO_GIAI_QUYET": (3.00, ["X2", "X3", "X5"]),
        "REUSED_DIGITIZED_DATA": (2.00, ["X1", "X2", "X3", "X5"]),
        "SYNCED_WITH_DVCQG_PERSONAL_STORAGE": (4.00, ["X1", "X2", "X3", "X5"]),
        "CITIZEN_DATA_CONNECTED_DOSSIER": (1.50, ["X2", "X3", "X5"]),
        "CITIZEN_DATA_CONNECTED_FORMALITY": (1.00, ["PB"]),  # a procedure, not a dossier
        "DOSSIER_RECEIVING_SATISFACTION": (2.67, ["X2", "X3"]),
    }
    assert round(sum(s["lost"] for s in data["shortfalls"]), 2) == 42.77  # every lost point is explained


def test_best_three_actions(ws: Workspace) -> None:
    # Points per item: online 6.00/1, on time 10.00/2, online payment 3.00/1, sync 2.00/1, satisfaction
    # (threshold 90%: 4 of 4 needed) 2.67/2, e-result 4.50/3 ...
    data = json.loads(explain(ws, "--format", "json"))
    assert [(a["text"], a["gain"]) for a in data["actions"]] == [
        ("tiếp nhận trực tuyến thêm 1 hồ sơ", 6.00),
        ("giải quyết đúng hạn thêm 2 hồ sơ", 10.00),
        ("thu phí trực tuyến thêm 1 hồ sơ", 3.00),
    ]


def test_table_output_is_vietnamese(ws: Workspace) -> None:
    out = explain(ws)
    assert "57,23 điểm, bị trừ 42,77 điểm" in out
    assert "- PROGRESS_ON_TIME (2/4): mất 10,00 điểm" in out
    assert "2 hồ sơ quá hạn: X2, X3" in out
    assert "1 TTHC chưa kết nối dữ liệu dân cư: PB" in out
    assert "1. tiếp nhận trực tuyến thêm 1 hồ sơ: +6,00 điểm" in out
