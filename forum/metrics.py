"""/metrics for Prometheus: queue depths, deliveries by outcome, ingest lag, mail-server and job health.

Every figure is read from the database at scrape time, so one scrape of any web worker tells the truth
about all processes on all machines. Rates are Prometheus's work: the broadcast rate of a channel is
`rate(nhomthu_deliveries{channel="telegram",state="sent"}[5m])`.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Blueprint, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from models import db, utcnow
from models.services.monitoring import Figures, gather

blueprint = Blueprint("metrics", __name__)


@blueprint.get("/metrics")
def metrics() -> Response:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(list(families(gather(db.session, utcnow())))))
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def families(figures: Figures) -> Iterable[Metric]:
    deliveries = GaugeMetricFamily(
        "nhomthu_deliveries",
        "Outbox rows by channel and state (pending and sending: the queue).",
        labels=["channel", "state"],
    )
    for (channel, state), count in sorted(figures.deliveries.items()):
        deliveries.add_metric([channel, state], count)
    yield deliveries
    due = GaugeMetricFamily(
        "nhomthu_outbox_oldest_due_seconds",
        "How long the oldest due delivery has waited.",
        labels=["channel"],
    )
    for channel, seconds in sorted(figures.oldest_due.items()):
        due.add_metric([channel], seconds)
    yield due
    inbound = GaugeMetricFamily(
        "nhomthu_inbound_messages", "Received mail: new (unprocessed), or by outcome.", labels=["outcome"]
    )
    for outcome, count in sorted(figures.inbound.items()):
        inbound.add_metric([outcome], count)
    yield inbound
    yield GaugeMetricFamily(
        "nhomthu_inbound_oldest_new_seconds",
        "How long the oldest unprocessed message has waited.",
        value=figures.inbound_oldest_new,
    )
    lag = GaugeMetricFamily(
        "nhomthu_ingest_lag_seconds", "Stored to processed, over the last hour.", labels=["quantile"]
    )
    for quantile, seconds in sorted(figures.ingest_lag.items()):
        lag.add_metric([quantile], seconds)
    yield lag
    yield from _operations(figures)


def _operations(figures: Figures) -> Iterable[Metric]:
    beats = GaugeMetricFamily(
        "nhomthu_heartbeat_age_seconds",
        "Since the mail server last answered: mail.fetch (IMAP), mail.send (SMTP took a message).",
        labels=["name"],
    )
    for name, seconds in sorted(figures.heartbeats.items()):
        beats.add_metric([name], seconds)
    yield beats
    runs = CounterMetricFamily("nhomthu_job_runs", "Runs of each scheduled job.", labels=["job"])
    failing = GaugeMetricFamily("nhomthu_job_failing", "1 when the job's last run failed.", labels=["job"])
    finished = GaugeMetricFamily(
        "nhomthu_job_last_finished_timestamp_seconds", "When the job last finished.", labels=["job"]
    )
    for job in figures.jobs:
        runs.add_metric([job.name], job.runs)
        failing.add_metric([job.name], 0 if job.last_error is None else 1)
        if job.last_finished_at is not None:
            finished.add_metric([job.name], job.last_finished_at.timestamp())
    yield from (runs, failing, finished)


class _Snapshot(Collector):
    """Hands the figures of one scrape to prometheus-client's text format."""

    def __init__(self, metrics: list[Metric]) -> None:
        self.metrics = metrics

    def collect(self) -> Iterable[Metric]:
        return self.metrics
