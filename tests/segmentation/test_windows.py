"""§S1: calendar-month windows, end-of-month rule and half-open boundaries."""

from datetime import date

import pytest

from kam_pipeline.segmentation.windows import add_months, reporting_windows
from kam_pipeline.settings import SegmentationSettings

from .builder import AS_OF, by_customer


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2025, 6, 30), -12, date(2024, 6, 30)),
        (date(2025, 2, 28), -12, date(2024, 2, 29)),  # month end → month end
        (date(2024, 2, 29), -12, date(2023, 2, 28)),
        (date(2024, 9, 30), -1, date(2024, 8, 31)),  # month end → month end
        (date(2024, 3, 30), -1, date(2024, 2, 29)),  # not a month end: clipped
        (date(2024, 3, 15), -1, date(2024, 2, 15)),
        (date(2025, 1, 15), -1, date(2024, 12, 15)),
        (date(2025, 12, 15), 1, date(2026, 1, 15)),
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
    ],
)
def test_add_months_end_of_month_rule(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


def test_reporting_windows() -> None:
    w = reporting_windows(AS_OF, SegmentationSettings())
    assert (w.current_start, w.prior_start, w.pipeline_end, w.recent_start) == (
        date(2024, 6, 30),
        date(2023, 6, 30),
        date(2026, 6, 30),
        date(2025, 4, 1),
    )


def test_prior_start_is_shifted_from_the_as_of_date_directly() -> None:
    # 2025-03-31 − 1 month = 2025-02-28; − 2 months = 2025-01-31 (not 2025-01-28).
    w = reporting_windows(date(2025, 3, 31), SegmentationSettings(window_months=1))
    assert (w.current_start, w.prior_start) == (date(2025, 2, 28), date(2025, 1, 31))


def test_window_boundaries(data) -> None:
    data.account("AT_D").sale("AT_D", 10, date(2025, 6, 30))
    data.account("AT_D_MINUS_W").sale("AT_D_MINUS_W", 20, date(2024, 6, 30))
    data.account("AFTER_D_MINUS_W").sale("AFTER_D_MINUS_W", 30, date(2024, 7, 1))
    data.account("AT_D_MINUS_2W").sale("AT_D_MINUS_2W", 40, date(2023, 6, 30))
    data.account("AFTER_D_MINUS_2W").sale("AFTER_D_MINUS_2W", 50, date(2023, 7, 1))
    data.account("AFTER_D").sale("AFTER_D", 60, date(2025, 7, 1))
    out = data.segments()
    current = {k: float(v) for k, v in by_customer(out, "revenue_t12m").items()}
    prior = {k: float(v) for k, v in by_customer(out, "revenue_prior").items()}
    assert current == {
        "AT_D": 10,
        "AT_D_MINUS_W": 0,
        "AFTER_D_MINUS_W": 30,
        "AT_D_MINUS_2W": 0,
        "AFTER_D_MINUS_2W": 0,
        "AFTER_D": 0,
    }
    assert prior == {
        "AT_D": 0,
        "AT_D_MINUS_W": 20,
        "AFTER_D_MINUS_W": 0,
        "AT_D_MINUS_2W": 0,
        "AFTER_D_MINUS_2W": 50,
        "AFTER_D": 0,
    }
