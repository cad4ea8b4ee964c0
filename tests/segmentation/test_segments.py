"""§S11: the published tables, their columns and determinism."""

from datetime import date
from decimal import Decimal

import polars as pl
import pytest

from kam_pipeline.segmentation import (
    build_customer_segments,
    build_segment_summary,
)
from kam_pipeline.segmentation.tables import CUSTOMER_SEGMENTS, SEGMENT_SUMMARY
from kam_pipeline.settings import SegmentationSettings

from .builder import AS_OF, IN_PRIOR, Extracts, by_customer


def sample(data: Extracts) -> Extracts:
    data.account("G1", region="NORTH", owner="AM1", wallet=1000).account("G1-A", "G1", country="PL")
    data.account("G2", region="SOUTH", country="IT", owner="AM2", employees=20, position=2)
    data.account("G3", region="NORTH", owner="AM2").account("G4", region="SOUTH", owner="AM1")
    data.sale("G1", 600, cost=400).sale("G1-A", 100, currency="USD").sale("G1", 500, IN_PRIOR)
    data.sale("G2", 250, date(2025, 2, 1), cost=100).sale("G3", 50).sale("G4", 80, IN_PRIOR)
    data.rate("USD", "2025-06", 1.0).opportunity("G3", "OPEN", 20_000, date(2025, 12, 1), probability=0.5)
    return data


def test_columns_and_types(data) -> None:
    out = sample(data).segments()
    assert out.schema == pl.Schema(CUSTOMER_SEGMENTS.schema)
    assert out.get_column("customer_id").to_list() == ["G1", "G2", "G3", "G4"]
    assert out.get_column("as_of_date").unique().to_list() == [AS_OF]
    never_null = ["revenue_t12m", "revenue_prior", "margin_t12m", "margin_prior", "pipeline_weighted"]
    never_null += ["potential_value", "trend", "abc_class", "potential_class", "threat_level", "threat_reasons"]
    never_null += ["tier", "at_risk", "tier_reason", "is_current_key_account"]
    assert out.select(pl.col(never_null).null_count()).sum_horizontal().item() == 0


def test_margin_figures(data) -> None:
    data.account("X").sale("X", 100, cost=60).sale("X", 100).sale("X", 300, IN_PRIOR, cost=200)
    row = data.segments().row(0, named=True)
    assert (row["revenue_t12m"], row["margin_t12m"], row["margin_prior"]) == (Decimal(200), Decimal(40), Decimal(100))
    assert row["margin_pct"] == pytest.approx(0.2)
    assert row["margin_coverage"] == pytest.approx(0.5)


def test_identical_inputs_give_identical_output(data) -> None:
    frames = sample(data).frames()
    settings = SegmentationSettings()
    first = build_customer_segments(**frames, settings=settings, as_of=AS_OF)
    again = build_customer_segments(**frames, settings=settings, as_of=AS_OF)
    shuffled = {
        name: (f.collect() if isinstance(f, pl.LazyFrame) else f).sample(fraction=1.0, shuffle=True, seed=7)
        for name, f in frames.items()
    }
    shuffled["lines"] = shuffled["lines"].lazy()
    reordered = build_customer_segments(**shuffled, settings=settings, as_of=AS_OF)
    assert first.equals(again)
    assert first.equals(reordered)


def test_segment_summary(data) -> None:
    segments = sample(data).segments()
    # G1 700 A, G2 250 A (before .7), G3 50 C (before .95), G4 N;
    # potential G1 300 (headroom), G2 2 750 (benchmark headroom), G3 10 000 (pipeline): LOW, MEDIUM, HIGH
    assert by_customer(segments, "tier") == {"G1": "CORE", "G2": "STRATEGIC", "G3": "DEVELOP", "G4": "LAPSED"}
    summary = build_segment_summary(segments)
    assert summary.schema == pl.Schema(SEGMENT_SUMMARY.schema)
    rows = summary.drop("as_of_date").rows()
    assert rows == [
        ("GLOBAL", "ALL", "STRATEGIC", 1, Decimal("250.00"), 0.25),
        ("GLOBAL", "ALL", "CORE", 1, Decimal("700.00"), 0.7),
        ("GLOBAL", "ALL", "DEVELOP", 1, Decimal("50.00"), 0.05),
        ("GLOBAL", "ALL", "LAPSED", 1, Decimal("0.00"), 0.0),
        ("REGION", "NORTH", "CORE", 1, Decimal("700.00"), pytest.approx(700 / 750)),
        ("REGION", "NORTH", "DEVELOP", 1, Decimal("50.00"), pytest.approx(50 / 750)),
        ("REGION", "SOUTH", "STRATEGIC", 1, Decimal("250.00"), 1.0),
        ("REGION", "SOUTH", "LAPSED", 1, Decimal("0.00"), 0.0),
        ("COUNTRY", "DE", "CORE", 1, Decimal("700.00"), pytest.approx(700 / 750)),
        ("COUNTRY", "DE", "DEVELOP", 1, Decimal("50.00"), pytest.approx(50 / 750)),
        ("COUNTRY", "DE", "LAPSED", 1, Decimal("0.00"), 0.0),
        ("COUNTRY", "IT", "STRATEGIC", 1, Decimal("250.00"), 1.0),
        ("OWNER", "AM1", "CORE", 1, Decimal("700.00"), 1.0),
        ("OWNER", "AM1", "LAPSED", 1, Decimal("0.00"), 0.0),
        ("OWNER", "AM2", "STRATEGIC", 1, Decimal("250.00"), pytest.approx(250 / 300)),
        ("OWNER", "AM2", "DEVELOP", 1, Decimal("50.00"), pytest.approx(50 / 300)),
    ]
    assert summary.get_column("as_of_date").unique().to_list() == [AS_OF]


def test_summary_share_base_is_the_positive_revenue(data) -> None:
    data.account("X", region="NORTH").sale("X", 10).account("Z", region="NORTH").sale("Z", -5)
    data.account("Y", region="SOUTH").sale("Y", -10)
    summary = build_segment_summary(data.segments()).filter(level="REGION")
    assert summary.select("level_value", "tier", "revenue_share").rows() == [
        ("NORTH", "CORE", 1.0),  # of the positive revenue (10), not of the net 5
        ("NORTH", "PROSPECT", -0.5),  # Z had only a credit note: never invoiced
        ("SOUTH", "PROSPECT", None),
    ]
