-- Official results (kết quả chính thức): the national portal's scores and the published letters' tables,
-- imported with `chiso import-official`. One row per period, unit and item: 'TOTAL', a group code (CKMB …) or an
-- indicator code (PROGRESS_ON_TIME …). Every row names the import it came from and where in the file (line, row,
-- JSON path), the name as written there and how that name was matched to the unit.
CREATE SEQUENCE official_import_seq START 1;

CREATE TABLE official_imports (
    import_id   BIGINT PRIMARY KEY,
    file        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    kind        TEXT NOT NULL,        -- portal-json · table · letter
    period      TEXT NOT NULL,
    imported_at TIMESTAMP NOT NULL,
    user_name   TEXT,
    rows_read   BIGINT NOT NULL,
    rows_stored BIGINT NOT NULL,
    rows_review BIGINT NOT NULL,
    load_id     BIGINT               -- the entry in `loads` of the indicator_inputs it wrote, if any
);

CREATE TABLE official_results (
    period         TEXT NOT NULL,
    unit_code      TEXT NOT NULL,
    item           TEXT NOT NULL,
    kind           TEXT NOT NULL,      -- total · group · indicator
    score          DOUBLE PRECISION,
    max_score      DOUBLE PRECISION,
    numerator      DOUBLE PRECISION,
    denominator    DOUBLE PRECISION,
    rank           INTEGER,
    rank_of        INTEGER,
    import_id      BIGINT NOT NULL,
    locator        TEXT,
    matched_from   TEXT,
    match_method   TEXT,
    confidence     DOUBLE PRECISION,
    PRIMARY KEY (period, unit_code, item)
);

-- Names an import could not match without doubt: kept until a user confirms the unit (or drops the line).
CREATE SEQUENCE official_review_seq START 1;

CREATE TABLE official_review (
    review_id    BIGINT PRIMARY KEY,
    import_id    BIGINT NOT NULL,
    period       TEXT NOT NULL,
    level        TEXT,
    name         TEXT NOT NULL,
    locator      TEXT,
    payload      TEXT NOT NULL,      -- JSON: the values of the line (total, rank, groups, indicators)
    candidates   TEXT NOT NULL,      -- JSON: the closest units [[code, name, score], …]
    status       TEXT NOT NULL,      -- open · confirmed · dropped
    resolved_code TEXT,
    resolved_by  TEXT,
    resolved_at  TIMESTAMP
);

-- Unit names confirmed by a user (tên đơn vị đã xác nhận): used wherever a name comes from outside.
CREATE TABLE unit_aliases (
    alias        TEXT PRIMARY KEY,
    unit_code    TEXT NOT NULL,
    confirmed_by TEXT,
    confirmed_at TIMESTAMP NOT NULL
);
