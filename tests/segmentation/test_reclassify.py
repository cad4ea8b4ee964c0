"""Reclassified segments (a what-if scenario on the ABC cuts or basis, §K11)
are exactly the segments a full segmentation computes under the same settings."""

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from kam_pipeline.ingest.contract.extracts import EXTRACTS_BY_NAME
from kam_pipeline.kam.scenarios import PlanInputs, scenario_segments
from kam_pipeline.segmentation import build_customer_segments
from kam_pipeline.segmentation.customer_unit import HIERARCHY_COLUMNS
from kam_pipeline.segmentation.segments import (
    CLASSIFICATION_SETTINGS,
    SEGMENTATION_READS,
    customer_figures,
    reclassifies,
    reclassify,
)
from kam_pipeline.settings import SegmentationSettings, Settings
from tools.sample_data import generate

from .builder import AS_OF
from .test_reference_sql import edge_cases

GENERATED_AS_OF = date(2026, 11, 28)
#: Landing file(s) of each argument of build_customer_segments.
LANDING = {
    "lines": ("invoice_lines", "erp/invoice_lines/*.parquet"),
    "erp_customers": ("erp_customers", "erp/customers.parquet"),
    "accounts": ("crm_accounts", "crm/accounts.parquet"),
    "fx_rates": ("fx_rates", "erp/fx_rates.parquet"),
    "opportunities": ("opportunities", "crm/opportunities.parquet"),
}
#: Classification-only changes against the default settings (or, with "base", other base settings).
CHANGES: list[dict[str, Any]] = [
    {"abc_a_cut": 0.70},
    {"abc_b_cut": 0.90},
    {"abc_a_cut": 0.50, "abc_b_cut": 0.60},
    {"basis": "margin"},
    {"basis": "margin", "abc_a_cut": 0.60, "abc_b_cut": 0.99},
    {"base": {"basis": "margin"}, "basis": "revenue", "abc_a_cut": 0.75},
]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], date]:
    """A small generated landing (hierarchies, currencies, credit notes, pipeline) as staged frames."""
    out = generate(
        tmp_path_factory.mktemp("landing"),
        seed=9,
        accounts=600,
        invoice_lines=12_000,
        as_of=GENERATED_AS_OF,
        fmt="parquet",
    ).out
    frames: dict[str, Any] = {
        argument: pl.read_parquet(Path(out) / files).cast(EXTRACTS_BY_NAME[extract].schema)
        for argument, (extract, files) in LANDING.items()
    }
    frames["lines"] = frames["lines"].lazy()
    return frames, GENERATED_AS_OF


@pytest.fixture(params=["generated", "edge_cases"])
def staged(request: pytest.FixtureRequest) -> tuple[dict[str, Any], date]:
    """The staged frames and as-of date of a generated landing, and of the hand-made edge cases (exact cuts)."""
    if request.param == "generated":
        return request.getfixturevalue("generated")
    return edge_cases().frames(), AS_OF


def assert_identical(found: pl.DataFrame, expected: pl.DataFrame) -> None:
    """Same columns, types and values (DataFrame.equals alone ignores types)."""
    assert found.schema == expected.schema
    assert found.equals(expected)


@pytest.mark.parametrize("change", CHANGES, ids=lambda change: ",".join(f"{k}={v}" for k, v in change.items()))
def test_reclassified_segments_equal_a_full_segmentation(staged, change: dict[str, Any]) -> None:
    frames, as_of = staged
    changes = dict(change)
    base = SegmentationSettings(**changes.pop("base", {}))
    scenario = SegmentationSettings.model_validate({**base.model_dump(), **changes})
    base_segments = build_customer_segments(**frames, settings=base, as_of=as_of)

    reused = reclassify(base_segments, base, scenario)

    assert_identical(reused, build_customer_segments(**frames, settings=scenario, as_of=as_of))


def test_the_changes_reclassify_customers(generated) -> None:
    """The generated case is not trivial: each change moves customers between classes or tiers."""
    frames, as_of = generated
    base = build_customer_segments(**frames, settings=SegmentationSettings(), as_of=as_of)
    for change in CHANGES[:-1]:
        reused = reclassify(base, SegmentationSettings(), SegmentationSettings(**change))
        assert not reused.select("segment_class", "tier").equals(base.select("segment_class", "tier")), change


def test_a_change_outside_the_classification_segments_again(generated) -> None:
    frames, as_of = generated
    base = Settings.model_validate({"as_of": as_of})
    scenario = base.model_copy(update={"segmentation": SegmentationSettings(window_months=6, abc_a_cut=0.7)})
    base_segments = build_customer_segments(**frames, settings=base.segmentation, as_of=as_of)
    assert not reclassifies(base.segmentation, scenario.segmentation)
    with pytest.raises(ValueError, match="window_months change"):
        reclassify(base_segments, base.segmentation, scenario.segmentation)
    inputs = PlanInputs(
        lines=frames["lines"],
        erp_customers=frames["erp_customers"].lazy(),
        accounts=frames["accounts"].lazy(),
        hierarchy=frames["accounts"].select(HIERARCHY_COLUMNS),
        fx_rates=frames["fx_rates"].lazy(),
        opportunities=frames["opportunities"].lazy(),
        managers=pl.DataFrame(),
        overrides=pl.DataFrame(),
    )

    segments = scenario_segments(inputs, scenario, base_segments, base)

    assert_identical(segments, build_customer_segments(**frames, settings=scenario.segmentation, as_of=as_of))
    assert reclassifies(base.segmentation, SegmentationSettings(abc_a_cut=0.7, basis="margin"))


class _Recording:
    """Segmentation settings that note every field read."""

    def __init__(self, settings: SegmentationSettings) -> None:
        self.settings, self.read = settings, set[str]()

    def __getattr__(self, name: str) -> Any:
        self.read.add(name)
        return getattr(self.settings, name)


def test_the_customer_figures_read_no_classification_setting(staged) -> None:
    """What makes `reclassify` exact: nothing before the classification reads the fields it may change."""
    frames, as_of = staged
    settings = _Recording(SegmentationSettings())

    customer_figures(**frames, settings=settings, as_of=as_of)  # type: ignore[arg-type]

    assert settings.read, "the recording saw no read"
    assert not settings.read & CLASSIFICATION_SETTINGS


def test_the_columns_the_assets_read_segment_as_the_whole_extracts(staged) -> None:
    """The segmentation assets read only SEGMENTATION_READS of each extract."""
    frames, as_of = staged
    projected = {name: frame.select(SEGMENTATION_READS[name]) if name in SEGMENTATION_READS else frame
                 for name, frame in frames.items()}  # fmt: skip
    settings = SegmentationSettings()

    assert_identical(
        build_customer_segments(**projected, settings=settings, as_of=as_of),
        build_customer_segments(**frames, settings=settings, as_of=as_of),
    )
