-- Figures of the administrative-reform statistics forms (Biểu mẫu 3 and 7) that the data cannot fill: typed in by
-- staff, kept per period. form = '3' or '7', code = the STT of the row ('1.1', '6.3.2'); value is the number as
-- text (a percentage as a fraction: '1' = 100%), NULL when only a note was typed.
CREATE TABLE report_inputs (
    period    TEXT NOT NULL,
    form      TEXT NOT NULL,
    code      TEXT NOT NULL,
    value     TEXT,
    note      TEXT,
    loaded_at TIMESTAMP NOT NULL,
    PRIMARY KEY (period, form, code)
);
