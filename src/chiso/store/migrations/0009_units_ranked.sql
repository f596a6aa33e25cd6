-- Whether the national portal ranks the unit (xếp hạng trên Cổng DVCQG). NULL or TRUE: ranked; FALSE: the unit is
-- scored but not ranked, gets no place in the letters' rankings and no unit letter (Văn phòng UBND tỉnh, the
-- public service centre, the inspectorate: the portal does not evaluate them).
ALTER TABLE units ADD COLUMN ranked BOOLEAN;
ALTER TABLE units_history ADD COLUMN ranked BOOLEAN;
