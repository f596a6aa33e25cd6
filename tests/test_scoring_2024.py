"""The three-level structure (before 1/7/2025): province -> districts -> communes.

Sơn La with --before-2025: district 116 (Thành phố Sơn La) with its old communes 03646-2024 (Chiềng Lề)
and 03649-2024 (Tô Hiệu). March 2024 has no holidays. Received Mon 4/3/2024 09:00 + 5 working days ->
due Mon 11/3 09:00.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from chiso import api
from chiso.cli import main
from chiso.store.db import Store
from conftest import write_csv


def test_district_counts_its_communes_and_itself(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    with Store.open(ws) as store:
        api.init_units(store, "Sơn La", before_2025=True)
        api.load(store, [write_csv(tmp_path / "p.csv", [
            {"code": "PA", "name": "A", "level": "commune", "time_limit": 5}])])
        api.load(store, [write_csv(tmp_path / "d.csv", [
            {"dossier_id": "A1", "unit_code": "03646-2024", "procedure_code": "PA", "channel": "online",
             "received_at": "2024-03-04 09:00", "finished_at": "2024-03-06 10:00"},           # early
            {"dossier_id": "A2", "unit_code": "03649-2024", "procedure_code": "PA", "channel": "online",
             "received_at": "2024-03-04 09:00", "finished_at": "2024-03-12 10:00"},           # late
            {"dossier_id": "A3", "unit_code": "116", "procedure_code": "PA", "channel": "direct",
             "received_at": "2024-03-04 09:00", "finished_at": "2024-03-05 10:00"},           # early
        ])])
    r = CliRunner().invoke(main, ["--workspace", str(ws), "score", "--period", "2024-03", "--as-of", "2024-04-15",
                                  "--format", "json"], catch_exceptions=False)
    assert r.exit_code == 0, r.stderr
    results = {u["code"]: u for u in json.loads(r.stdout)}
    tdgq = {code: results[code]["indicators"]["PROGRESS_ON_TIME"] for code in ("116", "03646-2024", "03649-2024", "14")}
    # District: A1, A2 (its communes) and A3 (itself): 2 of 3 not late -> 20 x 2/3 = 13.33, which is not the
    # mean of its communes (20 and 0 -> 10).
    assert (tdgq["116"]["numerator"], tdgq["116"]["denominator"], tdgq["116"]["score"]) == (2, 3, 13.33)
    assert tdgq["03646-2024"]["score"] == 20.0 and tdgq["03649-2024"]["score"] == 0.0
    assert tdgq["14"]["score"] == 13.33
    levels = {u["level"] for u in results.values()}
    assert levels == {"province", "department", "district", "commune"}
    assert "03646" not in results  # the 2025 commune did not exist in March 2024
    assert "14.SKHDT" in results    # Sở Kế hoạch và Đầu tư existed until 28/2/2025
    districts = [u for u in results.values() if u["level"] == "district"]
    assert len(districts) == 12
    assert results["116"]["groups"]["TDGQ"]["rank"] == 1
    assert all(u["groups"]["TDGQ"]["rank"] == 2 for u in districts if u["code"] != "116")
    # Communes are ranked among all communes of the province (as in the seeds' appendices).
    assert results["03646-2024"]["groups"]["TDGQ"]["rank"] == 1
