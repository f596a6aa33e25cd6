-- Whether the national portal ranks the unit (xếp hạng trên Cổng DVCQG). NULL or TRUE: ranked; FALSE: the unit is
-- scored but not ranked, gets no place in the letters' rankings and no unit letter (Văn phòng UBND tỉnh, the
-- public service centre, the inspectorate: the portal does not evaluate them).
ALTER TABLE units ADD COLUMN ranked BOOLEAN;

-- The history table keeps the table's columns in the same order, then superseded_by_load (store/history.py copies
-- by name, tests/test_unload.py checks the order): rebuilt with the new column before superseded_by_load.
CREATE TABLE units_history_0009 (
    code               TEXT NOT NULL,
    name               TEXT NOT NULL,
    level              TEXT NOT NULL,
    parent_code        TEXT,
    valid_from         DATE,
    valid_to           DATE,
    successor_code     TEXT,
    province_code      TEXT,
    row_hash           TEXT NOT NULL,
    load_id            BIGINT,
    ranked             BOOLEAN,
    superseded_by_load BIGINT NOT NULL,
    PRIMARY KEY (code, superseded_by_load)
);
INSERT INTO units_history_0009 (code, name, level, parent_code, valid_from, valid_to, successor_code, province_code,
                                row_hash, load_id, superseded_by_load)
SELECT code, name, level, parent_code, valid_from, valid_to, successor_code, province_code, row_hash, load_id,
       superseded_by_load
FROM units_history;
DROP TABLE units_history;
ALTER TABLE units_history_0009 RENAME TO units_history;
