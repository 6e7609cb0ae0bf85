from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cadency.accounts.permissions import may_act_on
from cadency.lib.cli_helpers import (
    get_actor,
    get_task,
    get_user,
    iso,
    positive_int,
    short_time,
    write_json,
    write_table,
)
from cadency.sequences.models import Task, TaskStatus
from cadency.sequences.services.task_completion import TaskNotOpen, complete_task


def task_data(task: Task) -> dict[str, Any]:
    run = task.step_run
    return {
        "id": task.pk,
        "kind": task.kind,
        "title": task.title,
        "notes": task.notes,
        "status": task.status,
        "assignee": task.assignee.username,
        "contact": task.contact.email,
        "enrollment": run.enrollment_id if run else None,
        "step": run.position if run else None,
        "due_at": iso(task.due_at),
        "completed_at": iso(task.completed_at),
    }


class Command(BaseCommand):
    help = "List, complete or skip tasks."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        listing = actions.add_parser("list", help="list tasks, soonest due first")
        listing.add_argument("--user", metavar="USERNAME", help="only this user's tasks")
        listing.add_argument(
            "--status", choices=[*TaskStatus.values, "all"], default=TaskStatus.OPEN
        )
        listing.add_argument("--limit", type=positive_int, default=200, metavar="N")
        listing.add_argument("--json", action="store_true", help="print JSON")
        for name, text in (("complete", "mark a task done"), ("skip", "skip a task")):
            act = actions.add_parser(name, help=f"{text}; a sequence waiting on it moves on")
            act.add_argument("id", type=positive_int)
            act.add_argument("--as", dest="actor", required=True, metavar="USERNAME")
            act.add_argument("--json", action="store_true", help="print the task as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            self.list(options)
        else:
            self.finish(options, skipped=options["action"] == "skip")

    def list(self, options: dict[str, Any]) -> None:
        tasks = Task.objects.select_related("assignee", "contact", "step_run").order_by(
            "due_at", "pk"
        )
        if options["status"] != "all":
            tasks = tasks.filter(status=options["status"])
        if options["user"]:
            tasks = tasks.filter(assignee=get_user(options["user"]))
        total = tasks.count()
        shown = list(tasks[: options["limit"]])
        if options["json"]:
            write_json(self.stdout, [task_data(t) for t in shown])
        else:
            write_table(
                self.stdout,
                ["ID", "DUE", "KIND", "TITLE", "CONTACT", "ASSIGNEE", "STATUS"],
                [
                    [
                        t.pk,
                        short_time(t.due_at),
                        t.kind,
                        t.title,
                        t.contact.email,
                        t.assignee.username,
                        t.status,
                    ]
                    for t in shown
                ],
                empty="No tasks.",
            )
        if total > len(shown):
            self.stderr.write(f"Showing {len(shown)} of {total}; use --limit to see more.")

    def finish(self, options: dict[str, Any], *, skipped: bool) -> None:
        actor = get_actor(options["actor"])
        task = get_task(options["id"])
        if not may_act_on(actor, task.assignee_id):
            raise CommandError(
                f"task {task.pk} is assigned to {task.assignee.username}; {actor.username} is a "
                f"{actor.role} and may only act on their own tasks"
            )
        try:
            task = complete_task(task=task, actor=actor, skipped=skipped)
        except TaskNotOpen as exc:
            raise CommandError(f"task {task.pk}: {exc}; nothing was changed") from exc
        task = Task.objects.select_related("assignee", "contact", "step_run").get(pk=task.pk)
        if options["json"]:
            write_json(self.stdout, task_data(task))
        else:
            verb = "Skipped" if skipped else "Completed"
            self.stdout.write(f"{verb} task {task.pk}: {task.title}.")
