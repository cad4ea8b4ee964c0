"""Failure alerts: one short JSON message per failed `kam_nightly` run.

The message goes to the webhook in KAM_ALERT_WEBHOOK_URL as
`{"text": "<one line with the run link>", "kam": {...fields...}}`: Slack
incoming webhooks show `text`, Microsoft Teams incoming webhooks accept the
same `{"text": ...}` card, and both ignore the `kam` object, which carries the
same facts for anything that parses the payload. Without a URL the message is
logged on the sensor tick instead. Nothing here may stop the sensor: HTTP and
network errors are logged, not raised. Only the standard library is used.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import dagster as dg

from assets.nightly import AS_OF_TAG, PARTITION_TAG, PUBLISHED_TAG, nightly_job

if TYPE_CHECKING:
    from dagster_shared.error import SerializableErrorInfo

WEBHOOK_URL_ENV = "KAM_ALERT_WEBHOOK_URL"
DAGSTER_URL_ENV = "KAM_DAGSTER_URL"
DEFAULT_DAGSTER_URL = "http://localhost:3000"
TIMEOUT_SECONDS = 10.0
MAX_ERROR_CHARS = 300
WILL_RETRY_TAG = "dagster/will_retry"  # set by Dagster on a failed run that run_retries will re-execute


def alert_message(
    job_name: str,
    run_id: str,
    failed_steps: Sequence[str],
    error: str,
    as_of: str | None,
    base_url: str,
    *,
    will_retry: bool = False,
    published: bool = False,
) -> dict[str, Any]:
    """The webhook payload: a one-line `text` for people, the same facts under `kam`.
    `published`: the run swapped its warehouse in before it failed (the swap is
    the commit point, docs/publishing.md), so the warehouse is this run's."""
    url = f"{base_url.rstrip('/')}/runs/{run_id}"
    error = _one_line(error) or "no error message recorded"
    parts = [f"{job_name} failed{' after publishing' if published else ''}"]
    if as_of:
        parts.append(f" (as of {as_of})")
    if failed_steps:
        parts.append(f" in step{'s' if len(failed_steps) > 1 else ''} {', '.join(failed_steps)}")
    outcome = "the warehouse is this run's" if published else "the published warehouse is unchanged"
    parts.append(f": {error}; {outcome} | run {run_id[:8]}: {url}")
    if will_retry:
        parts.append(" | an automatic retry is queued")
    return {
        "text": "".join(parts),
        "kam": {
            "job": job_name,
            "run_id": run_id,
            "run_url": url,
            "as_of": as_of,
            "failed_steps": list(failed_steps),
            "error": error,
            "will_retry": will_retry,
            "published": published,
        },
    }


def _one_line(text: str | None) -> str:
    lines = [line.strip() for line in (text or "").strip().splitlines()]
    line = lines[0] if lines else ""
    return line if len(line) <= MAX_ERROR_CHARS else line[: MAX_ERROR_CHARS - 1] + "…"


def _error_text(error: SerializableErrorInfo | None) -> str:
    """The innermost cause's message, without the module path of its class; a
    `dagster.Failure` (how the assets report contract errors) without its class."""
    if error is None:
        return ""
    while error.cause is not None:
        error = error.cause
    message = _one_line(error.message)
    head, sep, rest = message.partition(": ")
    if sep and head.rsplit(".", 1)[-1] == error.cls_name:
        return rest if error.cls_name == "Failure" else f"{error.cls_name}: {rest}"
    return message


def failure_summary(step_failures: Sequence[dg.DagsterEvent], run_failure: dg.DagsterEvent | None) -> str:
    """One line: the first failed step's description or error, else the run's failure."""
    for event in step_failures:
        data = event.step_failure_data
        if data.user_failure_data is not None and data.user_failure_data.description:
            return _one_line(data.user_failure_data.description)
        if data.error is not None:
            return _error_text(data.error)
    if run_failure is not None:
        data = run_failure.event_specific_data
        error = getattr(data, "error", None)
        return _error_text(error) if error is not None else _one_line(run_failure.message)
    return ""


def _run_as_of(tags: Mapping[str, str], run_config: Mapping[str, Any]) -> str | None:
    """The run's as-of tag (set when its settings resolved), else its
    partition (a run that failed before), else the run config's `as_of`."""
    for tag in (AS_OF_TAG, PARTITION_TAG):
        if tags.get(tag):
            return tags[tag]
    node: Any = run_config
    for key in ("resources", "settings", "config", "as_of"):
        node = node.get(key) if isinstance(node, Mapping) else None
    return str(node) if node else None


def _redacted(url: str) -> str:
    """Webhook URLs carry their secret in the path: log scheme and host only."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" if parts.hostname else "(invalid URL)"


def post_alert(url: str, payload: Mapping[str, Any], log: logging.Logger, timeout: float = TIMEOUT_SECONDS) -> bool:
    """POST the payload as JSON; log and return False on any failure, never raise."""
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            log.info(f"failure alert sent to {_redacted(url)} (HTTP {response.status})")
            return True
    except urllib.error.HTTPError as exc:
        body = exc.read(200).decode("utf-8", "replace").strip()
        log.error(f"failure alert rejected by {_redacted(url)}: HTTP {exc.code} {body!r}; message: {payload['text']}")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        log.error(f"failure alert not sent to {_redacted(url)}: {exc}; message: {payload['text']}")
    return False


@dg.run_failure_sensor(
    name="failure_alert_sensor",
    monitored_jobs=[nightly_job],
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=f"Posts a one-line alert for every failed kam_nightly run to {WEBHOOK_URL_ENV} (Slack or Teams).",
)
def failure_alert_sensor(context: dg.RunFailureSensorContext) -> None:
    try:
        run = context.dagster_run
        step_failures = context.get_step_failure_events()
        payload = alert_message(
            job_name=run.job_name,
            run_id=run.run_id,
            failed_steps=list(dict.fromkeys(e.step_key for e in step_failures if e.step_key)),
            error=failure_summary(step_failures, context.failure_event),
            as_of=_run_as_of(run.tags, run.run_config),
            base_url=os.environ.get(DAGSTER_URL_ENV) or DEFAULT_DAGSTER_URL,
            will_retry=run.tags.get(WILL_RETRY_TAG) == "true",
            published=run.tags.get(PUBLISHED_TAG) == "true",
        )
        url = os.environ.get(WEBHOOK_URL_ENV, "").strip()
        if not url:
            context.log.warning(f"{WEBHOOK_URL_ENV} is not set, alert not sent: {payload['text']}")
            return
        post_alert(url, payload, context.log)
    except Exception as exc:  # an alert must never fail the sensor
        context.log.exception(f"failure alert for run {context.dagster_run.run_id} could not be built: {exc}")
