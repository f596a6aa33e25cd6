"""The embedded engine's memory budget (issue 13): every DuckDB chiso opens is bounded by ``[engine] memory_mb``
(or by half the machine, capped), so that a big load or scoring spills to disk instead of taking the machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from chiso.config import ConfigError, parse_config
from chiso.store.db import DEFAULT_MEMORY_CAP_MB, Store, machine_memory_mb, memory_budget_mb, scratch_duckdb


def limit_mib(con: object) -> float:
    """DuckDB's memory_limit setting, in MiB (it prints e.g. '286.1 MiB' or '5.7 GiB')."""
    text = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]  # type: ignore[attr-defined]
    number, unit = text.split()
    return float(number) * {"KiB": 1 / 1024, "MiB": 1, "GiB": 1024, "TiB": 1024 * 1024}[unit]


def test_the_store_takes_the_configured_budget(tmp_path: Path) -> None:
    (tmp_path / "chiso.toml").write_text("[engine]\nmemory_mb = 300\n", encoding="utf-8")
    with Store.open(tmp_path) as store:
        assert abs(limit_mib(store.con) - 300e6 / 2**20) < 1  # 300 MB = 286.1 MiB
    assert abs(limit_mib(scratch_duckdb(tmp_path)) - 300e6 / 2**20) < 1  # a lake's or a merge's database too


def test_without_a_setting_half_the_machine_at_most_the_cap(tmp_path: Path) -> None:
    expected = min(machine_memory_mb() // 2, DEFAULT_MEMORY_CAP_MB)
    assert memory_budget_mb(None) == expected
    with Store.open(tmp_path) as store:
        assert abs(limit_mib(store.con) / (expected * 1e6 / 2**20) - 1) < 0.05  # printed rounded: '2.8 GiB'
    assert expected <= DEFAULT_MEMORY_CAP_MB < machine_memory_mb()  # this machine: the cap, not DuckDB's 80 %


@pytest.mark.parametrize("value", ["0", "-5", "\"4GB\"", "true", "1.5", "2000000"])
def test_a_wrong_budget_is_refused_with_the_file_and_key(tmp_path: Path, value: str) -> None:
    path = tmp_path / "chiso.toml"
    path.write_text(f"[engine]\nmemory_mb = {value}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"engine\.memory_mb: cần một số nguyên dương"):
        parse_config(path)


def test_an_unknown_engine_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "chiso.toml"
    path.write_text("[engine]\nmemory = 4096\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="khóa không hợp lệ 'memory'"):
        parse_config(path)
