"""Workflows in words, for the pages, the API and the CLI: "Enroll in «Intro» as the
contact's owner". Names of the sequences, lists, users and mailboxes a set of
workflows mentions are loaded together (a few queries whatever the count)."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cadency.accounts.models import User
from cadency.automation.conditions import ConditionError, describe, parse_conditions
from cadency.automation.models import ContactList, TriggerType, Workflow
from cadency.deals.models import DealStage
from cadency.mailboxes.models import Mailbox
from cadency.sequences.models import Sequence, StepKind
from cadency.sequences.views.display import REASONS


def ids(values: Iterable[Any]) -> set[int]:
    return {int(v) for v in values if isinstance(v, int) or (isinstance(v, str) and v.isdigit())}


@dataclass(frozen=True)
class Names:
    sequences: dict[int, str]
    lists: dict[int, str]
    users: dict[int, str]
    mailboxes: dict[int, str]

    @classmethod
    def of(cls, workflows: Iterable[Workflow]) -> "Names":
        sequences: set[Any] = set()
        lists: set[Any] = set()
        users: set[Any] = set()
        mailboxes: set[Any] = set()
        for workflow in workflows:
            filters = workflow.trigger_filters or {}
            sequences.add(filters.get("sequence"))
            lists.add(filters.get("list"))
            for action in workflow.actions:
                sequences.add(action.get("sequence"))
                users.update((action.get("as"), action.get("assignee")))
                mailboxes.add(action.get("mailbox"))
        return cls(
            sequences={
                pk: f"«{name}»" + (" (deleted)" if archived else "")
                for pk, name, archived in Sequence.objects.filter(
                    pk__in=ids(sequences)
                ).values_list("pk", "name", "archived_at")
            },
            lists={
                pk: f"«{name}»"
                for pk, name in ContactList.objects.filter(pk__in=ids(lists)).values_list(
                    "pk", "name"
                )
            },
            users={user.pk: user.display_name for user in User.objects.filter(pk__in=ids(users))},
            mailboxes=dict(
                Mailbox.objects.filter(pk__in=ids(mailboxes)).values_list("pk", "email")
            ),
        )

    def sequence(self, pk: Any) -> str:
        return self.sequences.get(int(pk), f"sequence {pk} (gone)")

    def person(self, who: Any) -> str:
        if who == "contact_owner":
            return "the contact's owner"
        if who == "workflow_owner":
            return "the workflow's owner"
        return self.users.get(int(who), f"user {who}")


def trigger_text(trigger_type: str, filters: dict[str, Any], names: Names) -> str:
    """“Contact property changed: lifecycle_stage becomes “customer””."""
    label = TriggerType(trigger_type).label if trigger_type in TriggerType.values else trigger_type
    details = []
    if "field" in filters:
        value = filters.get("value")
        details.append(f"{filters['field']} becomes “{value}”" if value else filters["field"])
    if "list" in filters:
        details.append(names.lists.get(int(filters["list"]), f"list {filters['list']} (gone)"))
    if "stage" in filters:
        details.append(f"stage {DealStage(filters['stage']).label}")
    if "sequence" in filters:
        details.append(f"in {names.sequence(filters['sequence'])}")
    if "reason" in filters:
        reason = REASONS.get(filters["reason"])
        details.append(f"reason {reason.label if reason else filters['reason']}")
    return f"{label}: {', '.join(details)}" if details else label


def conditions_text(conditions: Any) -> str:
    try:
        return describe(parse_conditions(conditions))
    except ConditionError as exc:  # stored before a rule changed: say so, do not fail
        return f"(conditions no longer valid: {exc})"


def action_text(action: dict[str, Any], names: Names) -> str:
    match action.get("type"):
        case "enroll":
            text = f"Enroll in {names.sequence(action['sequence'])} as {names.person(action['as'])}"
            if action.get("mailbox"):
                mailbox = action["mailbox"]
                text += f", sending from {names.mailboxes.get(int(mailbox), f'mailbox {mailbox}')}"
            return text
        case "unenroll":
            if action.get("sequence") is None:
                return "Unenroll from all sequences"
            return f"Unenroll from {names.sequence(action['sequence'])}"
        case "set_property":
            if not action["value"]:
                return f"Clear {action['field']}"
            return f"Set {action['field']} to “{action['value']}”"
        case "create_task":
            days = int(action["due_in_days"])
            due = "due today" if days == 0 else f"due in {days} day{'s' if days != 1 else ''}"
            kind = StepKind(action["kind"]).label.lower()
            whom = names.person(action["assignee"])
            return f"Create a {kind} “{action['title']}” for {whom}, {due}"
        case "webhook":
            return f"Send a signed webhook to {action['url']}"
    return f"Unknown action {action.get('type')!r}"


@dataclass(frozen=True)
class WorkflowWords:
    trigger: str
    conditions: str
    actions: list[str]


def in_words(workflow: Workflow, names: Names | None = None) -> WorkflowWords:
    names = names or Names.of([workflow])
    return WorkflowWords(
        trigger=trigger_text(workflow.trigger_type, workflow.trigger_filters or {}, names),
        conditions=conditions_text(workflow.conditions),
        actions=[action_text(action, names) for action in workflow.actions],
    )
