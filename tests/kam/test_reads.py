"""The KAM assets read only some columns of the large marts (`*_READS` next to
each function); each function must give the same result on those columns as
on the whole tables, or the published marts would depend on what was read."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from kam_pipeline.kam import programme_return, resource_allocation, select_key_accounts, tier_migration
from kam_pipeline.kam.allocation import ALLOCATION_READS
from kam_pipeline.kam.candidates import SELECTION_READS
from kam_pipeline.kam.checks import SEATS_CHECK_READS, key_accounts_within_seats
from kam_pipeline.kam.migration import MIGRATION_READS
from kam_pipeline.kam.overrides import FINAL_STATUS_READS, final_status, forced_selection, forced_tiers, override_status
from kam_pipeline.kam.programme import PROGRAMME_READS
from kam_pipeline.kam.readiness import READINESS_READS, programme_readiness
from kam_pipeline.settings import KamSettings, ReadinessSettings, Settings

from .conftest import AS_OF, managers_frame, segments_frame
from .test_overrides import accounts_frame, ladder, overrides_frame

DAY = timedelta(days=1)


@pytest.fixture(scope="module")
def inputs() -> dict[str, object]:
    """Whole frames of one snapshot, with every kind of override in force."""
    settings = KamSettings()
    segments = ladder(segments_frame, 8).with_columns(
        tier=pl.lit("CORE"), is_current_key_account=pl.col("customer_id").is_in(["C2", "C7"])
    )
    managers = managers_frame(("K1", "KAM", "North", 900.0, "90"), ("AM1", "AM", "North", 1000.0, "50"))
    overrides = overrides_frame(
        ("O1", "C8", "INCLUDE", None, AS_OF - DAY, AS_OF + DAY),
        ("O2", "C1", "EXCLUDE", None, AS_OF - DAY, None),
        ("O3", "C3", "TIER", "STRATEGIC", AS_OF - DAY, AS_OF + DAY),
    )
    status = override_status(overrides, accounts_frame(*((f"C{i}", None) for i in range(1, 9))), Settings(as_of=AS_OF))
    candidates = select_key_accounts(segments, managers, settings, overrides=forced_selection(status))
    final = final_status(status, candidates, segments)
    allocation = resource_allocation(segments, candidates, managers, settings, tiers=forced_tiers(final))
    previous = segments.with_columns(as_of_date=pl.lit(AS_OF - timedelta(days=30)), tier=pl.lit("DEVELOP"))
    return {
        "settings": settings,
        "segments": segments,
        "managers": managers,
        "status": status,
        "candidates": candidates,
        "allocation": allocation,
        "previous": previous,
        "current": segments,
    }


#: (function over named frames, its *_READS): every KAM function whose asset projects its reads.
CASES: dict[str, tuple[Callable[..., object], dict[str, tuple[str, ...]]]] = {
    "select_key_accounts": (
        lambda i, segments: select_key_accounts(
            segments, i["managers"], i["settings"], overrides=forced_selection(i["status"])
        ),
        SELECTION_READS,
    ),
    "final_status": (
        lambda i, candidates, segments: final_status(i["status"], candidates, segments),
        FINAL_STATUS_READS,
    ),
    "resource_allocation": (
        lambda i, segments, candidates: resource_allocation(
            segments,
            candidates,
            i["managers"],
            i["settings"],
            tiers=forced_tiers(final_status(i["status"], i["candidates"], i["segments"])),
        ),
        ALLOCATION_READS,
    ),
    "programme_return": (
        lambda i, segments, candidates: programme_return(segments, candidates, i["managers"], i["settings"]),
        PROGRAMME_READS,
    ),
    "tier_migration": (lambda i, previous, current: tier_migration(previous, current), MIGRATION_READS),
    "programme_readiness": (
        lambda i, segments, candidates, allocation: programme_readiness(
            segments, candidates, allocation, i["settings"], ReadinessSettings()
        ),
        READINESS_READS,
    ),
    "key_accounts_within_seats": (
        lambda i, candidates: key_accounts_within_seats(candidates, 2),
        {"candidates": SEATS_CHECK_READS},
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_function_gives_the_same_result_on_the_columns_its_asset_reads(inputs, name: str) -> None:
    function, reads = CASES[name]
    whole = function(inputs, **{frame: inputs[frame] for frame in reads})
    projected = function(inputs, **{frame: inputs[frame].select(columns) for frame, columns in reads.items()})

    if isinstance(whole, pl.DataFrame):
        assert_frame_equal(projected, whole)
    else:
        assert projected == whole
    for frame, columns in reads.items():
        assert len(set(columns)) == len(columns) < inputs[frame].width, f"{name} reads {frame} whole or twice"
