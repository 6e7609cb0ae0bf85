"""Helpers for the contact and company page tests."""

from typing import Any

from django.test import Client

from cadency.accounts.models import User
from cadency.contacts.models import Contact
from cadency.sequences.models import Enrollment, Sequence
from cadency.sequences.services.enrollment import enroll


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def enrolled(contact: Contact, sequence: Sequence, user: User, **kwargs: Any) -> Enrollment:
    """An open enrollment whose first step has not run (no SMTP needed)."""
    return enroll(contact=contact, sequence=sequence, user=user, run_first_step=False, **kwargs)
