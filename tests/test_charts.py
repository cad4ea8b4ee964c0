"""Charts (kam_pipeline/report/charts.py) and the static HTML report (kam_pipeline/report/html.py).

The frames are generated with the marts' columns and a fixed seed; the large
case has 100 000 customers (as many as the charts are sized for).
"""

from __future__ import annotations

import base64
import io
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import matplotlib
import numpy as np
import polars as pl
import pytest
from matplotlib import image

from kam_pipeline.report import charts
from kam_pipeline.report.html import chart_metadata, write_report
from kam_pipeline.segmentation.tiers import tier

AS_OF = date(2026, 11, 28)
PREVIOUS = date(2026, 10, 31)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WIDTH, HEIGHT = 900, 550
#: Size limit per chart: the images go into Dagster metadata and the HTML report.
MAX_BYTES = 300_000


def segments_frame(customers: int, seed: int = 7) -> pl.DataFrame:
    """customer_segments-shaped rows: long-tailed revenue, ~5 % without revenue, ABC by 80/95 %."""
    rng = np.random.default_rng(seed)
    revenue = np.round(rng.lognormal(9, 2, customers), 2)
    revenue[rng.random(customers) < 0.05] = 0.0
    potential = np.where(rng.random(customers) < 0.3, 0.0, np.round(rng.lognormal(10, 1.5, customers), 2))
    margin = np.round(revenue * rng.normal(0.25, 0.15, customers), 2)
    frame = pl.DataFrame(
        {
            "customer_id": [f"C{i:06d}" for i in range(customers)],
            "customer_name": [f"Customer {i}" for i in range(customers)],
            "revenue_t12m": revenue,
            "potential_value": potential,
            "margin_t12m": margin,
        }
    )
    universe = pl.col("revenue_t12m") > 0
    share = pl.when(universe).then(pl.col("revenue_t12m") / pl.col("revenue_t12m").filter(universe).sum())
    pr = (pl.col("potential_value").rank("min") - 1) / max(customers - 1, 1)
    return (
        frame.sort(["revenue_t12m", "customer_id"], descending=[True, False])
        .with_columns(revenue_share=share)
        .with_columns(cumulative_share=pl.when(universe).then(pl.col("revenue_share").cum_sum()))
        .with_columns(
            abc_class=pl.when(~universe)
            .then(pl.lit("N"))
            .when(pl.col("cumulative_share") - pl.col("revenue_share") < 0.8)
            .then(pl.lit("A"))
            .when(pl.col("cumulative_share") - pl.col("revenue_share") < 0.95)
            .then(pl.lit("B"))
            .otherwise(pl.lit("C")),
            potential_class=pl.when(pl.col("potential_value") == 0)
            .then(pl.lit("UNKNOWN"))
            .when(pr >= 0.8)
            .then(pl.lit("HIGH"))
            .when(pr >= 0.5)
            .then(pl.lit("MEDIUM"))
            .otherwise(pl.lit("LOW")),
            last_invoice_date=pl.when(pl.col("customer_id").str.ends_with("7")).then(None).otherwise(pl.lit(AS_OF)),
        )
        .with_columns(segment_class=pl.col("abc_class"))
        .with_columns(
            pl.col("revenue_t12m", "potential_value", "margin_t12m").cast(pl.Decimal(18, 2)),
            tier=tier(),
            as_of_date=pl.lit(AS_OF),
        )
    )


def load_frame(managers: int, seed: int = 3) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    capacity = rng.integers(1200, 1800, managers).astype(float)
    required = np.round(capacity * rng.uniform(0.3, 1.8, managers), 2)
    utilisation = required / capacity
    status = np.where(utilisation > 1.1, "OVER", np.where(utilisation < 0.7, "UNDER", "BALANCED"))
    return pl.DataFrame(
        {
            "owner_id": [f"U{i:04d}" for i in range(managers)],
            "name": [f"Manager {i}" for i in range(managers)],
            "role": ["KAM" if i % 4 == 0 else "AM" for i in range(managers)],
            "required_hours": required,
            "capacity_hours": capacity,
            "utilisation": utilisation,
            "load_status": status,
            "as_of_date": [AS_OF] * managers,
        }
    )


def migration_frame(previous: pl.DataFrame, current: pl.DataFrame) -> pl.DataFrame:
    from kam_pipeline.kam.migration import tier_migration

    return tier_migration(previous.with_columns(as_of_date=pl.lit(PREVIOUS)), current)


@pytest.fixture(scope="module")
def segments() -> pl.DataFrame:
    return segments_frame(2_000)


@pytest.fixture(scope="module")
def big_segments() -> pl.DataFrame:
    return segments_frame(100_000)


@pytest.fixture(scope="module")
def migration(segments: pl.DataFrame) -> pl.DataFrame:
    previous = segments_frame(2_000, seed=8).filter(pl.col("customer_id") != "C000001")
    return migration_frame(previous, segments.filter(pl.col("customer_id") != "C000002"))


@pytest.fixture(scope="module")
def all_charts(segments: pl.DataFrame, migration: pl.DataFrame) -> dict[str, bytes]:
    return {
        "pareto": charts.pareto_chart(segments, 0.8, 0.95),
        "tier_matrix": charts.tier_matrix_chart(segments),
        "load": charts.load_chart(load_frame(12)),
        "migration": charts.migration_chart(migration),
    }


def assert_chart(png: bytes) -> None:
    assert png.startswith(PNG_SIGNATURE)
    pixels = image.imread(io.BytesIO(png), format="png")
    assert pixels.shape[:2] == (HEIGHT, WIDTH)
    assert len(png) < MAX_BYTES


def draw(name: str, frame: pl.DataFrame) -> bytes:
    if name == "pareto":
        return charts.pareto_chart(frame, 0.8, 0.95)
    return getattr(charts, f"{name}_chart")(frame)


CHARTS = ("pareto", "tier_matrix", "load", "migration")


def test_each_chart_is_a_png_of_the_fixed_size(all_charts: dict[str, bytes]) -> None:
    for png in all_charts.values():
        assert_chart(png)
    assert len(set(all_charts.values())) == 4


def test_same_input_gives_the_same_bytes(segments: pl.DataFrame, migration: pl.DataFrame) -> None:
    frames = {"pareto": segments, "tier_matrix": segments, "load": load_frame(12), "migration": migration}
    for name, frame in frames.items():
        assert draw(name, frame) == draw(name, frame.clone()), name


def test_png_does_not_name_the_software(all_charts: dict[str, bytes]) -> None:
    for png in all_charts.values():
        assert b"matplotlib" not in png.lower()


@pytest.mark.parametrize("name", CHARTS)
def test_empty_frames_give_a_message_chart(name: str, segments: pl.DataFrame, migration: pl.DataFrame) -> None:
    frame = {"pareto": segments, "tier_matrix": segments, "load": load_frame(1), "migration": migration}[name]
    assert_chart(draw(name, frame.clear()))
    assert_chart(draw(name, pl.DataFrame()))


def test_customers_without_revenue_only_are_a_message(segments: pl.DataFrame) -> None:
    dormant = segments.filter(pl.col("abc_class") == "N")
    assert_chart(charts.pareto_chart(dormant, 0.8, 0.95))
    assert_chart(charts.tier_matrix_chart(dormant))


def test_first_snapshot_draws_everyone_as_new(segments: pl.DataFrame) -> None:
    first = migration_frame(segments.clear(), segments)
    assert first.get_column("from_tier").unique().to_list() == ["NEW"]
    assert_chart(charts.migration_chart(first))


def test_charts_accept_nulls_and_unknown_categories(segments: pl.DataFrame) -> None:
    odd = segments.head(50).with_columns(
        tier=pl.when(pl.col("customer_id") == "C000000").then(pl.lit("PILOT")).otherwise("tier"),
        margin_t12m=pl.lit(None, pl.Decimal(18, 2)),
        potential_value=pl.lit(None, pl.Decimal(18, 2)),
    )
    assert_chart(charts.tier_matrix_chart(odd))
    load = load_frame(5).with_columns(
        name=pl.lit(None, pl.String), capacity_hours=pl.lit(None, pl.Float64), utilisation=pl.lit(None, pl.Float64)
    )
    assert_chart(charts.load_chart(load.with_columns(load_status=pl.lit(None, pl.String))))
    moves = pl.DataFrame(
        {"from_tier": ["CORE", "PILOT"], "to_tier": ["PILOT", "GONE"], "customers": [3, 1]},
        schema_overrides={"customers": pl.Int64},
    )
    assert_chart(charts.migration_chart(moves))


def test_migration_without_dates_or_with_null_tiers() -> None:
    moves = pl.DataFrame(
        {
            "as_of_date": [AS_OF] * 3,
            "previous_as_of_date": [None, None, None],
            "from_tier": ["CORE", None, "NEW"],
            "to_tier": ["CORE", "GONE", None],
            "customers": [5, 1, 2],
        },
        schema_overrides={"previous_as_of_date": pl.Date, "customers": pl.Int64},
    )
    assert_chart(charts.migration_chart(moves))


def test_drawing_leaves_matplotlib_settings_alone(segments: pl.DataFrame) -> None:
    before = (matplotlib.get_backend(), dict(matplotlib.rcParams))
    charts.tier_matrix_chart(segments)
    assert (matplotlib.get_backend(), dict(matplotlib.rcParams)) == before


def test_many_managers_are_thinned_for_drawing() -> None:
    assert_chart(charts.load_chart(load_frame(250)))


def test_charts_handle_100_000_customers(big_segments: pl.DataFrame) -> None:
    previous = segments_frame(100_000, seed=8).with_columns(as_of_date=pl.lit(PREVIOUS))
    pngs = [
        charts.pareto_chart(big_segments, 0.8, 0.95),
        charts.tier_matrix_chart(big_segments),
        charts.migration_chart(migration_frame(previous, big_segments)),
    ]
    for png in pngs:
        assert_chart(png)


def test_drawing_samples_keep_the_top_customers_and_the_ends() -> None:
    universe = pl.DataFrame({"rank": range(10_000)})
    drawn = charts._drawn_customers(universe).get_column("rank")
    assert drawn.len() <= charts.TOP_BUBBLES + charts.SAMPLED_BUBBLES
    assert drawn.head(charts.TOP_BUBBLES).to_list() == list(range(charts.TOP_BUBBLES))
    assert drawn.is_unique().all() and drawn.max() == 9_999
    points = charts._evenly_spaced(100_000, charts.PARETO_POINTS)
    assert len(points) == charts.PARETO_POINTS and points[0] == 0 and points[-1] == 99_999


# --- report ---------------------------------------------------------------------------------------------------------


def data_uris(html: str) -> list[bytes]:
    return [base64.b64decode(b) for b in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)]


def test_report_embeds_every_chart_and_escapes_tables(tmp_path: Path, all_charts: dict[str, bytes]) -> None:
    top = pl.DataFrame(
        {
            "customer_id": ["C1", "C2"],
            "customer_name": ["<script>alert('x')</script>", "Müller & Söhne"],
            "revenue_t12m": [Decimal("1234567.80"), Decimal("-5.00")],
            "revenue_share": [0.123456, None],
        }
    )
    path = write_report(
        tmp_path / "report",
        all_charts,
        {"top_customers": top, "empty table": top.clear()},
        title="KAM <report>",
        as_of=AS_OF,
        run_id="run-1",
    )
    assert path.parent == tmp_path / "report" and path.suffix == ".html"
    html = path.read_text(encoding="utf-8")
    assert data_uris(html) == list(all_charts.values())
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "Müller &amp; Söhne" in html and "KAM &lt;report&gt;" in html
    assert "EUR 1,234,568" in html and "12.3 %" in html and "2026-11-28" in html and "run-1" in html
    assert "<th>Revenue (12 months)</th>" in html and "revenue_t12m" not in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "no external assets"


def test_report_is_deterministic_and_replaced_on_rerun(tmp_path: Path, all_charts: dict[str, bytes]) -> None:
    first = write_report(tmp_path, all_charts, {}, title="KAM", as_of=AS_OF, run_id="r").read_bytes()
    path = write_report(tmp_path, all_charts, {}, title="KAM", as_of=AS_OF, run_id="r")
    assert path.read_bytes() == first
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_chart_metadata_is_markdown_with_a_data_uri(all_charts: dict[str, bytes]) -> None:
    markdown = chart_metadata(all_charts["pareto"])
    match = re.fullmatch(r"!\[[^\]]*\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)", markdown)
    assert match and base64.b64decode(match.group(1)) == all_charts["pareto"]
    assert chart_metadata(all_charts["load"], title="Load [hours]").startswith("![Load (hours)](")
