"""Number format of documents (định dạng số): Vietnamese by default — decimal comma and thousands dot
(``71,31``, ``13.597``); a province may choose another in ``chiso.toml`` ``[report] decimal`` / ``thousands``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chiso import vnformat
from chiso.config import ConfigError


@dataclass(frozen=True)
class NumberFormat:
    decimal: str = ","
    thousands: str = "."

    @classmethod
    def from_config(cls, report: dict[str, Any]) -> NumberFormat:
        fmt = cls(decimal=str(report.get("decimal", ",")), thousands=str(report.get("thousands", ".")))
        if fmt.decimal == fmt.thousands or fmt.decimal not in {",", "."} or fmt.thousands not in {".", ",", " ", ""}:
            raise ConfigError("chiso.toml: [report] decimal/thousands: dấu thập phân phải là ',' hoặc '.', "
                              "khác dấu phân cách hàng nghìn ('.', ',', ' ' hoặc '')")
        return fmt

    def number(self, value: float | None, places: int = 2, *, trim: bool = True) -> str:
        """71.31 -> '71,31'; 12.0 -> '12' (``trim`` drops a zero fraction, as the letters write '18/18')."""
        if value is None:
            return ""
        text = vnformat.number(value, places, trim=trim)  # Vietnamese: '.' thousands, ',' decimals
        if (self.decimal, self.thousands) == (",", "."):
            return text
        return text.replace(".", "\x00").replace(",", self.decimal).replace("\x00", self.thousands)

    def fixed(self, value: float | None, places: int = 2) -> str:
        """Always ``places`` decimals: 99.0 -> '99,00'."""
        return self.number(value, places, trim=False)

    def integer(self, value: float | None) -> str:
        """13597 -> '13.597'."""
        return self.number(value, 0)

    def percent(self, part: float | None, whole: float | None, places: int = 2) -> str:
        """Share as a percentage without the sign: (12490, 13597) -> '91,86'; '0' when ``whole`` is 0."""
        if not whole:
            return self.number(0, places)
        return self.number(100.0 * float(part or 0) / float(whole), places)
