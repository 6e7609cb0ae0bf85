import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from cadency.accounts.models import User
from cadency.accounts.permissions import may_manage_sequence
from cadency.automation.models import TriggerKind, UnenrollTrigger
from cadency.automation.selectors import ended_counts, triggers_of
from cadency.automation.services.triggers import (
    TriggerError,
    TriggerSpec,
    add_trigger,
    check_trigger,
    matching_enrollments,
    preview,
    remove_trigger,
)
from cadency.lib.cli_helpers import (
    confirm,
    get_actor,
    get_sequence,
    iso,
    positive_int,
    short_time,
    write_json,
    write_table,
)
from cadency.sequences.models import Sequence

MAX_ID = 2**63 - 1
SHOW_AT_MOST = 10
EXAMPLE = '{"condition": {"field": "lifecycle_stage", "op": "is", "value": "customer"}}'


def trigger_data(trigger: UnenrollTrigger, ended_so_far: int) -> dict[str, Any]:
    return {
        "id": trigger.pk,
        "sequence": {"id": trigger.sequence_id, "name": trigger.sequence.name},
        "kind": trigger.kind,
        "config": trigger.config,
        "description": trigger.description,
        "enabled": trigger.enabled,
        "created_by": trigger.created_by.username if trigger.created_by else None,
        "created_at": iso(trigger.created_at),
        "ended_so_far": ended_so_far,
    }


def has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_nul(v) for v in value)
    return False


def parse_config(kind: str, text: str) -> Any:
    try:
        config = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(f"--config: not JSON ({exc.msg}); for example {EXAMPLE}") from None
    try:
        json.dumps(config, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        raise CommandError("--config: not valid Unicode text") from None
    if has_nul(config):
        raise CommandError("--config: must not contain NUL characters")
    if kind == TriggerKind.LIST_JOINED and isinstance(config, dict):
        list_id = config.get("list")
        if isinstance(list_id, bool) or not isinstance(list_id, int) or not 0 < list_id <= MAX_ID:
            raise CommandError('--config: "list" is the id of a list, e.g. {"list": 3}')
    return config


def checked_spec(sequence: Sequence, kind: str, text: str) -> TriggerSpec:
    if sequence.archived_at is not None:
        raise CommandError(f"sequence {sequence.pk} «{sequence.name}» was deleted; nothing done")
    try:
        spec = check_trigger(kind, parse_config(kind, text))
    except TriggerError as exc:
        raise CommandError(f"--config: {exc}; nothing was changed") from exc
    return spec


def check_may_manage(actor: User, sequence: Sequence) -> None:
    if not may_manage_sequence(actor, sequence):
        raise CommandError(
            f"«{sequence.name}» belongs to {sequence.owner.username}; {actor.username} is a "
            f"{actor.role} and may only change the triggers of their own sequences"
        )


class Command(BaseCommand):
    help = (
        "List, preview, add or remove a sequence's unenrollment triggers. Adding one ends "
        "at once the open enrollments it is already true for (reason unenroll_trigger)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        listing = actions.add_parser("list", help="a sequence's triggers")
        listing.add_argument("sequence", type=positive_int, metavar="SEQUENCE_ID")
        listing.add_argument("--json", action="store_true", help="print JSON")
        for name, text in (
            ("preview", "how many open enrollments adding the trigger would end now"),
            ("add", "add a trigger; the open enrollments it is already true for end now"),
        ):
            act = actions.add_parser(name, help=text)
            act.add_argument("sequence", type=positive_int, metavar="SEQUENCE_ID")
            act.add_argument("--kind", required=True, choices=TriggerKind.values)
            act.add_argument(
                "--config",
                default="{}",
                metavar="JSON",
                help=f'property_value: {EXAMPLE}; deal_stage: {{"stage": "won"}}; '
                'list_joined: {"list": 3}; deal_created: nothing',
            )
            act.add_argument("--json", action="store_true", help="print JSON")
            if name == "add":
                act.add_argument("--as", dest="actor", required=True, metavar="USERNAME")
                act.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        removing = actions.add_parser("remove", help="remove a trigger (what it ended stays)")
        removing.add_argument("trigger", type=positive_int, metavar="TRIGGER_ID")
        removing.add_argument("--as", dest="actor", required=True, metavar="USERNAME")
        removing.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        match options["action"]:
            case "list":
                self.list(options)
            case "preview":
                self.preview(options)
            case "add":
                self.add(options)
            case _:
                self.remove(options)

    def list(self, options: dict[str, Any]) -> None:
        rows = triggers_of(get_sequence(options["sequence"]))
        if options["json"]:
            write_json(self.stdout, [trigger_data(r.trigger, r.ended) for r in rows])
            return
        write_table(
            self.stdout,
            ["ID", "KIND", "ENDS THE ENROLLMENT WHEN", "ENDED", "BY", "ADDED"],
            [
                [
                    r.trigger.pk,
                    r.trigger.kind,
                    r.trigger.description,
                    r.ended,
                    r.trigger.created_by.username if r.trigger.created_by else None,
                    short_time(r.trigger.created_at),
                ]
                for r in rows
            ],
            empty="No unenrollment trigger.",
        )

    def preview(self, options: dict[str, Any]) -> None:
        sequence = get_sequence(options["sequence"])
        spec = checked_spec(sequence, options["kind"], options["config"])
        spec, would_end = preview(sequence, spec.kind, spec.config)
        if options["json"]:
            write_json(
                self.stdout,
                {
                    "kind": spec.kind.value,
                    "config": spec.config,
                    "description": spec.description,
                    "would_end": would_end,
                },
            )
            return
        self.stdout.write(f"Trigger: the enrollment ends when {spec.description}.")
        self.stdout.write(self.would_end_text(sequence, would_end))
        first = matching_enrollments(sequence, spec).select_related("contact").order_by("pk")
        for enrollment in first[:SHOW_AT_MOST]:
            self.stdout.write(f"  {enrollment.pk}  {enrollment.email}")
        if would_end > SHOW_AT_MOST:
            self.stdout.write(f"  … and {would_end - SHOW_AT_MOST} more")

    def add(self, options: dict[str, Any]) -> None:
        actor = get_actor(options["actor"])
        sequence = get_sequence(options["sequence"])
        check_may_manage(actor, sequence)
        spec = checked_spec(sequence, options["kind"], options["config"])
        _, would_end = preview(sequence, spec.kind, spec.config)
        if would_end:
            question = (
                f"Add the trigger (the enrollment ends when {spec.description})? "
                f"{self.would_end_text(sequence, would_end)}"
            )
            if not confirm(self.stderr, question, assume_yes=options["yes"]):
                raise CommandError("cancelled: nothing was changed")
        with transaction.atomic():
            trigger, ended = add_trigger(
                sequence=sequence, kind=spec.kind, config=spec.config, actor=actor
            )
        if options["json"]:
            write_json(self.stdout, {**trigger_data(trigger, ended), "ended": ended})
        else:
            self.stdout.write(
                f"Added trigger {trigger.pk} to «{sequence.name}»: the enrollment ends when "
                f"{trigger.description}. It ended {ended} open enrollment(s) now."
            )

    def remove(self, options: dict[str, Any]) -> None:
        actor = get_actor(options["actor"])
        trigger = (
            UnenrollTrigger.objects.select_related("sequence__owner", "created_by")
            .filter(pk=options["trigger"])
            .first()
        )
        if trigger is None:
            raise CommandError(
                f"there is no trigger with id {options['trigger']} "
                "(see `cadency trigger list SEQUENCE_ID`)"
            )
        check_may_manage(actor, trigger.sequence)
        data = trigger_data(trigger, ended_counts([trigger])[trigger.pk])
        with transaction.atomic():
            remove_trigger(trigger=trigger, actor=actor)
        if options["json"]:
            write_json(self.stdout, data)
        else:
            self.stdout.write(
                f"Removed trigger {data['id']} of «{data['sequence']['name']}» (the enrollment "
                f"ends when {data['description']}); the {data['ended_so_far']} enrollment(s) "
                "it ended stay ended."
            )

    def would_end_text(self, sequence: Sequence, would_end: int) -> str:
        if not would_end:
            return f"It is not true for any open enrollment of «{sequence.name}» now."
        return (
            f"It is already true for {would_end} open enrollment(s) of «{sequence.name}»: "
            "adding it unenrolls them now (reason unenroll_trigger)."
        )
