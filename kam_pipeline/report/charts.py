"""Charts of the marts as PNG images, for the static report and the Dagster UI.

Pure functions: each takes a frame shaped like its mart (sql/30_marts.sql) and
returns PNG bytes, drawn with matplotlib's Agg canvas on a figure of its own
(no pyplot, no change to matplotlib's global backend or rcParams, so it works
headless, e.g. inside a Dagster run). The same input always gives the same bytes: fixed size, fixed
fonts and colours, no randomness, and no software version in the PNG.

Large marts are thinned FOR DRAWING ONLY (the Pareto curve through at most
`PARETO_POINTS` points plus the exact cut points, at most `TOP_BUBBLES` +
`SAMPLED_BUBBLES` bubbles, at most `MAX_MANAGERS` bars); every count, share and
boundary printed on a chart is computed on the full frame, and the subtitle
says when something was thinned.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from datetime import date

import numpy as np
import polars as pl
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

from kam_pipeline.figures import count, money, percent, short_amount
from kam_pipeline.ingest.contract.extracts import TIERS
from kam_pipeline.kam.load import BALANCED, OVER, UNDER
from kam_pipeline.kam.migration import GONE, NEW

#: Image size: 900 × 550 pixels.
FIGURE_INCHES = (9.0, 5.5)
DPI = 100

#: The Pareto curve is drawn through at most this many evenly spaced customers (plus the cut points).
PARETO_POINTS = 2_000
#: The tier matrix draws every one of the top customers by revenue ...
TOP_BUBBLES = 1_500
#: ... and at most this many of the others, evenly spaced in Pareto order.
SAMPLED_BUBBLES = 1_500
#: Bubble areas in points²: the smallest (margin <= 0) and what the largest margin adds to it.
SMALLEST_BUBBLE = 8.0
LARGEST_BUBBLE = 700.0
#: The load chart shows every manager up to this many, else the most and the least utilised halves.
MAX_MANAGERS = 30

TIER_COLOURS = {
    "STRATEGIC": "#1b3a6b",
    "CORE": "#4a86c8",
    "DEVELOP": "#2e9e5b",
    "MAINTAIN": "#e6a020",
    "SERVE_EFFICIENTLY": "#a68fa8",
    "LAPSED": "#c4c4c4",
    "PROSPECT": "#dcdcdc",
}
CLASS_COLOURS = {"A": "#1b3a6b", "B": "#4a86c8", "C": "#a9c6e8"}
STATUS_COLOURS = {OVER: "#c8453b", BALANCED: "#2e9e5b", UNDER: "#6f8fb8"}
#: Colour and label of anything the marts do not define (a future tier, a null).
OTHER_COLOUR = "#7f7f7f"
UNKNOWN = "UNKNOWN"
INK = "#222222"
MUTED = "#666666"
GRID = "#e3e3e3"

_PNG_METADATA = {"Software": None}


# --- shared drawing -------------------------------------------------------------------------------------------------


def _figure() -> Figure:
    fig = Figure(figsize=FIGURE_INCHES, dpi=DPI, layout="constrained", facecolor="white")
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata=_PNG_METADATA, facecolor="white")
    return buffer.getvalue()


def _titles(fig: Figure, ax: Axes, title: str, subtitle: str) -> None:
    fig.suptitle(title, x=0.01, ha="left", fontsize=13, fontweight="bold", color=INK)
    ax.set_title(subtitle, loc="left", fontsize=9, color=MUTED, pad=8)


def _style(ax: Axes, *, grid_axis: str = "both") -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#999999")
    ax.tick_params(labelsize=9, colors=INK)
    ax.grid(True, axis=grid_axis, color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)


def _message_chart(title: str, message: str) -> bytes:
    """A chart that says why there is nothing to draw."""
    fig = _figure()
    fig.suptitle(title, x=0.01, ha="left", fontsize=13, fontweight="bold", color=INK)
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=12, color=MUTED, wrap=True)
    return _png(fig)


def _as_of(frame: pl.DataFrame, column: str = "as_of_date") -> date | None:
    if column not in frame.columns or frame.height == 0:
        return None
    value = frame.get_column(column).max()
    return value if isinstance(value, date) else None


def _dated(title: str, as_of: date | None) -> str:
    return title if as_of is None else f"{title} — as of {as_of.isoformat()}"


def _customers(n: int) -> str:
    """'1 customer', '12 345 customers'."""
    return f"{count(n)} customer{'' if n == 1 else 's'}"


_PERCENT_TICKS = FuncFormatter(lambda v, _: f"{v:.0f} %")


def _evenly_spaced(n: int, at_most: int) -> np.ndarray:
    """At most `at_most` indices 0..n-1, evenly spaced, always including the first and the last."""
    if n <= at_most:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, at_most).round().astype(np.int64))


def _categories(present: Sequence[str], order: Sequence[str]) -> list[str]:
    """The known categories in their order, then any unexpected ones sorted."""
    return [c for c in order if c in present] + sorted(set(present) - set(order))


# --- Pareto curve ---------------------------------------------------------------------------------------------------


def pareto_chart(segments: pl.DataFrame, a_cut: float, b_cut: float, *, currency: str = "EUR") -> bytes:
    """The Pareto curve of customer_segments (methodology §S4) with the A and B cuts.

    x: customers in Pareto order as a cumulative share of the universe; y:
    their cumulative share of revenue. The curve runs through at most
    `PARETO_POINTS` evenly spaced customers plus the exact last customer of
    each class; class counts and shares come from abc_class on every row.
    """
    title = _dated("Revenue concentration (Pareto)", _as_of(segments))
    if segments.height == 0:
        return _message_chart(title, "No customers in customer_segments.")
    universe = (
        segments.filter(pl.col("cumulative_share").is_not_null())
        .select("customer_id", "abc_class", "cumulative_share", revenue=pl.col("revenue_t12m").cast(pl.Float64))
        .sort("cumulative_share", "customer_id")
        .with_row_index("position")
    )
    n = universe.height
    outside = segments.height - n
    if n == 0:
        return _message_chart(title, f"No customer has revenue in the window ({_customers(segments.height)}).")

    x_all = (universe.get_column("position").to_numpy() + 1) / n
    y_all = universe.get_column("cumulative_share").to_numpy()
    ends = (
        universe.group_by("abc_class")
        .agg(last=pl.col("position").max(), customers=pl.len(), revenue=pl.col("revenue").sum())
        .sort("last")
    )
    total = universe.get_column("revenue").sum()
    drawn = np.union1d(_evenly_spaced(n, PARETO_POINTS), ends.get_column("last").to_numpy())
    x = np.concatenate([[0.0], x_all[drawn]])
    y = np.concatenate([[0.0], y_all[drawn]])

    fig = _figure()
    ax = fig.add_subplot()
    _style(ax)
    handles: list[Patch | Line2D] = []
    start = 0.0
    for row in ends.iter_rows(named=True):
        end = x_all[row["last"]]
        colour = CLASS_COLOURS.get(row["abc_class"], OTHER_COLOUR)
        ax.axvspan(start * 100, end * 100, color=colour, alpha=0.12, linewidth=0)
        label = (
            f"{row['abc_class']}: {_customers(row['customers'])} ({percent(row['customers'] / n)}), "
            f"{percent(row['revenue'] / total)} of revenue"
        )
        handles.append(Patch(facecolor=colour, alpha=0.35, label=label))
        if end < 1.0:
            ax.plot(end * 100, y_all[row["last"]] * 100, "o", color=colour, markersize=6, zorder=4)
            ax.annotate(
                f"{_customers(int(row['last']) + 1)} → {percent(y_all[row['last']])}",
                (end * 100, y_all[row["last"]] * 100),
                xytext=(8, -14),
                textcoords="offset points",
                fontsize=8.5,
                color=INK,
            )
        start = end
    ax.plot([0, 100], [0, 100], linestyle=":", color="#aaaaaa", linewidth=1)
    ax.plot(x * 100, y * 100, color=TIER_COLOURS["STRATEGIC"], linewidth=2.2, zorder=3)
    for cut, name in ((a_cut, "A"), (b_cut, "B")):
        ax.axhline(cut * 100, color=MUTED, linestyle="--", linewidth=1)
        ax.text(0.8, cut * 100 + 0.6, f"{name} cut {cut * 100:g} %", ha="left", va="bottom", fontsize=8.5, color=MUTED)
    handles.append(
        Line2D([], [], color=MUTED, linestyle="--", label=f"cuts at {a_cut * 100:g} % and {b_cut * 100:g} %")
    )
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 102)
    ax.xaxis.set_major_formatter(_PERCENT_TICKS)
    ax.yaxis.set_major_formatter(_PERCENT_TICKS)
    ax.set_xlabel("Customers in Pareto order (revenue descending), cumulative share of customers", fontsize=9.5)
    ax.set_ylabel(f"Cumulative share of revenue ({currency})", fontsize=9.5)
    ax.legend(handles=handles, loc="lower right", fontsize=8.5, frameon=True, framealpha=0.95, edgecolor=GRID)
    subtitle = f"{_customers(n)} with revenue > 0, total {money(total, currency)}, trailing window"
    if outside:
        subtitle += f"; {count(outside)} without revenue (class N) not ranked"
    if n > PARETO_POINTS:
        subtitle += f"\nCurve drawn through {count(len(drawn))} of {count(n)} customers; cut points exact"
    _titles(fig, ax, title, subtitle)
    return _png(fig)


# --- tier matrix ----------------------------------------------------------------------------------------------------


def _drawn_customers(universe: pl.DataFrame) -> pl.DataFrame:
    """All of the top customers by revenue and an evenly spaced sample of the rest (Pareto order)."""
    top = universe.head(TOP_BUBBLES)
    rest = universe.slice(TOP_BUBBLES)
    return pl.concat([top, rest[_evenly_spaced(rest.height, SAMPLED_BUBBLES)]])


def _bubble_area(margin: pl.Expr | float, largest: float) -> pl.Expr | float:
    """Marker area in points²: proportional to the margin, negatives and zero at the minimum."""
    return SMALLEST_BUBBLE + LARGEST_BUBBLE * margin / max(largest, 1e-9)


def _nice(value: float) -> float:
    """The largest 1, 2 or 5 × 10^k not above value."""
    power = 10 ** math.floor(math.log10(value))
    return max(step * power for step in (1, 2, 5) if step * power <= value)


def tier_matrix_chart(segments: pl.DataFrame, *, currency: str = "EUR") -> bytes:
    """Revenue share (log x) against potential value (symlog y) per customer (methodology §S8, §S10).

    Bubble area is proportional to margin_t12m (negative margins get the
    smallest bubble), colour is the tier. Dashed lines mark where the A, B and
    C classes and the HIGH and MEDIUM potential classes begin, read from the
    frame. Customers outside the universe (LAPSED, PROSPECT) have no revenue share and
    are only counted.
    """
    title = _dated("Tier matrix: revenue share × potential", _as_of(segments))
    if segments.height == 0:
        return _message_chart(title, "No customers in customer_segments.")
    universe = (
        segments.filter(pl.col("revenue_share") > 0)
        .select(
            "customer_id",
            pl.col("tier").fill_null(UNKNOWN),
            "abc_class",
            "potential_class",
            "revenue_share",
            revenue=pl.col("revenue_t12m").cast(pl.Float64),
            potential=pl.col("potential_value").cast(pl.Float64).fill_null(0.0),
            margin=pl.col("margin_t12m").cast(pl.Float64).fill_null(0.0),
        )
        .sort("revenue_share", "customer_id", descending=[True, False])
    )
    n = universe.height
    outside = segments.height - n
    if n == 0:
        return _message_chart(title, f"No customer has revenue in the window ({_customers(segments.height)}).")
    largest_margin = max(universe.get_column("margin").max() or 0.0, 0.0)
    drawn = (
        _drawn_customers(universe)
        .with_columns(size=_bubble_area(pl.col("margin").clip(lower_bound=0), largest_margin))
        .sort("size", "customer_id", descending=[True, False])  # small bubbles on top of large ones
    )
    tiers = _categories(universe.get_column("tier").unique().to_list(), TIERS)
    per_tier = dict(universe.group_by("tier").len().iter_rows())

    fig = _figure()
    grid = fig.add_gridspec(1, 2, width_ratios=(3.0, 1.0))
    ax = fig.add_subplot(grid[0, 0])
    legend_ax = fig.add_subplot(grid[0, 1])
    legend_ax.set_axis_off()
    _style(ax)
    colours = [TIER_COLOURS.get(t, OTHER_COLOUR) for t in drawn.get_column("tier")]
    ax.scatter(
        drawn.get_column("revenue_share").to_numpy(),
        drawn.get_column("potential").to_numpy(),
        s=drawn.get_column("size").to_numpy(),
        c=colours,
        alpha=0.65,
        edgecolors="white",
        linewidths=0.4,
        zorder=3,
    )
    ax.set_xscale("log")
    linthresh = 1_000.0
    ax.set_yscale("symlog", linthresh=linthresh, linscale=0.4)
    top_potential = max(universe.get_column("potential").max() or 0.0, linthresh * 10)
    ax.set_ylim(-linthresh * 0.15, top_potential * 2.5)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v * 100:g} %"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    decades = [10.0**k for k in range(3, 1 + math.ceil(math.log10(top_potential * 2.5)))]
    ax.yaxis.set_major_locator(FixedLocator([0.0, *decades]))
    ax.yaxis.set_minor_locator(FixedLocator([m * d for d in decades for m in range(2, 10)]))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: short_amount(v)))
    ax.set_xlabel("Share of revenue, trailing window (log scale)", fontsize=9.5)
    ax.set_ylabel(f"Potential value ({currency}, symmetric log scale)", fontsize=9.5)
    total = universe.get_column("revenue").sum()
    revenue_axis = ax.secondary_xaxis("top", functions=(lambda s: s * total, lambda r: r / total))
    revenue_axis.xaxis.set_major_formatter(FuncFormatter(lambda v, _: short_amount(v)))
    revenue_axis.xaxis.set_minor_formatter(NullFormatter())
    revenue_axis.tick_params(labelsize=8, colors=MUTED)
    revenue_axis.set_xlabel(f"Revenue, trailing window ({currency})", fontsize=8.5, color=MUTED)
    _class_boundaries(ax, universe, currency)

    tier_handles = [
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            markersize=8,
            color=TIER_COLOURS.get(t, OTHER_COLOUR),
            label=f"{t} ({count(per_tier[t])})",
        )
        for t in tiers
    ]
    tier_legend = legend_ax.legend(
        handles=tier_handles,
        title="Tier (customers)",
        loc="upper left",
        fontsize=8,
        title_fontsize=9,
        frameon=False,
        alignment="left",
        borderaxespad=0,
        handletextpad=0.3,
    )
    tier_legend.set_in_layout(False)  # the legend column keeps its width
    if largest_margin > 0:
        legend_ax.add_artist(tier_legend)
        references = sorted({_nice(largest_margin), _nice(largest_margin / 4), _nice(largest_margin / 20)})
        size_handles = [
            Line2D(
                [],
                [],
                marker="o",
                linestyle="",
                color="#bbbbbb",
                label=money(m, currency),
                markersize=math.sqrt(_bubble_area(m, largest_margin)),
            )
            for m in references
        ]
        size_legend = legend_ax.legend(
            handles=size_handles,
            title="Margin, trailing window\n(bubble area)",
            loc="lower left",
            fontsize=8,
            title_fontsize=9,
            frameon=False,
            labelspacing=1.3,
            borderaxespad=0,
            handlelength=3,
            handletextpad=0.3,
            alignment="left",
        )
        size_legend.set_in_layout(False)
    subtitle = f"{_customers(n)} with revenue > 0"
    if outside:
        subtitle += f" ({count(outside)} lapsed or prospects without revenue not shown)"
    if n > len(drawn):
        subtitle += (
            f"\nDrawn: the top {count(TOP_BUBBLES)} by revenue and {count(len(drawn) - TOP_BUBBLES)} of the other "
            f"{count(n - TOP_BUBBLES)}, evenly spaced in Pareto order"
        )
    _titles(fig, ax, title, subtitle)
    return _png(fig)


def _class_boundaries(ax: Axes, universe: pl.DataFrame, currency: str) -> None:
    """Dashed lines where the B and C revenue classes and the MEDIUM and HIGH potential classes begin."""
    by_class = dict(
        universe.group_by("abc_class")
        .agg(pl.col("revenue_share").max(), pl.col("revenue_share").min().alias("low"))
        .select("abc_class", pl.struct("revenue_share", "low"))
        .iter_rows()
    )
    for upper, lower in (("A", "B"), ("B", "C")):
        if upper in by_class and lower in by_class:
            boundary = math.sqrt(by_class[upper]["low"] * by_class[lower]["revenue_share"])
            ax.axvline(boundary, color=MUTED, linestyle="--", linewidth=0.9, zorder=2)
            ax.text(
                boundary,
                1.0,
                f" {lower} | {upper} ",
                transform=ax.get_xaxis_transform(),
                ha="center",
                va="top",
                fontsize=8,
                color=MUTED,
                backgroundcolor="white",
                zorder=4,
            )
    starts = dict(universe.group_by("potential_class").agg(pl.col("potential").min()).iter_rows())
    for potential_class in ("HIGH", "MEDIUM"):
        if potential_class in starts and starts[potential_class] > 0:
            ax.axhline(starts[potential_class], color=MUTED, linestyle="--", linewidth=0.9, zorder=2)
            ax.text(
                0.005,
                starts[potential_class],
                f"{potential_class} potential from {money(starts[potential_class], currency)}",
                transform=ax.get_yaxis_transform(),
                ha="left",
                va="bottom",
                bbox={"facecolor": "white", "alpha": 0.75, "edgecolor": "none", "pad": 1.5},
                fontsize=8,
                color=MUTED,
                zorder=4,
            )


# --- account-manager load -------------------------------------------------------------------------------------------


def load_chart(load: pl.DataFrame) -> bytes:
    """Required against capacity hours per account manager (methodology §K6.3).

    One bar per manager (required hours, coloured by load_status) with a black
    mark at the capacity, sorted by utilisation. Beyond `MAX_MANAGERS`
    managers only the most and the least utilised halves are drawn; the
    legend counts every manager.
    """
    title = _dated("Account-manager load: required vs capacity hours", _as_of(load))
    if load.height == 0:
        return _message_chart(title, "No account managers in account_manager_load.")
    managers = load.select(
        pl.col("owner_id").cast(pl.String),
        load_status=pl.col("load_status").fill_null(UNKNOWN),
        label=pl.concat_str(pl.coalesce("name", "owner_id"), pl.lit(" ("), pl.col("role").fill_null("?"), pl.lit(")")),
        required=pl.col("required_hours").cast(pl.Float64).fill_null(0.0),
        capacity=pl.col("capacity_hours").cast(pl.Float64),
        utilisation=pl.col("utilisation").cast(pl.Float64),
    ).sort("utilisation", "owner_id", descending=[True, False], nulls_last=True)
    n = managers.height
    hidden = max(n - MAX_MANAGERS, 0)
    if hidden:
        half = MAX_MANAGERS // 2
        shown = pl.concat([managers.head(half), managers.tail(MAX_MANAGERS - half)])
        positions = np.concatenate([np.arange(half), np.arange(half + 1, MAX_MANAGERS + 1)])
    else:
        shown = managers
        positions = np.arange(n)

    fig = _figure()
    ax = fig.add_subplot()
    _style(ax, grid_axis="x")
    statuses = shown.get_column("load_status").to_list()
    required = shown.get_column("required").to_numpy()
    capacity = shown.get_column("capacity").to_numpy(allow_copy=True).astype(float)
    ax.barh(positions, required, height=0.68, color=[STATUS_COLOURS.get(s, OTHER_COLOUR) for s in statuses], zorder=2)
    ax.vlines(capacity, positions - 0.42, positions + 0.42, color=INK, linewidth=2.2, zorder=3)
    right = float(np.nanmax(np.concatenate([required, capacity, [1.0]])))
    font = 9 if len(shown) <= 16 else 7.5
    for y, req, cap, util in zip(positions, required, capacity, shown.get_column("utilisation"), strict=True):
        text = "n/a" if util is None or not math.isfinite(util) else percent(util, 0)
        ax.text(np.nanmax([req, cap]) + right * 0.01, y, text, va="center", fontsize=font, color=INK)
    ax.set_yticks(positions, shown.get_column("label").to_list(), fontsize=font)
    if hidden:
        ax.text(
            0,
            MAX_MANAGERS // 2,
            f"… {count(hidden)} managers in between not shown …",
            va="center",
            fontsize=font,
            color=MUTED,
            style="italic",
        )
    ax.set_ylim(positions.max() + 0.7, -0.7)
    ax.set_xlim(0, right * 1.12)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: count(round(v))))
    ax.set_xlabel("Hours per year", fontsize=9.5)

    counts = dict(managers.group_by("load_status").len().iter_rows())
    order = _categories(list(counts), (OVER, BALANCED, UNDER))
    handles: list[Patch | Line2D] = [
        Patch(color=STATUS_COLOURS.get(s, OTHER_COLOUR), label=f"{s} ({count(counts.get(s, 0))})")
        for s in dict.fromkeys([OVER, BALANCED, UNDER, *order])
    ]
    handles.append(Line2D([], [], color=INK, linewidth=2.2, label="capacity"))
    ax.legend(
        handles=handles,
        title="Required hours by load status",
        loc="lower right",
        fontsize=8.5,
        title_fontsize=9,
        framealpha=0.95,
        edgecolor=GRID,
    )
    total_required = managers.get_column("required").sum()
    total_capacity = managers.get_column("capacity").sum()
    subtitle = f"{count(n)} managers: {count(round(total_required))} h required"
    if total_capacity:
        subtitle += (
            f" against {count(round(total_capacity))} h capacity ({percent(total_required / total_capacity, 0)})"
        )
    subtitle += "; labels show utilisation"
    if hidden:
        subtitle += f"\nShowing the {MAX_MANAGERS // 2} most and {MAX_MANAGERS - MAX_MANAGERS // 2} least utilised"
    _titles(fig, ax, title, subtitle)
    return _png(fig)


# --- tier migration -------------------------------------------------------------------------------------------------


def migration_chart(migration: pl.DataFrame) -> bytes:
    """Customers moving from each tier to each tier between two snapshots (methodology §K8).

    Rows are the previous tier (NEW: not in the previous snapshot), columns the
    current tier (GONE: no longer in the current one); every tier is shown,
    cells carry the customer counts on a log colour scale, and the cells of
    customers that kept their tier are outlined.
    """
    if migration.height == 0:
        return _message_chart(
            "Tier migration",
            "No previous snapshot to compare with.\nTier migration is shown from the second snapshot on.",
        )
    as_of = _as_of(migration)
    previous = _as_of(migration, "previous_as_of_date")
    counts = migration.group_by(pl.col("from_tier").fill_null(UNKNOWN), pl.col("to_tier").fill_null(UNKNOWN)).agg(
        pl.col("customers").sum()
    )
    present = set(counts.get_column("from_tier").to_list()) | set(counts.get_column("to_tier").to_list())
    tiers = [*TIERS, *sorted(present - {NEW, GONE, *TIERS})]
    from_tiers, to_tiers = [*tiers, NEW], [*tiers, GONE]
    matrix = np.zeros((len(from_tiers), len(to_tiers)), dtype=np.int64)
    for source, target, customers in counts.iter_rows():
        matrix[from_tiers.index(source), to_tiers.index(target)] += customers
    row_totals, column_totals = matrix.sum(axis=1), matrix.sum(axis=0)
    first_snapshot = set(counts.get_column("from_tier").to_list()) == {NEW}

    fig = _figure()
    ax = fig.add_subplot()
    norm = LogNorm(vmin=1, vmax=max(int(matrix.max()), 2))
    cmap = colormaps["Blues"].with_extremes(bad="#f4f4f4")
    ax.imshow(np.ma.masked_equal(matrix, 0), cmap=cmap, norm=norm, aspect="auto")
    for (i, j), value in np.ndenumerate(matrix):
        if value:
            colour = "white" if norm(value) > 0.5 else INK
            ax.text(j, i, count(int(value)), ha="center", va="center", fontsize=9.5, color=colour)
    if not first_snapshot:
        for k in range(len(tiers)):
            ax.add_patch(Rectangle((k - 0.5, k - 0.5), 1, 1, fill=False, edgecolor=INK, linewidth=1.5, zorder=3))
    ax.set_xticks(
        range(len(to_tiers)),
        [f"{_wrap_tier(t)}\n({count(int(c))})" for t, c in zip(to_tiers, column_totals, strict=True)],
        fontsize=8.5,
    )
    ax.set_yticks(
        range(len(from_tiers)),
        [f"{t} ({count(int(c))})" for t, c in zip(from_tiers, row_totals, strict=True)],
        fontsize=8.5,
    )
    ax.set_xticks(np.arange(-0.5, len(to_tiers)), minor=True)
    ax.set_yticks(np.arange(-0.5, len(from_tiers)), minor=True)
    ax.grid(which="minor", color="white", linewidth=2)
    ax.tick_params(which="both", length=0, colors=INK)
    for spine in ax.spines.values():
        spine.set_visible(False)
    before = f"on {previous.isoformat()}" if previous else "in the previous snapshot"
    after = f"on {as_of.isoformat()}" if as_of else "in the current snapshot"
    ax.set_ylabel(f"Tier {before} (customers)", fontsize=9.5)
    ax.set_xlabel(f"Tier {after} (customers)", fontsize=9.5)

    total = int(matrix.sum())
    stayed = int(np.trace(matrix[: len(tiers), : len(tiers)]))
    new, gone = int(row_totals[-1]), int(column_totals[-1])
    if first_snapshot:
        title = _dated("Tier migration", as_of)
        subtitle = f"No previous snapshot: every customer is NEW ({_customers(new)})"
    else:
        period = f" {previous.isoformat()} → {as_of.isoformat()}" if previous and as_of else ""
        title = _dated(f"Tier migration{period}", None if period else as_of)
        subtitle = (
            f"{_customers(total)}: {count(stayed)} kept their tier (outlined), "
            f"{count(total - stayed - new - gone)} changed tier, {count(new)} new, {count(gone)} gone"
        )
    _titles(fig, ax, title, subtitle)
    return _png(fig)


def _wrap_tier(tier: str) -> str:
    """Break tier names after underscores (SERVE_ / EFFICIENTLY) so that column labels stay narrow."""
    return tier.replace("_", "_\n")
