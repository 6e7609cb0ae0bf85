"""Schemathesis over the OpenAPI document: generated requests, valid and invalid,
against the Django app in-process (WSGI), authenticated with a manager's token;
no answer may be a server error, and every answer must match the document."""

from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from cadency.accounts.models import Role, User
from cadency.accounts.tokens import create_token
from cadency.inbound.classification import Label
from tests.api.support import enrolled, task_first_sequence
from tests.factories import make_company, make_contact, make_mailbox, make_sequence, make_user
from tests.inbound.support import classified, process, reply_to
from tests.inbound.support import enrolled as enrolled_with_sent_mail

EXAMPLES_PER_OPERATION = 25

CONFIG = SchemathesisConfig.from_dict(
    {
        # Valid and invalid requests; unknown query parameters are ignored by design.
        "generation": {
            "mode": "all",
            "max-examples": EXAMPLES_PER_OPERATION,
            "allow-extra-parameters": False,
        },
        # A schema-valid request may still be refused: for what the schema cannot say
        # (400: an address email-validator refuses, an unknown time zone, a step rule),
        # an unknown id (404), the object's state (409) or a business rule (422). Never
        # for the token (401, 403 on its own data) and never a server error.
        "checks": {
            "positive_data_acceptance": {"expected-statuses": ["2xx", "400", "404", "409", "422"]}
        },
    }
)
schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json", get_wsgi_application(), config=CONFIG
)


@pytest.fixture
def keep_the_test_connection() -> Iterator[None]:
    """The WSGI handler closes old database connections around each request, as in
    production; the test's transaction needs its connection open (Django's test
    client disconnects the same receivers)."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def token(db: None, keep_the_test_connection: None) -> str:
    """A manager (acts on everything) and a little of every kind of record, with small
    ids, so that generated ids often name real objects."""
    manager = make_user("maya", role=Role.MANAGER)
    make_mailbox(manager)
    rep: User = make_user("rex")
    make_mailbox(rep)
    acme = make_company("Acme", "acme.test")
    contacts = [make_contact(f"c{i}@acme.test", company=acme) for i in range(1, 4)]
    sequence = task_first_sequence(manager)
    enrolled(manager, sequence, contacts[0])
    enrolled(rep, sequence, contacts[1])
    email_sequence = make_sequence(rep, name="Emails")
    replied = enrolled_with_sent_mail(rep, make_contact("r@acme.test"), email_sequence)
    process(rep.mailboxes.get(), classified(Label.AUTO_REPLY), **reply_to(replied))
    return create_token(user=manager, name="schemathesis").secret


@schema.parametrize()
@settings(
    deadline=None,
    max_examples=EXAMPLES_PER_OPERATION,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_the_api_never_answers_a_server_error(case: schemathesis.Case, token: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"})
