"""A batch send writes each 250 as it comes, not after the whole batch: a worker
killed while a slow server still answers must not make accepted mail look unsent."""

import time
from typing import Any

import pytest
from django.db import connection

from cadency.mailboxes.models import Mailbox
from cadency.outbound.smtp_send import SendOutcome, SendStatus
from cadency.sequences.models import StepRun, StepRunState
from cadency.sequences.services import execution
from cadency.sequences.services.claiming import claim
from cadency.sequences.services.enrollment import enroll
from tests.factories import make_contact, make_mailbox, make_sequence, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_first_answer_of_a_batch_is_recorded_before_the_slow_one_arrives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rep = make_user("alice")
    make_mailbox(rep)
    sequence = make_sequence(rep)
    fast, slow = (
        enroll(contact=make_contact(email), sequence=sequence, user=rep, run_first_step=False)
        for email in ("fast@acme.test", "slow@acme.test")
    )
    fast_run = fast.step_runs.get()
    seen: dict[str, str] = {}

    def send(mailbox: Mailbox, raw: bytes, recipient: str) -> SendOutcome:
        if recipient == "slow@acme.test":
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                state = StepRun.objects.get(pk=fast_run.pk).state
                if state != StepRunState.SENDING:
                    break
                time.sleep(0.05)
            seen["fast run while the slow one waits"] = state
            connection.close()  # this sending thread's own; the test database is dropped after
        return SendOutcome(SendStatus.ACCEPTED, 250, "2.0.0 Ok")

    monkeypatch.setattr(execution, "send_message", send)
    claimed: Any = claim(fast_run.pk, batch=2)
    assert isinstance(claimed, list) and len(claimed) == 2
    execution.send_claimed(claimed)
    assert seen == {"fast run while the slow one waits": StepRunState.ACCEPTED}
    assert {r.state for r in StepRun.objects.filter(enrollment__in=[fast, slow], position=1)} == {
        StepRunState.SENT
    }
