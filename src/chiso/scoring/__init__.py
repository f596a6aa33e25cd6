"""Scoring (chấm điểm): measures per unit from the store, then the rule set's arithmetic."""
