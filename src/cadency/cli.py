"""The ``cadency`` command: Cadency's management commands, with a short help."""

import os
import sys

from django.core.management import execute_from_command_line

COMMANDS = {
    "run": "start the web server, the task worker and the mailbox watcher (Ctrl-C stops all)",
    "worker": "run the background worker: due steps, Sent copies, the periodic sweep",
    "watch": "watch every mailbox with IMAP IDLE and process new mail",
    "init": "migrate the database and create a first admin if there is none",
    "migrate": "apply database migrations",
    "user": "create, list or deactivate users",
    "mailbox": "add, test or list mailboxes; new credentials; watched folders; limits",
    "calendars": "connect, list or sync calendars (CalDAV, Google) for meetings and busy times",
    "contacts": "import contacts from CSV, list them",
    "list": "create static or dynamic contact lists, add or remove contacts, show lists",
    "sequence": "create a sequence from YAML/JSON, show, list or delete sequences",
    "enroll": "enroll a contact in a sequence",
    "unenroll": "unenroll by enrollment id, contact email, or a whole sequence",
    "enrollments": "list enrollments with filters",
    "inbound": "reprocess, list or relabel inbound messages",
    "events": "show the ledger of a contact or an enrollment",
    "task": "list, complete or skip tasks",
    "trigger": "list, preview, add or remove a sequence's unenrollment triggers",
    "workflow": "list, show, create, enable or disable workflows; list their runs",
    "absence": "set a user away until a date (enrollments and tasks wait), end it, show it",
    "keys": "rotate the keys that encrypt secrets at rest; check that every secret is readable",
    "sweep": "run the repair sweep once",
    "classify": "classify raw messages (files or - for stdin)",
    "demo": "try Cadency: local mail servers, demo data, and buttons that answer as a contact",
}


def usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = [
        "usage: cadency COMMAND [options]   (cadency COMMAND --help for its options)",
        "",
        "Commands:",
        *(f"  {name.ljust(width)}  {text}" for name, text in COMMANDS.items()),
        "",
        "Any other Django management command also works (e.g. cadency shell).",
        "Configuration comes from the environment: see README.md.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cadency.settings")
    if len(argv) < 2 or argv[1] in {"-h", "--help", "help"}:
        print(usage())
        return
    argv[0] = "cadency"
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
