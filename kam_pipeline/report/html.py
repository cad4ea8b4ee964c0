"""The static HTML report: key figures, callouts, charts and small tables of one run in one self-contained file.

Images are embedded as base64 data URIs and the style sheet is inline, so the
file opens in any browser, offline and without Dagster; a Content-Security-Policy
forbids loading anything else. Every text from the data is HTML-escaped, and
numbers and headers are formatted by kam_pipeline.report.formatting. The
page depends only on its arguments (no clock), so the same run gives the same
bytes.
"""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from kam_pipeline.report.formatting import cell, label

#: Tables longer than this are cut in the report (the note under the table says so).
MAX_TABLE_ROWS = 200

_STYLE = """
body { font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #222;
       margin: 0; background: #f6f7f9; line-height: 1.45; }
main { max-width: 960px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
header { border-bottom: 3px solid #1b3a6b; margin-bottom: 16px; }
h1 { font-size: 1.6em; margin: 0 0 4px; color: #1b3a6b; }
h2 { font-size: 1.2em; margin: 32px 0 8px; color: #1b3a6b; border-bottom: 1px solid #e3e3e3; padding-bottom: 4px; }
.meta { color: #666; margin: 0 0 12px; font-size: 0.92em; }
nav { font-size: 0.92em; margin-bottom: 8px; }
nav a { color: #1b3a6b; margin-right: 14px; text-decoration: none; }
figure { margin: 0; }
img { display: block; max-width: 100%; height: auto; border: 1px solid #e3e3e3; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.85em; width: 100%; }
th, td { padding: 4px 8px; border-bottom: 1px solid #e8e8e8; text-align: left; vertical-align: top; }
th { background: #eef2f8; position: sticky; top: 0; }
tbody tr:nth-child(even) { background: #fafbfc; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.note { color: #666; font-size: 0.85em; margin: 4px 0 0; }
.callout { border-left: 4px solid #1b3a6b; background: #eef2f8; padding: 8px 14px; }
.callout p { margin: 0 0 4px; font-weight: 600; }
.callout ul { margin: 4px 0 0; padding-left: 20px; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 10px; margin: 0; }
.tile { border: 1px solid #e3e3e3; border-top: 3px solid #1b3a6b; padding: 8px 12px; }
.tile dt { color: #666; font-size: 0.85em; }
.tile dd { margin: 2px 0 0; font-size: 1.3em; font-weight: 600; font-variant-numeric: tabular-nums; }
"""
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


@dataclass(frozen=True)
class Callout:
    """A highlighted statement and the points behind it (a verdict and its reasons)."""

    headline: str
    points: tuple[str, ...] = ()


@dataclass(frozen=True)
class Tiles:
    """Key figures shown as tiles: (label, formatted value) pairs."""

    figures: tuple[tuple[str, str], ...]


#: Section name -> what it shows, in order.
Sections = Mapping[str, "Callout | Tiles | pl.DataFrame"]


def write_report(
    out_dir: Path,
    charts: Mapping[str, bytes],
    tables: Sections,
    title: str,
    as_of: date,
    run_id: str,
    lead: Sections | None = None,
    currency: str = "EUR",
) -> Path:
    """Write `kam_report_<as_of>.html` into out_dir (created if missing) and return its path.

    `lead` maps a section name to a callout or a small frame shown first (what
    a reader must see before the charts), charts a section name to PNG bytes,
    tables a section name to a small frame or a callout, each in the given
    order. Amounts are shown in `currency` (kam_pipeline.report.formatting). A rerun
    for the same as-of date replaces the file atomically, so a reader never
    sees half a report.
    """
    page = render_report(charts, tables, title=title, as_of=as_of, run_id=run_id, lead=lead, currency=currency)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"kam_report_{as_of.isoformat()}.html"
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(page, encoding="utf-8")
    os.replace(partial, path)
    return path


def render_report(
    charts: Mapping[str, bytes],
    tables: Sections,
    *,
    title: str,
    as_of: date,
    run_id: str,
    lead: Sections | None = None,
    currency: str = "EUR",
) -> str:
    """The report as one HTML document (see write_report)."""
    sections = [(f"lead-{i}", name, _content(item, currency)) for i, (name, item) in enumerate((lead or {}).items())]
    sections += [(f"chart-{i}", name, _chart_section(name, png)) for i, (name, png) in enumerate(charts.items())]
    sections += [(f"table-{i}", name, _content(item, currency)) for i, (name, item) in enumerate(tables.items())]
    nav = " ".join(f'<a href="#{anchor}">{_escape(_heading(name))}</a>' for anchor, name, _ in sections)
    body = "\n".join(
        f'<section id="{anchor}">\n<h2>{_escape(_heading(name))}</h2>\n{content}\n</section>'
        for anchor, name, content in sections
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_escape(title)} — {as_of.isoformat()}</title>
<style>{_STYLE}</style>
</head>
<body>
<main>
<header>
<h1>{_escape(title)}</h1>
<p class="meta">As of {as_of.isoformat()} · run {_escape(run_id)}</p>
<nav>{nav}</nav>
</header>
{body}
</main>
</body>
</html>
"""


def chart_metadata(png: bytes, title: str = "chart") -> str:
    """Markdown showing the PNG inline, for dg.MetadataValue.md in the Dagster UI."""
    alt = title.replace("[", "(").replace("]", ")")
    return f"![{alt}]({_data_uri(png)})"


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _escape(text: str) -> str:
    return html.escape(text, quote=True)


def _heading(name: str) -> str:
    """'top_customers' -> 'Top customers'."""
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _chart_section(name: str, png: bytes) -> str:
    return f'<figure><img src="{_data_uri(png)}" alt="{_escape(_heading(name))}"></figure>'


def _content(item: Callout | Tiles | pl.DataFrame, currency: str) -> str:
    if isinstance(item, Callout):
        return _callout(item)
    if isinstance(item, Tiles):
        return _tiles(item)
    return _table_section(item, currency)


def _tiles(tiles: Tiles) -> str:
    items = "".join(
        f'<div class="tile"><dt>{_escape(label)}</dt><dd>{_escape(value)}</dd></div>' for label, value in tiles.figures
    )
    return f'<dl class="tiles">{items}</dl>'


def _callout(callout: Callout) -> str:
    points = "".join(f"<li>{_escape(point)}</li>" for point in callout.points)
    listed = f"<ul>{points}</ul>" if points else ""
    return f'<div class="callout"><p>{_escape(callout.headline)}</p>{listed}</div>'


def _table_section(frame: pl.DataFrame, currency: str) -> str:
    if frame.height == 0:
        return '<p class="note">No rows.</p>'
    numeric = [dtype.is_numeric() for dtype in frame.dtypes]
    head = "".join(f"<th>{_escape(label(column))}</th>" for column in frame.columns)
    rows = []
    for row in frame.head(MAX_TABLE_ROWS).iter_rows():
        cells = (
            f'<td class="num">{_escape(cell(value, column, currency))}</td>'
            if is_number
            else f"<td>{_escape(cell(value, column, currency))}</td>"
            for value, column, is_number in zip(row, frame.columns, numeric, strict=True)
        )
        rows.append(f"<tr>{''.join(cells)}</tr>")
    note = (
        f'\n<p class="note">First {MAX_TABLE_ROWS} of {frame.height} rows.</p>' if frame.height > MAX_TABLE_ROWS else ""
    )
    lines = ['<div class="scroll"><table>', f"<thead><tr>{head}</tr></thead>", "<tbody>", *rows, "</tbody>"]
    return "\n".join([*lines, "</table></div>"]) + note
