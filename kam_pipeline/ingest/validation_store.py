"""Validation outcomes kept per input, so that an unchanged extract is validated once.

A nightly run often sees the same extract files again: the source system did
not deliver, or the job is run again. Validating them again would give the
same quarantine and the same Great Expectations results, so both are stored
under a fingerprint of everything they depend on:

- the parsed files (their parse-cache keys: name, size, modification time,
  contract types);
- the rule context: the reporting currency and the accepted keys of every
  extract the rules refer to;
- the as-of date as far as a rule can see it: a rule that compares a column
  with the as-of date (`Rule.as_of_columns`) enters as min(as-of date, newest
  value of the column), so the next night's run over the same files gives the
  same fingerprint unless a row lies between the two dates;
- the validation settings and the pipeline's source code (a changed rule, or
  any other code change, validates again).

The staging table and its published copy carry the same fingerprint as their
version (`meta.table_versions`), so they are rewritten only when it changes.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from dataclasses import asdict, dataclass
from datetime import date
from functools import cache
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import polars as pl

from kam_pipeline.ingest.contract import Extract
from kam_pipeline.ingest.contract.rules import RuleContext
from kam_pipeline.ingest.expectations import ExpectationOutcome
from kam_pipeline.ingest.parse_cache import scan_rows

FOLDER = "validated"


@dataclass(frozen=True)
class StoredValidation:
    """The outcome of validating one set of inputs, as the run that did it left it."""

    fingerprint: str
    rejected: pl.DataFrame  # the quarantine, raw records attached
    outcomes: list[ExpectationOutcome]
    data_docs: str  # URL of the Data Docs of the run that validated
    run_id: str


def source_files() -> dict[str, Path]:
    """Every Python file that can change a validation outcome, by its path
    from the package folders' parent: the domain package and the Dagster
    layer that calls it (found without importing it)."""
    roots = [Path(__file__).resolve().parents[1]]
    layer = importlib.util.find_spec("assets")
    if layer is not None and layer.origin is not None:
        roots.append(Path(layer.origin).resolve().parent)
    return {path.relative_to(root.parent).as_posix(): path for root in roots for path in sorted(root.rglob("*.py"))}


@cache
def code_digest() -> str:
    """Digest of the pipeline's Python source: any code change invalidates
    every stored validation (simpler and safer than tracking which module a
    rule depends on)."""
    digest = hashlib.sha256()
    for name, path in sorted(source_files().items()):
        digest.update(name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _frame_digest(frame: pl.DataFrame) -> str:
    flat = frame.unnest(*[name for name, dtype in frame.schema.items() if isinstance(dtype, pl.Struct)])
    ordered = flat.sort(flat.columns) if flat.columns else flat
    return hashlib.sha256(ordered.write_csv().encode()).hexdigest()


def as_of_seen(extract: Extract, parsed: list[Path], as_of: date) -> dict[str, str]:
    """Per as-of-dependent column: the as-of date, or the newest value when
    that is earlier (then no row is after either date, and the outcome is the
    same for every as-of date from the newest value on)."""
    columns = sorted({c for rule in extract.all_rules() for c in rule.as_of_columns()})
    if not columns or not parsed:
        return {}
    newest = scan_rows(extract, parsed).select(pl.col(columns).max()).collect().row(0)
    return {c: str(as_of if n is None or as_of < n else n) for c, n in zip(columns, newest, strict=True)}


def context_digest(ctx: RuleContext, settings: str) -> str:
    """Everything besides the rows that a rule outcome depends on: the rule
    context (reporting currency, accepted keys of the referenced extracts),
    the serialised validation `settings` and the code; the as-of date enters
    per file (`as_of_seen`)."""
    parts = {
        "reporting_currency": ctx.reporting_currency,
        "keys": {name: _frame_digest(frame) for name, frame in sorted(ctx.keys.items())},
        "settings": settings,
        "code": code_digest(),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


def fingerprint(extract: Extract, parsed: list[Path], as_of: date, context: str) -> str:
    """Everything the quarantine and the suite results of `extract` depend on
    (module docstring). `parsed` are the parse-cache files, whose names are
    their keys; `context` is the run's `context_digest`."""
    parts = {
        "extract": extract.name,
        "parsed": [p.name for p in parsed],
        "context": context,
        "as_of": as_of_seen(extract, parsed, as_of),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


def _rendered(data_docs: str) -> bool:
    """Whether the Data Docs a stored validation links to exist (or it has
    none). They are rendered after every staging asset (reports/data_docs):
    a run that stopped before that left a validation that no page shows, so
    it is validated again rather than reused with a dead link."""
    return not data_docs or Path(url2pathname(urlparse(data_docs).path)).exists()


def load(cache_dir: Path, fingerprint: str) -> StoredValidation | None:
    """The stored validation of these inputs, if a run completed one and its Data Docs."""
    rejected_path = cache_dir / FOLDER / f"{fingerprint}.parquet"
    outcome_path = cache_dir / FOLDER / f"{fingerprint}.json"
    if not (rejected_path.exists() and outcome_path.exists()):
        return None
    stored = json.loads(outcome_path.read_text(encoding="utf-8"))
    if not _rendered(stored["data_docs"]):
        return None
    return StoredValidation(
        fingerprint=fingerprint,
        rejected=pl.read_parquet(rejected_path),
        outcomes=[ExpectationOutcome(**o) for o in stored["outcomes"]],
        data_docs=stored["data_docs"],
        run_id=stored["run_id"],
    )


def save(cache_dir: Path, stored: StoredValidation) -> None:
    """Keep this validation and drop older ones of the extract. The outcome
    file is written last (and atomically), so a half-written entry is never
    loaded."""
    folder = cache_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        if old.stem != stored.fingerprint:
            old.unlink(missing_ok=True)
    stored.rejected.write_parquet(folder / f"{stored.fingerprint}.parquet")
    outcome = {
        "outcomes": [asdict(o) for o in stored.outcomes],
        "data_docs": stored.data_docs,
        "run_id": stored.run_id,
    }
    partial = folder / f"{stored.fingerprint}.json.partial"
    partial.write_text(json.dumps(outcome, default=str), encoding="utf-8")
    partial.replace(folder / f"{stored.fingerprint}.json")
