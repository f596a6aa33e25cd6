"""Typing and validating staged rows in SQL (kiểm tra dữ liệu), one pass per file.

1. Each contract column gets a parse expression; a non-empty value whose parse is NULL is an error. Parsing is
   strict: a date with anything after its time and offset, a number that is not finite, are not values.
2. The contract's bounds are data (:class:`chiso.load.contract.Column`): numbers within ``min``/``max``, text
   within ``max_length`` and free of control and invisible direction characters, dates inside the working
   calendar. Each is one generic check here, so adding a bound is one line in contract.py.
3. The checks that span rows (duplicates, unknown units and procedures, dates out of order) are joins; the unit
   hierarchy is walked for cycles through the stored units and the incoming rows (:func:`post_checks`, run once
   the other errors are known, so that only rows that would be stored take part).
4. A reader's own verdict on a row (a ragged CSV record, bytes the encoding cannot decode, a nested JSON value)
   arrives in the staging columns ``_bad_col`` and ``_bad`` and becomes an error row like the others.

Every error is a row ``(_row, column, reason)`` with the reason in Vietnamese, so nothing is dropped silently.
Reasons may quote a contract column's value (shortened, invisible characters replaced), never anything else.
"""

from __future__ import annotations

from collections.abc import Iterable

from chiso.load.contract import BOOL_FALSE, BOOL_TRUE, Column, Table
from chiso.textnorm import INVISIBLE_SQL, fold

DATE_FORMATS_HINT = ("yyyy-mm-dd[ HH:MM[:SS]][Z|+07|+0700|+07:00], dd/mm/yyyy[ HH:MM[:SS]] "
                     "hoặc số ngày Excel")
# Control and invisible characters (chiso.textnorm.INVISIBLE_RANGES), as the SQL pattern.
INVISIBLE = INVISIBLE_SQL
SHOWN_CHARS = 60
# Parsed dates outside these years are not dates (a typo or a misread serial); the calendar check is narrower.
SANE_YEARS = (1900, 2100)
# Whole numbers beyond this are not integers we can store; the contract's bounds are narrower anyway.
INTEGER_LIMIT = 2_147_483_647


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def cleaned(raw: str) -> str:
    return f"NULLIF(TRIM({raw}), '')"


def folded(raw: str) -> str:
    return (
        f"TRIM(REGEXP_REPLACE(REPLACE(STRIP_ACCENTS(LOWER({cleaned(raw)})), 'đ', 'd'), "
        r"'[\s_\-./]+', ' ', 'g'))"
    )


def shown(raw: str) -> str:
    """A value quoted for a message: at most 60 characters, invisible characters shown as '�'."""
    t = cleaned(raw)
    return (f"('''' || REGEXP_REPLACE(LEFT({t}, {SHOWN_CHARS}), {lit(INVISIBLE)}, '�', 'g') || "
            f"(CASE WHEN LENGTH({t}) > {SHOWN_CHARS} THEN '…' ELSE '' END) || '''')")


def datetime_expr(raw: str) -> str:
    """Local Asia/Ho_Chi_Minh timestamp from ISO 8601, dd/mm/yyyy or an Excel serial; NULL for anything else.

    ISO: ``yyyy-mm-dd``, then optionally ``T`` or a space and ``HH:MM[:SS[.ffffff]]``, then optionally an
    offset ``Z``, ``+HH``, ``+HHMM`` or ``+HH:MM`` (at most ±14:00; converted to UTC+7). Nothing may follow.
    """
    t = cleaned(raw)
    plain = r"\d{4}-\d{2}-\d{2}([T ]\d{1,2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?"
    zoned = r"(\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?) ?(Z|z|[+-]\d{2}(?::?\d{2})?)"
    off = f"REGEXP_EXTRACT({t}, {lit(zoned)}, 2)"
    off_h = f"TRY_CAST(SUBSTRING({off}, 2, 2) AS INTEGER)"
    off_m = f"(CASE WHEN LENGTH({off}) > 3 THEN TRY_CAST(RIGHT({off}, 2) AS INTEGER) ELSE 0 END)"
    off_secs = (f"(CASE WHEN UPPER({off}) = 'Z' THEN 0 WHEN {off_h} > 14 OR {off_m} > 59 THEN NULL "
                f"ELSE (CASE WHEN LEFT({off}, 1) = '-' THEN -1 ELSE 1 END) * ({off_h} * 3600 + {off_m} * 60) END)")
    parsed = f"""(CASE
        WHEN REGEXP_FULL_MATCH({t}, {lit(plain)}) THEN TRY_CAST({t} AS TIMESTAMP)
        WHEN REGEXP_FULL_MATCH({t}, '\\d{{1,7}}(\\.\\d+)?') THEN
            CASE WHEN TRY_CAST({t} AS DOUBLE) BETWEEN 1 AND 2958465
                 THEN TIMESTAMP '1899-12-30 00:00:00'
                      + CAST(FLOOR(CAST({t} AS DOUBLE)) AS INTEGER) * INTERVAL '1 day'
                      + CAST(ROUND((CAST({t} AS DOUBLE) - FLOOR(CAST({t} AS DOUBLE))) * 86400) AS INTEGER)
                        * INTERVAL '1 second' END
        WHEN REGEXP_FULL_MATCH({t}, '\\d{{1,2}}/\\d{{1,2}}/\\d{{4}}( \\d{{1,2}}:\\d{{2}}(:\\d{{2}})?)?') THEN
            TRY_STRPTIME({t}, ['%d/%m/%Y %H:%M:%S', '%d/%m/%Y %H:%M', '%d/%m/%Y'])
        WHEN REGEXP_FULL_MATCH({t}, {lit(zoned)}) THEN
            TRY_CAST(REGEXP_EXTRACT({t}, {lit(zoned)}, 1) AS TIMESTAMP) + (7 * 3600 - {off_secs}) * INTERVAL '1 second'
        END)"""
    lo, hi = SANE_YEARS
    return f"(CASE WHEN EXTRACT(YEAR FROM {parsed}) BETWEEN {lo} AND {hi} THEN {parsed} END)"


def number_expr(raw: str) -> str:
    """Finite numbers, also in Vietnamese format: '1.500.000' (thousands) and '12,5' (decimal comma).

    Only decimal notation is a number: not 'nan', 'inf', '0x10' or '1_000'.
    """
    t = cleaned(raw)
    n = f"""(CASE
        WHEN REGEXP_FULL_MATCH({t}, '[+-]?\\d{{1,3}}(\\.\\d{{3}})+(,\\d+)?')
             THEN TRY_CAST(REPLACE(REPLACE({t}, '.', ''), ',', '.') AS DOUBLE)
        WHEN REGEXP_FULL_MATCH({t}, '[+-]?\\d+,\\d+') THEN TRY_CAST(REPLACE({t}, ',', '.') AS DOUBLE)
        WHEN REGEXP_FULL_MATCH({t}, '[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d{{1,4}})?') THEN TRY_CAST({t} AS DOUBLE)
        END)"""
    return f"(CASE WHEN ISFINITE({n}) THEN {n} END)"


def parse_expr(col: Column, raw: str) -> str:
    if col.type == "text":
        return cleaned(raw)
    if col.type == "datetime":
        return datetime_expr(raw)
    if col.type == "date":
        return f"CAST({datetime_expr(raw)} AS DATE)"
    if col.type == "number":
        return number_expr(raw)
    if col.type == "integer":
        n = number_expr(raw)
        return f"(CASE WHEN {n} = ROUND({n}) AND ABS({n}) < 1e15 THEN CAST({n} AS BIGINT) END)"
    if col.type == "bool":
        f = folded(raw)
        yes = ", ".join(lit(v) for v in BOOL_TRUE)
        no = ", ".join(lit(v) for v in BOOL_FALSE)
        return f"(CASE WHEN {f} IN ({yes}) THEN TRUE WHEN {f} IN ({no}) THEN FALSE END)"
    if col.type == "enum":
        f = folded(raw)
        whens = " ".join(
            f"WHEN {f} IN ({', '.join(lit(s) for s in sorted({fold(x) for x in (canon, *spellings)}))}) "
            f"THEN {lit(canon)}"  # folded like the input: 'other_agency' is 'other agency'
            for canon, spellings in col.values.items()
        )
        return f"(CASE {whens} END)"
    raise ValueError(col.type)


def type_reason(col: Column, raw: str) -> str:
    v = shown(raw)
    if col.type in ("datetime", "date"):
        return f"{v} || ' không phải ngày giờ hợp lệ (dùng {DATE_FORMATS_HINT})'"
    if col.type == "number":
        return f"{v} || ' không phải số'"
    if col.type == "integer":
        return f"{v} || ' không phải số nguyên'"
    if col.type == "bool":
        return f"{v} || ' không phải giá trị đúng/sai (true/false, 1/0, có/không, x/để trống)'"
    allowed = ", ".join(col.values)
    return f"{v} || {lit(' không thuộc các giá trị cho phép: ' + allowed)}"


def typed_select(table: Table, present: list[str]) -> str:
    """SELECT over the staging table ``stg`` adding ``v_<col>`` (typed) for every contract column."""
    parts = ["_row", "_bad_col", "_bad"]
    for col in table.columns:
        if col.name in present:
            parts.append(f"{q(col.name)} AS {q('raw_' + col.name)}")
            parts.append(f"{parse_expr(col, q(col.name))} AS {q('v_' + col.name)}")
        else:
            parts.append(f"CAST(NULL AS VARCHAR) AS {q('raw_' + col.name)}")
            parts.append(f"CAST(NULL AS {sql_type(col)}) AS {q('v_' + col.name)}")
    return "SELECT " + ",\n       ".join(parts) + " FROM stg"


def sql_type(col: Column) -> str:
    return {"text": "VARCHAR", "enum": "VARCHAR", "datetime": "TIMESTAMP", "date": "DATE",
            "number": "DOUBLE", "integer": "BIGINT", "bool": "BOOLEAN"}[col.type]


def vn_number(x: float) -> str:
    """1000000 -> '1.000.000', 0.5 -> '0,5' (as the messages are read)."""
    from chiso import vnformat

    return vnformat.number(x, 6, trim=True)


def bounds_text(col: Column) -> str:
    """The allowed range in words: 'từ 0 đến 1.000', 'lớn hơn 0 và không quá 730'."""
    lo = None if col.min is None else vn_number(col.min)
    hi = None if col.max is None else vn_number(col.max)
    if col.min_open:
        text = f"lớn hơn {lo}" + (f" và không quá {hi}" if hi is not None else "")
        if col.min_open_unless:
            other, value = col.min_open_unless
            text += f" (được bằng {lo} khi {other} là {value})"
        return text
    if lo is not None and hi is not None:
        return f"từ {lo} đến {hi}"
    return f"không nhỏ hơn {lo}" if lo is not None else f"không quá {hi}"


def _integer_bounds(col: Column) -> tuple[float | None, float | None]:
    if col.type != "integer":
        return col.min, col.max
    lo = -INTEGER_LIMIT if col.min is None else max(col.min, -INTEGER_LIMIT)
    hi = INTEGER_LIMIT if col.max is None else min(col.max, INTEGER_LIMIT)
    return lo, hi


def bounds_check(col: Column) -> str | None:
    """SELECT (_row, col, reason) for values outside the column's bounds, or None when it has none."""
    if col.type not in ("number", "integer"):
        return None
    lo, hi = _integer_bounds(col)
    if lo is None and hi is None:
        return None
    v = q("v_" + col.name)
    bad: list[str] = []
    if lo is not None:
        if col.min_open and col.min_open_unless:
            other, value = col.min_open_unless
            bad.append(f"(CASE WHEN {q('v_' + other)} IS NOT DISTINCT FROM {lit(value)} "
                       f"THEN {v} < {lo!r} ELSE {v} <= {lo!r} END)")
        else:
            bad.append(f"{v} {'<=' if col.min_open else '<'} {lo!r}")
    if hi is not None:
        bad.append(f"{v} > {hi!r}")
    shown_col = Column(col.name, col.type, min=lo, max=hi, min_open=col.min_open,
                       min_open_unless=col.min_open_unless)
    reason = lit(" ngoài khoảng cho phép: " + bounds_text(shown_col))
    return (f"SELECT _row, {lit(col.name)}, {shown(q('raw_' + col.name))} || {reason} FROM typed "
            f"WHERE {v} IS NOT NULL AND ({' OR '.join(bad)})")


def text_checks(col: Column) -> list[str]:
    """Control or invisible characters anywhere in the value; more characters than ``max_length``."""
    raw, v = q("raw_" + col.name), q("v_" + col.name)  # v_: the value trimmed, as stored
    first = f"REGEXP_EXTRACT({raw}, {lit(INVISIBLE)})"
    return [
        f"SELECT _row, {lit(col.name)}, 'chứa ký tự điều khiển hoặc ký tự ẩn ' || PRINTF('U+%04X', UNICODE({first})) "
        f"|| ' ở vị trí ' || CAST(INSTR({raw}, {first}) AS VARCHAR) || ' (không được phép trong dữ liệu)' "
        f"FROM typed WHERE REGEXP_MATCHES({raw}, {lit(INVISIBLE)})",
        # Bytes first (cheap): a value has at least as many bytes as characters.
        f"SELECT _row, {lit(col.name)}, 'dài ' || CAST(LENGTH({v}) AS VARCHAR) || "
        f"{lit(f' ký tự, tối đa {col.max_length}')} FROM typed "
        f"WHERE STRLEN({v}) > {col.max_length} AND LENGTH({v}) > {col.max_length}",
    ]


def calendar_check(col: Column, years: tuple[int, int]) -> str:
    first, last = years
    v = q("v_" + col.name)
    reason = (f" ngoài lịch làm việc {first}–{last} ([calendar] years trong chiso.toml): "
              "không tính được hạn, điểm cho ngày này")
    return (f"SELECT _row, {lit(col.name)}, {shown(q('raw_' + col.name))} || {lit(reason)} "
            f"FROM typed WHERE {v} IS NOT NULL AND EXTRACT(YEAR FROM {v}) NOT BETWEEN {first} AND {last}")


def error_checks(table: Table, present: list[str], store_tables: set[str],
                 calendar_years: tuple[int, int] = (2015, 2035), reader_rows: bool = True) -> list[str]:
    """SELECT statements over ``typed`` yielding (_row, col, reason). ``reader_rows``: some rows carry a reader's
    verdict (``_bad``); when none does, the checks need not leave them out."""
    checks: list[str] = []
    for col in table.columns:
        raw, v = q("raw_" + col.name), q("v_" + col.name)
        if col.required:
            checks.append(f"SELECT _row, {lit(col.name)} AS col, 'thiếu giá trị bắt buộc' AS reason "
                          f"FROM typed WHERE {cleaned(raw)} IS NULL")
        if col.name not in present:
            continue
        if col.type != "text":
            checks.append(f"SELECT _row, {lit(col.name)}, {type_reason(col, raw)} FROM typed "
                          f"WHERE {cleaned(raw)} IS NOT NULL AND {v} IS NULL")
        if col.type == "text":
            checks.extend(text_checks(col))
        bounds = bounds_check(col)
        if bounds:
            checks.append(bounds)
        if col.type in ("date", "datetime") and col.in_calendar:
            checks.append(calendar_check(col, calendar_years))
        if col.references and col.references[0] in store_tables:
            ref_table, ref_col = col.references
            label = {"units": "đơn vị", "procedures": "thủ tục hành chính", "dossiers": "hồ sơ"}[ref_table]
            # Units may be given by name: the loader matched what it could (chiso.units.names) and left, in
            # unit_hints, the closest units of each value it could not match.
            hint = (" || COALESCE((SELECT '; gần nhất: ' || h.hint FROM unit_hints h WHERE h.value = "
                    f"{v}), '')") if ref_table == "units" else ""
            checks.append(
                f"SELECT _row, {lit(col.name)}, {shown(v)} || ' không có trong danh mục {label}'{hint} "
                f"FROM typed WHERE {v} IS NOT NULL AND {v} NOT IN (SELECT {ref_col} FROM {ref_table})"
            )
    key = [q("v_" + k) for k in table.key]
    key_label = ", ".join(table.key)
    checks.append(
        f"SELECT _row, {lit(table.key[0])}, 'trùng khóa ({key_label}) với dòng ' || CAST(first_row AS VARCHAR) "
        f"FROM (SELECT _row, min(_row) OVER (PARTITION BY {', '.join(key)}) AS first_row FROM typed "
        f"WHERE _bad IS NULL AND {' AND '.join(k + ' IS NOT NULL' for k in key)}) dup WHERE _row > first_row"
    )
    checks.extend(_table_specific(table))
    # A row the reader could not take as is (a ragged record, undecodable bytes) gets the reader's reason only:
    # its values may be shifted or incomplete, so checking them would only add noise.
    reader = "SELECT _row, COALESCE(_bad_col, '(dòng)') AS col, _bad AS reason FROM typed WHERE _bad IS NOT NULL"
    if not reader_rows:
        return [reader, *checks]
    return [reader, *(f"SELECT * FROM ({c}) c WHERE _row NOT IN (SELECT _row FROM typed WHERE _bad IS NOT NULL)"
                      for c in checks)]


def rules_table(tables: Iterable[Table]) -> str:
    """The bounds of every contract column as a Markdown table (docs/loading.md shows it; a test compares)."""
    lines = ["| table | column | type | allowed |", "|---|---|---|---|"]
    for table in tables:
        for col in table.columns:
            if col.type == "text":
                rule = f"tối đa {col.max_length} ký tự, không ký tự điều khiển hoặc ký tự ẩn"
            elif col.type in ("date", "datetime"):
                rule = ("trong lịch làm việc ([calendar] years, mặc định 2015–2035)" if col.in_calendar
                        else f"năm {SANE_YEARS[0]}–{SANE_YEARS[1]}")
            elif col.type in ("number", "integer"):
                lo, hi = _integer_bounds(col)
                rule = "số hữu hạn, " + bounds_text(Column(col.name, col.type, min=lo, max=hi, min_open=col.min_open,
                                                            min_open_unless=col.min_open_unless))
            else:
                continue
            lines.append(f"| {table.name} | {col.name} | {col.type} | {rule} |")
    return "\n".join(lines) + "\n"


def post_checks(table: Table) -> list[str]:
    """Checks over the rows that passed ``error_checks`` (the table ``errs`` holds the others)."""
    if table.name == "units":
        return [UNIT_CYCLES]
    return []


# A unit may not be its own ancestor: walk each incoming unit's parents through the incoming rows that would be
# stored and the stored units they do not replace. Each code has one parent, so each walk is a path.
UNIT_CYCLES = """
WITH RECURSIVE
inc AS (SELECT _row, v_code AS code, v_parent_code AS parent FROM typed
        WHERE v_code IS NOT NULL AND _row NOT IN (SELECT _row FROM errs)),
edges AS (SELECT code, parent FROM inc WHERE parent IS NOT NULL
          UNION ALL
          SELECT code, parent_code FROM units WHERE parent_code IS NOT NULL AND code NOT IN (SELECT code FROM inc)),
walk(start, cur, path) AS (
    SELECT code, parent, [code] FROM edges WHERE code IN (SELECT code FROM inc)
    UNION ALL
    SELECT w.start, e.parent, list_append(w.path, w.cur) FROM walk w JOIN edges e ON e.code = w.cur
    WHERE w.cur <> w.start AND NOT list_contains(w.path, w.cur))
SELECT i._row, 'parent_code',
       'đơn vị cấp trên tạo vòng lặp: ' || array_to_string(list_append(w.path, w.cur), ' → ')
       || ' (một đơn vị không thể là cấp trên của chính nó)'
FROM walk w JOIN inc i ON i.code = w.start WHERE w.cur = w.start
"""


def _before(later: str, earlier: str, label: str) -> str:
    return (f"SELECT _row, {lit(later)}, 'thời điểm ' || CAST({q('v_' + later)} AS VARCHAR) || "
            f"' trước {label} ' || CAST({q('v_' + earlier)} AS VARCHAR) FROM typed "
            f"WHERE {q('v_' + later)} < {q('v_' + earlier)}")


def _table_specific(table: Table) -> list[str]:
    if table.name == "dossiers":
        return [
            _before("due_at", "received_at", "ngày tiếp nhận"),
            _before("finished_at", "received_at", "ngày tiếp nhận"),
            _before("returned_at", "received_at", "ngày tiếp nhận"),
            _before("stopped_at", "received_at", "ngày tiếp nhận"),
            "SELECT t._row, 'due_at', 'không có ngày hẹn trả và TTHC ''' || t.v_procedure_code || "
            "''' chưa có thời hạn giải quyết (time_limit) để tính hạn' FROM typed t "
            "JOIN procedures p ON p.code = t.v_procedure_code "
            "WHERE t.v_due_at IS NULL AND p.time_limit IS NULL AND COALESCE(p.time_unit, '') <> 'same_day'",
        ]
    if table.name == "pauses":
        return [_before("ended_at", "started_at", "thời điểm bắt đầu tạm dừng")]
    if table.name == "units":
        return [
            "SELECT _row, 'parent_code', '''' || v_parent_code || ''' không có trong danh mục đơn vị' "
            "FROM typed WHERE v_parent_code IS NOT NULL AND v_parent_code NOT IN "
            "(SELECT code FROM units UNION SELECT v_code FROM typed WHERE v_code IS NOT NULL)"
        ]
    if table.name == "indicator_inputs":
        return [
            "SELECT _row, 'period', '''' || v_period || ''' không phải kỳ hợp lệ (yyyy-mm, yyyy-Qn hoặc yyyy)' "
            "FROM typed WHERE v_period IS NOT NULL AND NOT "
            r"REGEXP_FULL_MATCH(v_period, '\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?')"
        ]
    if table.name == "feedback":
        return [_before("due_at", "received_at", "ngày tiếp nhận"),
                _before("handled_at", "received_at", "ngày tiếp nhận")]
    return []
