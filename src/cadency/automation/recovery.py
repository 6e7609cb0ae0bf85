"""What the periodic sweep repairs for automation: reactions held by a worker that
died, and webhook deliveries whose retry task was lost. Re-running is safe: a
workflow runs at most once per event and contact, unenrolling twice changes
nothing, and a delivery is attempted only while it is pending."""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from cadency.automation.models import DeliveryStatus, WebhookDelivery

REACT_TASK = "cadency.automation.tasks.react"
DELIVER_TASK = "cadency.automation.tasks.deliver_webhook"
GRACE = dt.timedelta(seconds=60)


def requeue_stale_reactions() -> int:
    """Reactions a dead worker was running: marked failed and queued again."""
    from cadency.automation.tasks import react

    cutoff = timezone.now() - dt.timedelta(seconds=settings.CADENCY_SENDING_STALE_SECONDS)
    requeued = 0
    stale = DBTaskResult.objects.filter(
        task_path=REACT_TASK, status=TaskResultStatus.RUNNING, started_at__lt=cutoff
    ).order_by()
    for pk in list(stale.values_list("pk", flat=True)[:1000]):
        with transaction.atomic():
            result = (
                DBTaskResult.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, status=TaskResultStatus.RUNNING)
                .first()
            )
            if result is None:
                continue
            result.status = TaskResultStatus.FAILED
            result.finished_at = timezone.now()
            result.exception_class_path = "cadency.automation.recovery.WorkerLost"
            result.traceback = "The worker running this reaction stopped; queued again."
            result.save(
                update_fields=["status", "finished_at", "exception_class_path", "traceback"]
            )
            react.enqueue(*result.args_kwargs["args"], **result.args_kwargs["kwargs"])
            requeued += 1
    return requeued


def requeue_lost_deliveries() -> int:
    """Pending deliveries past their attempt time with no task waiting for them."""
    from cadency.automation.tasks import deliver_webhook

    overdue = list(
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lt=timezone.now() - GRACE
        ).values_list("pk", flat=True)[:1000]
    )
    if not overdue:
        return 0  # the usual case: the task table is not read at all
    waiting = {
        result.args_kwargs["args"][0]
        for result in DBTaskResult.objects.filter(
            task_path=DELIVER_TASK,
            status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING],
        )
        .order_by()
        .only("args_kwargs")
    }
    lost = [pk for pk in overdue if pk not in waiting]
    for pk in lost:
        deliver_webhook.enqueue(pk)
    return len(lost)
