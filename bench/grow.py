"""Grow the newest month's invoice-line file, as a real ERP extract does overnight.

    python -m bench.grow LANDING [--fraction 0.01]

Appends `fraction` of the file's lines to the newest file of
`erp/invoice_lines/`: copies of its last lines under new invoice numbers
(`<invoice_id>-G<n>`, so every key stays unique), same dates, customers and
amounts. The file is rewritten next to itself and renamed over it, as an
export tool would. Used by bench/run.py for the night where one file grew.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import polars as pl


def newest_invoice_file(landing: Path) -> Path:
    files = sorted((landing / "erp" / "invoice_lines").glob("*.*"))
    if not files:
        raise FileNotFoundError(f"no invoice-line files under {landing}/erp/invoice_lines")
    return files[-1]


def grow(landing: Path, fraction: float) -> tuple[Path, int]:
    """Append about `fraction` of the newest file's lines to it; returns the file and the lines added."""
    path = newest_invoice_file(landing)
    is_parquet = path.suffix == ".parquet"
    frame = pl.read_parquet(path) if is_parquet else pl.read_csv(path, infer_schema=False)
    added = max(1, round(len(frame) * fraction))
    suffix = f"-G{len(frame)}"  # unique per growth step: the file's length before it
    extra = frame.tail(added).with_columns(pl.col("invoice_id") + suffix)
    grown = pl.concat([frame, extra])
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    if is_parquet:
        grown.write_parquet(partial)
    else:
        grown.write_csv(partial)
    partial.replace(path)
    return path, added


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("landing", type=Path)
    parser.add_argument("--fraction", type=float, default=0.01, help="lines added, as a fraction of the file's")
    args = parser.parse_args(argv)
    path, added = grow(args.landing, args.fraction)
    print(f"{path}: {added:,} lines added")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
