import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from cadency.automation.models import DeliveryStatus, WebhookDelivery, WorkflowRun
from cadency.automation.recovery import requeue_lost_deliveries, requeue_stale_reactions
from cadency.contacts.editing import set_contact_field
from tests.automation.support import property_workflow, queued, run_automation
from tests.factories import make_contact

pytestmark = pytest.mark.django_db


def test_a_reaction_held_by_a_dead_worker_runs_again_once() -> None:
    property_workflow({"type": "create_task", "title": "t", "assignee": "workflow_owner"})
    contact = make_contact()
    set_contact_field(contact=contact, field="properties.a", value="1", actor=None)
    (task,) = queued("react")
    DBTaskResult.objects.filter(pk=task.pk).update(
        status="RUNNING", started_at=timezone.now() - dt.timedelta(hours=1)
    )
    assert requeue_stale_reactions() == 1
    assert requeue_stale_reactions() == 0
    run_automation()
    assert WorkflowRun.objects.filter(contact=contact).count() == 1
    assert DBTaskResult.objects.get(pk=task.pk).status == "FAILED"


def test_a_running_reaction_that_is_recent_is_left_alone() -> None:
    property_workflow({"type": "create_task", "title": "t", "assignee": "workflow_owner"})
    set_contact_field(contact=make_contact(), field="properties.a", value="1", actor=None)
    DBTaskResult.objects.update(status="RUNNING", started_at=timezone.now())
    assert requeue_stale_reactions() == 0


def test_a_pending_delivery_whose_task_was_lost_is_queued_again(settings: Any) -> None:
    settings.CADENCY_WEBHOOKS_ALLOW_HTTP = True
    property_workflow({"type": "webhook", "url": "http://127.0.0.1:9/hook"})
    set_contact_field(contact=make_contact(), field="properties.a", value="1", actor=None)
    run_automation(only="react")
    assert requeue_lost_deliveries() == 0  # its task is waiting
    DBTaskResult.objects.filter(task_path__endswith="deliver_webhook").delete()
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - dt.timedelta(hours=1))
    assert requeue_lost_deliveries() == 1
    assert len(queued("deliver_webhook")) == 1
    run_automation()
    assert WebhookDelivery.objects.get().status == DeliveryStatus.PENDING  # retrying


def test_the_periodic_sweep_does_both() -> None:
    from cadency.sequences.services.recovery import sweep

    property_workflow({"type": "create_task", "title": "t", "assignee": "workflow_owner"})
    set_contact_field(contact=make_contact(), field="properties.a", value="1", actor=None)
    DBTaskResult.objects.update(status="RUNNING", started_at=timezone.now() - dt.timedelta(hours=1))
    report = sweep()
    assert (report.reactions_requeued, report.webhook_deliveries_requeued) == (1, 0)
