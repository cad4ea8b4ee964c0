"""§S7: growth and trend."""

from decimal import Decimal

import polars as pl
import pytest

from kam_pipeline.segmentation.amounts import AMOUNT
from kam_pipeline.segmentation.growth import growth_pct, trend
from kam_pipeline.settings import SegmentationSettings

from .builder import IN_PRIOR, by_customer


@pytest.mark.parametrize(
    ("current", "prior", "growth", "expected"),
    [
        ("110", "100", 0.10, "GROWING"),  # exactly +10 %
        ("109.99", "100", 0.0999, "STABLE"),
        ("90", "100", -0.10, "DECLINING"),  # exactly −10 %
        ("90.01", "100", -0.0999, "STABLE"),
        ("50", "0", None, "NEW"),
        ("50", "-10", None, "NEW"),
        ("0", "100", -1.0, "LOST"),
        ("-5", "100", -1.05, "LOST"),
        ("0", "0", None, "NONE"),
        ("-5", "0", None, "NONE"),
    ],
)
def test_trend(current: str, prior: str, growth: float | None, expected: str) -> None:
    frame = pl.DataFrame(
        {"revenue_t12m": [Decimal(current)], "revenue_prior": [Decimal(prior)]},
        schema={"revenue_t12m": AMOUNT, "revenue_prior": AMOUNT},
    )
    out = frame.with_columns(growth_pct=growth_pct()).with_columns(trend=trend(SegmentationSettings()))
    assert out.item(0, "trend") == expected
    assert out.item(0, "growth_pct") == (None if growth is None else pytest.approx(growth))


def test_revenue_only_in_the_prior_window_is_lost_and_lapsed(data) -> None:
    data.account("GONE").sale("GONE", 500, IN_PRIOR).account("STAY").sale("STAY", 100)
    out = data.segments()
    assert by_customer(out, "trend") == {"GONE": "LOST", "STAY": "NEW"}
    assert by_customer(out, "abc_class") == {"GONE": "N", "STAY": "A"}
    assert by_customer(out, "tier")["GONE"] == "LAPSED"
    assert by_customer(out, "growth_pct") == {"GONE": -1.0, "STAY": None}


def test_trend_threshold_comes_from_the_settings(data) -> None:
    data.account("X").sale("X", 115).sale("X", 100, IN_PRIOR)
    assert by_customer(data.segments(), "trend") == {"X": "GROWING"}
    assert by_customer(data.segments(trend_growth_pct=0.2), "trend") == {"X": "STABLE"}
