from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cadency.lib.cli_helpers import (
    get_actor,
    get_mailbox,
    get_user,
    iso,
    positive_int,
    read_secret,
    short_time,
    write_json,
    write_table,
)
from cadency.mailboxes.models import AuthMethod, Mailbox, Security, SentCopy
from cadency.mailboxes.services import MailboxCheck, MailboxError, add_mailbox, check_mailbox

SMTP_PORTS = {Security.TLS: 465, Security.STARTTLS: 587, Security.NONE: 25}
IMAP_PORTS = {Security.TLS: 993, Security.STARTTLS: 143, Security.NONE: 143}


def mailbox_data(mailbox: Mailbox) -> dict[str, Any]:
    """Everything about a mailbox except its secret."""
    return {
        "id": mailbox.pk,
        "user": mailbox.user.username,
        "email": mailbox.email,
        "display_name": mailbox.display_name,
        "username": mailbox.username,
        "auth": mailbox.auth_method,
        "smtp": {
            "host": mailbox.smtp_host,
            "port": mailbox.smtp_port,
            "security": mailbox.smtp_security,
        },
        "imap": {
            "host": mailbox.imap_host,
            "port": mailbox.imap_port,
            "security": mailbox.imap_security,
        },
        "sent_folder": mailbox.sent_folder,
        "sent_copy": mailbox.sent_copy,
        "daily_limit": mailbox.daily_limit,
        "per_minute_limit": mailbox.per_minute_limit,
        "time_zone": mailbox.time_zone,
        "health": mailbox.health,
        "last_error": mailbox.last_error,
        "last_checked_at": iso(mailbox.last_checked_at),
    }


def check_data(check: MailboxCheck) -> dict[str, Any]:
    return {
        "ok": check.ok,
        "smtp_ok": check.smtp_ok,
        "imap_ok": check.imap_ok,
        "sent_folder_ok": check.sent_folder_ok,
        "errors": check.errors,
    }


def yes_no(ok: bool) -> str:
    return "ok" if ok else "FAILED"


class Command(BaseCommand):
    help = "Add, test or list mailboxes."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        add = actions.add_parser(
            "add",
            help="connect a mailbox (SMTP + IMAP) and test it",
            description="Connect a mailbox. The password (or, with --auth xoauth2, the OAuth2 "
            "access token) comes from --password-stdin, --password, or a hidden prompt.",
        )
        add.add_argument("--user", required=True, help="the username who owns the mailbox")
        add.add_argument("--email", required=True, help="the mailbox's address")
        add.add_argument("--display-name", default="", help="the From name (default: the user's)")
        add.add_argument("--username", default="", help="login name (default: the address)")
        add.add_argument("--auth", choices=AuthMethod.values, default=AuthMethod.PASSWORD)
        secret = add.add_mutually_exclusive_group()
        secret.add_argument("--password", help="password or token (visible in shell history)")
        secret.add_argument(
            "--password-stdin", action="store_true", help="read the password or token from stdin"
        )
        add.add_argument("--smtp-host", required=True)
        add.add_argument("--smtp-port", type=positive_int, help="default: 465 tls, 587 starttls")
        add.add_argument("--smtp-security", choices=Security.values, default=Security.STARTTLS)
        add.add_argument("--imap-host", required=True)
        add.add_argument("--imap-port", type=positive_int, help="default: 993 tls, 143 otherwise")
        add.add_argument("--imap-security", choices=Security.values, default=Security.TLS)
        add.add_argument("--sent-folder", default="Sent")
        add.add_argument("--sent-copy", choices=SentCopy.values, default=SentCopy.APPEND)
        add.add_argument("--daily-limit", type=positive_int, default=500)
        add.add_argument("--per-minute-limit", type=positive_int, default=20)
        add.add_argument("--time-zone", default="UTC", help="e.g. Europe/Paris")
        add.add_argument("--no-test", action="store_true", help="do not test the connection")
        add.add_argument("--json", action="store_true", help="print the result as JSON")

        test = actions.add_parser("test", help="log in to SMTP and IMAP and open the Sent folder")
        test.add_argument("mailbox", metavar="ID|EMAIL")
        test.add_argument("--json", action="store_true", help="print the result as JSON")

        listing = actions.add_parser("list", help="list mailboxes")
        listing.add_argument("--user", help="only this user's mailboxes")
        listing.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        match options["action"]:
            case "add":
                self.add(options)
            case "test":
                self.test(options)
            case "list":
                self.list(options)

    def add(self, options: dict[str, Any]) -> None:
        user = get_actor(options["user"])
        auth = AuthMethod(options["auth"])
        smtp_security = Security(options["smtp_security"])
        imap_security = Security(options["imap_security"])
        secret = read_secret(
            value=options["password"],
            from_stdin=options["password_stdin"],
            prompt="OAuth2 access token" if auth == AuthMethod.XOAUTH2 else "Password",
        )
        try:
            mailbox = add_mailbox(
                user=user,
                email=options["email"],
                secret=secret,
                smtp_host=options["smtp_host"],
                imap_host=options["imap_host"],
                username=options["username"],
                display_name=options["display_name"],
                auth_method=auth,
                smtp_port=options["smtp_port"] or SMTP_PORTS[smtp_security],
                smtp_security=smtp_security,
                imap_port=options["imap_port"] or IMAP_PORTS[imap_security],
                imap_security=imap_security,
                sent_folder=options["sent_folder"],
                sent_copy=SentCopy(options["sent_copy"]),
                daily_limit=options["daily_limit"],
                per_minute_limit=options["per_minute_limit"],
                time_zone=options["time_zone"],
            )
        except MailboxError as exc:
            raise CommandError(f"cannot add the mailbox: {exc}") from exc
        check = None if options["no_test"] else check_mailbox(mailbox)
        if options["json"]:
            write_json(
                self.stdout,
                {"mailbox": mailbox_data(mailbox), "check": check and check_data(check)},
            )
        else:
            self.stdout.write(f"Added mailbox {mailbox.pk}: {mailbox.email} for {user.username}.")
            if check is not None:
                self.print_check(check)
        if check is not None and not check.ok:
            raise CommandError(
                f"the mailbox was saved but its connection test failed (it is marked failing); "
                f"fix the settings in the admin, then run `cadency mailbox test {mailbox.pk}`"
            )

    def test(self, options: dict[str, Any]) -> None:
        mailbox = get_mailbox(options["mailbox"])
        check = check_mailbox(mailbox)
        if options["json"]:
            write_json(self.stdout, {"mailbox": mailbox_data(mailbox), "check": check_data(check)})
        else:
            self.stdout.write(f"Mailbox {mailbox.pk}: {mailbox.email}")
            self.print_check(check)
        if not check.ok:
            raise CommandError(f"the mailbox {mailbox.email} failed its connection test")

    def print_check(self, check: MailboxCheck) -> None:
        self.stdout.write(
            f"  SMTP {yes_no(check.smtp_ok)}, IMAP {yes_no(check.imap_ok)}, "
            f"Sent folder {yes_no(check.sent_folder_ok)}"
        )
        for error in check.errors:
            self.stdout.write(f"  {error}")

    def list(self, options: dict[str, Any]) -> None:
        mailboxes = Mailbox.objects.select_related("user").order_by("user__username", "email")
        if options["user"]:
            mailboxes = mailboxes.filter(user=get_user(options["user"]))
        if options["json"]:
            write_json(self.stdout, [mailbox_data(m) for m in mailboxes])
            return
        write_table(
            self.stdout,
            ["ID", "USER", "EMAIL", "AUTH", "SMTP", "IMAP", "LIMITS", "HEALTH", "CHECKED"],
            [
                [
                    m.pk,
                    m.user.username,
                    m.email,
                    m.auth_method,
                    f"{m.smtp_host}:{m.smtp_port}/{m.smtp_security}",
                    f"{m.imap_host}:{m.imap_port}/{m.imap_security}",
                    f"{m.daily_limit}/day {m.per_minute_limit}/min",
                    m.health,
                    short_time(m.last_checked_at),
                ]
                for m in mailboxes
            ],
            empty="No mailboxes: connect one with `cadency mailbox add`.",
        )
