"""Sensors: the landing sensor against real temporary landing directories (with
the sensor's clock passed explicitly), and the failure alert sensor on a real
failing kam_nightly run, posting to a local HTTP server on 127.0.0.1 only."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import pytest

from assets.alerts import alert_message, failure_alert_sensor
from assets.definitions import defs
from assets.nightly import JOB_NAME
from assets.resources import SettingsResource
from assets.staging import build_landing_sensor, landing_run_request
from kam_pipeline.ingest import arrival as ls
from kam_pipeline.settings import SensorSettings
from tools.sample_data import generate

from .conftest import AS_OF, TINY, write_landing

T0 = 1_790_000_000  # a fixed file time (epoch seconds): tests never depend on the wall clock
SETTLE = 60.0
STEP = 30.0  # the sensor's minimum interval


def set_mtime(path: Path, seconds: float) -> None:
    ns = int(seconds * 1e9)
    os.utime(path, ns=(ns, ns))


def landing_at(root: Path, files: dict[str, str], mtime: float = T0) -> Path:
    landing = write_landing(root, files)
    for path in landing.rglob("*"):
        if path.is_file():
            set_mtime(path, mtime)
    return landing


@dataclass
class Sensor:
    """Evaluates the landing sensor on `landing`, threading the cursor like the daemon does."""

    landing: Path
    now: float = 1_000.0
    cursor: str | None = None
    requests: list[dg.RunRequest] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    def tick(self, seconds: float = STEP) -> dg.RunRequest | None:
        self.now += seconds
        result = ls.evaluate_landing(self.landing, self.cursor, self.now, settle_seconds=SETTLE)
        self.cursor = result.cursor
        assert (result.run_key is None) != (result.skip_reason is None)
        if result.run_key is None:
            self.reasons.append(result.skip_reason or "")
            return None
        request = landing_run_request(result.run_key, self.landing, date.fromisoformat(AS_OF))
        self.requests.append(request)
        return request

    def ticks(self, count: int) -> list[dg.RunRequest]:
        return [r for _ in range(count) if (r := self.tick()) is not None]


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    return landing_at(tmp_path / "landing", TINY)


# ---------------------------------------------------------------- landing sensor


def test_an_incomplete_set_requests_no_run(tmp_path: Path) -> None:
    partial = {name: text for name, text in TINY.items() if name != "crm/opportunities.csv"}
    sensor = Sensor(landing_at(tmp_path / "landing", partial))
    assert sensor.ticks(20) == []
    assert "no file for crm/opportunities.*" in sensor.reasons[-1]


def test_a_complete_stable_set_requests_exactly_one_run(landing: Path) -> None:
    sensor = Sensor(landing)
    assert sensor.tick() is None  # first sighting
    assert sensor.tick() is None  # unchanged for 30 s of 60
    request = sensor.tick()  # unchanged for 60 s
    assert request is not None
    assert sensor.ticks(20) == []  # then only skips
    assert "no change since the run requested" in sensor.reasons[-1]

    fingerprint = ls.scan_landing(landing).fingerprint
    assert request.run_key == fingerprint
    assert request.tags == {"kam/as_of": AS_OF, "kam/landing_fingerprint": fingerprint}
    assert request.partition_key == AS_OF
    assert request.run_config == {"resources": {"settings": {"config": {"landing_dir": str(landing)}}}}
    assert dg.validate_run_config(defs().resolve_job_def(JOB_NAME), request.run_config)
    assert json.loads(sensor.cursor or "")["requested"] == fingerprint


def test_a_growing_file_requests_no_run_until_it_stops(landing: Path) -> None:
    month = landing / "erp" / "invoice_lines" / "2026-12.csv"
    header, *rows = TINY["erp/invoice_lines/2026-11.csv"].splitlines(keepends=True)
    month.write_text(header, encoding="utf-8")
    sensor = Sensor(landing)
    for _ in range(10):  # five minutes of a slow copy: a line every 30 s
        assert sensor.tick() is None
        with month.open("a", encoding="utf-8") as out:
            out.write(rows[0].replace("I3,", "I9,"))
    assert sensor.requests == []
    assert sensor.ticks(3) != []  # stopped growing: one run after the settle time
    assert len(sensor.requests) == 1


def test_temporary_files_never_count_and_hold_back_the_set(landing: Path) -> None:
    sensor = Sensor(landing)
    assert len(sensor.ticks(5)) == 1
    part = landing / "erp" / "invoice_lines" / "2026-12.csv.part"
    part.write_text(TINY["erp/invoice_lines/2026-11.csv"], encoding="utf-8")
    (landing / "erp" / "invoice_lines" / "_2026-12.csv").write_text("ignored", encoding="utf-8")
    (landing / "erp" / "invoice_lines" / ".2026-12.csv.swp").write_text("ignored", encoding="utf-8")
    assert sensor.ticks(10) == []
    assert "transfer in progress: erp/invoice_lines/2026-12.csv.part" in sensor.reasons[-1]
    part.rename(landing / "erp" / "invoice_lines" / "2026-12.csv")  # the copy tool finishes
    assert len(sensor.ticks(5)) == 1
    assert len(sensor.requests) == 2


def test_no_run_before_the_success_marker(landing: Path) -> None:
    marker = landing / "_SUCCESS"
    marker.write_bytes(b"")
    set_mtime(marker, T0 - 86_400)  # yesterday's marker: a delivery is in progress
    sensor = Sensor(landing)
    assert sensor.ticks(20) == []  # ten minutes: the settle time does not apply to marker deliveries
    assert "waiting for a new _SUCCESS" in sensor.reasons[-1]
    set_mtime(marker, T0 + 1)  # the producer writes the marker last
    assert sensor.tick() is not None  # the set was already seen unchanged: at once
    assert sensor.ticks(10) == []


def test_a_fresh_marker_skips_the_settle_time_but_not_the_second_look(landing: Path) -> None:
    (landing / "_SUCCESS").write_bytes(b"")
    set_mtime(landing / "_SUCCESS", T0)  # same tick as the last file counts as written after it
    sensor = Sensor(landing)
    assert sensor.tick() is None
    assert sensor.tick(1) is not None  # one second later, no 60 s wait
    assert sensor.ticks(5) == []


def test_a_new_month_file_triggers_exactly_one_more_run(landing: Path) -> None:
    sensor = Sensor(landing)
    first = sensor.ticks(10)
    month = landing / "erp" / "invoice_lines" / "2026-12.csv"
    month.write_text(TINY["erp/invoice_lines/2026-11.csv"].replace("I3,", "I4,"), encoding="utf-8")
    set_mtime(month, T0 + 3600)
    second = sensor.ticks(10)
    assert len(first) == len(second) == 1
    assert first[0].run_key != second[0].run_key


def test_a_new_month_file_with_a_marker_triggers_exactly_one_more_run(landing: Path) -> None:
    marker = landing / "_SUCCESS"
    marker.write_bytes(b"")
    set_mtime(marker, T0 + 1)
    sensor = Sensor(landing)
    assert len(sensor.ticks(5)) == 1
    month = landing / "erp" / "invoice_lines" / "2026-12.csv"
    month.write_text(TINY["erp/invoice_lines/2026-11.csv"], encoding="utf-8")
    set_mtime(month, T0 + 3600)
    assert sensor.ticks(5) == []  # dropped after the marker: not announced yet
    set_mtime(marker, T0 + 3601)
    assert len(sensor.ticks(5)) == 1
    assert len(sensor.requests) == 2


def test_touching_nothing_triggers_nothing(landing: Path) -> None:
    sensor = Sensor(landing)
    assert len(sensor.ticks(5)) == 1
    sensor.tick(86_400)  # a day later
    assert sensor.ticks(50) == []
    rewritten = landing / "crm" / "accounts.csv"  # same size, new mtime: a re-delivery
    set_mtime(rewritten, T0 + 10)
    assert len(sensor.ticks(5)) == 1


def test_an_unreadable_cursor_starts_afresh(landing: Path) -> None:
    sensor = Sensor(landing, cursor="not json")
    assert len(sensor.ticks(5)) == 1


def test_the_sensor_on_a_generated_landing_directory(tmp_path: Path) -> None:
    """The real sensor definition, its resource and its cursor: sample data writes `_SUCCESS` last."""
    landing = generate(tmp_path / "landing", seed=3, accounts=50, invoice_lines=300).out
    settings = SettingsResource(landing_dir=str(landing), as_of=AS_OF)
    cursor = None
    results = []
    for _ in range(4):  # as the daemon evaluates it: the resource is set up and torn down around the tick
        with dg.build_sensor_context(
            cursor=cursor, resources={"settings": settings}, sensor_name="landing_sensor"
        ) as context:
            result = build_landing_sensor(SensorSettings())(context)
        assert isinstance(result, dg.SensorResult)
        cursor = result.cursor
        results.append(result)
    runs = [r.run_requests for r in results]
    assert [len(r or []) for r in runs] == [0, 1, 0, 0]
    request = (runs[1] or [])[0]
    assert request.tags["kam/as_of"] == AS_OF
    assert request.run_key == ls.scan_landing(landing).fingerprint
    assert dg.validate_run_config(defs().resolve_job_def(JOB_NAME), request.run_config)


def test_sensors_load_with_the_code_location() -> None:
    merged = defs()
    landing_def = merged.resolve_sensor_def("landing_sensor")
    assert landing_def.job_name == JOB_NAME
    assert landing_def.default_status == dg.DefaultSensorStatus.STOPPED
    assert merged.resolve_sensor_def("failure_alert_sensor").default_status == dg.DefaultSensorStatus.RUNNING


# ---------------------------------------------------------------- failure alerts


@dataclass
class Webhook:
    url: str
    posts: list[tuple[str, str, dict]]  # path, content type, JSON body


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[Webhook]:
    """A webhook on 127.0.0.1 (random free port): 200 on /hook, 500 on /broken."""
    posts: list[tuple[str, str, dict]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            posts.append((self.path, self.headers["Content-Type"], json.loads(body)))
            status = 500 if self.path == "/broken" else 200
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"ok" if status == 200 else b"invalid_payload")

        def log_message(self, *args: object) -> None:  # keep pytest output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("KAM_DAGSTER_URL", "http://dagster.example:3000/")
    try:
        yield Webhook(f"http://127.0.0.1:{server.server_address[1]}", posts)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class FailedRun:
    instance: dg.DagsterInstance
    result: dg.ExecuteInProcessResult
    cursor: str  # the failure sensor's cursor from before the run

    @property
    def run(self) -> dg.DagsterRun:
        """The run as stored (with the tags the instance added on failure), as the daemon sees it."""
        run = self.instance.get_run_by_id(self.result.run_id)
        assert run is not None
        return run


@pytest.fixture(scope="module")
def failed_run(tmp_path_factory: pytest.TempPathFactory) -> FailedRun:
    """The real nightly job on a customers extract without its country_code column, on an
    instance with automatic retries as in dagster.yaml."""
    tmp = tmp_path_factory.mktemp("failing")
    files = dict(TINY, **{"erp/customers.csv": "erp_customer_id,crm_account_id,customer_name\nC1,A,Alpha GmbH\n"})
    config = {
        "landing_dir": str(write_landing(tmp / "landing", files)),
        "warehouse_path": str(tmp / "bi" / "kam.duckdb"),
        "overrides": {"paths.work_dir": str(tmp / "work"), "paths.data_docs_dir": str(tmp / "docs")},
    }
    instance = dg.DagsterInstance.ephemeral(settings={"run_retries": {"enabled": True, "max_retries": 1}})
    first_tick = failure_alert_sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
    result = (
        defs()
        .resolve_job_def(JOB_NAME)
        .execute_in_process(
            instance=instance,
            run_config={"resources": {"settings": {"config": config}}},
            partition_key=AS_OF,
            raise_on_error=False,
        )
    )
    assert not result.success
    return FailedRun(instance, result, first_tick.cursor or "")


class ListHandler(logging.Handler):
    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__()
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def alert_context(failed: FailedRun, records: list[logging.LogRecord]) -> dg.RunStatusSensorContext:
    context = dg.build_run_status_sensor_context(
        sensor_name="failure_alert_sensor",
        dagster_instance=failed.instance,
        dagster_run=failed.run,
        dagster_event=failed.result.get_run_failure_event(),
    )
    context.log.addHandler(ListHandler(records))
    return context


def test_a_failed_run_posts_one_alert(failed_run: FailedRun, webhook: Webhook, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAM_ALERT_WEBHOOK_URL", f"{webhook.url}/hook")
    records: list[logging.LogRecord] = []
    assert failure_alert_sensor(alert_context(failed_run, records)) is None

    assert len(webhook.posts) == 1
    path, content_type, body = webhook.posts[0]
    assert (path, content_type) == ("/hook", "application/json")
    run_id = failed_run.result.run_id
    link = f"http://dagster.example:3000/runs/{run_id}"
    kam = body["kam"]
    assert kam["job"] == JOB_NAME
    assert kam["run_id"] == run_id
    assert kam["run_url"] == link
    assert kam["as_of"] == AS_OF
    assert kam["failed_steps"] == ["staging__erp_customers"]
    assert kam["error"].startswith("erp/customers.csv: missing column country_code")
    assert "\n" not in body["text"]
    assert body["text"].startswith(
        f"{JOB_NAME} failed (as of {AS_OF}) in step staging__erp_customers: erp/customers.csv"
    )
    assert body["text"].endswith(f"{link} | an automatic retry is queued")  # dagster.yaml retries once
    assert kam["will_retry"] is True
    assert kam["published"] is False
    assert "; the published warehouse is unchanged | run" in body["text"]
    assert set(body) == {"text", "kam"}
    assert "127.0.0.1" in records[-1].getMessage() and "/hook" not in records[-1].getMessage()


def test_without_a_webhook_url_the_alert_is_logged(
    failed_run: FailedRun, webhook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KAM_ALERT_WEBHOOK_URL", raising=False)
    records: list[logging.LogRecord] = []
    failure_alert_sensor(alert_context(failed_run, records))
    assert webhook.posts == []
    [warning] = [r for r in records if r.levelno == logging.WARNING]
    assert "KAM_ALERT_WEBHOOK_URL is not set" in warning.getMessage()
    assert "missing column country_code" in warning.getMessage()


def test_a_rejected_or_unreachable_webhook_is_logged_not_raised(
    failed_run: FailedRun, webhook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAM_ALERT_WEBHOOK_URL", f"{webhook.url}/broken")
    records: list[logging.LogRecord] = []
    assert failure_alert_sensor(alert_context(failed_run, records)) is None
    assert len(webhook.posts) == 1
    assert "HTTP 500 'invalid_payload'" in records[-1].getMessage()

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    monkeypatch.setenv("KAM_ALERT_WEBHOOK_URL", f"http://127.0.0.1:{closed}/hook")
    assert failure_alert_sensor(alert_context(failed_run, records)) is None
    assert records[-1].levelno == logging.ERROR
    assert "not sent" in records[-1].getMessage()


def test_the_daemon_evaluation_alerts_once_per_failed_run(
    failed_run: FailedRun, webhook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through Dagster's own run-status bookkeeping: the monitored job matches, the run is
    reported back as handled without error, and the next tick does not alert again."""
    monkeypatch.setenv("KAM_ALERT_WEBHOOK_URL", f"{webhook.url}/hook")
    repository = defs().get_repository_def()
    context = dg.build_sensor_context(instance=failed_run.instance, cursor=failed_run.cursor, repository_def=repository)
    tick = failure_alert_sensor.evaluate_tick(context)
    [reaction] = tick.dagster_run_reactions or []
    assert reaction.dagster_run is not None and reaction.dagster_run.run_id == failed_run.result.run_id
    assert reaction.error is None
    assert [body["kam"]["run_id"] for _, _, body in webhook.posts] == [failed_run.result.run_id]

    context = dg.build_sensor_context(instance=failed_run.instance, cursor=tick.cursor, repository_def=repository)
    assert not failure_alert_sensor.evaluate_tick(context).dagster_run_reactions
    assert len(webhook.posts) == 1


def test_alert_message_is_one_line_with_the_link() -> None:
    message = alert_message(
        "kam_nightly",
        "0123456789abcdef",
        ["staging__fx_rates", "staging__erp_customers"],
        "duckdb.IOException: Could not set lock\nsecond line of a traceback",
        None,
        "https://dagster.example.com/",
        will_retry=True,
    )
    assert message["text"] == (
        "kam_nightly failed in steps staging__fx_rates, staging__erp_customers: duckdb.IOException: Could not set lock"
        "; the published warehouse is unchanged"
        " | run 01234567: https://dagster.example.com/runs/0123456789abcdef | an automatic retry is queued"
    )
    assert message["kam"]["as_of"] is None
    assert message["kam"]["will_retry"] is True
    assert message["kam"]["published"] is False
    json.dumps(message)


def test_an_alert_after_the_swap_says_the_warehouse_is_the_runs() -> None:
    """SIGTERM after the commit point: the run failed, but its warehouse is live (docs/publishing.md)."""
    message = alert_message(
        "kam_nightly",
        "0123456789abcdef",
        ["reports__kam_report"],
        "DagsterExecutionInterruptedError",
        "2026-11-28",
        "https://dagster.example.com",
        published=True,
    )
    assert message["text"] == (
        "kam_nightly failed after publishing (as of 2026-11-28) in step reports__kam_report: "
        "DagsterExecutionInterruptedError; the warehouse is this run's"
        " | run 01234567: https://dagster.example.com/runs/0123456789abcdef"
    )
    assert message["kam"]["published"] is True
