import pytest
from django.test import Client

from cadency.sequences.services.enrollment import enroll
from tests.factories import make_contact, make_mailbox, make_sequence, make_user

pytestmark = pytest.mark.django_db


def test_a_refusal_says_why_and_that_nothing_changed() -> None:
    alice, bob = make_user("alice"), make_user("bob")
    make_mailbox(alice)
    enrollment = enroll(
        contact=make_contact(), sequence=make_sequence(alice), user=alice, run_first_step=False
    )
    client = Client()
    client.force_login(bob)
    response = client.post(f"/enrollments/{enrollment.pk}/unenroll/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "You may not do that" in page
    assert "another user" in page and "Nothing was changed" in page
    enrollment.refresh_from_db()
    assert enrollment.status == "active"
