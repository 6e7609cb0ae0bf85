"""Completing or skipping a rep's task; a sequence waiting on it moves on."""

from django.db import transaction
from django.utils import timezone

from cadency.accounts.models import User
from cadency.ledger.services import record_event
from cadency.sequences.models import Enrollment, StepRun, StepRunState, Task, TaskStatus
from cadency.sequences.services.recording import advance


class TaskNotOpen(Exception):
    pass


def complete_task(*, task: Task, actor: User, skipped: bool = False) -> Task:
    with transaction.atomic():
        task = Task.objects.select_for_update().get(pk=task.pk)
        if task.status != TaskStatus.OPEN:
            raise TaskNotOpen(f"the task is already {task.status}")
        now = timezone.now()
        task.status = TaskStatus.SKIPPED if skipped else TaskStatus.COMPLETED
        task.completed_at = now
        task.save(update_fields=["status", "completed_at"])
        enrollment = None
        if task.step_run_id is not None:
            run = StepRun.objects.select_for_update().get(pk=task.step_run_id)
            enrollment = Enrollment.objects.select_for_update().get(pk=run.enrollment_id)
            if run.state == StepRunState.TASK_OPEN:
                run.state = StepRunState.DONE
                run.save(update_fields=["state"])
                advance(enrollment, run, now)
        record_event(
            kind="task_skipped" if skipped else "task_completed",
            contact=task.contact,
            enrollment=enrollment,
            actor=actor,
            sentence=f"{actor.display_name} {'skipped' if skipped else 'completed'} "
            f"the task “{task.title}”.",
            data={"task": task.pk},
        )
    return task
