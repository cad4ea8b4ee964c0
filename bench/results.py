"""Result files under bench/results/: what a benchmark run measured, where, on what.

One JSON file per benchmark run, named by its UTC start time; the files are
history, kept in git. A step's baseline is the latest earlier result with the
same parameters (bench/landing.py, Params) whose first run succeeded.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

RESULTS = Path(__file__).resolve().parent / "results"
REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("polars", "duckdb", "dagster", "great-expectations", "pyarrow", "pandas")


def machine() -> dict[str, Any]:
    return {
        "cpu_count": psutil.cpu_count(logical=True),
        "cpu_count_physical": psutil.cpu_count(logical=False),
        "memory_bytes": psutil.virtual_memory().total,
        "platform": platform.platform(),
        "load_average_at_start": list(os.getloadavg()),
    }


def versions() -> dict[str, str]:
    found = {"python": sys.version.split()[0]}
    for package in PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def git_state() -> dict[str, Any]:
    """The commit measured and the files that differed from it (read-only git calls)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
        return done.stdout

    return {
        "commit": git("rev-parse", "HEAD").strip() or None,
        "changed_files": [line[3:] for line in git("status", "--porcelain").splitlines() if line.strip()],
    }


def write(path: Path, result: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=1, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def previous_step(params: dict[str, Any], before: Path) -> tuple[str, dict[str, Any]] | None:
    """The latest step with these parameters in a result file older than `before` (same folder)."""
    for path in sorted(before.parent.glob("*.json"), reverse=True):
        if path.name >= before.name:
            continue
        try:
            result = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        for step in reversed(result.get("steps", [])):
            if step.get("params") == params and (step.get("first_run") or {}).get("success"):
                return path.name, step
    return None
