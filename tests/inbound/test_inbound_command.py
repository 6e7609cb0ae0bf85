"""`cadency inbound`: list, reprocess, relabel."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from cadency.inbound.classification import Label
from cadency.inbound.models import InboundMessage, InboundStatus
from cadency.inbound.pipeline import store_message
from cadency.sequences.models import Enrollment
from tests.cli.conftest import Fails, Output, Run
from tests.factories import make_contact, make_user
from tests.inbound.support import classified, enrolled, process, rep, reply_to, stored

pytestmark = pytest.mark.django_db


@pytest.fixture
def run() -> Run:
    def runner(*args: str) -> Output:
        out, err = io.StringIO(), io.StringIO()
        call_command(*args, stdout=out, stderr=err)
        return Output(out.getvalue(), err.getvalue())

    return runner


@pytest.fixture
def fails() -> Fails:
    def runner(*args: str, match: str) -> Output:
        out, err = io.StringIO(), io.StringIO()
        with pytest.raises(CommandError, match=match):
            call_command(*args, stdout=out, stderr=err)
        return Output(out.getvalue(), err.getvalue())

    return runner


def fresh(enrollment: Enrollment) -> Enrollment:
    enrollment.refresh_from_db()
    return enrollment


def test_list_shows_messages_newest_first_with_filters(run: Run) -> None:
    user, mailbox = rep()
    enrollment = enrolled(user, make_contact("jane@acme.test"))
    done = process(mailbox, classified(), **reply_to(enrollment))
    broken, _ = store_message(mailbox=mailbox, folder="INBOX", uidvalidity=1, uid=99, raw=b"")
    table = run("inbound", "list").out
    assert "jane@acme.test" in table and "human_reply" in table and "unenrolled" in table
    listed = run("inbound", "list", "--mailbox", mailbox.email, "--json").json
    assert [m["id"] for m in listed] == [broken.pk, done.pk]
    assert listed[1]["decision"] == "unenrolled" and listed[1]["label"] == "human_reply"
    only = run("inbound", "list", "--status", "received", "--json").json
    assert [m["id"] for m in only] == [broken.pk]
    assert "No inbound messages match." in run("inbound", "list", "--status", "failed").out


def test_reprocess_one_message(run: Run) -> None:
    user, mailbox = rep()
    enrollment = enrolled(user, make_contact("jane@acme.test"))
    message = stored(mailbox, body="Yes, let us talk on Tuesday.\n", **reply_to(enrollment))
    InboundMessage.objects.filter(pk=message.pk).update(
        status=InboundStatus.FAILED, error="classify: boom"
    )
    result = run("inbound", "reprocess", "--message", str(message.pk), "--json")
    assert result.json == {"processed": 1, "failed": 0, "skipped": 0}
    message.refresh_from_db()
    assert (message.status, message.error) == ("processed", "")
    assert fresh(enrollment).reason == "replied"
    again = run("inbound", "reprocess", "--message", str(message.pk))
    assert "Processed 0, failed 0, skipped 1" in again.out


def test_reprocess_failed_reports_those_that_fail_again(run: Run, fails: Fails) -> None:
    _, mailbox = rep()
    store_message(mailbox=mailbox, folder="INBOX", uidvalidity=1, uid=1, raw=b"")
    result = fails("inbound", "reprocess", "--failed", match="1 message\\(s\\) failed again")
    assert "Processed 0, failed 1, skipped 0" in result.out
    failed = InboundMessage.objects.get()
    assert failed.status == InboundStatus.FAILED and failed.error.startswith("classify:")
    fails("inbound", "reprocess", "--mailbox", mailbox.email, match="failed again")


def test_reprocess_needs_one_choice_and_known_ids(fails: Fails) -> None:
    fails("inbound", "reprocess", "--message", "424242", match="no inbound message with id 424242")
    fails("inbound", "reprocess", "--mailbox", "nobody@example.test", match="no mailbox")


def test_relabel_from_the_command_line(run: Run, fails: Fails) -> None:
    user, mailbox = rep()
    make_user("bo")
    enrollment = enrolled(user, make_contact("jane@acme.test"))
    message = process(mailbox, classified(Label.AUTO_REPLY), **reply_to(enrollment))
    refused = "refused: .* may only relabel mail of their own mailboxes; nothing was changed"
    fails("inbound", "relabel", str(message.pk), "human_reply", "--as", "bo", match=refused)
    fails("inbound", "relabel", str(message.pk), "spam", "--as", "alice", match="unknown label")
    assert fresh(enrollment).status == "active"
    result = run("inbound", "relabel", str(message.pk), "human_reply", "--as", "alice")
    assert f"Message {message.pk} relabelled auto_reply → human_reply: unenrolled." in result.out
    assert fresh(enrollment).reason == "replied"
    data = run("inbound", "list", "--json").json[0]
    assert (data["original_label"], data["relabeled_by"]) == ("auto_reply", "alice")


def test_inbound_is_listed_among_the_commands() -> None:
    from cadency.cli import usage

    assert "inbound" in usage()
