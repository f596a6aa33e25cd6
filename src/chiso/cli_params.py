"""Option types shared by every command: what people type, checked and turned into one canonical form."""

from __future__ import annotations

from typing import Any

import click


class PeriodParam(click.ParamType[str, Any]):
    """--period as people type it (2025-09, 09/2025, 2025-Q3, quý III/2025 …), given to the command in its
    canonical form (2025-09, 2025-Q3)."""

    name = "kỳ"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from chiso.scoring.period import PeriodError, parse_period

        try:
            return parse_period(str(value)).label
        except PeriodError as exc:
            self.fail(str(exc), param, ctx)


PERIOD = PeriodParam()
