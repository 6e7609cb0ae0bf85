from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cadency.inbound.models import InboundMessage, InboundStatus
from cadency.inbound.pipeline import pending_messages, reprocess
from cadency.inbound.relabel import RelabelError, relabel
from cadency.lib.cli_helpers import (
    get_actor,
    get_mailbox,
    iso,
    positive_int,
    short_time,
    write_json,
    write_table,
)


def get_message(pk: int) -> InboundMessage:
    message = InboundMessage.objects.select_related("mailbox").filter(pk=pk).first()
    if message is None:
        raise CommandError(f"there is no inbound message with id {pk} (see `cadency inbound list`)")
    return message


def message_data(m: InboundMessage) -> dict[str, Any]:
    return {
        "id": m.pk,
        "mailbox": m.mailbox.email,
        "folder": m.folder,
        "uid": m.uid,
        "received_at": iso(m.received_at),
        "message_id": m.message_id,
        "from": m.from_address,
        "subject": m.subject,
        "status": m.status,
        "label": m.label or None,
        "decision": m.decision or None,
        "sentence": m.decision_evidence.get("sentence"),
        "error": m.error or None,
        "contact": m.contact_id,
        "enrollment": m.enrollment_id,
        "original_label": m.original_label or None,
        "relabeled_by": m.relabeled_by.username if m.relabeled_by else None,
    }


class Command(BaseCommand):
    help = "Reprocess, list or relabel the messages the mailbox watcher stored."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        again = actions.add_parser(
            "reprocess",
            help="run the pipeline again over failed (or never processed) messages",
        )
        which = again.add_mutually_exclusive_group(required=True)
        which.add_argument("--message", type=positive_int, metavar="ID", help="one message")
        which.add_argument("--mailbox", metavar="EMAIL", help="the pending messages of a mailbox")
        which.add_argument("--failed", action="store_true", help="every pending message")
        again.add_argument(
            "--force",
            action="store_true",
            help="also messages already processed (acting again changes nothing twice)",
        )
        again.add_argument("--json", action="store_true", help="print JSON")

        listing = actions.add_parser("list", help="list inbound messages, newest first")
        listing.add_argument("--mailbox", metavar="EMAIL")
        listing.add_argument("--status", choices=InboundStatus.values)
        listing.add_argument("--limit", type=positive_int, default=100, metavar="N")
        listing.add_argument("--json", action="store_true", help="print JSON")

        change = actions.add_parser("relabel", help="correct a message's label and decide again")
        change.add_argument("id", type=positive_int, metavar="ID")
        change.add_argument("label", metavar="LABEL", help="human_reply, auto_reply, …")
        change.add_argument(
            "--as", dest="actor", required=True, metavar="USERNAME", help="the acting user"
        )
        change.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        match options["action"]:
            case "reprocess":
                self.reprocess(options)
            case "list":
                self.list(options)
            case "relabel":
                self.relabel(options)

    def reprocess(self, options: dict[str, Any]) -> None:
        force = options["force"]
        if options["message"]:
            messages = [get_message(options["message"])]
        elif options["mailbox"]:
            mailbox = get_mailbox(options["mailbox"])
            messages = list(
                InboundMessage.objects.filter(mailbox=mailbox).order_by("pk")
                if force
                else pending_messages(mailbox)
            )
        else:
            messages = list(pending_messages())
        report = reprocess(messages, force=force)
        if options["json"]:
            write_json(self.stdout, report.as_dict)
        else:
            self.stdout.write(
                f"Processed {report.processed}, failed {report.failed}, skipped "
                f"{report.skipped} (already processed; --force to run them again)."
            )
        if report.failed:
            raise CommandError(
                f"{report.failed} message(s) failed again; see `cadency inbound list --status "
                "failed` for the errors"
            )

    def list(self, options: dict[str, Any]) -> None:
        messages = InboundMessage.objects.select_related("mailbox", "relabeled_by").order_by(
            "-received_at", "-pk"
        )
        if options["mailbox"]:
            messages = messages.filter(mailbox=get_mailbox(options["mailbox"]))
        if options["status"]:
            messages = messages.filter(status=options["status"])
        total = messages.count()
        shown = list(messages[: options["limit"]])
        if options["json"]:
            write_json(self.stdout, [message_data(m) for m in shown])
        else:
            write_table(
                self.stdout,
                ["ID", "RECEIVED", "MAILBOX", "FROM", "SUBJECT", "LABEL", "STATUS", "DECISION"],
                [
                    [
                        m.pk,
                        short_time(m.received_at),
                        m.mailbox.email,
                        m.from_address,
                        m.subject[:50],
                        m.label,
                        m.status,
                        m.decision or (m.error[:60] if m.error else ""),
                    ]
                    for m in shown
                ],
                empty="No inbound messages match.",
            )
        if total > len(shown):
            self.stderr.write(f"Showing {len(shown)} of {total}; use --limit to see more.")

    def relabel(self, options: dict[str, Any]) -> None:
        actor = get_actor(options["actor"])
        message = get_message(options["id"])
        try:
            changed = relabel(message=message, label=options["label"], actor=actor)
        except RelabelError as exc:
            raise CommandError(f"refused: {exc}; nothing was changed") from exc
        if options["json"]:
            write_json(self.stdout, message_data(changed))
        else:
            self.stdout.write(
                f"Message {changed.pk} relabelled {changed.original_label or '-'} → "
                f"{changed.label}: {changed.decision}. {changed.decision_evidence.get('sentence')}"
            )
