"""Typing and validating staged rows in SQL (kiểm tra dữ liệu), one pass per file.

Each contract column gets a parse expression; a non-empty value whose parse is NULL is an error. The
checks that span rows (duplicates, unknown units and procedures, dates out of order) are joins. Every
error is a row ``(_row, column, reason)`` with the reason in Vietnamese, so nothing is dropped silently.
"""

from __future__ import annotations

from chiso.load.contract import BOOL_FALSE, BOOL_TRUE, Column, Table

DATE_FORMATS_HINT = "yyyy-mm-dd[ HH:MM[:SS]][+07:00], dd/mm/yyyy[ HH:MM[:SS]] hoặc số ngày Excel"


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


def datetime_expr(raw: str) -> str:
    """Local Asia/Ho_Chi_Minh timestamp from ISO 8601 (with optional offset), dd/mm/yyyy or Excel serial."""
    t = cleaned(raw)
    offset = r"(Z|[+-]\d{2}:?\d{2})$"
    off_secs = (
        f"(CASE WHEN REGEXP_MATCHES({t}, 'Z$') THEN 0 ELSE "
        f"(CASE WHEN REGEXP_EXTRACT({t}, '([+-])\\d{{2}}:?\\d{{2}}$', 1) = '-' THEN -1 ELSE 1 END) * "
        f"(CAST(REGEXP_EXTRACT({t}, '[+-](\\d{{2}}):?\\d{{2}}$', 1) AS INTEGER) * 3600 + "
        f"CAST(REGEXP_EXTRACT({t}, '[+-]\\d{{2}}:?(\\d{{2}})$', 1) AS INTEGER) * 60) END)"
    )
    parsed = f"""(CASE
        WHEN REGEXP_FULL_MATCH({t}, '\\d{{1,7}}(\\.\\d+)?') THEN
            CASE WHEN TRY_CAST({t} AS DOUBLE) BETWEEN 1 AND 2958465
                 THEN TIMESTAMP '1899-12-30 00:00:00'
                      + CAST(FLOOR(CAST({t} AS DOUBLE)) AS INTEGER) * INTERVAL '1 day'
                      + CAST(ROUND((CAST({t} AS DOUBLE) - FLOOR(CAST({t} AS DOUBLE))) * 86400) AS INTEGER)
                        * INTERVAL '1 second' END
        WHEN REGEXP_FULL_MATCH({t}, '\\d{{1,2}}/\\d{{1,2}}/\\d{{4}}( \\d{{1,2}}:\\d{{2}}(:\\d{{2}})?)?') THEN
            TRY_STRPTIME({t}, ['%d/%m/%Y %H:%M:%S', '%d/%m/%Y %H:%M', '%d/%m/%Y'])
        WHEN REGEXP_MATCHES({t}, '^\\d{{4}}-\\d{{2}}-\\d{{2}}') THEN
            CASE WHEN REGEXP_MATCHES({t}, '[T ].*{offset}')
                 THEN TRY_CAST(REGEXP_REPLACE({t}, '{offset}', '') AS TIMESTAMP)
                      + (7 * 3600 - {off_secs}) * INTERVAL '1 second'
                 ELSE TRY_CAST({t} AS TIMESTAMP) END
        END)"""
    # A year outside 1990-2100 is a typo or a misread serial: treat as invalid.
    return f"(CASE WHEN EXTRACT(YEAR FROM {parsed}) BETWEEN 1990 AND 2100 THEN {parsed} END)"


def number_expr(raw: str) -> str:
    """Numbers, also in Vietnamese format: '1.500.000' (thousands) and '12,5' (decimal comma)."""
    t = cleaned(raw)
    return f"""(CASE
        WHEN REGEXP_FULL_MATCH({t}, '-?\\d{{1,3}}(\\.\\d{{3}})+(,\\d+)?')
             THEN TRY_CAST(REPLACE(REPLACE({t}, '.', ''), ',', '.') AS DOUBLE)
        WHEN REGEXP_FULL_MATCH({t}, '-?\\d+,\\d+') THEN TRY_CAST(REPLACE({t}, ',', '.') AS DOUBLE)
        ELSE TRY_CAST({t} AS DOUBLE) END)"""


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
        return f"(CASE WHEN {n} = ROUND({n}) THEN CAST({n} AS INTEGER) END)"
    if col.type == "bool":
        f = folded(raw)
        yes = ", ".join(lit(v) for v in BOOL_TRUE)
        no = ", ".join(lit(v) for v in BOOL_FALSE)
        return f"(CASE WHEN {f} IN ({yes}) THEN TRUE WHEN {f} IN ({no}) THEN FALSE END)"
    if col.type == "enum":
        f = folded(raw)
        whens = " ".join(
            f"WHEN {f} IN ({', '.join(lit(s) for s in spellings)}) THEN {lit(canon)}"
            for canon, spellings in col.values.items()
        )
        return f"(CASE {whens} END)"
    raise ValueError(col.type)


def type_reason(col: Column, raw: str) -> str:
    v = f"'''' || {cleaned(raw)} || ''''"
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
    parts = ["_row"]
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
            "number": "DOUBLE", "integer": "INTEGER", "bool": "BOOLEAN"}[col.type]


def error_checks(table: Table, present: list[str], store_tables: set[str]) -> list[str]:
    """SELECT statements over ``typed`` yielding (_row, col, reason)."""
    checks: list[str] = []
    for col in table.columns:
        raw, v = q("raw_" + col.name), q("v_" + col.name)
        if col.required:
            checks.append(f"SELECT _row, {lit(col.name)} AS col, 'thiếu giá trị bắt buộc' AS reason "
                          f"FROM typed WHERE {cleaned(raw)} IS NULL")
        if col.name in present and col.type != "text":
            checks.append(f"SELECT _row, {lit(col.name)}, {type_reason(col, raw)} FROM typed "
                          f"WHERE {cleaned(raw)} IS NOT NULL AND {v} IS NULL")
        if col.type == "integer" and col.name in present and col.name.startswith("i") and len(col.name) == 2:
            checks.append(f"SELECT _row, {lit(col.name)}, '''' || {raw} || ''' phải là 0, 1 hoặc 2' "
                          f"FROM typed WHERE {v} NOT IN (0, 1, 2)")
        if col.references and col.references[0] in store_tables:
            ref_table, ref_col = col.references
            label = {"units": "đơn vị", "procedures": "thủ tục hành chính", "dossiers": "hồ sơ"}[ref_table]
            checks.append(
                f"SELECT _row, {lit(col.name)}, '''' || {v} || ''' không có trong danh mục {label}' "
                f"FROM typed WHERE {v} IS NOT NULL AND {v} NOT IN (SELECT {ref_col} FROM {ref_table})"
            )
    key = [q("v_" + k) for k in table.key]
    key_label = ", ".join(table.key)
    checks.append(
        f"SELECT _row, {lit(table.key[0])}, 'trùng khóa ({key_label}) với dòng ' || CAST(first_row AS VARCHAR) "
        f"FROM (SELECT _row, min(_row) OVER (PARTITION BY {', '.join(key)}) AS first_row FROM typed "
        f"WHERE {' AND '.join(k + ' IS NOT NULL' for k in key)}) dup WHERE _row > first_row"
    )
    checks.extend(_table_specific(table))
    return checks


def _before(later: str, earlier: str, label: str) -> str:
    return (f"SELECT _row, {lit(later)}, 'thời điểm ' || CAST({q('v_' + later)} AS VARCHAR) || "
            f"' trước {label} ' || CAST({q('v_' + earlier)} AS VARCHAR) FROM typed "
            f"WHERE {q('v_' + later)} < {q('v_' + earlier)}")


def _table_specific(table: Table) -> list[str]:
    if table.name == "dossiers":
        return [
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
        return [_before("handled_at", "received_at", "ngày tiếp nhận")]
    return []
