"""The workflow builder's form: name, trigger and its filters, condition rows and
ordered action rows, posted together with indexed names (``conditions-0-field``,
``actions-0-type``…). It only reads the page into the spec
``services.workflows.check_workflow`` takes, and puts the service's error next to
the row it is about; the service decides what is valid."""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django import forms

from cadency.accounts.models import User
from cadency.automation.actions import ACTION_TYPES, TASK_KINDS
from cadency.automation.conditions import (
    COMPANY_FIELDS,
    PLAIN_FIELDS,
    ConditionError,
    parse_condition,
)
from cadency.automation.models import ContactList, TriggerType, Workflow
from cadency.automation.services.workflows import FILTERS
from cadency.deals.models import DealStage
from cadency.mailboxes.models import Mailbox
from cadency.sequences.models import Sequence, StepKind
from cadency.sequences.views.display import REASONS

MAX_CONDITIONS = 50
MAX_ACTIONS = 20

OP_LABELS = {
    "is": "is",
    "is_not": "is not",
    "contains": "contains",
    "is_any_of": "is any of",
    "is_set": "is set",
    "is_not_set": "is not set",
}
ACTION_LABELS = {
    "enroll": "Enroll in a sequence",
    "unenroll": "Unenroll from sequences",
    "set_property": "Set a property",
    "create_task": "Create a task",
    "webhook": "Send a webhook",
}
# The form fields each action type reads (``enroll_as`` is the action's "as").
ACTION_FIELDS: dict[str, tuple[str, ...]] = {
    "enroll": ("sequence", "enroll_as", "mailbox"),
    "unenroll": ("sequence",),
    "set_property": ("field", "value"),
    "create_task": ("title", "kind", "assignee", "due_in_days", "notes"),
    "webhook": ("url",),
}
ACTION_KEY = {"enroll_as": "as"}
ROW_FIELDS = ("type", *dict.fromkeys(name for names in ACTION_FIELDS.values() for name in names))
NEW_ACTION = {
    "type": "enroll",
    "enroll_as": "contact_owner",
    "kind": "task",
    "assignee": "contact_owner",
    "due_in_days": "0",
}
SET_FIELDS = ("lifecycle_stage", "owner", "first_name", "last_name", "time_zone")
CONDITION_FIELDS = (*PLAIN_FIELDS, *COMPANY_FIELDS)

ACTION_ERROR = re.compile(r"^action (\d+)\b")
ROW_KEY = re.compile(r"^(conditions|actions)-(\d+)-")

Choices = list[tuple[str, str]]


def person_choices(users: Iterable[User]) -> Choices:
    people = [("contact_owner", "The contact's owner"), ("workflow_owner", "The workflow's owner")]
    for user in users:
        gone = "" if user.is_active else " (deactivated)"
        people.append((str(user.pk), f"{user.display_name} ({user.username}){gone}"))
    return people


@dataclass(frozen=True)
class Options:
    """What the builder's selects offer, loaded once per page."""

    sequences: Choices
    people: Choices
    mailboxes: Choices
    lists: Choices

    @classmethod
    def load(cls) -> "Options":
        sequences = [
            (str(pk), f"{name} (deleted)" if archived else name)
            for pk, name, archived in Sequence.objects.order_by("name", "pk").values_list(
                "pk", "name", "archived_at"
            )
        ]
        users = User.objects.order_by("-is_active", "first_name", "username")
        mailboxes = [
            (str(pk), f"{email} ({username})")
            for pk, email, username in Mailbox.objects.order_by("email", "pk").values_list(
                "pk", "email", "user__username"
            )
        ]
        lists = [
            (str(pk), name)
            for pk, name in ContactList.objects.order_by("name").values_list("pk", "name")
        ]
        return cls(sequences, person_choices(users), mailboxes, lists)


def keep_value(form: forms.Form, name: str, value: str) -> None:
    """A value the select does not offer (an id since removed, or a typo in a posted
    form) stays selected as "unknown", so saving names the problem instead of
    silently choosing the first option."""
    choice_field = form.fields[name]
    assert isinstance(choice_field, forms.ChoiceField)
    choices = list(choice_field.choices)  # type: ignore[arg-type]
    if value and value not in {str(key) for key, _ in choices}:
        choice_field.choices = [*choices, (value, f"unknown: {value}")]


class HeadForm(forms.Form):
    name = forms.CharField(
        label="Name", required=False, max_length=300, widget=forms.TextInput(attrs={"size": 50})
    )
    trigger_type = forms.ChoiceField(
        label="When",
        choices=TriggerType.choices,
        widget=forms.Select(attrs={"data-refresh": "filters"}),
        help_text="The change that starts the workflow, for each contact it concerns "
        "(a company or deal change concerns each of its contacts).",
    )


class FilterForm(forms.Form):
    """The trigger's filters; the page shows those the trigger type accepts."""

    field = forms.CharField(
        label="Property",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"list": "filter-fields", "autocomplete": "off"}),
        help_text="Only when this property changed: lifecycle_stage, owner, properties.<name> "
        "(for a company: name or properties.<name>). Empty: any property.",
    )
    value = forms.CharField(
        label="Changes to",
        required=False,
        max_length=1000,
        help_text="Only when its new value is this (letter case ignored). Empty: any value.",
    )
    list = forms.ChoiceField(label="List", required=False, help_text="Empty: any list.")
    stage = forms.ChoiceField(
        label="Deal stage",
        required=False,
        choices=[("", "Any stage"), *DealStage.choices],
        help_text="A created deal's stage, or the stage a deal moved to.",
    )
    sequence = forms.ChoiceField(
        label="Sequence",
        required=False,
        help_text="Only for this sequence's emails or enrollments.",
    )
    reason = forms.ChoiceField(
        label="Ending reason",
        required=False,
        choices=[("", "Any reason"), *((code, text.label) for code, text in REASONS.items())],
        help_text="Only enrollments that ended for this reason.",
    )

    def __init__(self, *args: Any, options: Options, **kwargs: Any) -> None:
        super().__init__(*args, **{**kwargs, "prefix": "filter"})
        self.fields_of("list").choices = [("", "Any list"), *options.lists]
        self.fields_of("sequence").choices = [("", "Any sequence"), *options.sequences]
        for name in ("list", "stage", "sequence", "reason"):
            keep_value(self, name, str(self.initial.get(name, "")))

    def fields_of(self, name: str) -> forms.ChoiceField:
        found = self.fields[name]
        assert isinstance(found, forms.ChoiceField)
        return found


class ConditionForm(forms.Form):
    field = forms.CharField(
        label="Field",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"list": "condition-fields", "autocomplete": "off"}),
    )
    op = forms.ChoiceField(label="Operator", choices=list(OP_LABELS.items()))
    value = forms.CharField(
        label="Value",
        required=False,
        max_length=2000,
        help_text="For “is any of”, separate the values with commas; “is set” needs none.",
    )


class ActionForm(forms.Form):
    type = forms.ChoiceField(
        label="Action",
        choices=list(ACTION_LABELS.items()),
        widget=forms.Select(attrs={"data-refresh": "action"}),
    )
    sequence = forms.ChoiceField(label="Sequence", required=False)
    enroll_as = forms.ChoiceField(
        label="Enroll as",
        required=False,
        help_text="Whose enrollment it is; it sends from their working mailbox.",
    )
    mailbox = forms.ChoiceField(
        label="Mailbox",
        required=False,
        help_text="Only when enrolling as the workflow's owner or a chosen user.",
    )
    field = forms.CharField(
        label="Property",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"list": "set-fields", "autocomplete": "off"}),
        help_text="lifecycle_stage, owner (a username), first_name, last_name, time_zone, "
        "properties.<name> or company.properties.<name>.",
    )
    value = forms.CharField(label="Value", required=False, max_length=1000)
    title = forms.CharField(
        label="Task title",
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs={"size": 40}),
    )
    kind = forms.ChoiceField(
        label="Kind",
        required=False,
        choices=[(kind, StepKind(kind).label) for kind in TASK_KINDS],
    )
    assignee = forms.ChoiceField(label="For", required=False)
    due_in_days = forms.CharField(
        label="Due in (days)",
        required=False,
        max_length=10,
        widget=forms.NumberInput(attrs={"min": 0, "max": 365, "step": 1}),
    )
    notes = forms.CharField(
        label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 40})
    )
    url = forms.CharField(
        label="URL",
        required=False,
        max_length=2000,
        widget=forms.URLInput(attrs={"size": 50, "placeholder": "https://"}),
        help_text="Cadency POSTs the run as JSON, signed with the workflow's secret.",
    )

    def __init__(self, *args: Any, options: Options, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind = str(self.initial.get("type", ""))
        everywhere = [("all", "All sequences")] if kind == "unenroll" else [("", "Choose…")]
        self.choice("sequence").choices = [*everywhere, *options.sequences]
        self.choice("enroll_as").choices = options.people
        self.choice("assignee").choices = options.people
        self.choice("mailbox").choices = [("", "Their working mailbox"), *options.mailboxes]
        for name in ("type", "sequence", "enroll_as", "mailbox", "kind", "assignee"):
            keep_value(self, name, str(self.initial.get(name, "")))

    def choice(self, name: str) -> forms.ChoiceField:
        found = self.fields[name]
        assert isinstance(found, forms.ChoiceField)
        return found

    def shown_fields(self) -> list[forms.BoundField]:
        kind = str(self.initial.get("type", ""))
        return [self[name] for name in ACTION_FIELDS.get(kind, ())]


@dataclass
class Row:
    """One condition or action row: what was typed, and the error about it."""

    values: dict[str, str]
    error: str = ""
    form: forms.Form | None = None


def posted_rows(data: Mapping[str, str], kind: str, names: Iterable[str]) -> list[Row]:
    indices = sorted(
        {int(m[2]) for key in data if (m := ROW_KEY.match(key)) and m[1] == kind},
    )
    limit = MAX_CONDITIONS if kind == "conditions" else MAX_ACTIONS
    return [
        Row({name: str(data.get(f"{kind}-{i}-{name}", "")) for name in names})
        for i in indices[: limit + 1]
    ]


def condition_values(condition: dict[str, Any]) -> dict[str, str]:
    value = condition.get("value", "")
    shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return {"field": str(condition.get("field", "")), "op": str(condition["op"]), "value": shown}


def action_values(action: dict[str, Any]) -> dict[str, str]:
    values = dict(NEW_ACTION)
    for name in ACTION_FIELDS[action["type"]]:
        found = action.get(ACTION_KEY.get(name, name))
        values[name] = "" if found is None else str(found)
    if action["type"] == "unenroll" and action.get("sequence") is None:
        values["sequence"] = "all"
    values["type"] = action["type"]
    return values


@dataclass
class Draft:
    """The builder's state: read from a workflow, a POST or nothing; turned into
    the service's spec; changed by the row buttons; re-rendered with its errors."""

    name: str = ""
    trigger_type: str = TriggerType.CONTACT_PROPERTY_CHANGED
    filters: dict[str, str] = field(default_factory=dict)
    conditions: list[Row] = field(default_factory=list)
    actions: list[Row] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    # Set when a type select changed but the page still shows the old type's inputs.
    stale: bool = False

    @classmethod
    def blank(cls) -> "Draft":
        return cls(actions=[Row(dict(NEW_ACTION))])

    @classmethod
    def of(cls, workflow: Workflow) -> "Draft":
        return cls(
            name=workflow.name,
            trigger_type=workflow.trigger_type,
            filters={k: str(v) for k, v in (workflow.trigger_filters or {}).items()},
            conditions=[Row(condition_values(c)) for c in workflow.conditions],
            actions=[Row(action_values(a)) for a in workflow.actions],
        )

    @classmethod
    def posted(cls, data: Mapping[str, str]) -> "Draft":
        trigger_type = str(data.get("trigger_type", ""))
        draft = cls(
            name=str(data.get("name", "")),
            trigger_type=trigger_type,
            filters={
                name: str(data.get(f"filter-{name}", "")).strip() for name in FilterForm.base_fields
            },
            conditions=posted_rows(data, "conditions", ConditionForm.base_fields),
            actions=posted_rows(data, "actions", (*ROW_FIELDS, "shown_type")),
        )
        shown_types = [row.values.pop("shown_type") for row in draft.actions]
        for shown, row in zip(shown_types, draft.actions, strict=True):
            # Inputs the page did not show keep their defaults for a new type.
            hidden = set(NEW_ACTION) - set(ACTION_FIELDS.get(shown, ())) - {"type"}
            row.values |= {name: NEW_ACTION[name] for name in hidden if not row.values[name]}
        draft.stale = data.get("shown_trigger_type", trigger_type) != trigger_type or any(
            shown not in ("", row.values["type"])
            for shown, row in zip(shown_types, draft.actions, strict=True)
        )
        return draft

    def spec(self) -> dict[str, Any]:
        """What the service checks and saves. Filters the trigger type does not take
        and condition rows left empty are dropped."""
        accepted = FILTERS.get(self.trigger_type, ())
        return {
            "name": self.name,
            "trigger_type": self.trigger_type,
            "trigger_filters": {k: v for k, v in self.filters.items() if k in accepted and v},
            "conditions": [condition_spec(row.values) for row in self.filled_conditions()],
            "actions": [action_spec(row.values) for row in self.actions],
        }

    def filled_conditions(self) -> list[Row]:
        return [row for row in self.conditions if row.values["field"].strip()]

    def apply(self, op: str) -> str:
        """A row button: add, remove or move a row. Returns what changed, in words."""
        verb, _, index_text = op.partition(":")
        if verb == "add_condition":
            self.conditions.append(Row({"field": "", "op": "is", "value": ""}))
            return f"Added condition {len(self.conditions)}."
        if verb == "add_action":
            self.actions.append(Row(dict(NEW_ACTION)))
            return f"Added action {len(self.actions)}."
        rows = self.conditions if verb == "remove_condition" else self.actions
        index = int(index_text) if index_text.isdigit() else -1
        if not 0 <= index < len(rows):
            return ""
        noun = "condition" if verb == "remove_condition" else "action"
        if verb in ("remove_condition", "remove_action"):
            del rows[index]
            return f"Removed {noun} {index + 1}."
        target = index - 1 if verb == "up" else index + 1
        if verb not in ("up", "down") or not 0 <= target < len(rows):
            return ""
        rows[index], rows[target] = rows[target], rows[index]
        return f"Moved action {index + 1} to position {target + 1}."

    def place_error(self, message: str) -> None:
        """Put the service's message next to what it is about."""
        found = ACTION_ERROR.match(message)
        if found and 1 <= int(found[1]) <= len(self.actions):
            self.actions[int(found[1]) - 1].error = message
        elif message.startswith("give the workflow a name"):
            self.errors["name"] = message
        elif "filter" in message or message.startswith("unknown trigger"):
            self.errors["trigger"] = message
        elif "action" in message:
            self.errors["actions"] = message
        elif not self.condition_row_error(message):
            self.errors["conditions"] = message

    def condition_row_error(self, message: str) -> bool:
        for row in self.filled_conditions():
            try:
                parse_condition(condition_spec(row.values))
            except ConditionError as exc:
                if str(exc) == message:
                    row.error = message
                    return True
        return False

    def bind(self, options: Options, *, focus: str = "") -> None:
        """Make the forms that render the rows, numbered in their current order;
        the input whose id is ``focus`` gets the focus when the page loads."""
        for i, row in enumerate(self.conditions):
            row.form = ConditionForm(prefix=f"conditions-{i}", initial=row.values)
        for i, row in enumerate(self.actions):
            row.form = ActionForm(prefix=f"actions-{i}", initial=row.values, options=options)
        for row in (*self.conditions, *self.actions):
            assert row.form is not None
            for bound in row.form:
                if focus and bound.auto_id == focus:
                    bound.field.widget.attrs["autofocus"] = True

    def head_form(self) -> HeadForm:
        form = HeadForm(initial={"name": self.name, "trigger_type": self.trigger_type})
        keep_value(form, "trigger_type", self.trigger_type)
        return form

    def filter_form(self, options: Options) -> FilterForm:
        return FilterForm(initial=self.filters, options=options)

    def shown_filters(self) -> tuple[str, ...]:
        return FILTERS.get(self.trigger_type, ())


def condition_spec(values: Mapping[str, str]) -> dict[str, Any]:
    op = values.get("op", "is")
    value: Any = values.get("value", "")
    if op == "is_any_of":
        value = [part.strip() for part in str(value).split(",") if part.strip()]
    return {"field": values.get("field", "").strip(), "op": op, "value": value}


def action_spec(values: Mapping[str, str]) -> dict[str, Any]:
    kind = values.get("type", "")
    if kind not in ACTION_TYPES:
        return {"type": kind}
    spec: dict[str, Any] = {"type": kind}
    for name in ACTION_FIELDS[kind]:
        spec[ACTION_KEY.get(name, name)] = values.get(name, "").strip()
    return spec
