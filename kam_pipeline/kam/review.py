"""The review rhythm: when selection changes take effect, and how many seats
may change hands at a review (methodology §K5.2).
"""

from __future__ import annotations

import calendar
import math
from datetime import date

from kam_pipeline.settings import KamSettings


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def review_date(as_of: date, settings: KamSettings) -> date:
    """The review the run's proposals are for: D itself when D is a review
    date (the last day of one of `review_months`, or any day with
    `review_every_run`), else the next review date after D."""
    if settings.review_every_run or not settings.review_months:
        return as_of
    year, month = as_of.year, as_of.month
    for _ in range(13):
        end = _month_end(year, month)
        if month in settings.review_months and end >= as_of:
            return end
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    raise ValueError(f"kam.review_months {settings.review_months} names no month 1-12")


def is_review(as_of: date, settings: KamSettings) -> bool:
    """Selection changes take effect in this run."""
    return review_date(as_of, settings) == as_of


def turnover_seats(max_key_accounts: int, settings: KamSettings) -> int:
    """How many key accounts a review may replace by stronger newcomers:
    floor(turnover_cap × seats), at least one when the cap and the seats are
    positive (§K5.3)."""
    if settings.turnover_cap <= 0 or max_key_accounts <= 0:
        return 0
    return max(1, math.floor(settings.turnover_cap * max_key_accounts + 1e-9))
