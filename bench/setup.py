"""What every benchmark sets up: settings for a throwaway database, a rep with a
mailbox on the loopback servers, and a sequence whose window is always open."""

import os
from pathlib import Path
from typing import Any

from tests.mailstack import read_env

ALWAYS_OPEN = {
    "send_window": ["00:00", "23:59:59"],
    "send_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
    "business_days_only": False,
}


def configure(database: str, workdir: Path) -> dict[str, str]:
    """Point Django at a fresh SQLite file in ``workdir`` or the loopback PostgreSQL."""
    services = Path(os.environ["CADENCY_TEST_SERVICES_DIR"])
    env = read_env(services / "env")
    settings_env = {
        "DJANGO_SETTINGS_MODULE": "cadency.settings",
        "CADENCY_VAR_DIR": str(workdir),
        "CADENCY_ALLOW_TEST_DOMAINS": "1",
        "CADENCY_MAIL_CA_FILE": env["CADENCY_TEST_CA_FILE"],
        "CADENCY_LOG_LEVEL": "WARNING",
    }
    if database == "postgres":
        settings_env["DATABASE_URL"] = env["CADENCY_TEST_PG_URL"].rsplit("/", 1)[0] + "/bench"
    os.environ.update(settings_env)
    return settings_env


def reset_postgres_database() -> None:
    import psycopg

    url = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/cadency"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("DROP DATABASE IF EXISTS bench WITH (FORCE)")
        connection.execute("CREATE DATABASE bench")


def setup_django() -> None:
    """Load Django with the settings ``configure`` chose and migrate the database."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def rep_with_mailbox(username: str, **mailbox: Any) -> Any:
    """A rep and their mailbox on the loopback servers (after ``setup_django``)."""
    from tests.factories import make_user
    from tests.mailstack import mailstack_or_none

    from cadency.mailboxes.models import Security
    from cadency.mailboxes.services import add_mailbox

    stack = mailstack_or_none()
    assert stack is not None
    rep = make_user(username, first_name=username.capitalize(), last_name="Rep")
    add_mailbox(
        user=rep,
        email="rep@example.test",
        secret=stack.password,
        smtp_host="127.0.0.1",
        smtp_port=stack.smtp_port,
        smtp_security=Security.STARTTLS,
        imap_host="127.0.0.1",
        imap_port=stack.imap_port,
        imap_security=Security.STARTTLS,
        **{"daily_limit": 1_000_000, "per_minute_limit": 1_000_000, **mailbox},
    )
    return rep


def always_open_sequence(owner: Any, name: str, steps: list[dict[str, Any]]) -> Any:
    from cadency.sequences.services.authoring import create_sequence

    return create_sequence(
        owner=owner, spec={"name": name, "settings": ALWAYS_OPEN, "steps": steps}
    )
