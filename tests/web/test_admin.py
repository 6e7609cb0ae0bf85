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
