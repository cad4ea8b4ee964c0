"""Tier migration between two snapshots (docs/methodology.md §K8)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from kam_pipeline.kam import tier_migration

PREVIOUS = date(2025, 5, 31)
CURRENT = date(2025, 6, 30)


def test_migration_matrix(make_segments) -> None:
    previous = make_segments(
        *(
            dict(customer_id=c, tier=t, revenue_t12m=r, as_of_date=PREVIOUS)
            for c, t, r in [
                ("a", "STRATEGIC", 900),
                ("b", "CORE", 500),
                ("f", "CORE", 400),
                ("c", "CORE", 300),
                ("d", "DEVELOP", 100),
            ]
        )
    )
    current = make_segments(
        *(
            dict(customer_id=c, tier=t, revenue_t12m=r, as_of_date=CURRENT)
            for c, t, r in [
                ("a", "STRATEGIC", 950),
                ("b", "STRATEGIC", 700),
                ("f", "STRATEGIC", 600),
                ("c", "DEVELOP", 250),
                ("e", "CORE", 80),
            ]
        )
    )

    matrix = tier_migration(previous, current)

    assert matrix.select("from_tier", "to_tier", "customers", "revenue_t12m", "previous_revenue_t12m").rows() == [
        ("CORE", "DEVELOP", 1, Decimal("250.00"), Decimal("300.00")),
        ("CORE", "STRATEGIC", 2, Decimal("1300.00"), Decimal("900.00")),
        ("DEVELOP", "GONE", 1, Decimal("0.00"), Decimal("100.00")),
        ("NEW", "CORE", 1, Decimal("80.00"), Decimal("0.00")),
        ("STRATEGIC", "STRATEGIC", 1, Decimal("950.00"), Decimal("900.00")),
    ]
    assert set(matrix.select("as_of_date", "previous_as_of_date").rows()) == {(CURRENT, PREVIOUS)}


def test_first_snapshot_makes_everyone_new(make_segments) -> None:
    current = make_segments(dict(customer_id="a", tier="CORE", as_of_date=CURRENT))

    matrix = tier_migration(current.clear(), current)

    assert matrix.select("previous_as_of_date", "from_tier", "to_tier", "customers").rows() == [
        (None, "NEW", "CORE", 1)
    ]


def test_snapshots_out_of_order_are_refused(make_segments) -> None:
    older = make_segments(dict(customer_id="a", as_of_date=PREVIOUS))
    newer = make_segments(dict(customer_id="a", as_of_date=CURRENT))

    with pytest.raises(ValueError, match="is not before the current one"):
        tier_migration(newer, older)
