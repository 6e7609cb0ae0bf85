"""Helpers for the list page, API and command tests."""

from typing import Any

from django.test import Client

from cadency.accounts.models import Role, User
from cadency.automation.models import ContactList, ListMembership
from cadency.ledger.models import Event
from tests.factories import make_user


def make_rep(username: str) -> User:
    return make_user(username, first_name=username.capitalize(), last_name="Rep")


def make_manager() -> User:
    return make_user("maya", role=Role.MANAGER, first_name="Maya", last_name="Manager")


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def list_state() -> tuple[Any, ...]:
    """Everything a list action could change: equal before and after = nothing written."""
    return (
        list(ContactList.objects.order_by("pk").values_list("pk", "name", "kind", "conditions")),
        list(ListMembership.objects.order_by("pk").values_list("contact_list", "contact")),
        Event.objects.count(),
    )


def members(contact_list: ContactList) -> set[str]:
    return set(contact_list.memberships.values_list("contact__email", flat=True))
