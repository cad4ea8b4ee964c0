"""Publishing is atomic, reader-safe, crash-safe and idempotent, shown with real processes.

The pipeline runs as `kam-pipeline run` subprocesses on the TINY landing
directory; readers are separate Python processes that open the published file
read-only, as BI tools should (docs/publishing.md). The tests look only at the
published file: its tables, row counts, run ids and as-of dates.
"""

from __future__ import annotations

import inspect
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from .conftest import AS_OF, TINY, readme_bi_queries, write_landing

REPO = Path(__file__).resolve().parent.parent
KAM_PIPELINE = Path(sys.executable).with_name("kam-pipeline")
RUN_TIMEOUT = 240  # seconds; a TINY run takes about 10 s, more on a busy machine
NEXT_DAYS = ("2026-11-29", "2026-11-30")
#: Tables that keep an entry for every run (the others hold the newest run's
#: rows, per as-of date for snapshots).
RUN_LOGS = ("meta.runs", "quality.reconciliation")
#: Columns naming the run that wrote a row: a rerun of a day changes only them.
RUN_ID_COLUMNS = ("run_id", "written_by_run")

# --------------------------------------------------------------------------- what a reader sees


def snapshot(con):  # runs in the reader processes too: standard library and duckdb only
    """Every table and view of the published file: its rows, and where a table
    has the columns, rows per run id (with the newest row's run id) and per as-of date."""
    state = {}
    tables = con.execute(
        "SELECT t.schema_name || '.' || t.table_name, list(c.column_name) "
        "FROM duckdb_tables() t JOIN duckdb_columns() c USING (table_oid) "
        "WHERE t.database_name = current_database() AND NOT t.internal GROUP BY ALL ORDER BY 1"
    ).fetchall()
    for table, columns in tables:
        seen = {"rows": con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]}
        if "run_id" in columns:
            seen["runs"] = dict(con.execute(f"SELECT run_id, count(*) FROM {table} GROUP BY ALL").fetchall())
            newest = con.execute(f"SELECT run_id FROM {table} ORDER BY rowid DESC LIMIT 1").fetchone()
            seen["newest_run_id"] = newest[0] if newest else None
        if "as_of_date" in columns:
            by_date = con.execute(f"SELECT as_of_date::VARCHAR, count(*) FROM {table} GROUP BY ALL").fetchall()
            seen["as_of"] = dict(by_date)
        state[table] = seen
    views = con.execute(
        "SELECT schema_name || '.' || view_name FROM duckdb_views() "
        "WHERE database_name = current_database() AND NOT internal ORDER BY 1"
    ).fetchall()
    for (view,) in views:  # what dashboards query
        state[view] = {"rows": con.execute(f"SELECT count(*) FROM {view}").fetchone()[0], "view": True}
    return state


READER = (
    "import json, os, sys, time\nimport duckdb\n\n"
    + inspect.getsource(snapshot)
    + """
path, mode, stop, out = sys.argv[1:]
held = None
with open(out, "a", encoding="utf-8") as log:
    while True:
        stopping = os.path.exists(stop)
        try:
            if mode == "bi":  # a BI tool: SQLAlchemy and duckdb-engine, read-only, a new connection per refresh
                from sqlalchemy import create_engine, text
                from sqlalchemy.pool import NullPool

                engine = create_engine(f"duckdb:///{path}", connect_args={"read_only": True}, poolclass=NullPool)
                with engine.connect() as con:
                    rows = [len(con.execute(text(q)).fetchall()) for q in json.loads(os.environ["BI_QUERIES"])]
                engine.dispose()
                log.write(json.dumps({"rows": rows}) + "\\n")
            elif mode == "hold":  # one connection for the whole test, as a dashboard might keep it
                held = held or duckdb.connect(path, read_only=True)
                log.write(json.dumps({"state": snapshot(held)}) + "\\n")
            else:  # a fresh connection for every look, as a BI refresh does
                with duckdb.connect(path, read_only=True) as con:
                    log.write(json.dumps({"state": snapshot(con)}) + "\\n")
        except Exception as exc:
            log.write(json.dumps({"error": repr(exc)}) + "\\n")
        log.flush()
        if stopping:
            break
        time.sleep(0.05)
"""
)


def read_state(path: Path) -> dict:
    with duckdb.connect(str(path), read_only=True) as con:
        return json.loads(json.dumps(snapshot(con)))  # the same JSON shapes the readers report


def published_run(state: dict) -> str:
    """The run that published this state: the newest row of `meta.runs` (the
    publish appends its own row last), or of `quality.reconciliation` in a
    warehouse published before `meta.runs` existed."""
    log = state.get("meta.runs") or state["quality.reconciliation"]
    assert log["newest_run_id"], "the run log is empty"
    return log["newest_run_id"]


def assert_one_run(state: dict) -> None:
    """Every table comes from the run that published the file: the newest rows
    of every table with a run id are that run's, and every table's latest
    as-of date is the same (the tests publish increasing as-of dates)."""
    run = published_run(state)
    for table, seen in state.items():
        if seen.get("runs"):
            assert seen["newest_run_id"] == run, f"{table} is from run {seen['newest_run_id']}, the file from {run}"
    latest = {table: max(seen["as_of"]) for table, seen in state.items() if seen.get("as_of")}
    assert len(set(latest.values())) == 1, f"tables from different as-of dates: {latest}"


def snapshot_rows(path: Path, as_of: str, run_logs: bool = False) -> dict[str, list[tuple]]:
    """The rows of `as_of` in every table that has an as-of date: all columns
    but the writing run's id (RUN_ID_COLUMNS), or with `run_logs` all columns
    of every table including the logs."""
    rows = {}
    with duckdb.connect(str(path), read_only=True) as con:
        for table in (t for t, seen in snapshot(con).items() if "as_of" in seen):
            if table in RUN_LOGS and not run_logs:
                continue
            columns = [
                c for c, *_ in con.execute(f"DESCRIBE {table}").fetchall() if run_logs or c not in RUN_ID_COLUMNS
            ]
            select = ", ".join(f'"{c}"' for c in columns)
            rows[table] = con.execute(
                f"SELECT {select} FROM {table} WHERE as_of_date = ?::DATE ORDER BY ALL", [as_of]
            ).fetchall()
    return rows


# --------------------------------------------------------------------------- the pipeline as a process


@dataclass(frozen=True)
class Site:
    """One installation: landing directory, settings file, work folder, published file."""

    root: Path

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def published(self) -> Path:
        return self.root / "published" / "kam.duckdb"

    @property
    def config(self) -> Path:
        return self.root / "kam.toml"

    def write_config(self) -> None:
        """config/kam.toml with the work and Data Docs folders inside this site."""
        lines = (REPO / "config" / "kam.toml").read_text(encoding="utf-8").splitlines()
        moved = {"work_dir": self.root / "work", "data_docs_dir": self.root / "data_docs"}
        lines = [line for line in lines if line.split("=")[0].strip() not in moved]
        paths = lines.index("[paths]")
        lines[paths + 1 : paths + 1] = [f"{key} = {json.dumps(str(path))}" for key, path in moved.items()]
        self.config.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def env(self, as_of: str) -> dict[str, str]:
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("KAM_") and k != "DAGSTER_HOME"}
        return {
            **inherited,
            "KAM_CONFIG": str(self.config),
            "KAM_LANDING_DIR": str(self.landing),
            "KAM_WAREHOUSE_PATH": str(self.published),
            "KAM_AS_OF": as_of,
        }

    def start(self, as_of: str) -> subprocess.Popen:
        return subprocess.Popen(
            [str(KAM_PIPELINE), "run"],
            env=self.env(as_of),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def run(self, as_of: str) -> float:
        """Run the pipeline to the end; returns its duration. Fails the test on a non-zero exit."""
        start = time.monotonic()
        done = subprocess.run(
            [str(KAM_PIPELINE), "run"],
            env=self.env(as_of),
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
        )
        tail = "\n".join(done.stderr.splitlines()[-15:])
        assert done.returncode == 0, f"kam-pipeline run --as-of {as_of} exited {done.returncode}:\n{tail}"
        return time.monotonic() - start

    def copy(self, root: Path) -> Site:
        shutil.copytree(self.root, root)
        site = Site(root)
        site.write_config()
        return site

    def leftovers(self) -> list[str]:
        """Temporary build files and WAL files next to the published file."""
        names = (p.name for p in self.published.parent.iterdir())
        return sorted(name for name in names if ".building" in name or name.endswith(".wal"))


@pytest.fixture(scope="module")
def published_once(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """TINY landing, published once for AS_OF; tests work on copies."""
    site = Site(tmp_path_factory.mktemp("published_once") / "site")
    write_landing(site.landing, TINY)
    site.write_config()
    site.run(AS_OF)
    return site


@pytest.fixture
def site(published_once: Site, tmp_path: Path) -> Site:
    return published_once.copy(tmp_path / "site")


# --------------------------------------------------------------------------- readers during publishing


class Reader:
    """A separate Python process reading the published file read-only every ~50 ms."""

    def __init__(self, path: Path, mode: str, workdir: Path) -> None:
        self.stop = workdir / f"stop-{mode}"
        self.log = workdir / f"reader-{mode}.jsonl"
        env = {**os.environ, "BI_QUERIES": json.dumps(readme_bi_queries())}
        argv = [sys.executable, "-c", READER, str(path), mode, str(self.stop), str(self.log)]
        self.process = subprocess.Popen(argv, env=env)

    def lines(self) -> list[dict]:
        if not self.log.exists():
            return []
        text = self.log.read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines()[: text.count("\n")]]

    def wait_for_looks(self, more_than: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.lines()) <= more_than:
            assert self.process.poll() is None, "the reader process died"
            assert time.monotonic() < deadline, "the reader made no observation"
            time.sleep(0.05)

    def finish(self) -> list[dict]:
        self.stop.touch()
        try:
            self.process.wait(timeout=60)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        return self.lines()


@dataclass
class ReadersDuringPublishing:
    states: list[dict]  # the published states, in order: before, after the first run, after the second
    runs: list[float]  # duration of each pipeline run
    reconnecting: list[dict]
    holding: list[dict]
    bi_client: list[dict]


@pytest.fixture(scope="module")
def readers_during_publishing(
    published_once: Site, tmp_path_factory: pytest.TempPathFactory
) -> ReadersDuringPublishing:
    """Two readers run while the pipeline publishes twice: first a later as-of
    date, then a later one again with one more invoice line."""
    workdir = tmp_path_factory.mktemp("readers")
    site = published_once.copy(workdir / "site")
    states = [read_state(site.published)]
    readers = {mode: Reader(site.published, mode, workdir) for mode in ("reconnect", "hold", "bi")}
    runs = []
    try:
        for reader in readers.values():
            reader.wait_for_looks(more_than=0)
        runs.append(site.run(NEXT_DAYS[0]))
        states.append(read_state(site.published))
        extra = site.landing / "erp" / "invoice_lines" / "2026-11.csv"
        extra.write_text(extra.read_text(encoding="utf-8") + "I4,1,INVOICE,2026-11-20,C1,P2,3,300,120,EUR\n")
        runs.append(site.run(NEXT_DAYS[1]))
        states.append(read_state(site.published))
        readers["reconnect"].wait_for_looks(more_than=len(readers["reconnect"].lines()) + 1)
    finally:
        seen = {mode: reader.finish() for mode, reader in readers.items()}
    return ReadersDuringPublishing(states, runs, seen["reconnect"], seen["hold"], seen["bi"])


def test_published_states_differ_and_are_whole(readers_during_publishing: ReadersDuringPublishing) -> None:
    states = readers_during_publishing.states
    assert len({json.dumps(s, sort_keys=True) for s in states}) == 3
    for state in states:
        assert_one_run(state)
    assert states[2]["staging.invoice_lines"]["rows"] == states[1]["staging.invoice_lines"]["rows"] + 1


def test_reconnecting_reader_sees_only_whole_runs(readers_during_publishing: ReadersDuringPublishing) -> None:
    states = readers_during_publishing.states
    looks = readers_during_publishing.reconnecting
    errors = [look["error"] for look in looks if "error" in look]
    assert errors == []
    which = []
    for look in looks:
        assert_one_run(look["state"])
        assert look["state"] in states, "the reader saw a state that was never published"
        which.append(states.index(look["state"]))
    assert which == sorted(which), "the reader went back to an older state"
    assert set(which) == {0, 1, 2}, f"states observed: {sorted(set(which))} of 0, 1, 2 ({len(looks)} looks)"


def test_open_connection_keeps_old_state_and_never_blocks_the_run(
    readers_during_publishing: ReadersDuringPublishing,
) -> None:
    looks = readers_during_publishing.holding
    assert [look["error"] for look in looks if "error" in look] == []
    assert len(looks) > 20, "the holding reader should have kept reading during both runs"
    assert all(look["state"] == readers_during_publishing.states[0] for look in looks)
    assert len(readers_during_publishing.runs) == 2  # both runs exited 0 within RUN_TIMEOUT


def test_a_bi_client_runs_the_readme_queries_while_runs_publish(
    readers_during_publishing: ReadersDuringPublishing,
) -> None:
    """SQLAlchemy with duckdb-engine, read-only, reconnecting for every refresh
    as BI tools do: every README query answers with rows, before, during and
    after both publishes, and never fails."""
    looks = readers_during_publishing.bi_client
    assert [look["error"] for look in looks if "error" in look] == []
    assert len(looks) > 5, "the BI client should have kept querying during both runs"
    assert all(len(look["rows"]) == len(readme_bi_queries()) and min(look["rows"]) > 0 for look in looks)


# --------------------------------------------------------------------------- kill -9


def kill_run(site: Site, as_of: str, delay: float | None) -> int | None:
    """Start a run and SIGKILL it as soon as a `.building` file appears next to
    the published one (or after `delay` seconds). Returns the exit code if the
    run ended by itself before that, else None."""
    process = site.start(as_of)
    start = time.monotonic()
    try:
        while process.poll() is None:
            building = any(".building" in name for name in site.leftovers())
            if building or (delay is not None and time.monotonic() - start >= delay):
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=30)
                return None
            assert time.monotonic() - start < RUN_TIMEOUT, "the run did not finish"
            time.sleep(0.002)
        return process.returncode
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        process.stdout.close()


def test_kill_during_publish_keeps_previous_file_and_rerun_cleans_up(site: Site) -> None:
    """The build window of a TINY run is about 0.1-0.3 s, polled every 2 ms; should a
    busy machine still miss it, later attempts also kill at random times near the end."""
    rng = random.Random(6)
    delay = None
    for _attempt in range(5):
        before = read_state(site.published)
        start = time.monotonic()
        exit_code = kill_run(site, NEXT_DAYS[0], delay)
        after = read_state(site.published)
        assert_one_run(after)
        if any(".building" in name for name in site.leftovers()):  # killed while building
            assert after == before, "a run killed while building changed the published file"
            break
        if exit_code is not None:  # finished before the build was seen: it published
            assert exit_code == 0
            duration = time.monotonic() - start
            delay = rng.uniform(duration - 2.0, duration)
        else:  # a random kill before the build began, or after the swap
            assert after == before or published_run(after) != published_run(before)
    else:
        pytest.fail("no kill landed while the new file was being built")

    site.run(NEXT_DAYS[0])
    assert site.leftovers() == [], "the rerun should remove the killed run's temporary files"
    rerun = read_state(site.published)
    assert_one_run(rerun)
    assert published_run(rerun) != published_run(before)
    assert max(rerun["marts.customer_segments"]["as_of"]) == NEXT_DAYS[0]


# --------------------------------------------------------------------------- idempotent reruns


def test_rerun_of_a_day_replaces_that_day_only(site: Site) -> None:
    """AS_OF is published (the fixture); then the next day is published twice."""
    first_day = snapshot_rows(site.published, AS_OF, run_logs=True)
    site.run(NEXT_DAYS[0])
    once, once_rows = read_state(site.published), snapshot_rows(site.published, NEXT_DAYS[0])
    site.run(NEXT_DAYS[0])
    twice, twice_rows = read_state(site.published), snapshot_rows(site.published, NEXT_DAYS[0])

    assert published_run(twice) != published_run(once)
    assert twice.keys() == once.keys()
    for table, seen in once.items():
        again = twice[table]
        if seen.get("view"):  # derived from the tables checked here (and bi.run_log grows with meta.runs)
            continue
        if table in RUN_LOGS:  # an entry per run: the rerun logged as much as the first run
            assert again["runs"][published_run(twice)] == seen["runs"][published_run(once)], table
            continue
        assert again["rows"] == seen["rows"], table
        assert again.get("as_of") == seen.get("as_of"), f"{table}: one snapshot per as-of date"
        if seen.get("runs"):
            assert again["newest_run_id"] == published_run(twice), table
    assert twice_rows == once_rows, "a rerun of the same day should give the same rows"

    kept = snapshot_rows(site.published, AS_OF, run_logs=True)
    for table in (t for t in kept if t.startswith("history.")):
        assert kept[table], f"{table} lost the {AS_OF} snapshot"
    for table, rows in kept.items():  # current-state tables drop the day, snapshot tables keep it untouched
        assert rows in ([], first_day[table]), f"{table}: publishing {NEXT_DAYS[0]} changed the {AS_OF} rows"
    assert site.leftovers() == []


# --------------------------------------------------------------------------- a read-write client, SIGTERM

HOLD_READ_WRITE = """
import sys
import duckdb
con = duckdb.connect(sys.argv[1])  # read-write, as a careless BI client would
print("holding", flush=True)
sys.stdin.readline()
print(con.execute("SELECT count(*) FROM meta.runs").fetchone()[0], flush=True)
"""


def test_a_read_write_client_on_the_published_file_does_not_stop_the_run(site: Site) -> None:
    before = read_state(site.published)
    client = subprocess.Popen(
        [sys.executable, "-c", HOLD_READ_WRITE, str(site.published)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert client.stdout.readline() == "holding\n"
        site.run(NEXT_DAYS[0])  # exits 0, or the test fails
        client.stdin.write("\n")
        client.stdin.flush()
        assert client.stdout.readline() == f"{before['meta.runs']['rows']}\n", "the client keeps its old file"
    finally:
        client.kill()
        client.wait()
    after = read_state(site.published)
    assert_one_run(after)
    assert published_run(after) != published_run(before)
    assert after["meta.runs"]["rows"] == before["meta.runs"]["rows"] + 1
    assert site.leftovers() == []


@pytest.mark.parametrize("moment", ["building", "swapped"])
def test_sigterm_during_a_run_gives_an_exit_code_that_agrees_with_the_run_log(site: Site, moment: str) -> None:
    """SIGTERM as soon as the new file is being built, or as soon as it is gone
    (renamed onto the published path: the commit). Wherever it lands, exit 0
    only if the run's own row is in the published file and the working
    database's log; otherwise the previous file is untouched and unlogged."""
    before = read_state(site.published)
    process = site.start(NEXT_DAYS[0])
    start, seen_building = time.monotonic(), False
    try:
        while process.poll() is None:
            building = any(".building" in name for name in site.leftovers())
            seen_building = seen_building or building
            if (moment == "building" and building) or (moment == "swapped" and seen_building and not building):
                process.send_signal(signal.SIGTERM)
                break
            assert time.monotonic() - start < RUN_TIMEOUT, "the run did not finish"
            time.sleep(0.001)
        output, _ = process.communicate(timeout=RUN_TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    after = read_state(site.published)
    assert_one_run(after)
    with duckdb.connect(str(site.root / "work" / "kam_work.duckdb"), read_only=True) as con:
        logged = dict(con.execute("SELECT run_id, status FROM meta.runs").fetchall())
    if process.returncode == 0:
        assert published_run(after) != published_run(before), output
        assert logged[published_run(after)] == "SUCCESS"
        assert f"run: {published_run(after)}" in output
    else:
        assert process.returncode == 1, output
        assert "interrupted before publishing; the published warehouse is unchanged" in output
        assert after == before
        assert sorted(logged) == sorted(before["meta.runs"]["runs"]), "an unpublished run in the working log"
    assert "Traceback" not in output
    assert site.leftovers() == []
