import imaplib
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cadency.accounts.models import Role, User
from cadency.inbound.folders import (
    FolderError,
    clean_folder_names,
    missing_folders,
    server_folders,
    set_watched_folders,
)
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
from cadency.mailboxes.connections import open_imap
from cadency.mailboxes.models import AuthMethod, FolderSyncState, Mailbox, Security, SentCopy
from cadency.mailboxes.services import (
    MailboxCheck,
    MailboxCheckFailed,
    MailboxError,
    add_mailbox,
    check_mailbox,
    update_mailbox_secret,
)

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
        "watched_folders": mailbox.folders_to_watch,
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


def watched_states(mailbox: Mailbox) -> list[tuple[str, FolderSyncState | None]]:
    """Each watched folder with how far the watcher has read it (None: not yet)."""
    states = {s.folder: s for s in FolderSyncState.objects.filter(mailbox=mailbox)}
    return [(folder, states.get(folder)) for folder in mailbox.folders_to_watch]


def folder_data(folder: str, state: FolderSyncState | None) -> dict[str, Any]:
    return {
        "folder": folder,
        "uidvalidity": state.uidvalidity if state else None,
        "last_uid": state.last_uid if state else 0,
        "last_synced_at": iso(state.last_synced_at) if state else None,
        "watched_since": iso(state.watched_since) if state else None,
    }


def may_change(actor: User, mailbox: Mailbox) -> bool:
    """The owner, or an admin (as on the Mailboxes page)."""
    return mailbox.user_id == actor.pk or actor.is_superuser or actor.role == Role.ADMIN


def folders_not_on_server(mailbox: Mailbox, folders: list[str]) -> list[str]:
    """The folders the mailbox's IMAP server does not have (a connection error is a
    CommandError: nothing is changed without checking, unless --no-test)."""
    try:
        client = open_imap(mailbox, timeout=15)
        try:
            return missing_folders(folders, server_folders(client))
        finally:
            client.logout()
    except (OSError, imaplib.IMAP4.error) as exc:
        raise CommandError(
            f"cannot list the folders of {mailbox.email} ({exc}); use --no-test to skip the check"
        ) from exc


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
        add.add_argument(
            "--watch-folder",
            action="append",
            default=[],
            metavar="FOLDER",
            help="also watch this folder for replies (repeatable; INBOX is always watched)",
        )
        add.add_argument("--daily-limit", type=positive_int, default=500)
        add.add_argument("--per-minute-limit", type=positive_int, default=20)
        add.add_argument("--time-zone", default="UTC", help="e.g. Europe/Paris")
        add.add_argument("--no-test", action="store_true", help="do not test the connection")
        add.add_argument("--json", action="store_true", help="print the result as JSON")

        test = actions.add_parser("test", help="log in to SMTP and IMAP and open the Sent folder")
        test.add_argument("mailbox", metavar="ID|EMAIL")
        test.add_argument("--json", action="store_true", help="print the result as JSON")

        credentials = actions.add_parser(
            "credentials",
            help="enter a new password or token (tested first; saved only if accepted)",
            description="After a password change or an expired OAuth2 token. SMTP and IMAP "
            "are tested with the new secret first: nothing is saved if they refuse it. Once "
            "saved, the enrollments Cadency paused because the mailbox kept failing resume.",
        )
        credentials.add_argument("mailbox", metavar="ID|EMAIL")
        credentials.add_argument(
            "--as", dest="actor", required=True, metavar="USERNAME", help="the owner or an admin"
        )
        new_secret = credentials.add_mutually_exclusive_group()
        new_secret.add_argument("--password", help="password or token (visible in shell history)")
        new_secret.add_argument(
            "--password-stdin", action="store_true", help="read the password or token from stdin"
        )
        credentials.add_argument("--json", action="store_true", help="print the result as JSON")

        folders = actions.add_parser(
            "folders",
            help="show or set the folders watched for replies",
            description="Without --watch/--add/--remove: show each watched folder and how far "
            "it was read. With them: change the list (INBOX is always watched) after checking "
            "that the server has the folders. Names are written as the mail client shows "
            "them, with the server's separator (e.g. Replies, Sales/Replies or INBOX.Replies).",
        )
        folders.add_argument("mailbox", metavar="ID|EMAIL")
        folders.add_argument(
            "--watch", action="append", metavar="FOLDER", help="watch exactly these (repeatable)"
        )
        folders.add_argument("--add", action="append", default=[], metavar="FOLDER")
        folders.add_argument("--remove", action="append", default=[], metavar="FOLDER")
        folders.add_argument(
            "--as", dest="actor", metavar="USERNAME", help="the acting user (owner or admin)"
        )
        folders.add_argument(
            "--no-test", action="store_true", help="do not check the folders on the server"
        )
        folders.add_argument("--json", action="store_true", help="print JSON")

        listing = actions.add_parser("list", help="list mailboxes")
        listing.add_argument("--user", help="only this user's mailboxes")
        listing.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        match options["action"]:
            case "add":
                self.add(options)
            case "test":
                self.test(options)
            case "credentials":
                self.credentials(options)
            case "folders":
                self.folders(options)
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
            watched = clean_folder_names(options["watch_folder"])
        except FolderError as exc:
            raise CommandError(f"cannot add the mailbox: {exc}") from exc
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
        set_watched_folders(mailbox=mailbox, folders=watched, actor=user)
        check = None if options["no_test"] else check_mailbox(mailbox)
        missing = self.missing_watched_folders(mailbox, check)
        if options["json"]:
            result = check and {**check_data(check), "missing_folders": missing}
            write_json(self.stdout, {"mailbox": mailbox_data(mailbox), "check": result})
        else:
            self.stdout.write(f"Added mailbox {mailbox.pk}: {mailbox.email} for {user.username}.")
            if check is not None:
                self.print_check(check, missing)
        if missing:
            raise CommandError(
                f"the mailbox was saved but the server has no folder {', '.join(missing)}; "
                f"fix the list with `cadency mailbox folders {mailbox.pk} --watch …`"
            )
        if check is not None and not check.ok:
            raise CommandError(
                f"the mailbox was saved but its connection test failed (it is marked failing); "
                f"fix the settings in the admin, then run `cadency mailbox test {mailbox.pk}`"
            )

    def test(self, options: dict[str, Any]) -> None:
        mailbox = get_mailbox(options["mailbox"])
        check = check_mailbox(mailbox)
        missing = self.missing_watched_folders(mailbox, check)
        if options["json"]:
            result = {**check_data(check), "missing_folders": missing}
            write_json(self.stdout, {"mailbox": mailbox_data(mailbox), "check": result})
        else:
            self.stdout.write(f"Mailbox {mailbox.pk}: {mailbox.email}")
            self.print_check(check, missing)
        if not check.ok:
            raise CommandError(f"the mailbox {mailbox.email} failed its connection test")
        if missing:
            raise CommandError(
                f"the server of {mailbox.email} has no folder {', '.join(missing)}: replies "
                "filed there cannot be read, so sends are held until the list is fixed"
            )

    def credentials(self, options: dict[str, Any]) -> None:
        actor = get_actor(options["actor"])
        mailbox = get_mailbox(options["mailbox"])
        if not may_change(actor, mailbox):
            raise CommandError(
                f"{actor.username} may not change {mailbox.email}: only its owner or an admin"
            )
        secret = read_secret(
            value=options["password"],
            from_stdin=options["password_stdin"],
            prompt="OAuth2 access token"
            if mailbox.auth_method == AuthMethod.XOAUTH2
            else "Password",
        )
        try:
            check = update_mailbox_secret(mailbox=mailbox, actor=actor, secret=secret)
        except MailboxCheckFailed as failed:
            self.print_check(failed.check, [])
            raise CommandError(
                f"the servers refused the new credentials of {mailbox.email}; nothing was saved"
            ) from failed
        except MailboxError as exc:
            raise CommandError(f"nothing was saved: {exc}") from exc
        if options["json"]:
            write_json(self.stdout, {"mailbox": mailbox_data(mailbox), "check": check_data(check)})
        else:
            self.stdout.write(f"Saved new credentials for {mailbox.email}.")
            self.print_check(check, [])

    def missing_watched_folders(self, mailbox: Mailbox, check: MailboxCheck | None) -> list[str]:
        """The watched folders the server lacks, when IMAP could be checked."""
        if check is None or not check.imap_ok or mailbox.folders_to_watch == ["INBOX"]:
            return []
        try:
            return folders_not_on_server(mailbox, mailbox.folders_to_watch)
        except CommandError:
            return []  # IMAP went away meanwhile: the check above reports the mailbox

    def print_check(self, check: MailboxCheck, missing: list[str]) -> None:
        self.stdout.write(
            f"  SMTP {yes_no(check.smtp_ok)}, IMAP {yes_no(check.imap_ok)}, "
            f"Sent folder {yes_no(check.sent_folder_ok)}"
        )
        for error in check.errors:
            self.stdout.write(f"  {error}")
        if missing:
            self.stdout.write(f"  Watched folders missing on the server: {', '.join(missing)}")

    def folders(self, options: dict[str, Any]) -> None:
        mailbox = get_mailbox(options["mailbox"])
        changing = options["watch"] is not None or options["add"] or options["remove"]
        if changing:
            self.change_folders(mailbox, options)
        folders = watched_states(mailbox)
        if options["json"]:
            rows = [folder_data(folder, state) for folder, state in folders]
            write_json(self.stdout, {"mailbox": mailbox.email, "folders": rows})
            return
        write_table(
            self.stdout,
            ["FOLDER", "UIDVALIDITY", "LAST UID", "LAST READ"],
            [
                [
                    folder,
                    state.uidvalidity if state else None,
                    state.last_uid if state else 0,
                    short_time(state.last_synced_at if state else None),
                ]
                for folder, state in folders
            ],
        )

    def change_folders(self, mailbox: Mailbox, options: dict[str, Any]) -> None:
        if not options["actor"]:
            raise CommandError("changing the watched folders needs --as USERNAME")
        actor = get_actor(options["actor"])
        if not may_change(actor, mailbox):
            raise CommandError(
                f"{actor.username} may not change {mailbox.email}: only its owner or an admin"
            )
        current = mailbox.folders_to_watch
        base = current if options["watch"] is None else ["INBOX", *options["watch"]]
        unknown = [f for f in options["remove"] if f not in current]
        if unknown:
            raise CommandError(f"{', '.join(unknown)} is not watched in {mailbox.email}")
        if any(f.upper() == "INBOX" for f in options["remove"]):
            raise CommandError("INBOX is always watched: replies arrive there")
        wanted = [f for f in [*base, *options["add"]] if f not in options["remove"]]
        try:
            wanted = clean_folder_names(wanted)
        except FolderError as exc:
            raise CommandError(str(exc)) from exc
        if not options["no_test"]:
            missing = folders_not_on_server(mailbox, wanted)
            if missing:
                raise CommandError(
                    f"the server of {mailbox.email} has no folder {', '.join(missing)}; "
                    "nothing was changed (see the names your mail client shows, or use "
                    "--no-test to watch it anyway)"
                )
        changed = set_watched_folders(mailbox=mailbox, folders=wanted, actor=actor)
        if not options["json"]:
            verb = "now watches" if changed else "already watches"
            self.stdout.write(f"{mailbox.email} {verb}: {', '.join(wanted)}.")

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
