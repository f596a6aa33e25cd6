"""The period and moment parsers (issue 14, acceptance: property tests over the date and period parsers): whatever a
person types is either a period or a Vietnamese PeriodError (a moment or a click usage error), never a crash —
years 0 and 9999 included — and every valid period means what the rules say."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import click
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from chiso.cli import main, parse_moment
from chiso.scoring.period import PeriodError, parse_period

TYPED = st.one_of(
    st.text(max_size=30),
    st.text(alphabet="0123456789-Qq. ", max_size=24),
    st.builds(lambda y, rest: f"{y:04d}{rest}", st.integers(0, 9999),
              st.sampled_from(["", "-01", "-12", "-13", "-00", "-Q1", "-q4", "-Q5", "-02-30..2025-01-01",
                               "-01-01..9999-12-31", "-12-31..0001-01-01"])),
)


@settings(max_examples=400, deadline=None)
@given(text=TYPED)
def test_any_text_is_a_period_or_a_period_error(text: str) -> None:
    try:
        period = parse_period(text)
    except PeriodError as exc:
        assert str(exc).startswith("'")  # names what was typed, in Vietnamese
        return
    assert period.start < period.end
    assert 1900 <= period.start.year <= period.last_day.year <= 2999
    assert parse_period(period.label) == period
    before = period.previous()
    assert before.end == period.start and before.kind == period.kind


def _next_month(y: int, m: int) -> date:
    return date(y + 1, 1, 1) if m == 12 else date(y, m + 1, 1)


@settings(max_examples=200, deadline=None)
@given(year=st.integers(1900, 2999), month=st.integers(1, 12))
def test_a_month_quarter_and_year_mean_what_the_rules_say(year: int, month: int) -> None:
    p = parse_period(f"{year:04d}-{month:02d}")
    assert (p.kind, p.start, p.end) == ("month", date(year, month, 1), _next_month(year, month))
    q = (month - 1) // 3 + 1
    p = parse_period(f"{year}-q{q}")
    first = date(year, 3 * q - 2, 1)
    assert (p.label, p.kind, p.start, p.end) == (f"{year}-Q{q}", "quarter", first, _next_month(year, 3 * q))
    p = parse_period(str(year))
    assert (p.kind, p.start, p.end) == ("year", date(year, 1, 1), date(year + 1, 1, 1))


@settings(max_examples=200, deadline=None)
@given(start=st.dates(date(1900, 1, 1), date(2999, 12, 31)), days=st.integers(0, 800))
def test_a_range_includes_both_days(start: date, days: int) -> None:
    last = min(start + timedelta(days=days), date(2999, 12, 31))
    p = parse_period(f"{start}..{last}")
    assert (p.kind, p.start, p.last_day) == ("range", start, last)
    with pytest.raises(PeriodError, match="ngày cuối trước ngày đầu"):
        parse_period(f"{last + timedelta(days=1)}..{start}") if last < date(2999, 12, 31) else parse_period(
            f"{start}..{start - timedelta(days=1)}")


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=30))
def test_any_text_is_a_moment_or_a_usage_error(text: str) -> None:
    try:
        moment = parse_moment(text)
    except click.BadParameter as exc:
        assert "không phải thời điểm" in exc.message
        return
    assert isinstance(moment, datetime)


@settings(max_examples=200, deadline=None)
@given(moment=st.datetimes(datetime(1990, 1, 1), datetime(2100, 12, 31)).map(lambda d: d.replace(microsecond=0)),
       fmt=st.sampled_from(["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y %H:%M:%S"]))
def test_a_moment_in_every_form_is_that_moment(moment: datetime, fmt: str) -> None:
    assert parse_moment(moment.strftime(fmt)) == moment
    day = parse_moment(moment.strftime("%d/%m/%Y"))
    assert day == datetime.combine(moment.date(), datetime.max.time()).replace(microsecond=0)  # end of that day


@pytest.mark.parametrize("period", ["0000-01", "9999-12", "9999", "0001-Q1", "2025-13", "٢٠٢٥-01",
                                    "2025-02-30..2025-03-01"])
def test_the_commands_refuse_impossible_periods_with_a_message(tmp_path: object, period: str) -> None:
    result = CliRunner().invoke(main, ["--workspace", str(tmp_path), "score", "--period", period])
    # Checked when the option is read, before the store is opened: wrong use (status 2), in Vietnamese.
    assert result.exit_code == 2, result.output
    assert "Lỗi: Giá trị không hợp lệ cho '--period': " in result.output and "Traceback" not in result.output
