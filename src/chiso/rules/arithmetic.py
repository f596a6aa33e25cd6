"""Score arithmetic (cách tính điểm): indicator score from its ratio, rounding half up, sums of the
rounded parts, competition ranking (1, 1, 3). Per unit and indicator — never per dossier."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from chiso.rules.model import Indicator


def round_half_up(value: float, places: int) -> float:
    return float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def indicator_score(ind: Indicator, numerator: float | None, denominator: float | None, places: int) -> float:
    """max x ratio (linear) or min(max, max x ratio / T) (threshold); 0 for display indicators.

    A zero or missing denominator scores 0, or the maximum when the rule says ``zero_denominator = "full"``.
    """
    if ind.kind == "display":
        return 0.0
    if not denominator:
        return ind.max if ind.zero_denominator == "full" else 0.0
    ratio = (numerator or 0.0) / denominator
    raw = ind.max * ratio
    if ind.kind == "threshold":
        assert ind.threshold is not None
        raw = min(ind.max, ind.max * ratio / ind.threshold)
    return round_half_up(raw, places)


def competition_rank(values: Sequence[float]) -> list[int]:
    """Standard competition ranking, highest first: [9, 9, 7] -> [1, 1, 3]."""
    return [1 + sum(1 for other in values if other > v + 1e-9) for v in values]
