"""Daily totals give exactly the figures the invoice lines give."""

from datetime import date
from pathlib import Path

import polars as pl

from kam_pipeline.ingest.contract import EXTRACTS_BY_NAME
from kam_pipeline.ingest.parsing import parse_file
from kam_pipeline.segmentation import build_customer_segments
from kam_pipeline.segmentation.daily_totals import daily_totals
from kam_pipeline.segmentation.unmapped import unmapped_customers
from kam_pipeline.segmentation.windows import reporting_windows
from kam_pipeline.settings import SegmentationSettings
from tools.sample_data import generate

AS_OF = date(2026, 11, 28)


def _extract(landing: Path, name: str) -> pl.DataFrame:
    extract = EXTRACTS_BY_NAME[name]
    files = sorted(landing.glob(extract.pattern))
    return pl.concat([parse_file(extract, path, path.name).rows for path in files])


def test_segments_and_unmapped_revenue_are_the_same_from_lines_and_from_daily_totals(tmp_path: Path) -> None:
    landing = generate(tmp_path / "landing", accounts=300, invoice_lines=40_000, as_of=AS_OF).out
    lines = _extract(landing, "invoice_lines")
    assert lines.get_column("cost_amount").null_count() > 0  # both kinds of group occur
    assert lines.get_column("currency").n_unique() > 1
    totals = daily_totals(lines.lazy()).collect()
    assert totals.height < lines.height
    assert totals.get_column("lines").sum() == lines.height
    others = [_extract(landing, n) for n in ("erp_customers", "crm_accounts", "fx_rates", "opportunities")]
    settings = SegmentationSettings()
    from_lines = build_customer_segments(lines.lazy(), *others, settings, AS_OF)
    from_totals = build_customer_segments(totals.lazy(), *others, settings, AS_OF)
    assert from_lines.filter(pl.col("revenue_t12m") != 0).height > 100
    assert from_totals.equals(from_lines)
    customers, fx = others[0], others[2]
    unmapped_lines = unmapped_customers(lines.lazy(), customers, fx, settings, AS_OF)
    unmapped_totals = unmapped_customers(totals.lazy(), customers, fx, settings, AS_OF)
    assert unmapped_totals[0].equals(unmapped_lines[0]) and unmapped_totals[1] == unmapped_lines[1]


def test_a_line_without_rate_is_counted_as_a_line(tmp_path: Path) -> None:
    landing = generate(tmp_path / "landing", accounts=50, invoice_lines=40_000, as_of=AS_OF).out
    lines = _extract(landing, "invoice_lines")
    others = [_extract(landing, n) for n in ("erp_customers", "crm_accounts", "fx_rates", "opportunities")]
    no_rates = others[2].head(0)
    earliest = reporting_windows(AS_OF, SegmentationSettings()).earliest
    foreign = lines.filter((pl.col("currency") != "EUR") & (pl.col("invoice_date") > earliest))
    assert daily_totals(foreign.lazy()).collect().height < foreign.height / 2  # counting groups would differ
    messages = []
    for frame in (lines.lazy(), daily_totals(lines.lazy())):
        try:
            build_customer_segments(frame, others[0], others[1], no_rates, others[3], SegmentationSettings(), AS_OF)
        except ValueError as exc:
            messages.append(str(exc).split(" invoice lines")[0])
    assert len(messages) == 2 and messages[0] == messages[1]  # lines, not daily groups, are counted
    assert 0 < int(messages[0]) <= foreign.height
