"""A burst (more due emails of a mailbox than a batch) goes on batch after batch in
one task, each batch's inbox read before it is sent, while the batch before it is
with the SMTP server; an inbox that cannot be read ends the burst."""

import threading
from typing import Any

import pytest

from cadency.mailboxes.models import Mailbox
from cadency.outbound.smtp_send import SendOutcome, SendStatus
from cadency.sequences.models import Enrollment, StepRun, StepRunState
from cadency.sequences.services import execution, presend
from cadency.sequences.services.enrollment import enroll
from cadency.sequences.services.runs import ClaimedSend, RunOutcome
from tests.factories import make_contact, make_mailbox, make_sequence, make_user

pytestmark = pytest.mark.django_db(transaction=True)

Checked = tuple[list[ClaimedSend], dict[int, RunOutcome]]


def due_enrollments(count: int) -> list[Enrollment]:
    rep = make_user("alice")
    make_mailbox(rep)
    sequence = make_sequence(rep)
    return [
        enroll(
            contact=make_contact(f"contact{n:03d}@acme.test"),
            sequence=sequence,
            user=rep,
            run_first_step=False,
        )
        for n in range(1, count + 1)
    ]


def first_runs() -> list[StepRun]:
    return list(StepRun.objects.filter(position=1).order_by("pk"))


def test_a_burst_is_sent_batch_after_batch_each_checked_for_replies_before_its_sends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run_of = {e.email: e.step_runs.get(position=1).pk for e in due_enrollments(7)}
    history: list[tuple[str, int]] = []
    lock = threading.Lock()

    def check(sends: list[ClaimedSend]) -> Checked:
        with lock:
            history.extend(("checked", s.run_id) for s in sends)
        return sends, {}

    def send(mailbox: Mailbox, raw: bytes, recipient: str) -> SendOutcome:
        with lock:
            history.append(("sent", run_of[recipient]))
        return SendOutcome(SendStatus.ACCEPTED, 250, "2.0.0 Ok")

    monkeypatch.setattr(execution, "check_inbox_before_sending", check)
    monkeypatch.setattr(execution, "send_message", send)

    assert execution.execute_step_run(first_runs()[0].pk, batch=3) == RunOutcome.SENT

    runs = first_runs()
    assert {r.state for r in runs} == {StepRunState.SENT}
    sent = [run_id for event, run_id in history if event == "sent"]
    assert sorted(sent) == [r.pk for r in runs], "each run sent exactly once"
    for run_id in sent:
        assert history.index(("checked", run_id)) < history.index(("sent", run_id))


def test_a_burst_ends_when_the_inbox_cannot_be_read(monkeypatch: pytest.MonkeyPatch) -> None:
    due_enrollments(7)
    checks: list[list[int]] = []

    def check(sends: list[ClaimedSend]) -> Checked:
        checks.append([s.run_id for s in sends])
        if len(checks) == 1:
            return sends, {}
        presend.hold(sends, "the IMAP server did not answer")
        return [], {s.run_id: RunOutcome.HELD for s in sends}

    def send(mailbox: Mailbox, raw: bytes, recipient: str) -> SendOutcome:
        return SendOutcome(SendStatus.ACCEPTED, 250, "2.0.0 Ok")

    monkeypatch.setattr(execution, "check_inbox_before_sending", check)
    monkeypatch.setattr(execution, "send_message", send)

    execution.execute_step_run(first_runs()[0].pk, batch=3)

    assert len(checks) == 2, "no batch is claimed after the inbox failed"
    states: dict[Any, int] = {}
    for run in first_runs():
        key = (run.state, run.attempts, run.pk in checks[1])
        states[key] = states.get(key, 0) + 1
    assert states == {
        (StepRunState.SENT, 1, False): 3,
        (StepRunState.SCHEDULED, 1, True): 3,  # held, to be tried again shortly
        (StepRunState.SCHEDULED, 0, False): 1,  # never claimed
    }
