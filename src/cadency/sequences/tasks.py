"""Background tasks: thin wrappers that load by id and call a service."""

from django.conf import settings
from django_tasks import task

from cadency.sequences.services import execution


@task(queue_name="mail")
def run_step(step_run_id: int) -> str:
    return execution.execute_step_run(step_run_id, batch=settings.CADENCY_SEND_BATCH).value


@task(queue_name="mail")
def save_sent_copy(step_run_id: int) -> str:
    return execution.save_sent_copy(step_run_id).value
