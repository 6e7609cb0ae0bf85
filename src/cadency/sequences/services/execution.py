"""Running due steps: claim under row locks, send outside them, record the outcome.

The states make a crash safe (docs/architecture.md, "Why nothing is sent twice"):
``scheduled`` → ``sending`` (committed, with the message's bytes and Message-ID
fixed) → SMTP → ``accepted`` (written the moment the server says 250) → ``sent``
(ledger written, next step scheduled). A run found in ``sending`` after a crash
is resolved by looking for its Message-ID in the mailbox's Sent folder before
any resend; one found in ``accepted`` only needs its bookkeeping finished.

A burst (more due emails of a mailbox than a batch) goes on in the same task for
a few seconds, batch after batch: while one batch is with the SMTP server, the
next is claimed and its inbox read, so the server is kept busy instead of
waiting for each pre-send read.
"""

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from functools import cache

from django.conf import settings
from django.db import connections

from cadency.mailboxes.models import SentCopy
from cadency.mailboxes.sent_folder import file_in_sent
from cadency.outbound.models import SentMessage
from cadency.outbound.smtp_send import SendOutcome, SendStatus, send_message
from cadency.sequences.models import StepRun
from cadency.sequences.services.claiming import claim, claim_more
from cadency.sequences.services.presend import check_inbox_before_sending
from cadency.sequences.services.recording import (
    mark_accepted,
    mark_mailbox_working,
    record_accepted,
    record_failure,
)
from cadency.sequences.services.runs import ClaimedSend, RunOutcome

__all__ = ["RunOutcome", "execute_step_run", "save_sent_copy", "send_claimed"]


# How long one task keeps a burst going before other tasks get the worker.
BURST_SECONDS = 5.0


def execute_step_run(step_run_id: int, *, batch: int = 1) -> RunOutcome:
    """Run one due step (and, with ``batch`` > 1, other due emails of its mailbox).
    Returns what happened to the step run that was asked for."""
    claimed = claim(step_run_id, batch=batch)
    if isinstance(claimed, RunOutcome):
        return claimed
    if isinstance(claimed, list) and len(claimed) == batch > 1:
        return send_burst(claimed, batch)[step_run_id]
    claimed = claimed if isinstance(claimed, list) else [claimed]
    sends, outcomes = check_inbox_before_sending(claimed)
    if sends:
        outcomes.update(send_claimed(sends))
    return outcomes[step_run_id]


def send_burst(claimed: list[ClaimedSend], batch: int) -> dict[int, RunOutcome]:
    """Send a full batch and the mailbox's next ones: each batch is claimed and
    its inbox read while the one before it is being sent (in ``_burst_sender``'s
    thread, which writes each 250 as it arrives, then the batch's bookkeeping).
    A mailbox whose inbox cannot be read ends the burst."""
    mailbox = claimed[0].mailbox
    deadline = time.monotonic() + BURST_SECONDS
    sends, outcomes = check_inbox_before_sending(claimed)
    overlapped = False
    try:
        while (
            RunOutcome.HELD not in outcomes.values()
            and time.monotonic() < deadline
            and (following := claim_more(mailbox, batch))
        ):
            overlapped = True
            sending = _burst_sender().submit(send_claimed, sends)
            try:
                following, held = check_inbox_before_sending(following)
                outcomes.update(held)
            finally:
                outcomes.update(sending.result())
            sends = following
    finally:
        if overlapped:  # the thread's own database connection
            _burst_sender().submit(connections.close_all).result()
    outcomes.update(send_claimed(sends))
    return outcomes


@cache
def _burst_sender() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="cadency-burst")


def send_claimed(sends: list[ClaimedSend]) -> dict[int, RunOutcome]:
    """Send each claimed message, over parallel connections for a batch, then record."""
    accepted: list[int] = []
    outcomes: dict[int, RunOutcome] = {}
    for claimed, outcome in _deliver(sends):
        if outcome.status == SendStatus.ACCEPTED:
            mark_accepted(claimed.run_id)
            accepted.append(claimed.run_id)
            outcomes[claimed.run_id] = RunOutcome.SENT
        else:
            outcomes[claimed.run_id] = record_failure(claimed, outcome)
    if accepted:
        mark_mailbox_working(sends[0].mailbox)
        record_accepted(accepted, mailbox=sends[0].mailbox)
    return outcomes


def _deliver(sends: list[ClaimedSend]) -> Iterator[tuple[ClaimedSend, SendOutcome]]:
    """Each send's outcome as soon as its server answers, so that a 250 is written
    (``mark_accepted``) before the rest of the batch is waited for: a crash in the
    middle of a batch must not make the messages already accepted look unsent."""
    if len(sends) == 1:
        only = sends[0]
        yield only, send_message(only.mailbox, only.raw, only.recipient)
        return
    futures = {_senders().submit(send_message, c.mailbox, c.raw, c.recipient): c for c in sends}
    for future in as_completed(futures):
        yield futures[future], future.result()


@cache
def _senders() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(
        max_workers=settings.CADENCY_SMTP_CONNECTIONS, thread_name_prefix="cadency-smtp"
    )


def save_sent_copy(step_run_id: int) -> RunOutcome:
    run = StepRun.objects.select_related("mailbox").get(pk=step_run_id)
    if run.sent_copy_saved or run.mailbox.sent_copy != SentCopy.APPEND:
        return RunOutcome.COPY_NOT_NEEDED
    message = SentMessage.objects.get(step_run=run)
    file_in_sent(run.mailbox, message.message_id, bytes(message.raw))
    StepRun.objects.filter(pk=run.pk).update(sent_copy_saved=True)
    return RunOutcome.COPY_SAVED
