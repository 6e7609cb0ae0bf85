"""Prometheus metrics at /metrics, computed from the database at scrape time.

The database is the source of truth and several processes (web, workers, watchers,
on several machines) change it, so no process keeps counters in memory: the
collector runs a fixed handful of aggregate queries on each scrape (see
``docs/deployment.md`` for the list of metrics and example alert rules).

Access: ``Authorization: Bearer <CADENCY_METRICS_TOKEN>``; with no token configured,
only a client on the loopback interface that did not come through a proxy.
"""

import datetime as dt
import hmac
import time
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db.models import Count, Max, Min, Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from cadency.accounts.models import Alert
from cadency.inbound.models import InboundMessage
from cadency.mailboxes.models import Health, Mailbox
from cadency.mailboxes.selectors import sent_today
from cadency.sequences.models import Enrollment, EnrollmentStatus, StepRun, StepRunState

LOOPBACK = {"127.0.0.1", "::1"}
PROXY_HEADERS = ("X-Forwarded-For", "X-Real-IP", "Forwarded")
QUEUE_STATUSES = (TaskResultStatus.READY, TaskResultStatus.RUNNING)
MAILBOX_LABELS = ["mailbox_id", "mailbox"]


def gauge(name: str, documentation: str, labels: Iterable[str] = ()) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, labels=list(labels))


def counter(name: str, documentation: str, labels: Iterable[str] = ()) -> CounterMetricFamily:
    return CounterMetricFamily(name, documentation, labels=list(labels))


def seconds_since(now: dt.datetime, then: dt.datetime | None) -> float:
    return max(0.0, (now - then).total_seconds()) if then is not None else 0.0


def is_after(moment: dt.datetime | None, now: dt.datetime) -> bool:
    return moment is not None and moment > now


def task_queue(now: dt.datetime) -> Iterator[Metric]:
    depth = gauge(
        "cadency_task_queue_depth",
        "Background tasks waiting (ready, due or not) or being run (running), by queue.",
        ["queue", "status"],
    )
    lag = gauge(
        "cadency_task_queue_lag_seconds",
        "How long the oldest ready task has been due without a worker taking it.",
        ["queue"],
    )
    rows = (
        DBTaskResult.objects.filter(status__in=QUEUE_STATUSES)
        .values_list("queue_name", "status")
        .annotate(n=Count("pk"), oldest_due=Min("run_after", filter=Q(run_after__lte=now)))
        .order_by()
    )
    counts: dict[tuple[str, str], int] = {}
    oldest: dict[str, dt.datetime] = {}
    for queue, status, n, oldest_due in rows:
        counts[(queue, status)] = n
        if status == TaskResultStatus.READY and oldest_due is not None:
            oldest[queue] = oldest_due
    queues = {*settings.TASKS["default"].get("QUEUES", ["default"]), *(q for q, _ in counts)}
    for queue in sorted(queues):
        for status in QUEUE_STATUSES:
            depth.add_metric([queue, status.lower()], counts.get((queue, status), 0))
        lag.add_metric([queue], seconds_since(now, oldest.get(queue)))
    yield from (depth, lag)


def due_steps(now: dt.datetime) -> Iterator[Metric]:
    due = StepRun.objects.filter(
        state=StepRunState.SCHEDULED, due_at__lte=now, enrollment__status=EnrollmentStatus.ACTIVE
    ).aggregate(oldest=Min("due_at"), waiting=Count("pk"))
    yield GaugeMetricFamily(
        "cadency_due_steps",
        "Steps of active enrollments that are due and not started yet.",
        value=due["waiting"],
    )
    yield GaugeMetricFamily(
        "cadency_due_step_lag_seconds",
        "How late the oldest due step of an active enrollment is (0 when none is due).",
        value=seconds_since(now, due["oldest"]),
    )


def sends(now: dt.datetime) -> Iterator[Metric]:
    midnight = dt.datetime.combine(now.astimezone(dt.UTC).date(), dt.time(0), tzinfo=dt.UTC)
    sent = StepRun.objects.filter(state=StepRunState.SENT).aggregate(
        total=Count("pk"), today=Count("pk", filter=Q(executed_at__gte=midnight))
    )
    yield CounterMetricFamily(
        "cadency_sends", "Sequence emails sent (step runs in state sent).", value=sent["total"]
    )
    yield GaugeMetricFamily(
        "cadency_sends_today", "Sequence emails sent since midnight UTC.", value=sent["today"]
    )


def mailboxes(now: dt.datetime) -> Iterator[Metric]:
    rows = list(
        Mailbox.objects.values(
            "pk",
            "email",
            "time_zone",
            "created_at",
            "health",
            "daily_limit",
            "lease__holder",
            "lease__expires_at",
        )
        .annotate(last_sync=Max("sync_states__last_synced_at"))
        .order_by("pk")
    )
    today = sent_today([Mailbox(pk=r["pk"], time_zone=r["time_zone"]) for r in rows], now)
    lag = gauge(
        "cadency_mailbox_sync_lag_seconds",
        "Seconds since a folder of the mailbox was last read, by its watcher or just "
        "before a send (since it was connected, when never).",
        MAILBOX_LABELS,
    )
    watched = gauge(
        "cadency_mailbox_watched", "1 while a live watcher holds the mailbox.", MAILBOX_LABELS
    )
    failing = gauge(
        "cadency_mailbox_failing",
        "1 while the mailbox's logins or connections keep failing.",
        MAILBOX_LABELS,
    )
    sent = gauge(
        "cadency_mailbox_sends_today",
        "Emails the mailbox sent today in its own time zone, as counted against its limit.",
        MAILBOX_LABELS,
    )
    limit = gauge("cadency_mailbox_daily_limit", "The mailbox's daily send limit.", MAILBOX_LABELS)
    held = 0
    for row in rows:
        labels = [str(row["pk"]), row["email"]]
        live = bool(row["lease__holder"]) and is_after(row["lease__expires_at"], now)
        held += live
        lag.add_metric(labels, seconds_since(now, row["last_sync"] or row["created_at"]))
        watched.add_metric(labels, int(live))
        failing.add_metric(labels, int(row["health"] == Health.FAILING))
        sent.add_metric(labels, today.get(row["pk"], 0))
        limit.add_metric(labels, row["daily_limit"])
    yield from (lag, watched, failing, sent, limit)
    yield GaugeMetricFamily(
        "cadency_watcher_leases_held", "Mailboxes held by a live watcher.", value=held
    )
    yield GaugeMetricFamily("cadency_mailboxes", "Connected mailboxes.", value=len(rows))


def enrollments() -> Iterator[Metric]:
    by_status = gauge("cadency_enrollments", "Enrollments by status.", ["status"])
    by_reason = counter(
        "cadency_unenrollments", "Enrollments that ended unenrolled, by reason.", ["reason"]
    )
    rows = Enrollment.objects.values_list("status", "reason").annotate(n=Count("pk")).order_by()
    statuses = dict.fromkeys(EnrollmentStatus.values, 0)
    reasons: dict[str, int] = {}
    for status, reason, n in rows:
        statuses[status] = statuses.get(status, 0) + n
        if status == EnrollmentStatus.UNENROLLED:
            reasons[reason or "unknown"] = reasons.get(reason or "unknown", 0) + n
    for status, n in statuses.items():
        by_status.add_metric([status], n)
    for reason, n in sorted(reasons.items()):
        by_reason.add_metric([reason], n)
    yield from (by_status, by_reason)


def inbound() -> Metric:
    messages = counter(
        "cadency_inbound_messages",
        "Messages read from watched folders, by status, label and decision.",
        ["status", "label", "decision"],
    )
    rows = (
        InboundMessage.objects.values_list("status", "label", "decision")
        .annotate(n=Count("pk"))
        .order_by("status", "label", "decision")
    )
    for status, label, decision, n in rows:
        messages.add_metric([status, label or "none", decision or "none"], n)
    return messages


def open_alerts() -> Metric:
    alerts = gauge("cadency_open_alerts", "Alerts neither resolved nor dismissed.", ["kind"])
    rows = (
        Alert.objects.filter(resolved_at=None, dismissed_at=None)
        .values_list("kind")
        .annotate(n=Count("pk"))
        .order_by("kind")
    )
    for kind, n in rows:
        alerts.add_metric([kind], n)
    return alerts


class CadencyCollector:
    """Reads the metrics from the database on each scrape (a Prometheus collector).

    The live figures (queues, lags, mailboxes, alerts) read small indexed sets; the
    history totals (sends, enrollments, inbound mail) count whole tables, which at a
    million enrollments takes a fraction of a second: ``history=False`` leaves them out.
    """

    def __init__(self, *, history: bool) -> None:
        self.history = history

    def collect(self) -> Iterator[Metric]:
        started = time.perf_counter()
        now = timezone.now()
        yield from task_queue(now)
        yield from due_steps(now)
        yield from mailboxes(now)
        yield open_alerts()
        if self.history:
            yield from sends(now)
            yield from enrollments()
            yield inbound()
        yield GaugeMetricFamily(
            "cadency_metrics_collect_seconds",
            "How long the queries behind this scrape took.",
            value=time.perf_counter() - started,
        )

    def describe(self) -> Iterator[Metric]:
        """Nothing to declare up front (registering must not query the database)."""
        return iter(())


def registry_of(collector: CadencyCollector) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry


# /metrics serves everything; /metrics?scope=live only the cheap, fast-moving figures.
REGISTRIES = {
    "all": registry_of(CadencyCollector(history=True)),
    "live": registry_of(CadencyCollector(history=False)),
}


def may_scrape(request: HttpRequest) -> bool:
    token: str = settings.CADENCY_METRICS_TOKEN
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        given_bytes, token_bytes = given.strip().encode(), token.encode()
        return scheme.lower() == "bearer" and hmac.compare_digest(given_bytes, token_bytes)
    proxied = any(name in request.headers for name in PROXY_HEADERS)
    return request.META.get("REMOTE_ADDR") in LOOPBACK and not proxied


@login_not_required
@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not may_scrape(request):
        return refusal()
    registry = REGISTRIES.get(request.GET.get("scope", "all"))
    if registry is None:
        return HttpResponse(
            f"Unknown scope; use one of: {', '.join(REGISTRIES)}.\n",
            status=400,
            content_type="text/plain",
        )
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encode(registry), content_type=content_type)


def refusal() -> HttpResponse:
    if settings.CADENCY_METRICS_TOKEN:
        response = HttpResponse(
            "A valid bearer token is required (Authorization: Bearer <CADENCY_METRICS_TOKEN>).\n",
            status=401,
            content_type="text/plain",
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(
        "Metrics are served to loopback clients only; set CADENCY_METRICS_TOKEN to scrape "
        "from elsewhere.\n",
        status=403,
        content_type="text/plain",
    )
