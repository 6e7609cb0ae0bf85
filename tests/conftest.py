import os

import pytest
from pytest_django.fixtures import SettingsWrapper

from tests.mailstack import MailStack, mailstack_or_none


@pytest.fixture(autouse=True)
def cadency_test_settings(settings: SettingsWrapper) -> None:
    settings.CADENCY_ALLOW_TEST_DOMAINS = True
    settings.CADENCY_BASE_URL = "http://testserver"
    stack = mailstack_or_none()
    if stack is not None:
        settings.CADENCY_MAIL_CA_FILE = stack.ca_file
    from cadency.inbound.imap_pool import presend_connections
    from cadency.lib import crypto

    crypto._fernet.cache_clear()
    presend_connections.close_all()  # kept logins belong to the test that made them


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if mailstack_or_none() is not None:
        return
    if os.environ.get("CADENCY_REQUIRE_SERVICES"):
        raise pytest.UsageError(
            "CADENCY_REQUIRE_SERVICES is set but the loopback mail servers are not running: "
            "start them with scripts/services/start.sh and set CADENCY_TEST_SERVICES_DIR"
        )
    skip = pytest.mark.skip(reason="needs the loopback mail servers: run `make test`")
    for item in items:
        if "mail" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def mailstack() -> MailStack:
    stack = mailstack_or_none()
    assert stack is not None
    stack.empty_all_mailboxes()
    return stack
