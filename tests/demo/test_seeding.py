"""The demo's data: created once, brought up to date on every run, contacts enrolled."""

import pytest
from django.test import Client

from cadency.accounts.models import User
from cadency.contacts.models import Contact, Suppression, SuppressionReason
from cadency.demo.seeding import (
    CONTACTS,
    REP_PASSWORD,
    REP_USERNAME,
    DemoData,
    MailServers,
    enroll_demo_contacts,
    seed_demo,
)
from cadency.mailboxes.models import Mailbox, Security
from cadency.sequences.models import Enrollment, Sequence, UnenrollReason
from cadency.sequences.services.enrollment import unenroll

pytestmark = pytest.mark.django_db


def test_seeding_creates_the_rep_the_mailbox_the_contacts_and_a_three_step_sequence(
    demo: DemoData, servers: MailServers
) -> None:
    assert demo.rep.username == REP_USERNAME
    assert demo.rep.check_password(REP_PASSWORD)
    mailbox = demo.mailbox
    assert (mailbox.email, mailbox.smtp_host, mailbox.imap_host) == (
        "rep@example.test",
        "127.0.0.1",
        "127.0.0.1",
    )
    assert (mailbox.smtp_port, mailbox.imap_port) == (servers.smtp_port, servers.imap_port)
    assert mailbox.secret == servers.password
    assert [c.email for c in demo.contacts] == [row[0] for row in CONTACTS]
    assert {c.company.name for c in demo.contacts if c.company} == {"Acme", "Globex"}
    steps = list(demo.sequence.current_steps())
    assert [(s.position, s.delay) for s in steps] == [(1, 0), (2, 1), (3, 2)]
    assert not demo.sequence.business_days_only
    assert len(demo.sequence.send_days) == 7


def test_the_rep_signs_in_with_the_password_the_demo_prints(demo: DemoData) -> None:
    assert Client().login(username=REP_USERNAME, password=REP_PASSWORD)


def test_enrolling_puts_every_demo_contact_in_the_sequence_and_leaves_sending_to_the_worker(
    demo: DemoData,
) -> None:
    enrolled = enroll_demo_contacts(demo)

    assert enrolled.refused == []
    assert sorted(e.email for e in enrolled.enrollments) == sorted(row[0] for row in CONTACTS)
    for enrollment in enrolled.enrollments:
        assert enrollment.status == "active"
        assert enrollment.mailbox == demo.mailbox
        assert enrollment.step_runs.get().state == "scheduled"


def test_seeding_and_enrolling_again_changes_nothing(demo: DemoData, servers: MailServers) -> None:
    enroll_demo_contacts(demo)

    again = seed_demo(servers)
    enrolled_again = enroll_demo_contacts(again)

    assert enrolled_again.enrollments == []
    assert User.objects.filter(username=REP_USERNAME).count() == 1
    assert Mailbox.objects.count() == 1
    assert Sequence.objects.count() == 1
    assert Contact.objects.count() == len(CONTACTS)
    assert Enrollment.objects.count() == len(CONTACTS)


def test_seeding_again_follows_the_servers_ports_and_restores_the_password(
    demo: DemoData,
) -> None:
    demo.rep.set_password("changed by someone")
    demo.rep.save()
    Mailbox.objects.filter(pk=demo.mailbox.pk).update(smtp_security=Security.NONE)

    again = seed_demo(MailServers(smtp_port=3225, imap_port=1843, password="secret"))

    mailbox = Mailbox.objects.get(pk=demo.mailbox.pk)
    assert again.mailbox.pk == mailbox.pk
    assert (mailbox.smtp_port, mailbox.imap_port) == (3225, 1843)
    assert mailbox.smtp_security == Security.STARTTLS
    assert User.objects.get(pk=demo.rep.pk).check_password(REP_PASSWORD)


def test_a_contact_whose_enrollment_ended_is_enrolled_again(demo: DemoData) -> None:
    first = enroll_demo_contacts(demo).enrollments[0]
    unenroll(enrollment=first, reason=UnenrollReason.REPLIED)

    again = enroll_demo_contacts(demo)

    assert [e.contact_id for e in again.enrollments] == [first.contact_id]
    assert Enrollment.objects.filter(contact_id=first.contact_id).count() == 2


def test_a_contact_cadency_may_not_email_is_reported_and_the_others_are_enrolled(
    demo: DemoData,
) -> None:
    Suppression.objects.create(email="bob@globex.test", reason=SuppressionReason.UNSUBSCRIBED)

    enrolled = enroll_demo_contacts(demo)

    assert len(enrolled.enrollments) == len(CONTACTS) - 1
    assert len(enrolled.refused) == 1
    assert enrolled.refused[0].startswith("bob@globex.test: ")
    assert "suppressed" in enrolled.refused[0]
    assert not Enrollment.objects.filter(email="bob@globex.test").exists()
