"""Numbers as Vietnamese readers write them (định dạng số): ``13.597`` (thousands with a dot), ``71,31`` (decimals
with a comma), ``83,12%``. One formatter for the command line, the web pages and the tables, built on Babel's
``vi`` locale; values are rounded half up first (as the index rules round), never half to even."""

from __future__ import annotations

from babel.numbers import format_decimal

from chiso.rules.arithmetic import round_half_up

LOCALE = "vi"


def integer(value: int | float | None) -> str:
    """13597 -> '13.597'; None -> ''."""
    if value is None:
        return ""
    return str(format_decimal(int(round_half_up(float(value), 0)), format="#,##0", locale=LOCALE))


def number(value: float | None, places: int = 2, *, trim: bool = False) -> str:
    """71.3149 -> '71,31'; with ``trim`` a zero fraction is dropped (18.0 -> '18', 0.5 -> '0,5'); None -> ''."""
    if value is None:
        return ""
    rounded = round_half_up(float(value), places)
    pattern = "#,##0" + ("." + ("#" if trim else "0") * places if places > 0 else "")
    return str(format_decimal(rounded, format=pattern, locale=LOCALE))


def percent(ratio: float | None, places: int = 2) -> str:
    """0.83124 -> '83,12%'; None -> ''."""
    if ratio is None:
        return ""
    return number(float(ratio) * 100, places) + "%"
