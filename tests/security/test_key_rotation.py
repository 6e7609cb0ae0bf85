"""Secrets at rest: encrypted, readable across a key rotation, and `cadency keys`."""

import json
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection
from pytest_django.fixtures import SettingsWrapper

from cadency.accounts.models import User
from cadency.automation.models import Workflow
from cadency.calendars.models import CalendarConnection, CalendarKind
from cadency.lib import crypto
from cadency.mailboxes.key_rotation import ENCRYPTED_COLUMNS
from cadency.mailboxes.models import Mailbox
from tests.factories import make_mailbox, make_user

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()
MAILBOX_PASSWORD = "mailbox-pass-7f3a"
CALDAV_PASSWORD = "caldav-pass-91bc"
REFRESH_TOKEN = "refresh-token-55de"
WEBHOOK_SECRET = "webhook-secret-c0ffee"
PLAINTEXTS = (MAILBOX_PASSWORD, CALDAV_PASSWORD, REFRESH_TOKEN, WEBHOOK_SECRET)


def use_keys(settings: SettingsWrapper, *keys: str) -> None:
    settings.CADENCY_ENCRYPTION_KEYS = list(keys)
    crypto._fernet.cache_clear()


@pytest.fixture
def secrets_under_old_key(db: None, settings: SettingsWrapper) -> User:
    use_keys(settings, OLD_KEY)
    alice = make_user("alice")
    mailbox = make_mailbox(alice)
    mailbox.set_secret(MAILBOX_PASSWORD)
    mailbox.save()
    calendar = CalendarConnection(
        user=alice, kind=CalendarKind.CALDAV, name="Work", calendar_url="https://cal.example.test/"
    )
    calendar.set_secret(CALDAV_PASSWORD)
    calendar.set_refresh_token(REFRESH_TOKEN)
    calendar.save()
    workflow = Workflow(name="Notify", owner=alice, trigger_type="contact_created", actions=[])
    workflow.set_webhook_secret(WEBHOOK_SECRET)
    workflow.save()
    return alice


def plaintexts_read() -> tuple[str, ...]:
    calendar = CalendarConnection.objects.get()
    return (
        Mailbox.objects.get().secret,
        calendar.secret,
        calendar.refresh_token,
        Workflow.objects.get().webhook_secret,
    )


def raw_columns() -> list[str]:
    values = []
    with connection.cursor() as cursor:
        for column in ENCRYPTED_COLUMNS:
            table = column.model._meta.db_table
            cursor.execute(f"SELECT {column.column} FROM {table}")  # noqa: S608 (our names)
            values += [str(value) for (value,) in cursor.fetchall()]
    return values


def keys(*args: str) -> object:
    out = StringIO()
    call_command("keys", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def by_column(report: object) -> dict[str, dict[str, object]]:
    assert isinstance(report, list)
    return {entry["column"]: entry for entry in report}


def test_the_raw_columns_never_hold_the_plaintext(secrets_under_old_key: User) -> None:
    raw = raw_columns()
    assert len(raw) == 4
    for value in raw:
        assert value.startswith("gAAAA")  # a Fernet token
        assert not any(secret in value for secret in PLAINTEXTS)
    assert plaintexts_read() == PLAINTEXTS


def test_a_new_key_first_still_reads_the_old_secrets_and_rotate_moves_them(
    secrets_under_old_key: User, settings: SettingsWrapper
) -> None:
    use_keys(settings, NEW_KEY, OLD_KEY)
    assert plaintexts_read() == PLAINTEXTS
    before = by_column(keys("check"))
    assert all(entry["old_key"] == 1 for entry in before.values())

    rotated = by_column(keys("rotate", "--batch-size", "1"))
    assert {name: entry["rotated"] for name, entry in rotated.items()} == {
        "mailboxes.Mailbox.secret_encrypted": 1,
        "calendars.CalendarConnection.secret_encrypted": 1,
        "calendars.CalendarConnection.refresh_token_encrypted": 1,
        "automation.Workflow.webhook_secret_encrypted": 1,
    }
    for value in raw_columns():
        Fernet(NEW_KEY).decrypt(value.encode())  # the newest key alone reads it
        assert not any(secret in value for secret in PLAINTEXTS)

    use_keys(settings, NEW_KEY)  # the old key is gone
    assert plaintexts_read() == PLAINTEXTS
    after = by_column(keys("check"))
    assert all(entry["current"] == 1 and not entry["unreadable"] for entry in after.values())


def test_rotating_again_changes_nothing(
    secrets_under_old_key: User, settings: SettingsWrapper
) -> None:
    use_keys(settings, NEW_KEY, OLD_KEY)
    keys("rotate")
    raw = raw_columns()
    again = by_column(keys("rotate"))
    assert all(entry["rotated"] == 0 and entry["current"] == 1 for entry in again.values())
    assert raw_columns() == raw


def test_check_names_the_secrets_no_configured_key_reads(
    secrets_under_old_key: User, settings: SettingsWrapper
) -> None:
    use_keys(settings, NEW_KEY)  # the old key dropped before rotating
    out = StringIO()
    with pytest.raises(CommandError, match="4 secret"):
        call_command("keys", "check", stdout=out)
    text = out.getvalue()
    assert "unreadable: mailboxes.Mailbox.secret_encrypted id" in text
    assert "(alice@example.test)" in text and "(Notify)" in text


def test_rotate_leaves_unreadable_secrets_as_they_are_and_says_so(
    secrets_under_old_key: User, settings: SettingsWrapper
) -> None:
    raw = raw_columns()
    use_keys(settings, NEW_KEY)
    with pytest.raises(CommandError, match="cannot be read"):
        call_command("keys", "rotate", stdout=StringIO())
    assert raw_columns() == raw
    use_keys(settings, NEW_KEY, OLD_KEY)  # putting the old key back still works
    assert plaintexts_read() == PLAINTEXTS


def test_a_mailbox_secret_saved_under_a_new_key_is_left_alone(
    secrets_under_old_key: User, settings: SettingsWrapper
) -> None:
    use_keys(settings, NEW_KEY, OLD_KEY)
    mailbox = Mailbox.objects.get()
    mailbox.set_secret("a new password")
    mailbox.save()
    saved = Mailbox.objects.get().secret_encrypted
    report = by_column(keys("rotate"))["mailboxes.Mailbox.secret_encrypted"]
    assert report["rotated"] == 0 and report["current"] == 1
    assert Mailbox.objects.get().secret_encrypted == saved


def test_every_encrypted_column_is_rotated() -> None:
    """A new ``*_encrypted`` column must be added to key_rotation.ENCRYPTED_COLUMNS."""
    found = {
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if field.name.endswith("_encrypted")
    }
    assert found == {column.name for column in ENCRYPTED_COLUMNS}


def test_generate_prints_a_usable_key() -> None:
    out = StringIO()
    call_command("keys", "generate", stdout=out)
    Fernet(out.getvalue().strip().encode())


@pytest.mark.django_db
def test_secrets_saved_with_the_default_key_stay_readable_once_keys_are_listed(
    settings: SettingsWrapper,
) -> None:
    use_keys(settings)  # none listed: the key derived from the secret key
    mailbox = make_mailbox(make_user("alice"))
    mailbox.set_secret(MAILBOX_PASSWORD)
    mailbox.save()
    use_keys(settings, NEW_KEY)
    assert Mailbox.objects.get().secret == MAILBOX_PASSWORD
    keys("rotate")
    use_keys(settings, NEW_KEY)
    settings.SECRET_KEY = "another secret key entirely"
    crypto._fernet.cache_clear()
    assert Mailbox.objects.get().secret == MAILBOX_PASSWORD  # now under the listed key
