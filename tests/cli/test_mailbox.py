import io

import pytest
from django.core.management.base import CommandError

from cadency.mailboxes.management.commands import mailbox as mailbox_command
from cadency.mailboxes.models import AuthMethod, Health, Mailbox, Security
from cadency.mailboxes.services import MailboxCheck
from tests.cli.conftest import Run
from tests.factories import make_mailbox, make_user

pytestmark = pytest.mark.django_db

ADD = [
    "mailbox", "add", "--user", "ada", "--email", "ada@example.test",
    "--smtp-host", "smtp.example.test", "--imap-host", "imap.example.test",
]  # fmt: skip


def checked(ok: bool, monkeypatch: pytest.MonkeyPatch) -> list[Mailbox]:
    """Replace the network check; record which mailboxes were checked."""
    seen: list[Mailbox] = []

    def fake_check(mailbox: Mailbox) -> MailboxCheck:
        seen.append(mailbox)
        errors = [] if ok else ["SMTP smtp.example.test:587: connection refused"]
        Mailbox.objects.filter(pk=mailbox.pk).update(health=Health.OK if ok else Health.FAILING)
        return MailboxCheck(ok, ok, ok, errors)

    monkeypatch.setattr(mailbox_command, "check_mailbox", fake_check)
    return seen


def test_it_adds_a_mailbox_without_testing_it(run: Run) -> None:
    make_user("ada")
    result = run(*ADD, "--password", "s3cret-pass", "--no-test", "--json")
    mailbox = Mailbox.objects.get()
    assert result.json["mailbox"]["email"] == "ada@example.test"
    assert result.json["check"] is None
    assert mailbox.secret == "s3cret-pass"
    assert "s3cret-pass" not in mailbox.secret_encrypted
    assert "s3cret-pass" not in result.out
    # ports follow the security choices when not given
    assert (mailbox.smtp_port, mailbox.smtp_security) == (587, Security.STARTTLS)
    assert (mailbox.imap_port, mailbox.imap_security) == (993, Security.TLS)


def test_it_reads_an_xoauth2_token_from_stdin_and_reports_the_test(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_user("ada")
    seen = checked(True, monkeypatch)
    monkeypatch.setattr("sys.stdin", io.StringIO("ya29.token-value\n"))
    result = run(
        *ADD, "--auth", "xoauth2", "--password-stdin", "--smtp-security", "tls",
        "--daily-limit", "200", "--per-minute-limit", "5", "--time-zone", "Europe/Paris",
    )  # fmt: skip
    mailbox = Mailbox.objects.get()
    assert mailbox.auth_method == AuthMethod.XOAUTH2
    assert mailbox.secret == "ya29.token-value"
    assert mailbox.smtp_port == 465
    assert (mailbox.daily_limit, mailbox.per_minute_limit) == (200, 5)
    assert mailbox.time_zone == "Europe/Paris"
    assert seen == [mailbox]
    assert "SMTP ok, IMAP ok, Sent folder ok" in result.out


def test_it_prompts_for_the_secret(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    make_user("ada")
    prompts: list[str] = []
    monkeypatch.setattr("getpass.getpass", lambda prompt="": prompts.append(prompt) or "pw-123")
    run(*ADD, "--auth", "xoauth2", "--no-test")
    assert prompts == ["OAuth2 access token: "]
    assert Mailbox.objects.get().secret == "pw-123"


def test_a_failed_connection_test_is_reported_and_exits_non_zero(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_user("ada")
    checked(False, monkeypatch)
    with pytest.raises(CommandError, match="connection test failed"):
        run(*ADD, "--password", "pw")
    assert Mailbox.objects.get().health == Health.FAILING


def test_it_refuses_an_unknown_user(run: Run) -> None:
    with pytest.raises(CommandError, match="no user named 'ada'"):
        run(*ADD, "--password", "pw", "--no-test")
    assert not Mailbox.objects.exists()


def test_it_refuses_an_unknown_time_zone(run: Run) -> None:
    make_user("ada")
    with pytest.raises(CommandError, match="unknown time zone 'Mars/Olympus'"):
        run(*ADD, "--password", "pw", "--no-test", "--time-zone", "Mars/Olympus")
    assert not Mailbox.objects.exists()


def test_it_refuses_a_duplicate_mailbox(run: Run) -> None:
    make_mailbox(make_user("ada"))
    with pytest.raises(CommandError, match=r"already has the mailbox ada@example\.test"):
        run(*ADD, "--password", "pw", "--no-test")
    assert Mailbox.objects.count() == 1


def test_it_refuses_an_empty_secret(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    make_user("ada")
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    with pytest.raises(CommandError, match="empty value"):
        run(*ADD, "--password-stdin", "--no-test")
    assert not Mailbox.objects.exists()


def test_it_refuses_a_zero_limit(run: Run) -> None:
    make_user("ada")
    with pytest.raises(CommandError, match="must be 1 or more"):
        run(*ADD, "--password", "pw", "--no-test", "--daily-limit", "0")


def test_it_tests_a_mailbox_by_id_or_address(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    mailbox = make_mailbox(make_user("ada"))
    seen = checked(True, monkeypatch)
    assert run("mailbox", "test", str(mailbox.pk), "--json").json["check"]["ok"] is True
    assert "SMTP ok" in run("mailbox", "test", "ADA@example.test").out
    assert seen == [mailbox, mailbox]


def test_a_failing_mailbox_test_exits_non_zero(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    make_mailbox(make_user("ada"))
    checked(False, monkeypatch)
    with pytest.raises(CommandError, match="failed its connection test"):
        run("mailbox", "test", "ada@example.test")


def test_testing_an_unknown_mailbox_is_a_clear_error(run: Run) -> None:
    with pytest.raises(CommandError, match="no mailbox '99'"):
        run("mailbox", "test", "99")
    with pytest.raises(CommandError, match=r"no mailbox 'nobody@example\.test'"):
        run("mailbox", "test", "nobody@example.test")


def test_it_lists_mailboxes_without_secrets(run: Run) -> None:
    make_mailbox(make_user("ada"))
    make_mailbox(make_user("bo"))
    everyone = run("mailbox", "list", "--json").json
    assert [m["user"] for m in everyone] == ["ada", "bo"]
    assert all("secret" not in str(m) for m in everyone)
    assert [m["email"] for m in run("mailbox", "list", "--user", "bo", "--json").json] == [
        "bo@example.test"
    ]
    assert "ada@example.test" in run("mailbox", "list").out


def test_listing_for_an_unknown_user_is_a_clear_error(run: Run) -> None:
    with pytest.raises(CommandError, match="no user named 'ghost'"):
        run("mailbox", "list", "--user", "ghost")
