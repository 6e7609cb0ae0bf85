"""Putting step runs on the task queue, in the caller's transaction."""

from cadency.sequences.models import StepRun


def enqueue_step_run(run: StepRun) -> None:
    """Queue the run for its due time. Call inside the transaction that scheduled it:
    with the database backend the task row commits (or rolls back) with the change."""
    from cadency.sequences.tasks import run_step

    result = run_step.using(run_after=run.due_at).enqueue(run.pk)
    run.task_id = result.id
    StepRun.objects.filter(pk=run.pk).update(task_id=run.task_id)
