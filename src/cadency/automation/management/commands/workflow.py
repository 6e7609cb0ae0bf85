"""``cadency workflow``: list, show, create from a JSON/YAML spec, switch on or off,
and list a workflow's runs. The rules are the services' (``services.workflows``);
who may change a workflow is ``automation.permissions``."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count, Max, QuerySet

from cadency.automation.describe import Names, in_words
from cadency.automation.models import Workflow, WorkflowRun
from cadency.automation.permissions import may_edit_workflow
from cadency.automation.services.workflows import WorkflowError, create_workflow, set_enabled
from cadency.lib.cli_helpers import (
    get_actor,
    iso,
    positive_int,
    short_time,
    write_json,
    write_table,
)
from cadency.lib.specs import load_spec

SPEC_KEYS = ("name", "trigger_type", "trigger_filters", "conditions", "actions")


def workflows() -> QuerySet[Workflow]:
    return Workflow.objects.select_related("owner").annotate(
        run_count=Count("runs"), last_run_at=Max("runs__started_at")
    )


def get_workflow(pk: int) -> Workflow:
    workflow = workflows().filter(pk=pk).first()
    if workflow is None:
        raise CommandError(f"there is no workflow with id {pk} (see `cadency workflow list`)")
    return workflow


def workflow_data(workflow: Any, names: Names | None = None) -> dict[str, Any]:
    """A workflow for --json (expects ``workflows()``'s annotations)."""
    words = in_words(workflow, names)
    return {
        "id": workflow.pk,
        "name": workflow.name,
        "owner": workflow.owner.username,
        "enabled": workflow.enabled,
        "trigger_type": workflow.trigger_type,
        "trigger_filters": workflow.trigger_filters,
        "conditions": workflow.conditions,
        "actions": workflow.actions,
        "description": {
            "trigger": words.trigger,
            "conditions": words.conditions,
            "actions": words.actions,
        },
        "runs": workflow.run_count,
        "last_run_at": iso(workflow.last_run_at),
        "created_at": iso(workflow.created_at),
    }


def run_data(run: WorkflowRun) -> dict[str, Any]:
    return {
        "id": run.pk,
        "status": run.status,
        "contact": run.contact.email,
        "event": {"id": run.event_id, "kind": run.event.kind},
        "steps": run.steps,
        "started_at": iso(run.started_at),
    }


def read_spec(path: Path) -> dict[str, Any]:
    spec = load_spec(path)
    if not isinstance(spec, dict):
        raise CommandError(f"{path}: expected an object with {', '.join(SPEC_KEYS)}")
    unknown = sorted(set(spec) - set(SPEC_KEYS))
    if unknown:
        raise CommandError(
            f"{path}: unknown key {unknown[0]!r} (expected {', '.join(SPEC_KEYS)}); "
            "nothing was created"
        )
    return {
        "name": str(spec.get("name", "")),
        "trigger_type": str(spec.get("trigger_type", "")),
        "trigger_filters": spec.get("trigger_filters") or {},
        "conditions": spec.get("conditions") or [],
        "actions": spec.get("actions"),
    }


class Command(BaseCommand):
    help = "List, show, create, enable or disable workflows, and list their runs."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        listing = actions.add_parser("list", help="list workflows")
        listing.add_argument("--json", action="store_true", help="print JSON")

        show = actions.add_parser("show", help="a workflow's trigger, conditions and actions")
        show.add_argument("id", type=positive_int)
        show.add_argument("--json", action="store_true", help="print JSON")

        create = actions.add_parser(
            "create",
            help="create a workflow from a JSON (or YAML) file",
            description="Create a workflow from a file: {name, trigger_type, trigger_filters, "
            "conditions: [{field, op, value}], actions: [{type, ...}]} (docs/api.md, "
            "Workflows). It is created off unless --enabled.",
        )
        create.add_argument("--file", type=Path, required=True, metavar="SPEC.json")
        create.add_argument("--as", dest="actor", required=True, metavar="USERNAME")
        create.add_argument("--enabled", action="store_true", help="switch it on at once")
        create.add_argument("--json", action="store_true", help="print the workflow as JSON")

        for name, text in (("enable", "switch a workflow on"), ("disable", "switch it off")):
            switch = actions.add_parser(name, help=text)
            switch.add_argument("id", type=positive_int)
            switch.add_argument("--as", dest="actor", required=True, metavar="USERNAME")

        runs = actions.add_parser("runs", help="a workflow's runs, newest first")
        runs.add_argument("id", type=positive_int)
        runs.add_argument("--limit", type=positive_int, default=50, metavar="N")
        runs.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        match options["action"]:
            case "list":
                self.list(options)
            case "show":
                self.show(options)
            case "create":
                self.create(options)
            case "enable" | "disable":
                self.switch(options, enabled=options["action"] == "enable")
            case "runs":
                self.runs(options)

    def list(self, options: dict[str, Any]) -> None:
        rows: list[Any] = list(workflows().order_by("name", "pk"))
        names = Names.of(rows)
        if options["json"]:
            write_json(self.stdout, [workflow_data(w, names) for w in rows])
            return
        write_table(
            self.stdout,
            ["ID", "NAME", "ON", "OWNER", "TRIGGER", "RUNS", "LAST RUN"],
            [
                [
                    w.pk,
                    w.name,
                    "on" if w.enabled else "off",
                    w.owner.username,
                    in_words(w, names).trigger,
                    w.run_count,
                    short_time(w.last_run_at) if w.last_run_at else "never",
                ]
                for w in rows
            ],
            empty="No workflows: create one with `cadency workflow create --file SPEC.json`.",
        )

    def show(self, options: dict[str, Any]) -> None:
        workflow = get_workflow(options["id"])
        data = workflow_data(workflow)
        if options["json"]:
            write_json(self.stdout, data)
            return
        out = self.stdout
        out.write(
            f"Workflow {workflow.pk}: {workflow.name} ({'on' if workflow.enabled else 'off'})"
        )
        out.write(f"Owner: {workflow.owner.username}")
        out.write(f"When: {data['description']['trigger']}")
        out.write(f"Only for: {data['description']['conditions']}")
        out.write("Then:")
        for number, action in enumerate(data["description"]["actions"], start=1):
            out.write(f"  {number}. {action}")
        last = short_time(getattr(workflow, "last_run_at", None)) if data["runs"] else "never"
        out.write(f"Runs: {data['runs']}, the last at {last}")

    def create(self, options: dict[str, Any]) -> None:
        actor = get_actor(options["actor"])
        path: Path = options["file"]
        spec = read_spec(path)
        try:
            workflow = create_workflow(owner=actor, enabled=options["enabled"], **spec)
        except WorkflowError as exc:
            raise CommandError(f"{path}: {exc}; nothing was created") from exc
        if options["json"]:
            write_json(self.stdout, workflow_data(get_workflow(workflow.pk)))
            return
        state = "on" if workflow.enabled else "off (enable it with `cadency workflow enable`)"
        self.stdout.write(
            f"Created workflow {workflow.pk} «{workflow.name}», owned by {actor.username}; "
            f"it is {state}."
        )

    def switch(self, options: dict[str, Any], *, enabled: bool) -> None:
        actor = get_actor(options["actor"])
        workflow = get_workflow(options["id"])
        if not may_edit_workflow(actor, workflow):
            raise CommandError(
                f"{actor.username} is a {actor.role} and may only change their own workflows; "
                f"«{workflow.name}» belongs to {workflow.owner.username}"
            )
        word = "on" if enabled else "off"
        if set_enabled(workflow=workflow, enabled=enabled, actor=actor):
            self.stdout.write(f"Turned «{workflow.name}» {word}.")
        else:
            self.stdout.write(f"«{workflow.name}» was already {word}; nothing was changed.")

    def runs(self, options: dict[str, Any]) -> None:
        workflow = get_workflow(options["id"])
        runs = list(
            WorkflowRun.objects.filter(workflow=workflow)
            .select_related("contact", "event")
            .order_by("-started_at", "-pk")[: options["limit"]]
        )
        if options["json"]:
            write_json(self.stdout, [run_data(run) for run in runs])
            return
        write_table(
            self.stdout,
            ["ID", "WHEN", "CONTACT", "STATUS", "ACTIONS"],
            [
                [
                    run.pk,
                    short_time(run.started_at),
                    run.contact.email,
                    run.status,
                    "; ".join(f"{s['action']}: {s['outcome']}" for s in run.steps),
                ]
                for run in runs
            ],
            empty=f"«{workflow.name}» has not run yet.",
        )
