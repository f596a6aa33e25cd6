-- Where a procedure applies (phạm vi áp dụng thủ tục): the provinces whose published list holds it. A national lake
-- merged from provinces' lakes fills it (chiso.engines.lake.merge), so a commune of one province is not scored on the
-- procedures another province publishes. Empty in a province's store: every procedure applies wherever units are.
-- A procedure with no row here applies in every province; one with rows applies in those provinces only.
CREATE TABLE procedure_scope (
    procedure_code TEXT NOT NULL,
    province_code  TEXT NOT NULL,
    PRIMARY KEY (procedure_code, province_code)
);
