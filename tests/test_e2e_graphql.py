"""End to end through the real Dagster deployment and its GraphQL API.

`dagster dev` (webserver + daemon, with the repository's dagster.yaml: a queued
run coordinator that only the daemon dequeues) serves the code location of
`[tool.dagster]` on a loopback port, with a temporary DAGSTER_HOME. The test
backfills three as-of dates of `kam_nightly` on a small generated landing
directory through the GraphQL API, as the UI's job page launches it (one
run per date partition), waits for them, checks through GraphQL that every
asset of the job was materialised and every asset check executed and passed
in the newest date's run, then reads the published warehouse and its
history back.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests
from dagster_graphql import DagsterGraphQLClient

from assets.definitions import defs
from assets.nightly import AS_OF_TAG, JOB_NAME, PARTITION_TAG
from tools.sample_data import generate

REPO_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
AS_OF = date(2026, 11, 28)
SERVER_START_TIMEOUT = 90.0  # webserver up and the code location loaded
RUN_TIMEOUT = 180.0  # queued, dequeued by the daemon, executed
#: Three past as-of dates to backfill, ending at the landing's (history at a month end, mid-month, now).
BACKFILL_DATES = [AS_OF - timedelta(days=days) for days in (28, 14, 0)]
#: Tearing the server down: Ctrl-C (dagster dev stops its services, a few
#: seconds), then SIGTERM, then SIGKILL, each with this long to empty the group.
STOP_SIGNALS = ((signal.SIGINT, 30.0), (signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0))
SAMPLE_WARNING = "marts/kam_overrides:overrides_need_attention"
LOG_TAIL_LINES = 80

WORKSPACE_QUERY = """
query Workspace {
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError {
          __typename
          ... on PythonError { message }
          ... on RepositoryLocation { name repositories { name jobs { name } } }
        }
      }
    }
    ... on PythonError { message }
  }
}
"""

RUN_ERRORS_QUERY = """
query RunErrors($runId: ID!, $cursor: String) {
  logsForRun(runId: $runId, afterCursor: $cursor) {
    __typename
    ... on EventConnection {
      cursor
      hasMore
      events {
        __typename
        ... on MessageEvent { level message stepKey }
        ... on ErrorEvent { error { message } }
      }
    }
    ... on PythonError { message }
  }
}
"""

RUN_MATERIALIZATIONS_QUERY = """
query RunMaterializations($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run {
      runId
      status
      assetMaterializations { runId assetKey { path } }
    }
    ... on RunNotFoundError { message }
    ... on PythonError { message }
  }
}
"""

LAUNCH_BACKFILL_MUTATION = """
mutation LaunchBackfill($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
  }
}
"""

BACKFILL_RUNS_QUERY = """
query BackfillRuns($tags: [ExecutionTag!]) {
  runsOrError(filter: {tags: $tags}) {
    __typename
    ... on Runs { results { runId status tags { key value } } }
    ... on PythonError { message }
  }
}
"""

INSTANCE_QUERY = """
query Instance {
  instance {
    runQueuingSupported
    runQueueConfig { maxConcurrentRuns }
  }
}
"""

JOB_CHECKS_QUERY = """
query JobChecks($selector: PipelineSelector!) {
  assetNodes(pipeline: $selector) {
    assetKey { path }
    assetChecksOrError(pipeline: $selector) {
      __typename
      ... on AssetChecks {
        checks {
          name
          executionForLatestMaterialization {
            runId
            status
            evaluation {
              success
              severity
              metadataEntries {
                label
                ... on IntMetadataEntry { intValue }
                ... on FloatMetadataEntry { floatValue }
                ... on TextMetadataEntry { text }
              }
            }
          }
        }
      }
    }
  }
}
"""


@dataclass(frozen=True)
class DagsterServer:
    """A running `dagster dev` on the loopback interface."""

    port: int
    log: Path
    client: DagsterGraphQLClient

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def server_env(dagster_home: Path, tmp: Path) -> dict[str, str]:
    """The test's environment without KAM_* settings, so only the run config
    points the run at its folders. The KAM_* paths set here lead to empty
    decoy folders: should anything else start a run (the 02:00 schedule is on
    by default), it never touches the repository's data/, and a run that
    ignored its run config would fail or publish where the test does not look."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("KAM_")}
    env.update(
        DAGSTER_HOME=str(dagster_home),
        KAM_LANDING_DIR=str(tmp / "decoy" / "landing"),
        KAM_WAREHOUSE_PATH=str(tmp / "decoy" / "kam.duckdb"),
        GX_ANALYTICS_ENABLED="false",
        PYTHONUNBUFFERED="1",
    )
    return env


def group_alive(pgid: int) -> bool:
    """Whether a live (non-zombie) process of the group is left. Zombies count
    as members for kill(), and orphans' zombies are only reaped by their new
    parent, so /proc is read where there is one."""
    proc_dir = Path("/proc")
    if proc_dir.is_dir():
        for stat in proc_dir.glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()  # after "pid (comm)"
            except (OSError, IndexError):
                continue  # gone meanwhile
            if int(fields[2]) == pgid and fields[0] != "Z":
                return True
        return False
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def stop_process_group(proc: subprocess.Popen[bytes]) -> None:
    """Ctrl-C for the whole group (dagster dev shuts its services down on it),
    then SIGTERM, then SIGKILL, until no process of the group is left."""
    pgid = proc.pid  # start_new_session=True: the leader's pid is the group id
    for sig, timeout in STOP_SIGNALS:
        proc.poll()  # reap the leader if it has exited
        if not group_alive(pgid):
            break
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc.poll()
            if not group_alive(pgid):
                break
            time.sleep(0.2)
    proc.poll()


def graphql(server: DagsterServer, query: str, **variables: Any) -> dict[str, Any]:
    return server.client._execute(query, variables or None)


def wait_until_ready(proc: subprocess.Popen[bytes], port: int, client: DagsterGraphQLClient) -> None:
    """/server_info answers, then the code location has loaded with the job."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    state = "webserver not answering"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dagster dev exited with code {proc.returncode} before it was ready")
        try:
            requests.get(f"http://{HOST}:{port}/server_info", timeout=2).raise_for_status()
        except requests.RequestException as exc:
            state = f"webserver not answering: {exc.__class__.__name__}"
            time.sleep(0.5)
            continue
        workspace = client._execute(WORKSPACE_QUERY)["workspaceOrError"]
        if workspace["__typename"] != "Workspace":
            raise RuntimeError(f"workspace: {workspace}")
        entries = workspace["locationEntries"]
        state = f"locations: {[(e['name'], e['loadStatus']) for e in entries]}"
        for entry in entries:
            location = entry["locationOrLoadError"]
            if location and location["__typename"] == "PythonError":
                raise RuntimeError(f"code location {entry['name']} failed to load: {location['message']}")
            if entry["loadStatus"] == "LOADED" and location:
                jobs = {job["name"] for repo in location["repositories"] for job in repo["jobs"]}
                if JOB_NAME in jobs:
                    return
        time.sleep(0.5)
    raise TimeoutError(f"dagster dev not ready after {SERVER_START_TIMEOUT:.0f} s ({state})")


@pytest.fixture
def dagster_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DagsterServer]:
    for name in ("NO_PROXY", "no_proxy"):  # the client talks to the loopback server, never through a proxy
        monkeypatch.setenv(name, ",".join(filter(None, [os.environ.get(name), HOST, "localhost"])))
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    port = free_port()
    log = tmp_path / "dagster_dev.log"
    client = DagsterGraphQLClient(HOST, port_number=port, timeout=30)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dagster", "dev", "-h", HOST, "-p", str(port)],
            cwd=REPO_ROOT,  # [tool.dagster] in pyproject.toml names the code location
            env=server_env(home, tmp_path),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = DagsterServer(port=port, log=log, client=client)
    try:
        try:
            wait_until_ready(proc, port, client)
        except Exception:
            print(f"--- dagster dev log (last {LOG_TAIL_LINES} lines) ---\n{server.log_tail()}")
            raise
        yield server
    finally:
        stop_process_group(proc)


def run_errors(server: DagsterServer, run_id: str) -> str:
    """The run's errors (failed steps, the run failure), one line each; its
    ERROR messages when no event carries an error."""
    errors: list[str] = []
    messages: list[str] = []
    cursor = None
    while True:
        logs = graphql(server, RUN_ERRORS_QUERY, runId=run_id, cursor=cursor)["logsForRun"]
        if logs["__typename"] != "EventConnection":
            return f"logsForRun: {logs}"
        for event in logs["events"]:
            line = f"{event['__typename']} [{event.get('stepKey') or 'run'}]: {event.get('message')}"
            if event.get("error"):
                errors.append(f"{line} {event['error']['message'].strip()}")
            elif event.get("level") == "ERROR":
                messages.append(line)
        cursor = logs["cursor"]
        if not logs["hasMore"]:
            return "\n".join(errors or messages) or "(no error events)"


def wait_for_backfill(server: DagsterServer, backfill_id: str, count: int) -> list[dict[str, Any]]:
    """The backfill's runs, once `count` of them have finished; tags as a dict."""
    deadline = time.monotonic() + RUN_TIMEOUT * count
    done = {"SUCCESS", "FAILURE", "CANCELED"}
    while True:
        found = graphql(server, BACKFILL_RUNS_QUERY, tags=[{"key": "dagster/backfill", "value": backfill_id}])
        runs = [
            {**run, "tags": {tag["key"]: tag["value"] for tag in run["tags"]}}
            for run in found["runsOrError"]["results"]
        ]
        if len(runs) == count and all(run["status"] in done for run in runs):
            return runs
        if time.monotonic() > deadline:
            states = [(run["runId"][:8], run["status"]) for run in runs]
            hint = " (the daemon launches backfills and dequeues runs: is it running?)" if len(runs) < count else ""
            pytest.fail(f"backfill {backfill_id}: {states} after the timeout{hint}")
        time.sleep(1.0)


def selector(server: DagsterServer) -> dict[str, str]:
    workspace = graphql(server, WORKSPACE_QUERY)["workspaceOrError"]
    matches = [
        {"repositoryLocationName": entry["name"], "repositoryName": repo["name"], "pipelineName": JOB_NAME}
        for entry in workspace["locationEntries"]
        for repo in entry["locationOrLoadError"]["repositories"]
        if JOB_NAME in {job["name"] for job in repo["jobs"]}
    ]
    assert len(matches) == 1, matches
    return matches[0]


def describe(execution: dict[str, Any] | None) -> str:
    if execution is None:
        return "not executed"
    evaluation = execution["evaluation"] or {}
    values = {
        entry["label"]: entry.get("intValue", entry.get("floatValue", entry.get("text")))
        for entry in evaluation.get("metadataEntries", [])
        if any(key in entry for key in ("intValue", "floatValue", "text"))
    }
    return f"{execution['status']} in run {execution['runId'][:8]} ({evaluation.get('severity')}) {values}"


def test_nightly_job_through_the_dagster_graphql_api(tmp_path: Path, dagster_server: DagsterServer) -> None:
    server = dagster_server
    try:
        landing = generate(tmp_path / "landing", seed=11, accounts=300, invoice_lines=5_000, as_of=AS_OF).out
        warehouse = tmp_path / "published" / "kam.duckdb"
        config = {
            "landing_dir": str(landing),
            "warehouse_path": str(warehouse),
            "overrides": {"paths.data_docs_dir": str(tmp_path / "data_docs")},
        }

        # The deployment runs with the repository's dagster.yaml: queued runs, one at a time.
        instance = graphql(server, INSTANCE_QUERY)["instance"]
        assert instance["runQueuingSupported"], instance
        assert instance["runQueueConfig"] == {"maxConcurrentRuns": 1}, instance

        # 1-2. Backfill three as-of dates as the job page's "Launch backfill" does (one queued
        # run per date partition, which the daemon dequeues one at a time) and wait. The runs are
        # submitted at once instead of at the backfill daemon's next tick (up to 30 s later).
        job = selector(server)
        nodes = graphql(server, JOB_CHECKS_QUERY, selector=job)["assetNodes"]
        job_assets = {tuple(node["assetKey"]["path"]) for node in nodes}
        job_def = defs().resolve_job_def(JOB_NAME)
        expected_assets = {tuple(key.path) for key in job_def.asset_layer.selected_asset_keys}
        assert job_assets == expected_assets, "GraphQL and the code location disagree on the job's assets"
        launched = graphql(
            server,
            LAUNCH_BACKFILL_MUTATION,
            params={
                "selector": {
                    "partitionSetName": f"{JOB_NAME}_partition_set",
                    "repositorySelector": {
                        "repositoryLocationName": job["repositoryLocationName"],
                        "repositoryName": job["repositoryName"],
                    },
                },
                "partitionNames": [day.isoformat() for day in BACKFILL_DATES],
                "runConfigData": {"resources": {"settings": {"config": config}}},
                "title": "history",
                "forceSynchronousSubmission": True,
            },
        )["launchPartitionBackfill"]
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        backfill_runs = wait_for_backfill(server, launched["backfillId"], len(BACKFILL_DATES))
        for run in backfill_runs:
            assert run["status"] == "SUCCESS", f"run {run['runId']}:\n{run_errors(server, run['runId'])}"
        # the runs list tells them apart by date: Dagster's partition tag and ours
        by_date = {run["tags"][AS_OF_TAG]: run["runId"] for run in backfill_runs}
        assert sorted(by_date) == [day.isoformat() for day in BACKFILL_DATES]
        assert all(run["tags"][PARTITION_TAG] == run["tags"][AS_OF_TAG] for run in backfill_runs)
        run_id = by_date[AS_OF.isoformat()]

        # 3. Every asset of the job materialised by the newest date's run ...
        run = graphql(server, RUN_MATERIALIZATIONS_QUERY, runId=run_id)["runOrError"]
        assert run["__typename"] == "Run", run
        materialized = {tuple(m["assetKey"]["path"]) for m in run["assetMaterializations"] if m["runId"] == run_id}
        assert not job_assets - materialized, f"not materialised by run {run_id}: {sorted(job_assets - materialized)}"

        # ... and every asset check on them executed in that run and passed.
        nodes = graphql(server, JOB_CHECKS_QUERY, selector=job)["assetNodes"]
        checks: dict[str, dict[str, Any] | None] = {}
        for node in nodes:
            asset = "/".join(node["assetKey"]["path"])
            result = node["assetChecksOrError"]
            assert result["__typename"] == "AssetChecks", f"{asset}: {result}"
            for check in result["checks"]:
                checks[f"{asset}:{check['name']}"] = check["executionForLatestMaterialization"]
        expected_checks = {
            f"{key.asset_key.to_user_string()}:{key.name}" for key in job_def.asset_layer.asset_graph.asset_check_keys
        }
        assert set(checks) == expected_checks, "GraphQL and the code location disagree on the asset checks"
        # the sample ships a conflict and an expiring override on purpose: that check must warn, in this run
        warned = checks.pop(SAMPLE_WARNING)
        assert (warned["runId"], warned["status"]) == (run_id, "FAILED"), describe(warned)
        failing = {
            name: describe(execution)
            for name, execution in sorted(checks.items())
            if execution is None or execution["runId"] != run_id or execution["status"] != "SUCCEEDED"
        }
        assert not failing, f"{len(failing)} of {len(checks)} asset checks did not pass in run {run_id}:\n" + "\n".join(
            f"  {name}: {what}" for name, what in failing.items()
        )

        # 4. The published warehouse: one history snapshot per date, the newest date's
        # migration matrix against the date before it, the three runs logged.
        with duckdb.connect(str(warehouse), read_only=True) as con:
            segments = con.execute("SELECT count(*) FROM marts.customer_segments").fetchone()[0]
            runs = con.execute("SELECT run_id, as_of_date, status FROM meta.runs").fetchall()
            snapshots = con.execute("SELECT DISTINCT as_of_date FROM history.customer_segments ORDER BY 1").fetchall()
            migration = con.execute(
                "SELECT DISTINCT as_of_date, previous_as_of_date FROM marts.tier_migration"
            ).fetchall()
            kept = con.execute("SELECT sum(customers) FROM marts.tier_migration WHERE from_tier <> 'NEW'").fetchone()
            published = con.execute("SELECT run_id, as_of_date FROM bi.current_run").fetchall()
        assert segments > 0
        assert sorted(runs) == sorted((by_date[day.isoformat()], day, "SUCCESS") for day in BACKFILL_DATES)
        assert [day for (day,) in snapshots] == BACKFILL_DATES
        # the backfill ran its dates earliest first: each compares with the one before
        assert migration == [(AS_OF, BACKFILL_DATES[-2])]
        assert kept[0] > 0
        assert published == [(run_id, AS_OF)]
    except BaseException:
        print(f"--- dagster dev log (last {LOG_TAIL_LINES} lines) ---\n{server.log_tail()}")
        raise
