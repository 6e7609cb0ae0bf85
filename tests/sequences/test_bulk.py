from typing import Any

import pytest

from cadency.automation.models import TriggerType, WorkflowRun
from cadency.automation.services.workflows import create_workflow
from cadency.ledger.models import Event
from cadency.sequences.models import (
    Enrollment,
    EnrollmentStatus,
    StepRun,
    StepRunState,
    Task,
    TaskStatus,
    UnenrollReason,
)
from cadency.sequences.services import bulk
from cadency.sequences.services.bulk import unenroll_many
from cadency.sequences.services.enrollment import enroll, unenroll
from cadency.sequences.services.execution import execute_step_run
from tests.automation.support import queued, run_automation
from tests.factories import make_contact, make_mailbox, make_sequence, make_user
from tests.sequences.test_unenroll import CALL_THEN_EMAIL

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep() -> Any:
    user = make_user("alice")
    make_mailbox(user)
    return user


def enrolled(rep: Any, count: int, **kwargs: Any) -> list[Enrollment]:
    sequence = make_sequence(rep, name="Spring outreach", **kwargs)
    return [
        enroll(contact=make_contact(), sequence=sequence, user=rep, run_first_step=False)
        for _ in range(count)
    ]


def test_each_enrollment_ends_manual_with_its_own_ledger_row(rep: Any) -> None:
    enrollments = enrolled(rep, 3)
    ids = [e.pk for e in enrollments]
    assert unenroll_many(enrollment_ids=ids, reason=UnenrollReason.MANUAL, actor=rep) == 3
    for enrollment in enrollments:
        enrollment.refresh_from_db()
        assert enrollment.status == EnrollmentStatus.UNENROLLED
        assert enrollment.reason == "manual"
        assert enrollment.ended_by == rep
        assert enrollment.ended_at is not None
        assert enrollment.evidence == {"bulk": True}
        assert "in bulk (Manual)" in enrollment.reason_text
        (event,) = Event.objects.filter(enrollment=enrollment, kind="unenrolled")
        assert event.contact_id == enrollment.contact_id
        assert event.sequence_id == enrollment.sequence_id
        assert event.actor == rep
        assert event.occurred_at == enrollment.ended_at
        assert event.data == {"reason": "manual", "bulk": True, "evidence": {}}
        assert event.sentence.startswith(f"{rep.display_name} unenrolled {enrollment.email} ")
        assert "from «Spring outreach» in bulk (Manual) on " in event.sentence


def test_pending_work_is_cancelled_but_what_was_done_stays(rep: Any) -> None:
    (done, waiting) = enrolled(rep, 2, steps=CALL_THEN_EMAIL)
    execute_step_run(done.step_runs.get().pk)  # the call task is created, the email scheduled
    task = Task.objects.get(step_run__enrollment=done)
    unenroll_many(enrollment_ids=[done.pk, waiting.pk], reason=UnenrollReason.MANUAL, actor=rep)
    task.refresh_from_db()
    assert task.status == TaskStatus.CANCELLED, "the open task is cancelled, not deleted"
    runs = dict(StepRun.objects.filter(enrollment=done).values_list("position", "state"))
    assert runs == {1: StepRunState.DONE, 2: StepRunState.CANCELLED}
    assert waiting.step_runs.get().state == StepRunState.CANCELLED


def test_unknown_repeated_and_already_ended_ids_change_nothing_more(rep: Any) -> None:
    first, second = enrolled(rep, 2)
    unenroll(enrollment=first, reason=UnenrollReason.REPLIED)
    ids = [first.pk, second.pk, second.pk, 987654]
    assert unenroll_many(enrollment_ids=ids, reason=UnenrollReason.MANUAL, actor=rep) == 1
    first.refresh_from_db()
    assert first.reason == "replied"
    assert Event.objects.filter(kind="unenrolled", enrollment=second).count() == 1
    assert unenroll_many(enrollment_ids=ids, reason=UnenrollReason.MANUAL, actor=rep) == 0
    assert Event.objects.filter(kind="unenrolled").count() == 2


def test_chunks_add_up(rep: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk, "BULK_CHUNK", 2)
    ids = [e.pk for e in enrolled(rep, 5)]
    assert unenroll_many(enrollment_ids=ids, reason=UnenrollReason.MANUAL) == 5
    assert not Enrollment.objects.filter(status=EnrollmentStatus.ACTIVE).exists()
    sentences = Event.objects.filter(kind="unenrolled").values_list("sentence", flat=True)
    assert len(sentences) == 5
    assert all(s.startswith("Cadency unenrolled ") for s in sentences)


def test_a_workflow_on_enrollment_ended_runs_for_each_bulk_unenrollment(rep: Any) -> None:
    enrollments = enrolled(rep, 3)
    workflow = create_workflow(
        owner=rep,
        enabled=True,
        name="Note the end",
        trigger_type=TriggerType.ENROLLMENT_ENDED,
        trigger_filters={"reason": "manual"},
        conditions=[],
        actions=[{"type": "create_task", "title": "Follow up", "assignee": "workflow_owner"}],
    )
    unenroll_many(
        enrollment_ids=[e.pk for e in enrollments], reason=UnenrollReason.MANUAL, actor=rep
    )
    run_automation()
    assert WorkflowRun.objects.filter(workflow=workflow).count() == 3
    assert Task.objects.filter(title="Follow up").count() == 3


def test_nothing_is_queued_for_automation_when_nothing_listens(rep: Any) -> None:
    ids = [e.pk for e in enrolled(rep, 3)]
    unenroll_many(enrollment_ids=ids, reason=UnenrollReason.MANUAL, actor=rep)
    assert queued() == []
