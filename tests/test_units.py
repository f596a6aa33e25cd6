"""The units catalogue from the official packages and the editable departments list."""

from __future__ import annotations

from pathlib import Path

from chiso import api
from chiso.store.db import Store


def levels(store: Store) -> dict[str, int]:
    return dict(store.con.execute("SELECT level, count(*) FROM units GROUP BY level").fetchall())


def test_son_la_after_2025(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        api.init_units(store, "Sơn La")
        # 75 communes and wards after 1/7/2025 (seed 002 lists 75), one province, the departments list.
        got = levels(store)
        assert got["commune"] == 75 and got["province"] == 1 and got["department"] >= 15
        assert store.con.execute("SELECT name, parent_code, province_code FROM units WHERE code = '14'").fetchone() == (
            "Tỉnh Sơn La", None, "14")
        # Every commune hangs under the province.
        assert store.con.execute("SELECT count(*) FROM units WHERE level = 'commune' AND parent_code <> '14'"
                                 ).fetchone() == (0,)
        # The 2025 department merger: Sở Kế hoạch và Đầu tư ends 28/2/2025 and passes to Sở Tài chính.
        row = store.con.execute("SELECT name, valid_to, successor_code FROM units WHERE code = '14.SKHDT'").fetchone()
        assert row is not None and row[0] == "Sở Kế hoạch và Đầu tư" and str(row[1]) == "2025-02-28"
        assert row[2] == "14.STC"


def test_before_2025_links_old_communes_to_new(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        api.init_units(store, "Sơn La", before_2025=True)
        got = levels(store)
        assert got["district"] == 12  # Sơn La had 12 district-level units (seed 001: "12/12 BPMC cấp huyện")
        old = store.con.execute(
            "SELECT count(*), count(successor_code) FROM units WHERE level = 'commune' AND valid_to = DATE '2025-06-30'"
        ).fetchone()
        assert old is not None and old[0] > 150 and old[0] == old[1]  # every old commune has a successor
        # Successors are real 2025 communes; old communes hang under their district, districts under the province.
        assert store.con.execute(
            "SELECT count(*) FROM units o LEFT JOIN units n ON n.code = o.successor_code "
            "WHERE o.valid_to = DATE '2025-06-30' AND o.level = 'commune' AND n.valid_from <> DATE '2025-07-01'"
        ).fetchone() == (0,)
        assert store.con.execute("SELECT count(*) FROM units WHERE province_code IS DISTINCT FROM '14'"
                                 ).fetchone() == (0,)


def test_edited_departments_file_is_used(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        api.init_units(store, "Sơn La")
        dept = tmp_path / "departments.csv"
        dept.write_text(dept.read_text(encoding="utf-8") + "BQLDA,Ban Quản lý dự án đầu tư xây dựng tỉnh,,,\n",
                        encoding="utf-8")
        api.init_units(store, "Sơn La")
        assert store.con.execute("SELECT name FROM units WHERE code = '14.BQLDA'").fetchone() == (
            "Ban Quản lý dự án đầu tư xây dựng tỉnh Sơn La",)


def test_unknown_province_is_a_clear_error(tmp_path: Path) -> None:
    import pytest

    from chiso.units.catalog import UnitCatalogError

    with Store.open(tmp_path) as store, pytest.raises(UnitCatalogError, match="không tìm thấy tỉnh"):
        api.init_units(store, "Sơn Lá Xanh")


def test_a_departments_file_from_before_the_ranked_column(tmp_path: Path) -> None:
    """A workspace's departments.csv copied before the `ranked` column existed: the shipped list's marks apply by
    key (Văn phòng UBND, the service centre and Thanh tra are not ranked); a file with the column keeps its own."""
    import csv

    with Store.open(tmp_path) as store:
        api.init_units(store, "Sơn La")
        dept = tmp_path / "departments.csv"
        with dept.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
        old = ("key", "name", "valid_from", "valid_to", "successor_key")
        with dept.open("w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, old, extrasaction="ignore")
            w.writeheader()
            w.writerows(rows)
        api.init_units(store, "Sơn La")
        not_ranked = {c for (c,) in store.con.execute(
            "SELECT code FROM units WHERE level = 'department' AND ranked = FALSE").fetchall()}
        assert not_ranked == {"14.VP", "14.TTPVHCC", "14.TTRA"}
        # the office's own column wins: VP marked ranked, the centre left as it was shipped
        with dept.open("w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, [*old, "ranked"])
            w.writeheader()
            w.writerows([{**r, "ranked": "có" if r["key"] == "VP" else r["ranked"]} for r in rows])
        api.init_units(store, "Sơn La")
        not_ranked = {c for (c,) in store.con.execute(
            "SELECT code FROM units WHERE level = 'department' AND ranked = FALSE").fetchall()}
        assert not_ranked == {"14.TTPVHCC", "14.TTRA"}
