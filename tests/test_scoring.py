"""`chiso score` on a hand-built province: every indicator that dossiers feed, computed by hand.

Period 2025-09, scored after its end (as-of 2025-10-15). Units (Sơn La, shipped catalogue): province 14,
department 14.STP (Z), communes 03646 (X) and 03667 (Y); the 73 other communes and the other departments
have no dossiers. Procedures: PA commune level, fee-bearing, full-online eligible; PB commune level, no fee,
not eligible; PD provincial (department), fee-bearing, eligible. All 5 working days.

Due dates: received Mon 8/9/2025 09:00 -> Mon 15/9 09:00 (Mon 6h, Tue–Fri 32h, 2h); received Mon
25/8/2025 09:00 -> Wed 3/9 09:00 (1/9 and 2/9 are holidays).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from chiso.cli import main
from conftest import Workspace

PROCS = [
    {"code": "PA", "name": "A", "level": "commune", "time_limit": 5, "fee_bearing": "true",
     "full_online_eligible": "true", "online_level": "full"},
    {"code": "PB", "name": "B", "level": "commune", "time_limit": 5, "fee_bearing": "false",
     "full_online_eligible": "false", "online_level": "partial"},
    {"code": "PD", "name": "D", "level": "province", "time_limit": 5, "fee_bearing": "true",
     "full_online_eligible": "true", "online_level": "full"},
]
FLAGS = ("paid_online", "e_result", "digitized", "reused_data", "shared_to_citizen_store", "used_population_data",
         "synced_to_portal")


def d(did: str, unit: str, proc: str, channel: str, received: str, finished: str = "", fee: int = 0,
      rating: str = "", **flags: bool) -> dict[str, Any]:
    row = {"dossier_id": did, "unit_code": unit, "procedure_code": proc, "channel": channel,
           "received_at": received, "finished_at": finished, "fee_amount": fee, "rating": rating}
    row.update({f: "true" if flags.get(f) else "false" for f in FLAGS})
    return row


DOSSIERS = [
    # X: early, paid online, e-result, digitised, synced, population data
    d("X1", "03646", "PA", "online", "2025-09-08 09:00", "2025-09-10 10:00", 50000, paid_online=True,
      e_result=True, digitized=True, synced_to_portal=True, used_population_data=True),
    # X: late (due 15/9 09:00), fee not paid online, synced
    d("X2", "03646", "PA", "direct", "2025-09-08 09:00", "2025-09-16 10:00", 50000, synced_to_portal=True),
    # X: open at the period end, due passed: pending_late; rated dissatisfied; not synced
    d("X3", "03646", "PB", "online", "2025-09-08 09:00", rating="dissatisfied"),
    # X: received and finished in August: not part of September at all
    d("X4", "03646", "PB", "direct", "2025-08-20 09:00", "2025-08-25 10:00", synced_to_portal=True),
    # X: carried over from August, finished on its due date 3/9: on time, handled in September
    d("X5", "03646", "PB", "online", "2025-08-25 09:00", "2025-09-03 08:00"),
    # Y: early, synced, e-result
    d("Y1", "03667", "PB", "online", "2025-09-08 09:00", "2025-09-09 10:00", synced_to_portal=True,
      e_result=True),
    # Z: early, everything digital, paid online
    d("Z1", "14.STP", "PD", "online", "2025-09-08 09:00", "2025-09-12 10:00", 100000, rating="satisfied",
      **{f: True for f in FLAGS}),
]
FEEDBACK = [
    # handled on time and satisfied
    {"feedback_id": "F1", "unit_code": "14.STP", "received_at": "2025-09-01 08:00",
     "handled_at": "2025-09-05 10:00", "satisfied": "true", "about": "procedure"},
    # received 1/8, never handled, due 22/8 (15 working days): outside September
    {"feedback_id": "F2", "unit_code": "14.STP", "received_at": "2025-08-01 08:00", "handled_at": "",
     "satisfied": "", "about": "staff"},
    # received 2/9 (holiday), due 15 working days after 29/8 = Tue 23/9 17:00, not handled: late
    {"feedback_id": "F3", "unit_code": "14.STP", "received_at": "2025-09-02 08:00", "handled_at": "",
     "satisfied": "", "about": "staff"},
]
INPUTS = [
    # Province values, inherited by its units for the first three transparency indicators.
    {"period": "2025-09", "unit_code": "14", "indicator": "PUBLISH_ON_TIME", "numerator": 9, "denominator": 10,
     "score": ""},
    # An official value: computed 4 x 3/4 = 3.00, the portal published 3.50 -> 3.50 counts, difference 0.50.
    {"period": "2025-09", "unit_code": "14", "indicator": "PUBLIC_UPDATE_ON_TIME", "numerator": 3, "denominator": 4,
     "score": 3.5},
]


def load_province(ws: Workspace) -> None:
    """Load the hand-built province into the workspace and close it for the CLI."""
    ws.load("procedures", PROCS)
    ws.load("dossiers", DOSSIERS)
    ws.load("feedback", FEEDBACK)
    ws.load("indicator_inputs", INPUTS)
    ws.store.close()


@pytest.fixture
def results(ws: Workspace) -> dict[str, dict[str, Any]]:
    load_province(ws)
    r = CliRunner().invoke(main, ["--workspace", str(ws.store.workspace), "score", "--period", "2025-09",
                                  "--as-of", "2025-10-15", "--format", "json"], catch_exceptions=False)
    assert r.exit_code == 0, r.stderr
    return {u["code"]: u for u in json.loads(r.stdout)}


def scores(unit: dict[str, Any]) -> dict[str, float]:
    return {k: v["score"] for k, v in unit["indicators"].items()}


def test_commune_x(results: dict[str, dict[str, Any]]) -> None:
    x = results["03646"]
    # handled = X1, X2, X3, X5 (4); received in September = X1, X2, X3 (3)
    assert scores(x) | {} == {
        "PUBLISH_ON_TIME": 5.40,            # inherited 9/10 x 6
        "PUBLIC_UPDATE_ON_TIME": 3.50,      # inherited official value
        "PUBLIC_CONTENT_FULL": 0.0,         # no input anywhere: missing, counted 0 and marked
        "DOSSIER_SYNC": 4.00,               # X1, X2 of 3 received: 6 x 2/3
        "PROGRESS_ON_TIME": 10.00,          # X1 early, X5 on time of 4: 20 x 0.5
        "ONLINE_FULL_PROCESS": 6.00,        # eligible X1, X2; online X1: 12 x 0.5
        "PAYMENT_ONLINE_DOSSIER": 3.00,     # fee X1, X2; paid online X1: 6 x 0.5
        "PAYMENT_ONLINE_FORMALITY": 2.00,   # fee procedures of the commune: PA; paid online: PA -> 1/1
        "PAYMENT_FEE_FORMALITY_WITH_DOSSIER": 2.00,  # PA had dossiers -> 1/1
        "ORIGINAL_RESULT_AVAILABLE": 1.50,  # X1 of 4: 6 x 0.25
        "SO_HOA_GIAY_TO_GIAI_QUYET": 1.00,  # X1 of 4: 4 x 0.25
        "REUSED_DIGITIZED_DATA": 0.0,
        "SYNCED_WITH_DVCQG_PERSONAL_STORAGE": 0.0,
        "CITIZEN_DATA_CONNECTED_DOSSIER": 0.50,   # X1 of 4: 2 x 0.25
        "CITIZEN_DATA_CONNECTED_FORMALITY": 1.00,  # PA of PA, PB: 2 x 0.5
        "ELECTRONIC_CERTIFIED_COPY": 2.00,  # a commune has no communes below it: full
        "DOSSIER_RECEIVING_SATISFACTION": 3.33,   # X1, X5 of 4 (X2 late, X3 overdue + dissatisfied): 6 x 0.5/0.9
        "PETITION_PROCESSING_ON_TIME": 6.00,      # no PAKN: full
        "PETITION_HANDLING_SATISFACTION": 6.00,
        "PETITION_CLASSIFICATION_TTHC": 0.0,
        "PETITION_CLASSIFICATION_STAFF": 0.0,
    }
    assert x["indicators"]["PROGRESS_ON_TIME"]["numerator"] == 2 and x["indicators"]["PROGRESS_ON_TIME"][
        "denominator"] == 4
    assert x["indicators"]["ONLINE_FULL_PROCESS"]["provisional"] is True
    groups = {k: v["score"] for k, v in x["groups"].items()}
    assert groups == {"CKMB": 12.90, "TDGQ": 10.00, "CLGQ": 6.00, "TTTT": 7.00, "MDSH": 6.00, "MDHL": 15.33}
    assert x["total"] == 57.23  # sum of the rounded group scores


def test_commune_y_zero_denominators(results: dict[str, dict[str, Any]]) -> None:
    y = results["03667"]
    s = scores(y)
    assert s["ONLINE_FULL_PROCESS"] == 0.0          # no eligible dossier: 0/0 -> 0
    assert s["PAYMENT_ONLINE_DOSSIER"] == 0.0       # no fee dossier: 0/0 -> 0
    assert s["PAYMENT_ONLINE_FORMALITY"] == 0.0     # PA applicable, never paid online: 0/1
    assert s["PAYMENT_FEE_FORMALITY_WITH_DOSSIER"] == 0.0
    assert s["ORIGINAL_RESULT_AVAILABLE"] == 6.00 and s["DOSSIER_RECEIVING_SATISFACTION"] == 6.00
    assert {k: v["score"] for k, v in y["groups"].items()} == {
        "CKMB": 14.90, "TDGQ": 20.00, "CLGQ": 0.0, "TTTT": 0.0, "MDSH": 8.00, "MDHL": 18.00}
    assert y["total"] == 60.90


def test_department_with_feedback(results: dict[str, dict[str, Any]]) -> None:
    z = results["14.STP"]
    s = scores(z)
    assert s["PETITION_PROCESSING_ON_TIME"] == 3.00     # F1 on time, F3 overdue; F2 not in September
    assert s["PETITION_HANDLING_SATISFACTION"] == 6.00  # F1 satisfied of 1 rated
    assert s["REUSED_DIGITIZED_DATA"] == 2.00           # 1/1 >= 80%: the maximum
    assert z["indicators"]["PETITION_CLASSIFICATION_STAFF"]["numerator"] == 1  # F3 (F2 received in August)
    assert {k: v["score"] for k, v in z["groups"].items()} == {
        "CKMB": 14.90, "TDGQ": 20.00, "CLGQ": 12.00, "TTTT": 10.00, "MDSH": 22.00, "MDHL": 15.00}
    assert z["total"] == 93.90 and z["classification"] == "Xuất sắc"


def test_province_is_computed_from_all_dossiers_not_averaged(results: dict[str, dict[str, Any]]) -> None:
    p = results["14"]
    # handled: X1, X2, X3, X5, Y1, Z1 = 6; received in September: X1, X2, X3, Y1, Z1 = 5
    s = scores(p)
    assert s["DOSSIER_SYNC"] == 4.80                  # X1, X2, Y1, Z1 of 5: 6 x 0.8
    assert s["PROGRESS_ON_TIME"] == 13.33             # X1, X5, Y1, Z1 of 6: 20 x 0.6667
    assert s["ONLINE_FULL_PROCESS"] == 8.00           # eligible X1, X2, Z1; online X1, Z1
    assert s["PAYMENT_ONLINE_DOSSIER"] == 4.00        # fee X1, X2, Z1; paid X1, Z1
    assert s["PAYMENT_ONLINE_FORMALITY"] == 2.00      # fee procedures PA, PD; both paid online somewhere
    assert s["ORIGINAL_RESULT_AVAILABLE"] == 3.00     # X1, Y1, Z1 of 6
    assert s["SO_HOA_GIAY_TO_GIAI_QUYET"] == 1.33     # X1, Z1 of 6: 4 x 0.3333
    assert s["REUSED_DIGITIZED_DATA"] == 0.42         # Z1 of 6: 2 x 0.1667 / 0.8
    assert s["SYNCED_WITH_DVCQG_PERSONAL_STORAGE"] == 0.67
    assert s["CITIZEN_DATA_CONNECTED_DOSSIER"] == 0.67
    assert s["CITIZEN_DATA_CONNECTED_FORMALITY"] == 1.33  # PA, PD of PA, PB, PD (distinct procedures)
    assert s["DOSSIER_RECEIVING_SATISFACTION"] == 4.44    # 4 of 6: 6 x 0.6667 / 0.9
    assert s["PETITION_PROCESSING_ON_TIME"] == 3.00
    up = p["indicators"]["PUBLIC_UPDATE_ON_TIME"]
    assert (up["official_score"], up["computed_score"], up["difference"]) == (3.5, 3.0, 0.5)
    assert {k: v["score"] for k, v in p["groups"].items()} == {
        "CKMB": 13.70, "TDGQ": 13.33, "CLGQ": 8.00, "TTTT": 8.00, "MDSH": 7.42, "MDHL": 13.44}
    assert p["total"] == 63.89 and p["classification"] == "Trung bình"
    # Never entered for the province: PUBLIC_CONTENT_FULL (inherited by nobody) and the certified copies of its
    # communes. Each counts 0, is marked, and makes the total provisional (tạm tính) — not a silent 0, and not 2/2
    # for one and 0/2 for the other.
    assert p["missing_inputs"] == ["PUBLIC_CONTENT_FULL", "ELECTRONIC_CERTIFIED_COPY"] and p["provisional"]
    ecc = p["indicators"]["ELECTRONIC_CERTIFIED_COPY"]
    assert (ecc["score"], ecc["missing"]) == (0.0, True)
    assert results["14.STP"]["indicators"]["ELECTRONIC_CERTIFIED_COPY"]["score"] == 2.0  # none below: full
    assert results["14.STP"]["missing_inputs"] == ["PUBLIC_CONTENT_FULL"]
    assert p["rule_set"] == "vn-766-2026"


def test_ranks_among_peers_and_units_without_dossiers(results: dict[str, dict[str, Any]]) -> None:
    communes = [u for u in results.values() if u["level"] == "commune"]
    assert len(communes) == 75  # every commune appears, with or without dossiers
    # A commune without dossiers: CKMB 5.40 + 3.50 inherited, ECC 2 (no data: full), PAKN 6 + 6 = 22.90.
    idle = results["03670"]
    assert idle["total"] == 22.90 and idle["rank"] == 3
    assert (results["03667"]["rank"], results["03646"]["rank"]) == (1, 2)
    assert results["14.STP"]["rank"] == 1 and results["14.SNV"]["rank"] == 2
    assert results["14"]["rank"] == 1
    # Per-group ranks: X's TDGQ (10.00) is below Y's (20.00) and above the idle communes (0).
    assert (results["03667"]["groups"]["TDGQ"]["rank"], results["03646"]["groups"]["TDGQ"]["rank"]) == (1, 2)


def test_change_against_previous_month(results: dict[str, dict[str, Any]]) -> None:
    # August for X: handled X4 (received 20/8, finished 25/8, due 27/8: early) and X5 (open at 31/8, due
    # 3/9: pending); both received in August; X4 synced. No August inputs, no PAKN.
    # CKMB 6 x 1/2 = 3.00; TDGQ 2/2 = 20; CLGQ 0 (no eligible dossier); TTTT 0 (PA applicable, unused);
    # MDSH: ECC 2 (no data: full), FORMALITY 0/2; MDHL: satisfaction 2/2 = 6, PAKN 6 + 6. Total 43.00.
    x = results["03646"]
    assert x["previous_total"] == 43.00
    assert x["change"] == 14.23  # 57.23 - 43.00
