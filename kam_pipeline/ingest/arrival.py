"""When a delivery of extracts is complete: the landing sensor's decision.

The landing sensor (assets/staging.py) asks `evaluate_landing` at every
evaluation whether to start `kam_nightly`. How an evaluation decides:

1. The set is every file the contract's patterns match in the landing
   directory, except names starting with `.` or `_` (hidden files, the
   `_SUCCESS` marker): exactly the files a run reads (kam_pipeline.ingest.landing).
2. Complete: every extract has at least one file (optional extracts may be missing).
3. Not in transfer: no file with a temporary suffix (`.tmp`, `.part`, ...)
   matches a pattern. Copy tools write those and rename them when done; the
   run would reject them as an unsupported file type anyway.
4. Changed: the set's fingerprint (sorted relative path, size and mtime_ns of
   every file) differs from the fingerprint of the last requested run.
5. Settled: the same fingerprint was already seen at the previous evaluation,
   and then
   - with a `_SUCCESS` marker in the landing directory: the marker is not
     older than any extract file (the producer writes it after the last
     file, so a marker older than a file means a delivery is in progress);
   - without a marker: the fingerprint was first seen at least
     SETTLE_SECONDS ago (sizes and mtimes unchanged all that time).

The sensor compares its own clock only with itself (first seen vs now) and
file times only with each other (marker vs extracts), never file times with
the clock: a file server with a skewed clock cannot make a half-copied file
look old.

The cursor is JSON: the fingerprint of the last requested run and the
fingerprint being settled with the time it was first seen. The run key is
the fingerprint, so Dagster drops a duplicate request even if a cursor is
lost. `evaluate_landing` is the whole decision as a function of the
directory, the cursor and the time, for tests.
"""

from __future__ import annotations

import hashlib
import json
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from kam_pipeline.ingest.contract import EXTRACTS
from kam_pipeline.settings import SensorSettings

#: Defaults of evaluate_landing; the sensor passes the settings' `[sensors]` values.
SETTLE_SECONDS = SensorSettings().settle_seconds

MARKER = "_SUCCESS"
#: Suffixes of files still being written by browsers and copy tools (WinSCP: .filepart).
TEMPORARY_SUFFIXES = (".tmp", ".part", ".partial", ".filepart", ".crdownload")


@dataclass(frozen=True)
class LandingFile:
    path: str  # relative to the landing directory, with forward slashes
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class LandingScan:
    """What the landing directory holds right now."""

    files: tuple[LandingFile, ...]  # sorted by path
    missing: tuple[str, ...]  # patterns without a file
    in_transfer: tuple[str, ...]  # temporary files matching a pattern
    marker_mtime_ns: int | None  # None: no _SUCCESS marker

    @property
    def fingerprint(self) -> str:
        """16 hex digits of the SHA-256 of the sorted (path, size, mtime_ns) list."""
        listing = json.dumps([[f.path, f.size, f.mtime_ns] for f in self.files], separators=(",", ":"))
        return hashlib.sha256(listing.encode()).hexdigest()[:16]

    @property
    def newest(self) -> LandingFile:
        return max(self.files, key=lambda f: f.mtime_ns)

    def describe(self) -> str:
        return f"{len(self.files)} files, {sum(f.size for f in self.files):,} bytes"


def _is_temporary(name: str) -> bool:
    return name.lower().endswith(TEMPORARY_SUFFIXES)


def scan_landing(landing_dir: Path) -> LandingScan:
    """The contract files of the landing directory with their sizes and mtimes."""
    files: dict[str, LandingFile] = {}
    missing: list[str] = []
    in_transfer: list[str] = []
    for extract in EXTRACTS:
        found = False
        for path in landing_dir.glob(extract.pattern):
            if path.name.startswith((".", "_")):
                continue
            try:
                info = path.stat()
            except FileNotFoundError:  # renamed or removed while scanning: the next evaluation sees it
                continue
            if not stat.S_ISREG(info.st_mode):
                continue
            rel = path.relative_to(landing_dir).as_posix()
            if _is_temporary(path.name):
                in_transfer.append(rel)
                continue
            files[rel] = LandingFile(rel, info.st_size, info.st_mtime_ns)
            found = True
        if not found and not extract.optional:
            missing.append(extract.pattern)
    try:
        marker_mtime_ns: int | None = (landing_dir / MARKER).stat().st_mtime_ns
    except FileNotFoundError:
        marker_mtime_ns = None
    return LandingScan(
        files=tuple(files[p] for p in sorted(files)),
        missing=tuple(missing),
        in_transfer=tuple(sorted(in_transfer)),
        marker_mtime_ns=marker_mtime_ns,
    )


@dataclass(frozen=True)
class LandingCursor:
    """The sensor's memory between evaluations, stored as JSON."""

    requested: str | None = None  # fingerprint of the last requested run
    pending: str | None = None  # fingerprint being settled
    pending_since: float | None = None  # when `pending` was first seen (sensor clock, epoch seconds)

    @classmethod
    def from_json(cls, text: str | None) -> LandingCursor:
        """An empty, unreadable or foreign cursor starts afresh (the run key still dedupes)."""
        try:
            data = json.loads(text or "{}")
            return cls(
                requested=data.get("requested"),
                pending=data.get("pending"),
                pending_since=None if data.get("pending_since") is None else float(data["pending_since"]),
            )
        except (ValueError, TypeError, AttributeError):
            return cls()

    def to_json(self) -> str:
        return json.dumps(
            {"requested": self.requested, "pending": self.pending, "pending_since": self.pending_since},
            sort_keys=True,
        )


class LandingEvaluation(NamedTuple):
    """Either `run_key` (start a run on the set with this fingerprint) or `skip_reason`."""

    run_key: str | None
    cursor: str
    skip_reason: str | None


def evaluate_landing(
    landing_dir: Path,
    cursor_json: str | None,
    now: float,
    *,
    settle_seconds: float = SETTLE_SECONDS,
) -> LandingEvaluation:
    """One sensor evaluation: a run request or a skip reason, and the new cursor.

    `now` is the sensor's clock (epoch seconds); tests pass it explicitly.
    """
    cursor = LandingCursor.from_json(cursor_json)
    idle = LandingCursor(requested=cursor.requested)

    def skip(reason: str, new: LandingCursor = idle) -> LandingEvaluation:
        return LandingEvaluation(None, new.to_json(), reason)

    if not landing_dir.is_dir():
        return skip(f"landing directory {landing_dir} not found")
    scan = scan_landing(landing_dir)
    if scan.missing:
        return skip(f"incomplete set in {landing_dir}: no file for {', '.join(scan.missing)}")
    if scan.in_transfer:
        return skip(f"transfer in progress: {', '.join(scan.in_transfer)}")
    fingerprint = scan.fingerprint
    if fingerprint == cursor.requested:
        return skip(f"no change since the run requested for set {fingerprint} ({scan.describe()})")

    if fingerprint != cursor.pending or cursor.pending_since is None or now < cursor.pending_since:
        return skip(
            f"new or changed set {fingerprint} ({scan.describe()}); checking that it is unchanged "
            "at the next evaluation",
            LandingCursor(requested=cursor.requested, pending=fingerprint, pending_since=now),
        )
    if scan.marker_mtime_ns is not None:
        newest = scan.newest
        if scan.marker_mtime_ns < newest.mtime_ns:
            return skip(
                f"set {fingerprint}: waiting for a new {MARKER}, the marker is older than {newest.path} "
                f"(write it after the last extract, or remove it to start runs {settle_seconds:.0f} s "
                "after the files stop changing)",
                cursor,
            )
    else:
        settled = now - cursor.pending_since
        if settled < settle_seconds:
            return skip(
                f"set {fingerprint} unchanged for {settled:.0f} s; no {MARKER} marker, "
                f"so waiting until it is unchanged for {settle_seconds:.0f} s",
                cursor,
            )
    return LandingEvaluation(fingerprint, LandingCursor(requested=fingerprint).to_json(), None)
