"""Rule sets (bộ quy tắc tính điểm) as data, and the arithmetic of scores."""
