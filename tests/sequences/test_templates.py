"""Personalisation tokens and fallbacks."""

import pytest

from cadency.sequences.services.templates import (
    MissingToken,
    TemplateError,
    check_template,
    render,
)
from tests.factories import make_company, make_contact, make_user

pytestmark = pytest.mark.django_db


def test_it_fills_contact_company_and_sender_tokens() -> None:
    rep = make_user("alice", first_name="Alice")
    contact = make_contact("jane@acme.test", first_name="Jane", company=make_company())
    text = "Hi {{ contact.first_name }} at {{company.name}}, {{ sender.first_name }} here"
    assert render(text, contact=contact, sender=rep) == "Hi Jane at Acme, Alice here"


def test_it_uses_the_fallback_when_the_value_is_empty() -> None:
    contact = make_contact(first_name="")
    assert (
        render('Hi {{ contact.first_name | "there" }}', contact=contact, sender=make_user())
        == "Hi there"
    )


def test_it_reads_custom_properties() -> None:
    contact = make_contact(properties={"plan": "Pro"})
    assert render("On {{ contact.plan }}", contact=contact, sender=make_user()) == "On Pro"


def test_a_missing_value_without_fallback_is_refused() -> None:
    contact = make_contact(company=None)
    with pytest.raises(MissingToken, match=r"company\.name"):
        render("At {{ company.name }}", contact=contact, sender=make_user())


@pytest.mark.parametrize(
    "text",
    [
        "{{ contact.first_name",
        "{{ nobody.name }}",
        "{{ company.size }}",
        "{{ contact.first_name | there }}",
    ],
)
def test_malformed_or_unknown_tokens_are_rejected(text: str) -> None:
    with pytest.raises(TemplateError):
        check_template(text)
