"""A realistic province generator (sinh dữ liệu mẫu) writing contract files.

Calibrated to the published figures in ``shared/seeds``: about 43,600 dossiers a quarter province-wide
with ~92% online (seed 003, Sơn La 2025), of which ~13,600 at the provincial level with ~99% early
(seed 001), about 0.7% overdue (seed 002: 102 overdue in a month), 2,835 procedures (seed 003). The
real units of the province come from :mod:`chiso.units.catalog`.

Realistic dirt: dates in mixed formats (ISO, dd/mm/yyyy HH:MM, Excel serials), Vietnamese spellings of
channels and booleans, missing due dates (left for chiso to compute), supplements (some twice),
withdrawals and cancellations, a few late dossiers. Due dates are computed with the very SQL that
``chiso status`` uses, over the real working-day calendar.

Deterministic for a seed; each month is generated in chunks with their own seeded random stream, and
written as it is made (Parquet row groups, appended CSV), so memory stays bounded at any ``scale``.
"""

from __future__ import annotations

import calendar as stdcal
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from chiso.calendar.deadlines import sync_deadline_rules
from chiso.calendar.workcal import ensure_calendar
from chiso.config import Config
from chiso.load.loader import update_province_codes
from chiso.status.timeliness import StatusQuery
from chiso.store.db import Store, migrations
from chiso.units import catalog

CHUNK = 200_000
QUARTER_DOSSIERS = 43_600          # seed 003: province-wide dossiers a quarter
PROVINCIAL_SHARE = 13_600 / 43_600  # seed 001: provincial level share
PROCEDURES = 2_835                  # seed 003
ONLINE_SHARE = {"department": 0.78, "commune": 0.97, "district": 0.9}
FEEDBACK_PER_MONTH = 40
DESK_OFFICERS = {"department": 4, "commune": 2}  # officials at one unit's one-stop desk (bộ phận một cửa)
EPOCH = np.datetime64("1970-01-01T00:00:00", "s")
EXCEL_EPOCH = np.datetime64("1899-12-30T00:00:00", "s")


class GeneratorError(ValueError):
    pass


def parse_month(text: str) -> date:
    try:
        y, m = text.strip().split("-")
        return date(int(y), int(m), 1)
    except ValueError:
        raise GeneratorError(f"'{text}' không phải tháng dạng yyyy-mm") from None


def months(start: str, end: str) -> list[date]:
    first, last = parse_month(start), parse_month(end)
    if last < first:
        raise GeneratorError(f"tháng cuối {end} trước tháng đầu {start}")
    out, d = [], first
    while d <= last:
        out.append(d)
        d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return out


def _rng(seed: int, *parts: object) -> np.random.Generator:
    digest = hashlib.sha256(repr((seed, *parts)).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


@dataclass
class World:
    """The units and procedures of the generated province, and an in-memory store for due dates."""

    units: list[catalog.UnitRow]
    procedures: pa.Table
    con: duckdb.DuckDBPyConnection
    config: Config


def _units_for(p: object, period_start: date) -> list[catalog.UnitRow]:
    from vietnam_provinces import Province

    assert isinstance(p, Province)
    rows = catalog.province_rows(p)
    rows += catalog.department_rows(p, catalog.default_departments_path())
    if period_start < catalog.MERGER_DAY:  # both structures; each month uses the units valid in it
        rows += catalog.legacy_rows(p)
    return rows


def _procedures(rng: np.random.Generator, province_code: str, n: int) -> pa.Table:
    levels = rng.choice(["province", "district", "commune"], size=n, p=[0.62, 0.2, 0.18])
    limits = rng.choice([1, 2, 3, 5, 7, 10, 15, 20, 30], size=n, p=[.06, .08, .16, .2, .14, .16, .1, .05, .05])
    units = rng.choice(["working_days", "calendar_days", "same_day"], size=n, p=[0.88, 0.09, 0.03])
    online = rng.choice(["full", "partial", "none"], size=n, p=[0.42, 0.38, 0.2])
    fields = ["Hộ tịch", "Chứng thực", "Đất đai", "Xây dựng", "Đăng ký kinh doanh", "Giao thông vận tải",
              "Lao động", "Bảo trợ xã hội", "Giáo dục", "Y tế", "Văn hóa", "Tư pháp", "Tài nguyên nước",
              "Nông nghiệp", "Công thương", "Thuế", "Người có công", "Thi đua khen thưởng"]
    codes = [f"1.{10000 + i:06d}.000.00.00.H{province_code}" for i in range(n)]
    field_idx = rng.integers(0, len(fields), size=n)
    time_limit = np.where(units == "same_day", np.nan, limits.astype(float))
    return pa.table({
        "code": codes,
        "name": [f"Thủ tục {fields[f].lower()} số {i + 1}" for i, f in enumerate(field_idx)],
        "field": [fields[f] for f in field_idx],
        "level": levels,
        "time_limit": pa.array(time_limit, from_pandas=True),
        "time_unit": units,
        "online_level": online,
        "fee_bearing": rng.random(n) < 0.38,
        "for_individuals": rng.random(n) < 0.7,
        "paper_result": rng.random(n) < 0.9,
        "data_replaceable": rng.random(n) < 0.3,
        "full_online_eligible": online == "full",
    })


def _world(province: str, first_month: date, seed: int) -> World:
    p = catalog.find_province(province)
    units = _units_for(p, first_month)
    procedures = _procedures(_rng(seed, "procedures"), catalog.province_code(p), PROCEDURES)
    con = duckdb.connect()
    for _, _, sql in migrations("duckdb"):
        if sql:
            con.execute(sql)
    store = Store(Path("."), con)
    con.executemany("INSERT INTO units (code, name, level, parent_code, valid_from, valid_to, successor_code, "
                    "ranked, row_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '')",
                    [(u.code, u.name, u.level, u.parent_code, u.valid_from, u.valid_to, u.successor_code, u.ranked)
                     for u in units])
    update_province_codes(con)
    # Every column, as the procedures file has them: the national generator writes this table to its lake.
    con.register("gen_procedures", procedures)
    con.execute("INSERT INTO procedures BY NAME SELECT *, '' AS row_hash FROM gen_procedures")
    con.unregister("gen_procedures")
    config = Config()
    ensure_calendar(store, config)
    sync_deadline_rules(store, config)
    return World(units, procedures, con, config)


def _active_units(world: World, month: date) -> list[catalog.UnitRow]:
    end = date(month.year, month.month, stdcal.monthrange(month.year, month.month)[1])
    return [u for u in world.units if u.level in ("department", "commune", "district")
            and (u.valid_from is None or u.valid_from <= end) and (u.valid_to is None or u.valid_to >= month)
            and not (u.level == "district" and month >= catalog.MERGER_DAY)]


def _fmt_dates(rng: np.random.Generator, ts: np.ndarray) -> pa.Array:
    """Timestamps as text in mixed formats: ISO (80%), dd/mm/yyyy HH:MM (17%), Excel serial (3%)."""
    arr = pa.array(ts.astype("datetime64[s]"), from_pandas=True)
    iso = pc.strftime(arr, format="%Y-%m-%d %H:%M:%S")
    vn = pc.strftime(arr, format="%d/%m/%Y %H:%M")
    seconds = pc.subtract(arr.cast(pa.int64()), int((EXCEL_EPOCH - EPOCH).astype("int64")))
    serial = pc.round(pc.divide(seconds.cast(pa.float64()), 86400.0), 6).cast(pa.string())
    pick = rng.random(len(ts))
    return pc.if_else(pa.array(pick < 0.80), iso, pc.if_else(pa.array(pick < 0.97), vn, serial))


def _bool_text(rng: np.random.Generator, values: np.ndarray) -> pa.Array:
    styles_true = np.array(["true", "1", "x", "có"])
    styles_false = np.array(["false", "0", "", "không"])
    style = rng.integers(0, 4, size=len(values))
    style = np.where(rng.random(len(values)) < 0.85, 0, style)
    return pa.array(np.where(values, styles_true[style], styles_false[style]).tolist(), pa.string())


def _month_chunks(scale: float) -> list[tuple[int, int]]:
    total = int(round(QUARTER_DOSSIERS / 3 * scale))
    return [(start, min(CHUNK, total - start)) for start in range(0, total, CHUNK)]


def _working_days(world: World, month: date) -> tuple[np.ndarray, np.ndarray]:
    end = date(month.year, month.month, stdcal.monthrange(month.year, month.month)[1])
    rows = world.con.execute(
        "SELECT day, is_working FROM calendar_days WHERE calendar_key = '' AND day BETWEEN ? AND ? ORDER BY day",
        [month, end]).fetchall()
    days = np.array([np.datetime64(d, "s") for d, _ in rows])
    working = np.array([w for _, w in rows])
    return days, working


def _chunk(world: World, month: date, index: int, start: int, size: int, seed: int, export_at: datetime,
           province_code: str) -> tuple[pa.Table, pa.Table]:
    rng = _rng(seed, "dossiers", month.isoformat(), index)
    units = _active_units(world, month)
    dept = [u for u in units if u.level == "department"]
    local = [u for u in units if u.level != "department"]
    # Unit sizes are skewed: a few busy units, a long tail (Zipf-like weights, fixed per seed).
    w_rng = _rng(seed, "weights", month.year)
    dept_w = 1 / np.arange(1, len(dept) + 1) ** 0.9
    local_w = 1 / np.arange(1, len(local) + 1) ** 0.6
    w_rng.shuffle(dept_w)
    w_rng.shuffle(local_w)
    weights = np.concatenate([dept_w / dept_w.sum() * PROVINCIAL_SHARE,
                              local_w / local_w.sum() * (1 - PROVINCIAL_SHARE)])
    all_units = dept + local
    unit_idx = rng.choice(len(all_units), size=size, p=weights)
    levels = np.array([u.level for u in all_units])[unit_idx]
    codes = np.array([u.code for u in all_units])[unit_idx]
    # Procedures matching the unit's level.
    proc_levels = np.array(world.procedures.column("level").to_pylist())
    proc_codes = np.array(world.procedures.column("code").to_pylist())
    prov_procs = proc_codes[proc_levels == "province"]
    local_procs = proc_codes[proc_levels != "province"]
    pick_prov = rng.choice(prov_procs, size=size)
    pick_local = rng.choice(local_procs, size=size)
    procs = np.where(levels == "department", pick_prov, pick_local)
    online = rng.random(size) < np.vectorize(ONLINE_SHARE.get)(levels)
    postal = (~online) & (rng.random(size) < 0.03)
    channel = np.where(online, "online", np.where(postal, "postal", "direct"))
    # Reception moments: working days in office hours; online also evenings and weekends.
    days, working = _working_days(world, month)
    work_days, off_days = days[working], days[~working]
    on_off_day = online & (rng.random(size) < 0.08) & (len(off_days) > 0)
    day = np.where(on_off_day, rng.choice(off_days if len(off_days) else work_days, size=size),
                   rng.choice(work_days, size=size))
    office = rng.integers(7 * 3600 + 15 * 60, 16 * 3600 + 45 * 60, size=size)
    evening = rng.integers(6 * 3600, 22 * 3600, size=size)
    secs = np.where(online & (rng.random(size) < 0.25), evening, office)
    received = day + secs.astype("timedelta64[s]")
    ids = np.char.add(f"{province_code}-{month:%y%m}-", np.char.zfill((start + np.arange(size)).astype(str), 8))
    # Due dates by the same SQL as `chiso status`.
    frame = pa.table({"dossier_id": ids, "unit_code": codes, "procedure_code": procs,
                      "received_at": pa.array(received.astype("datetime64[us]"))})
    due = _due_dates(world, frame)
    span = (due - received).astype("int64")
    span = np.maximum(span, 3600)
    outcome = rng.choice(["early", "on_time", "late", "withdrawn"], size=size, p=[0.972, 0.012, 0.006, 0.010])
    frac = np.clip(rng.beta(2, 5, size=size), 0.03, 0.9)
    end = received + (frac * span).astype("timedelta64[s]")
    # Early means an earlier *date* than the due date: finish by 16:00 of the day before when there is room.
    day_before = due.astype("datetime64[D]").astype("datetime64[s]") - np.timedelta64(8 * 3600, "s")
    end = np.where((outcome == "early") & (day_before > received), np.minimum(end, day_before), end)
    end = np.where(outcome == "on_time", due - rng.integers(600, 3 * 3600, size=size).astype("timedelta64[s]"), end)
    end = np.where(outcome == "on_time", np.maximum(end, received + np.timedelta64(600, "s")), end)
    end = np.where(outcome == "late", due + rng.integers(3600, 8 * 86400, size=size).astype("timedelta64[s]"), end)
    export = np.datetime64(export_at, "s")
    ended = end <= export
    finished = np.where(ended & (outcome != "withdrawn"), end, np.datetime64("NaT"))
    stopped = np.where(ended & (outcome == "withdrawn"), end, np.datetime64("NaT"))
    ret = finished + rng.integers(0, 2 * 86400, size=size).astype("timedelta64[s]")
    returned = np.where((~np.isnat(finished)) & (ret <= export) & (rng.random(size) < 0.93), ret,
                        np.datetime64("NaT"))
    reasons = rng.choice(np.array(["withdrawn", "cancelled", "refused"], dtype=object), size=size)
    stop_reason = np.where(np.isnat(stopped), np.array(None, dtype=object), reasons)
    # Supplements: ~1.2% of dossiers, a few of them twice.
    supp = (rng.random(size) < 0.012) & (outcome != "withdrawn")
    twice = supp & (rng.random(size) < 0.08)
    p_start = received + (np.maximum(frac * span, 7200) * 0.3).astype("timedelta64[s]")
    p_end = p_start + rng.integers(3600, 5 * 86400, size=size).astype("timedelta64[s]")
    p_end_known = np.where(p_end <= export, p_end, np.datetime64("NaT"))
    sel = np.nonzero(supp)[0]
    sel2 = np.nonzero(twice)[0]
    pauses = pa.table({
        "dossier_id": np.concatenate([ids[sel], ids[sel2]]),
        "kind": np.concatenate([np.full(len(sel), "supplement"), np.full(len(sel2), "bổ sung")]),
        "started_at": _fmt_dates(rng, np.concatenate([p_start[sel], p_end[sel2] + np.timedelta64(3600, "s")])),
        "ended_at": _fmt_dates(rng, np.concatenate([p_end_known[sel],
                                                    p_end_known[sel2] + np.timedelta64(2 * 86400, "s")])),
    })
    # Finishing after a supplement takes longer: push the end by the pause.
    fee = np.where(rng.random(size) < 0.35, rng.choice([0, 10_000, 20_000, 50_000, 100_000], size=size), 0)
    give_due = rng.random(size) < 0.7  # 30% leave the due date to be computed
    due_text = _fmt_dates(rng, np.where(give_due, due, np.datetime64("NaT")))
    channel_text = np.where(rng.random(size) < 0.1, np.vectorize(
        {"online": "Trực tuyến", "direct": "Trực tiếp", "postal": "Bưu chính"}.get)(channel), channel)
    dossiers = pa.table({
        "dossier_id": ids,
        "unit_code": codes,
        "procedure_code": procs,
        "channel": channel_text,
        "submitted_at": _fmt_dates(rng, np.where(online, received - rng.integers(60, 86400, size=size)
                                                  .astype("timedelta64[s]"), np.datetime64("NaT"))),
        "received_at": _fmt_dates(rng, received),
        "due_at": due_text,
        "finished_at": _fmt_dates(rng, finished),
        "returned_at": _fmt_dates(rng, returned),
        "stopped_at": _fmt_dates(rng, stopped),
        "stop_reason": pa.array(stop_reason.tolist(), pa.string()),
        "fee_amount": pa.array(fee.astype(float)),
        "paid_online": _bool_text(rng, (fee > 0) & online & (rng.random(size) < 0.85)),
        "e_result": _bool_text(rng, rng.random(size) < 0.75),
        "digitized": _bool_text(rng, rng.random(size) < 0.8),
        "reused_data": _bool_text(rng, rng.random(size) < 0.3),
        "shared_to_citizen_store": _bool_text(rng, rng.random(size) < 0.2),
        "used_population_data": _bool_text(rng, rng.random(size) < 0.45),
        "synced_to_portal": _bool_text(rng, rng.random(size) < 0.97),
        "rating": pa.array(np.where(rng.random(size) < 0.2,
                                    np.where(rng.random(size) < 0.98, "satisfied", "dissatisfied"),
                                    np.array(None, dtype=object)).tolist(), pa.string()),
        "officer": pa.array(_officers(rng, codes, levels), pa.string()),
    })
    return dossiers, pauses


def _officers(rng: np.random.Generator, codes: np.ndarray, levels: np.ndarray) -> list[str]:
    """The official in charge (cán bộ tiếp nhận): each works at one unit's desk, a provincial department's desk
    at the provincial centre having more of them than a commune's. Codes are ``CB-<unit code>-<n>``."""
    per_unit = np.where(levels == "department", DESK_OFFICERS["department"], DESK_OFFICERS["commune"])
    n = (rng.random(len(codes)) * per_unit).astype(int) + 1
    return [f"CB-{u}-{k:02d}" for u, k in zip(codes.tolist(), n.tolist(), strict=True)]


def _due_dates(world: World, frame: pa.Table) -> np.ndarray:
    con = world.con
    con.register("gen_frame", frame)
    con.execute("""CREATE OR REPLACE TEMP VIEW gen_chunk AS
                   SELECT dossier_id, unit_code, procedure_code, received_at,
                          CAST(NULL AS TIMESTAMP) AS due_at, CAST(NULL AS TIMESTAMP) AS original_due_at,
                          CAST(NULL AS TIMESTAMP) AS finished_at, CAST(NULL AS TIMESTAMP) AS returned_at,
                          CAST(NULL AS TIMESTAMP) AS stopped_at, CAST(NULL AS INTEGER) AS supplement_count
                   FROM gen_frame""")
    query = StatusQuery(as_of=datetime(2100, 1, 1), config=world.config, source="gen_chunk", dialect="duckdb")
    # Identifiers are zero-padded sequence numbers, so ordering by them keeps the frame's order.
    result = con.sql(f"SELECT due_at FROM ({query.sql()}) s ORDER BY dossier_id").to_arrow_table()
    con.unregister("gen_frame")
    if result.num_rows != frame.num_rows:
        raise GeneratorError("không tính được hạn cho một số hồ sơ (thiếu lịch làm việc?)")
    due: np.ndarray = result.column(0).to_numpy().astype("datetime64[s]")
    return due


def generate_province(province: str, start: str, end: str, out: Path, *, scale: float = 1.0, seed: int = 1,
                      fmt: str = "parquet", progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
    """Write the province's contract files into ``out``; ``progress(done, total)`` after each chunk of dossiers.
    Returns the rows written per file."""
    if scale <= 0:
        raise GeneratorError("--scale phải lớn hơn 0")
    month_list = months(start, end)
    world = _world(province, month_list[0], seed)
    p = catalog.find_province(province)
    prov = catalog.province_code(p)
    out.mkdir(parents=True, exist_ok=True)
    counts = {"units": 0, "procedures": 0, "dossiers": 0, "pauses": 0, "feedback": 0}
    units = [u for u in world.units]
    catalog.write_units_csv(units, out / "units.csv")
    counts["units"] = len(units)
    pacsv.write_csv(world.procedures, out / "procedures.csv")
    counts["procedures"] = world.procedures.num_rows
    last = month_list[-1]
    export_at = datetime(last.year, last.month, stdcal.monthrange(last.year, last.month)[1], 23, 59, 59)
    dossier_writer: pq.ParquetWriter | pacsv.CSVWriter | None = None
    pause_writer: pacsv.CSVWriter | None = None
    chunks = [(month, index, first, size) for month in month_list
              for index, (first, size) in enumerate(_month_chunks(scale))]
    try:
        for done, (month, index, first, size) in enumerate(chunks, start=1):
            dossiers, pauses = _chunk(world, month, index, first, size, seed, export_at, prov)
            if dossier_writer is None:
                dossier_writer = (pq.ParquetWriter(out / "dossiers.parquet", dossiers.schema)
                                  if fmt == "parquet" else pacsv.CSVWriter(out / "dossiers.csv", dossiers.schema))
            dossier_writer.write_table(dossiers)
            if pause_writer is None:
                pause_writer = pacsv.CSVWriter(out / "pauses.csv", pauses.schema)
            pause_writer.write_table(pauses)
            counts["dossiers"] += dossiers.num_rows
            counts["pauses"] += pauses.num_rows
            if progress is not None:
                progress(done, len(chunks))
    finally:
        if dossier_writer is not None:
            dossier_writer.close()
        if pause_writer is not None:
            pause_writer.close()
    feedback = _feedback(world, month_list, scale, seed, export_at, prov)
    pacsv.write_csv(feedback, out / "feedback.csv")
    counts["feedback"] = feedback.num_rows
    inputs = _indicator_inputs(world, month_list, seed, prov)
    pacsv.write_csv(inputs, out / "indicator_inputs.csv")
    counts["indicator_inputs"] = inputs.num_rows
    return counts


def _indicator_inputs(world: World, month_list: list[date], seed: int, province_code: str) -> pa.Table:
    """The figures staff enter by hand each month (indicator_inputs), as a province has them: the province's
    publicity of procedures (inherited by its units) and the communes that issue electronic certified copies.
    Counts of procedures announced and updated in a month are small; the shares are high but not all."""
    periods, units, indicators, numerators, denominators = [], [], [], [], []
    procedures = world.procedures.num_rows
    for month in month_list:
        rng = _rng(seed, "inputs", month.isoformat())
        active = _active_units(world, month)
        communes = sum(1 for u in active if u.level == "commune")
        announced = int(rng.integers(8, 40))
        updated = int(rng.integers(8, 40))
        rows = [
            ("PUBLISH_ON_TIME", announced - int(rng.integers(0, 3)), announced),
            ("PUBLIC_UPDATE_ON_TIME", updated - int(rng.integers(0, 4)), updated),
            ("PUBLIC_CONTENT_FULL", procedures - int(rng.integers(0, max(1, procedures // 50))), procedures),
            ("ELECTRONIC_CERTIFIED_COPY", communes - int(rng.integers(0, max(1, communes // 10))), communes),
        ]
        own = [(province_code, code, num, den) for code, num, den in rows]
        for district in (u for u in active if u.level == "district"):  # before 1/7/2025: each district's communes
            below = sum(1 for u in active if u.level == "commune" and u.parent_code == district.code)
            if below:
                own.append((district.code, "ELECTRONIC_CERTIFIED_COPY", below - int(rng.integers(0, 2)), below))
        for unit, code, num, den in own:
            periods.append(f"{month:%Y-%m}")
            units.append(unit)
            indicators.append(code)
            numerators.append(max(0, num))
            denominators.append(den)
    return pa.table({"period": periods, "unit_code": units, "indicator": indicators, "numerator": numerators,
                     "denominator": denominators})


def _feedback(world: World, month_list: list[date], scale: float, seed: int, export_at: datetime,
              province_code: str) -> pa.Table:
    ids, units, received, handled, satisfied, about = [], [], [], [], [], []
    for month in month_list:
        rng = _rng(seed, "feedback", month.isoformat())
        active = [u.code for u in _active_units(world, month)]
        n = max(1, int(round(FEEDBACK_PER_MONTH * scale)))
        days = stdcal.monthrange(month.year, month.month)[1]
        for i in range(n):
            r = datetime(month.year, month.month, int(rng.integers(1, days + 1)), int(rng.integers(7, 17)))
            h = r + timedelta(days=float(rng.uniform(1, 25)))
            ids.append(f"PAKN-{province_code}-{month:%y%m}-{i + 1:05d}")  # unique in the country, as dossier ids
            units.append(active[int(rng.integers(0, len(active)))])
            received.append(r.strftime("%Y-%m-%d %H:%M:%S"))
            handled.append(h.strftime("%Y-%m-%d %H:%M:%S") if h <= export_at else None)
            satisfied.append(None if h > export_at else ("true" if rng.random() < 0.9 else "false"))
            about.append(str(rng.choice(["procedure", "staff", "other"], p=[0.6, 0.25, 0.15])))
    return pa.table({"feedback_id": ids, "unit_code": units, "received_at": received, "handled_at": handled,
                     "satisfied": pa.array(satisfied, pa.string()), "about": about})
