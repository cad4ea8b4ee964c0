"""The run's time windows: trailing window, prior window, pipeline horizon and
inactivity period, all anchored on the as-of date (methodology §S1)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from kam_pipeline.settings import SegmentationSettings


def add_months(day: date, months: int) -> date:
    """Shift a date by calendar months with the end-of-month rule (§S1).

    A month end maps to the target month's end (2025-02-28 − 12 = 2024-02-29),
    any other day keeps its day number, clipped to the target month's length
    (2024-03-30 − 1 = 2024-02-29), so month-end as-of dates give whole months.
    """
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last_day = calendar.monthrange(year, month)[1]
    is_month_end = day.day == calendar.monthrange(day.year, day.month)[1]
    return date(year, month, last_day if is_month_end else min(day.day, last_day))


@dataclass(frozen=True)
class Windows:
    """Boundaries of the half-open periods `(start, end]` used by the method."""

    as_of: date
    current_start: date
    prior_start: date
    pipeline_end: date
    recent_start: date

    @property
    def earliest(self) -> date:
        """Exclusive lower bound of every invoice line the method reads."""
        return min(self.prior_start, self.recent_start)

    def current(self, column: str) -> pl.Expr:
        """In the trailing window (D − W, D]."""
        return pl.col(column).is_between(self.current_start, self.as_of, closed="right")

    def prior(self, column: str) -> pl.Expr:
        """In the prior window (D − 2W, D − W]."""
        return pl.col(column).is_between(self.prior_start, self.current_start, closed="right")

    def pipeline(self, column: str) -> pl.Expr:
        """In the pipeline horizon (D, D + W]."""
        return pl.col(column).is_between(self.as_of, self.pipeline_end, closed="right")

    def recent(self, column: str) -> pl.Expr:
        """In the inactivity period (D − inactive_days, D]."""
        return pl.col(column).is_between(self.recent_start, self.as_of, closed="right")


def reporting_windows(as_of: date, settings: SegmentationSettings) -> Windows:
    """The windows of a run; D − 2W is shifted from D directly, not twice (§S1)."""
    months = settings.window_months
    return Windows(
        as_of=as_of,
        current_start=add_months(as_of, -months),
        prior_start=add_months(as_of, -2 * months),
        pipeline_end=add_months(as_of, months),
        recent_start=as_of - timedelta(days=settings.inactive_days),
    )
