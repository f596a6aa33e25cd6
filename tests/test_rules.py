"""Rule sets as data, score arithmetic, and `chiso simulate` against real published portal figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from chiso.cli import main
from chiso.rules.arithmetic import competition_rank, indicator_score, round_half_up
from chiso.rules.model import Indicator, RuleSetError, available, for_period, load_rule_set, parse_rule_set

# A copy of shared/data/portal-unit-sample.json: the national portal's published figures for one unit.
PORTAL_SAMPLE = Path(__file__).parent / "data" / "portal-unit-sample.json"


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def test_shipped_rule_set_is_valid() -> None:
    rs = available()["vn-766-2026"]
    assert [g.code for g in rs.groups] == ["CKMB", "TDGQ", "CLGQ", "TTTT", "MDSH", "MDHL"]
    assert sum(g.max for g in rs.groups) == 100
    assert rs.indicator("PAYMENT_ONLINE_FORMALITY").threshold == 0.8
    assert rs.indicator("DOSSIER_RECEIVING_SATISFACTION").threshold == 0.9
    assert rs.indicator("PETITION_PROCESSING_ON_TIME").zero_denominator == "full"
    assert {i.code for i in rs.indicators if i.inherit} == {"PUBLISH_ON_TIME", "PUBLIC_UPDATE_ON_TIME",
                                                             "PUBLIC_CONTENT_FULL"}


def test_arithmetic() -> None:
    linear = Indicator("X", "G", "x", 20)
    threshold = Indicator("Y", "G", "y", 2, kind="threshold", threshold=0.8)
    # 20 x 795/876 = 18.1507 -> 18.15 (domain.md §4)
    assert indicator_score(linear, 795, 876, 2) == 18.15
    # 2 x (11/34) / 0.8 = 0.8088 -> 0.81; at or above the threshold: the maximum.
    assert indicator_score(threshold, 11, 34, 2) == 0.81
    assert indicator_score(threshold, 30, 34, 2) == 2.0
    assert indicator_score(linear, 0, 0, 2) == 0.0
    assert indicator_score(Indicator("Z", "G", "z", 6, zero_denominator="full"), None, 0, 2) == 6.0
    assert round_half_up(0.125, 2) == 0.13 and round_half_up(2.675, 2) == 2.68  # half up, not banker's
    assert competition_rank([9, 7, 9, 5]) == [1, 3, 1, 4]


def test_simulate_reproduces_the_worked_example(tmp_path: Path) -> None:
    """domain.md §4: UBND xã Xuân Thọ (Đắk Lắk), year 2026 to 10/10, real portal figures."""
    path = tmp_path / "xuan-tho.csv"
    path.write_text(
        "period,unit_code,indicator,numerator,denominator,score\n"
        "2026,H15.175,PROGRESS_ON_TIME,795,876,\n"
        "2026,H15.175,PAYMENT_ONLINE_DOSSIER,553,603,\n"
        "2026,H15.175,PAYMENT_ONLINE_FORMALITY,11,34,\n"
        "2026,H15.175,PAYMENT_FEE_FORMALITY_WITH_DOSSIER,7,34,\n"
        "2026,H15.175,CKMB,,,11.85\n"
        "2026,H15.175,CLGQ,,,6.3\n"
        "2026,H15.175,MDSH,,,8.99\n"
        "2026,H15.175,MDHL,,,18\n", encoding="utf-8")
    code, out, err = run("--workspace", str(tmp_path / "ws"), "simulate", str(path), "--format", "json")
    assert code == 0, err
    [unit] = json.loads(out)
    assert unit["indicators"]["PROGRESS_ON_TIME"]["score"] == 18.15
    assert unit["indicators"]["PAYMENT_ONLINE_DOSSIER"]["score"] == 5.50
    assert unit["indicators"]["PAYMENT_ONLINE_FORMALITY"]["score"] == 0.81
    assert unit["indicators"]["PAYMENT_FEE_FORMALITY_WITH_DOSSIER"]["score"] == 0.51
    assert unit["groups"]["TTTT"]["score"] == 6.82
    assert unit["groups"]["TDGQ"]["score"] == 18.15
    assert unit["total"] == 70.11
    assert unit["rule_set"] == "vn-766-2026"
    assert unit["provisional"] is False  # CLGQ came as an official group score


def test_simulate_reproduces_the_portal_mdsh_group(tmp_path: Path) -> None:
    """The portal's published MDSH metrics of Xuân Thọ, each scored and summed to the published 8.99."""
    sample = json.loads(PORTAL_SAMPLE.read_text(encoding="utf-8"))
    metrics = sample["indicatorDetails"]["digitized"]["metrics"]
    lines = ["period,unit_code,indicator,numerator,denominator"]
    lines += [f"2026,H15.175,{m['code']},{m['numerator'] or ''},{m['denominator'] or ''}" for m in metrics]
    path = tmp_path / "mdsh.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = run("--workspace", str(tmp_path / "ws"), "simulate", str(path), "--format", "json")
    assert code == 0, err
    [unit] = json.loads(out)
    for m in metrics:
        assert unit["indicators"][m["code"]]["score"] == m["score"], m["code"]
    assert unit["groups"]["MDSH"]["score"] == sample["indicatorDetails"]["digitized"]["score"] == 8.99


def test_simulate_ranks_peers(tmp_path: Path) -> None:
    path = tmp_path / "three.csv"
    path.write_text("period,unit_code,indicator,numerator,denominator\n"
                    "2026-Q1,A,PROGRESS_ON_TIME,9,10\n2026-Q1,B,PROGRESS_ON_TIME,9,10\n"
                    "2026-Q1,C,PROGRESS_ON_TIME,10,10\n", encoding="utf-8")
    code, out, _ = run("--workspace", str(tmp_path / "ws"), "simulate", str(path), "--format", "json")
    # 20 x 0.9 = 18 for A and B, 20 for C; the other indicators are equal: C first, A and B share 2nd.
    ranks = {u["code"]: u["rank"] for u in json.loads(out)}
    assert ranks == {"C": 1, "A": 2, "B": 2}


def test_simulate_unknown_indicator_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("period,unit_code,indicator,numerator,denominator\n2026,A,NOT_AN_INDICATOR,1,2\n",
                    encoding="utf-8")
    code, _, err = run("--workspace", str(tmp_path / "ws"), "simulate", str(path))
    assert code != 0 and "NOT_AN_INDICATOR" in err


BROKEN = {
    "missing group": ('name = "x"\neffective_from = 2026-01-01\n', "không có nhóm chỉ số nào"),
    "bad kind": ('name = "x"\neffective_from = 2026-01-01\n[[groups]]\ncode = "G"\nname = "g"\nmax = 2\n'
                 '[[indicators]]\ncode = "I"\ngroup = "G"\nmax = 2\nkind = "curvy"\nsource = "input"\n',
                 "indicator I.kind: 'curvy' không thuộc"),
    "unknown measure": ('name = "x"\neffective_from = 2026-01-01\n[[groups]]\ncode = "G"\nname = "g"\nmax = 2\n'
                        '[[indicators]]\ncode = "I"\ngroup = "G"\nmax = 2\nnumerator = "nope"\n'
                        'denominator = "handled"\n', "indicator I.numerator: đại lượng 'nope' chưa được định nghĩa"),
    "maxima do not add up": ('name = "x"\neffective_from = 2026-01-01\n[[groups]]\ncode = "G"\nname = "g"\n'
                             'max = 5\n[[indicators]]\ncode = "I"\ngroup = "G"\nmax = 2\nsource = "input"\n',
                             "nhóm G: tổng điểm tối đa các chỉ số (2) khác max (5)"),
}


@pytest.mark.parametrize("case", list(BROKEN), ids=list(BROKEN))
def test_broken_rule_sets_are_explained(case: str, tmp_path: Path) -> None:
    text, message = BROKEN[case]
    path = tmp_path / "mine.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RuleSetError, match="mine.toml"):
        load_rule_set(path)
    code, _, err = run("rules", "check", str(path))
    assert code == 1 and message in err


def test_period_picks_rule_set_by_effective_date(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / "rules").mkdir(parents=True)
    text = (Path(str(available()["vn-766-2026"].source)).read_text(encoding="utf-8")
            .replace('name = "vn-766-2026"', 'name = "son-la-2027"').replace("2026-01-01", "2027-01-01"))
    (ws / "rules" / "son-la-2027.toml").write_text(text, encoding="utf-8")
    from datetime import date

    assert for_period(date(2026, 7, 1), ws).name == "vn-766-2026"
    assert for_period(date(2027, 3, 1), ws).name == "son-la-2027"
    code, out, _ = run("--workspace", str(ws), "rules", "list")
    assert "son-la-2027" in out and "vn-766-2026" in out
    assert parse_rule_set(text, "x").effective_from == date(2027, 1, 1)


def test_groups_and_total_are_sums_of_rounded_parts() -> None:
    from chiso.scoring.results import IndicatorValue, UnitInput, assemble

    rs = available()["vn-766-2026"]
    # DOSSIER_SYNC 6 x 1/48 = 0.125 -> 0.13; PUBLIC_CONTENT_FULL 2 x 1/16 = 0.125 -> 0.13.
    # CKMB = 0.13 + 0.13 = 0.26, where rounding the unrounded sum (0.25) would give 0.25.
    u = UnitInput("U", values={"DOSSIER_SYNC": IndicatorValue(1, 48), "PUBLIC_CONTENT_FULL": IndicatorValue(1, 16)})
    [r] = assemble(rs, [u])
    assert r["groups"]["CKMB"]["score"] == 0.26
    # Other groups: ECC (no data: full) 2, PAKN (none: full) 6 + 6; total = 0.26 + 2 + 12 = 14.26.
    assert r["total"] == 14.26
