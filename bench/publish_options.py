"""Measure two ways of publishing a DuckDB warehouse while BI readers are connected.

    .venv/bin/python bench/publish_options.py [--rows 200000] [--tables 6] [--publishes 5]

(a) swap:     build the complete new file next to the published one (one
              transaction, CHECKPOINT, close, fsync), `os.replace` it onto the
              published path, fsync the directory (kam_pipeline/warehouse/publish.py).
(b) in place: open the published file read-write and replace every table in
              one transaction (retrying the connection while readers hold it).

Each option runs with a reader in a separate process, either reconnecting
every 50 ms (connect read-only, read every table, close) or holding one
read-only connection for the whole time. A synthetic warehouse stands in for
the real one: publish number v writes `version = v` into every table and
`rows + v` rows per table, so a reader can tell a mixed state (tables from two
publishes) from a whole one. Then the limits of (a): what a held connection
sees, what the same process sees when it reopens the path, a WAL left next to
the published file, and kill -9 at random points of either option.

Prints figures only; docs/publishing.md records them. Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from kam_pipeline.warehouse.publish import fsync

READER_INTERVAL = 0.05


@dataclass
class Shape:
    tables: int
    rows: int

    def names(self) -> list[str]:
        return [f"t{i}" for i in range(self.tables)]


# --------------------------------------------------------------------------- reader


def observe(con: duckdb.DuckDBPyConnection, shape: Shape) -> tuple[int, bool]:
    """(version, whole): the version of the first table, and whether every
    table carries that one version with the row count that version wrote."""
    versions = set()
    whole = True
    for name in shape.names():
        low, high, count = con.execute(f"SELECT min(version), max(version), count(*) FROM {name}").fetchone()
        versions.add(low)
        whole = whole and low == high and count == shape.rows + low
    return min(versions), whole and len(versions) == 1


def reader(path: Path, shape: Shape, mode: str, stop: Path, out: Path) -> None:
    """Read until `stop` exists; write a JSON summary to `out`."""
    errors: dict[str, int] = {}
    versions: list[int] = []
    mixed = 0

    def record_error(exc: Exception) -> None:
        kind = str(exc).splitlines()[0][:90]
        errors[kind] = errors.get(kind, 0) + 1

    held = duckdb.connect(str(path), read_only=True) if mode == "hold" else None
    while not stop.exists():
        try:
            if held is not None:
                version, whole = observe(held, shape)
            else:
                with duckdb.connect(str(path), read_only=True) as con:
                    version, whole = observe(con, shape)
            versions.append(version)
            mixed += not whole
        except duckdb.Error as exc:
            record_error(exc)
        time.sleep(READER_INTERVAL)
    after_reconnect = None
    if held is not None:
        held.close()
        with duckdb.connect(str(path), read_only=True) as con:
            after_reconnect = observe(con, shape)[0]
    summary = {
        "observations": len(versions),
        "versions": sorted(set(versions)),
        "mixed": mixed,
        "errors": errors,
        "after_reconnect": after_reconnect,
    }
    out.write_text(json.dumps(summary), encoding="utf-8")


# --------------------------------------------------------------------------- writers


def fill(con: duckdb.DuckDBPyConnection, shape: Shape, version: int, replace: bool) -> None:
    create = "CREATE OR REPLACE TABLE" if replace else "CREATE TABLE"
    for name in shape.names():
        con.execute(
            f"{create} {name} AS SELECT {version}::INTEGER AS version, i, random() AS amount, "
            f"'account ' || i AS label FROM range({shape.rows + version}) AS r(i)"
        )


@dataclass
class Publish:
    ok: bool
    seconds: float  # whole publish
    exclusive: float  # (a) os.replace + directory fsync; (b) the transaction, readers locked out
    waited: float = 0.0  # (b) time spent retrying the connection
    lock_errors: int = 0


def publish_swap(path: Path, shape: Shape, version: int) -> Publish:
    start = time.perf_counter()
    building = path.with_name(f".{path.name}.v{version}.building")
    with duckdb.connect(str(building)) as con:
        con.execute("BEGIN TRANSACTION")
        fill(con, shape, version, replace=False)
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
    fsync(building)
    swap = time.perf_counter()
    os.replace(building, path)
    fsync(path.parent)
    end = time.perf_counter()
    return Publish(True, end - start, end - swap)


def publish_in_place(path: Path, shape: Shape, version: int, timeout: float) -> Publish:
    start = time.perf_counter()
    lock_errors = 0
    while True:
        try:
            con = duckdb.connect(str(path))
            break
        except duckdb.IOException:
            lock_errors += 1
            if time.perf_counter() - start > timeout:
                waited = time.perf_counter() - start
                return Publish(False, waited, 0.0, waited, lock_errors)
            time.sleep(0.05)
    connected = time.perf_counter()
    try:
        con.execute("BEGIN TRANSACTION")
        fill(con, shape, version, replace=True)
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    end = time.perf_counter()
    return Publish(True, end - start, end - connected, connected - start, lock_errors)


# --------------------------------------------------------------------------- scenarios


@dataclass
class Outcome:
    option: str
    mode: str
    publishes: list[Publish] = field(default_factory=list)
    reader: dict = field(default_factory=dict)


def start_reader(path: Path, shape: Shape, mode: str, workdir: Path) -> tuple[subprocess.Popen, Path, Path]:
    stop, out = workdir / f"stop-{mode}", workdir / f"reader-{mode}.json"
    stop.unlink(missing_ok=True)
    args = [sys.executable, __file__, "reader", str(path), mode, str(stop), str(out)]
    args += ["--rows", str(shape.rows), "--tables", str(shape.tables)]
    proc = subprocess.Popen(args)
    time.sleep(1.0)  # imports and first observation
    return proc, stop, out


def scenario(option: str, mode: str, shape: Shape, publishes: int, workdir: Path, timeout: float) -> Outcome:
    path = workdir / f"{option}-{mode}.duckdb"
    path.unlink(missing_ok=True)
    publish_swap(path, shape, 0)
    proc, stop, out = start_reader(path, shape, mode, workdir)
    outcome = Outcome(option, mode)
    for version in range(1, publishes + 1):
        if option == "swap":
            outcome.publishes.append(publish_swap(path, shape, version))
        else:
            outcome.publishes.append(publish_in_place(path, shape, version, timeout))
        time.sleep(0.3)
    stop.touch()
    proc.wait(timeout=30)
    outcome.reader = json.loads(out.read_text(encoding="utf-8"))
    return outcome


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def report(outcome: Outcome) -> None:
    done = [p for p in outcome.publishes if p.ok]
    r = outcome.reader
    print(f"\n({'a' if outcome.option == 'swap' else 'b'}) {outcome.option}, reader {outcome.mode}")
    print(f"  publishes ok:        {len(done)} of {len(outcome.publishes)}")
    if done:
        print(f"  publish time:        median {ms(statistics.median(p.seconds for p in done))}")
        label = "swap, replace+fsync:" if outcome.option == "swap" else "readers locked out:"
        exclusive = [p.exclusive for p in done]
        print(f"  {label:<21}median {ms(statistics.median(exclusive))}, max {ms(max(exclusive))}")
    print(f"  writer lock errors:  {sum(p.lock_errors for p in outcome.publishes)}")
    print(f"  writer waited:       max {max(p.waited for p in outcome.publishes):.2f} s")
    print(f"  reader observations: {r['observations']}, versions seen {r['versions']}, mixed {r['mixed']}")
    errors = sum(r["errors"].values())
    print(f"  reader errors:       {errors}" + "".join(f"\n    {n} x {kind}" for kind, n in r["errors"].items()))
    if r["after_reconnect"] is not None:
        print(f"  held reader after reconnecting sees version {r['after_reconnect']}")


# --------------------------------------------------------------------------- limits of the swap


def same_process_reopen(workdir: Path, shape: Shape) -> None:
    """DuckDB caches one database instance per path and process."""
    path = workdir / "reopen.duckdb"
    path.unlink(missing_ok=True)
    publish_swap(path, shape, 0)
    first = duckdb.connect(str(path), read_only=True)
    publish_swap(path, shape, 1)
    second = duckdb.connect(str(path), read_only=True)
    seen_while_open = observe(second, shape)[0]
    second.close()
    first.close()
    with duckdb.connect(str(path), read_only=True) as third:
        seen_after_close = observe(third, shape)[0]
    print("\nsame process reopens the path after a swap (published version 1):")
    print(f"  while an older connection is open: sees version {seen_while_open}")
    print(f"  after every connection is closed:  sees version {seen_after_close}")


def stale_wal(workdir: Path, shape: Shape) -> None:
    """Someone wrote to the published file read-write and still holds it (or was killed)."""
    path = workdir / "wal.duckdb"
    path.unlink(missing_ok=True)
    publish_swap(path, shape, 0)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys\n"
            f"con = duckdb.connect({str(path)!r})\n"
            "con.execute('CREATE TABLE notes AS SELECT 1 AS n')\n"
            "print('ready', flush=True)\n"
            "sys.stdin.readline()\n"
            "con.close()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    holder.stdout.readline()
    wal = path.with_name(path.name + ".wal")
    wal_before = wal.exists()
    publish_swap(path, shape, 1)

    def read() -> str:
        try:
            with duckdb.connect(str(path), read_only=True) as con:
                return f"version {observe(con, shape)[0]}"
        except duckdb.Error as exc:
            return f"error: {str(exc).splitlines()[0][:110]}"

    during = read()
    holder.stdin.write("\n")
    holder.stdin.flush()
    holder.wait(timeout=30)
    after = read()
    print("\nread-write holder with uncommitted WAL when the swap happens:")
    print(f"  {path.name}.wal present at swap: {wal_before}; publish succeeded: True")
    print(f"  new reader while holder open:  {during}")
    print(f"  new reader after holder closed: {after}")


KILL_CHILD = """
import sys
sys.path.insert(0, {bench_dir!r})
from pathlib import Path
from publish_options import Shape, publish_in_place, publish_swap
shape = Shape({tables}, {rows})
path = Path({path!r})
print("go", flush=True)
for version in range(1, 1000):
    if {option!r} == "swap":
        publish_swap(path, shape, version)
    else:
        publish_in_place(path, shape, version, 5.0)
"""


def kill_trials(option: str, shape: Shape, workdir: Path, trials: int) -> None:
    """kill -9 at a random moment while the writer publishes in a loop."""
    path = workdir / f"kill-{option}.duckdb"
    results = {"whole": 0, "mixed": 0, "unreadable": 0}
    leftovers = 0
    versions: list[int] = []
    rng = random.Random(7)
    for _ in range(trials):
        for old in workdir.glob(f"*kill-{option}.duckdb*"):
            old.unlink()
        publish_swap(path, shape, 0)
        code = KILL_CHILD.format(
            bench_dir=str(Path(__file__).parent), tables=shape.tables, rows=shape.rows, path=str(path), option=option
        )
        child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        child.stdout.readline()
        time.sleep(rng.uniform(0.05, 1.5))
        child.send_signal(signal.SIGKILL)
        child.wait()
        leftovers += any(workdir.glob(f".kill-{option}.duckdb.*building*"))
        try:
            with duckdb.connect(str(path), read_only=True) as con:
                version, whole = observe(con, shape)
            results["whole" if whole else "mixed"] += 1
            versions.append(version)
        except duckdb.Error:
            results["unreadable"] += 1
    print(f"\nkill -9 at a random moment, option {option}, {trials} trials:")
    print(f"  readable and whole: {results['whole']}, mixed: {results['mixed']}, unreadable: {results['unreadable']}")
    print(f"  versions found: {sorted(set(versions))}; temporary .building files left: {leftovers} trials")


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("role", nargs="?", default="bench", choices=["bench", "reader"])
    parser.add_argument("args", nargs="*", help="reader only: path mode stop out")
    parser.add_argument("--rows", type=int, default=200_000, help="rows per table")
    parser.add_argument("--tables", type=int, default=6)
    parser.add_argument("--publishes", type=int, default=5, help="publishes per scenario")
    parser.add_argument("--writer-timeout", type=float, default=3.0, help="(b): give up connecting after this")
    parser.add_argument("--kills", type=int, default=8, help="kill -9 trials per option")
    options = parser.parse_args()
    shape = Shape(options.tables, options.rows)
    if options.role == "reader":
        path, mode, stop, out = options.args
        reader(Path(path), shape, mode, Path(stop), Path(out))
        return
    print(f"duckdb {duckdb.__version__}, {shape.tables} tables x {shape.rows} rows, {options.publishes} publishes")
    print(f"reader: separate process, read-only, every {READER_INTERVAL * 1000:.0f} ms")
    with tempfile.TemporaryDirectory(prefix="publish_options_") as tmp:
        workdir = Path(tmp)
        for option in ("swap", "in-place"):
            for mode in ("reconnect", "hold"):
                outcome = scenario(option, mode, shape, options.publishes, workdir, options.writer_timeout)
                report(outcome)
        same_process_reopen(workdir, shape)
        stale_wal(workdir, shape)
        for option in ("swap", "in-place"):
            kill_trials(option, shape, workdir, options.kills)


if __name__ == "__main__":
    main()
