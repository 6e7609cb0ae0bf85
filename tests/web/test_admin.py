"""Every model is reachable in the admin, and the ledger cannot be edited there."""

import pytest
from django.test import Client

from cadency.ledger.models import Event
from cadency.sequences.services.enrollment import enroll
from tests.factories import make_contact, make_mailbox, make_sequence, make_user

pytestmark = pytest.mark.django_db


def test_the_admin_lists_every_model_and_shows_an_enrollment() -> None:
    admin = make_user("root", role="admin", is_staff=True, is_superuser=True)
    make_mailbox(admin)
    enrollment = enroll(
        contact=make_contact(), sequence=make_sequence(admin), user=admin, run_first_step=False
    )
    client = Client()
    client.force_login(admin)
    for path in [
        "accounts/user",
        "contacts/contact",
        "contacts/company",
        "contacts/suppression",
        "mailboxes/mailbox",
        "sequences/sequence",
        "sequences/enrollment",
        "sequences/steprun",
        "sequences/task",
        "ledger/event",
        "outbound/sentmessage",
    ]:
        assert client.get(f"/admin/{path}/").status_code == 200, path
    page = client.get(f"/admin/sequences/enrollment/{enrollment.pk}/change/")
    assert page.status_code == 200
    event = Event.objects.first()
    assert event is not None
    assert (
        client.post(f"/admin/ledger/event/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert Event.objects.filter(pk=event.pk).exists()


def test_the_admin_unenrolls_only_what_a_rep_may_act_on() -> None:
    from django.contrib.auth.models import Permission

    alice = make_user("alice", is_staff=True, role="rep")
    alice.user_permissions.add(Permission.objects.get(codename="view_enrollment"))
    bob = make_user("bob")
    for rep in (alice, bob):
        make_mailbox(rep)
    mine = enroll(
        contact=make_contact(), sequence=make_sequence(alice), user=alice, run_first_step=False
    )
    theirs = enroll(
        contact=make_contact(), sequence=make_sequence(bob), user=bob, run_first_step=False
    )
    client = Client()
    client.force_login(alice)
    response = client.post(
        "/admin/sequences/enrollment/",
        {"action": "unenroll_selected", "index": 0, "_selected_action": [mine.pk, theirs.pk]},
        follow=True,
    )
    assert b"1 enrollments ended" in response.content
    assert b"belong to other reps" in response.content
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.status, mine.reason, mine.ended_by) == ("unenrolled", "manual", alice)
    assert theirs.status == "active"


def test_a_mailbox_secret_is_stored_encrypted_from_the_admin_form() -> None:
    admin = make_user("root", role="admin", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    response = client.post(
        "/admin/mailboxes/mailbox/add/",
        {
            "user": admin.pk,
            "email": "root@example.test",
            "display_name": "Root",
            "username": "root@example.test",
            "auth_method": "password",
            "secret": "s3cret!",
            "smtp_host": "127.0.0.1",
            "smtp_port": 2525,
            "smtp_security": "starttls",
            "imap_host": "127.0.0.1",
            "imap_port": 1143,
            "imap_security": "starttls",
            "sent_folder": "Sent",
            "sent_copy": "append",
            "daily_limit": 100,
            "per_minute_limit": 10,
            "time_zone": "UTC",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    mailbox = admin.mailboxes.get()
    assert mailbox.secret == "s3cret!"
    assert "s3cret" not in mailbox.secret_encrypted
