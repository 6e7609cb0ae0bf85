"""Step-level edits for the step editor, on top of ``authoring.replace_steps``.

Each edit rewrites the whole list of steps in the authoring format (what
``cadency sequence create`` reads) and hands it to ``replace_steps``, so
validation, versioning and the ledger event stay in one place.
"""

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, Q

from cadency.accounts.models import User
from cadency.contacts.models import Contact
from cadency.sequences.models import Enrollment, Sequence, Step, StepKind
from cadency.sequences.models.enrollment import OPEN_STATUSES
from cadency.sequences.services.authoring import replace_steps
from cadency.sequences.services.templates import MissingToken, TemplateError, render

StepSpec = dict[str, Any]

AVAILABLE_TOKENS: list[tuple[str, str]] = [
    ("contact.first_name", "the contact's first name"),
    ("contact.last_name", "the contact's last name"),
    ("contact.full_name", "first and last name"),
    ("contact.email", "the enrolled address"),
    ("contact.<property>", "any custom property of the contact, e.g. contact.job_title"),
    ("company.name", "the contact's company"),
    ("sender.first_name", "your first name"),
    ("sender.last_name", "your last name"),
    ("sender.full_name", "your full name"),
    ("sender.email", "your address"),
]


class StepEditRefused(Exception):
    """The edit cannot be made as asked; nothing was changed."""


class StepNotFound(LookupError):
    pass


def step_spec(step: Step) -> StepSpec:
    return {
        "type": step.kind,
        "delay": step.delay,
        "delay_unit": step.delay_unit,
        "subject": step.subject,
        "body": step.body,
        "title": step.task_title,
        "thread_as_reply": step.thread_as_reply,
        "pause_until_complete": step.pause_until_complete,
    }


def current_specs(sequence: Sequence) -> list[StepSpec]:
    return [step_spec(step) for step in sequence.current_steps()]


def edit_steps(
    *,
    sequence: Sequence,
    based_on_version: int,
    actor: User,
    change: Callable[[list[StepSpec]], list[StepSpec]],
) -> bool:
    """Apply ``change`` to the current steps and save them as a new version.

    Returns False (and writes nothing) when the change leaves the steps as they
    were. Raises StepEditRefused when the steps changed since the editor was
    opened or the sequence was deleted, SequenceSpecError when the result is
    invalid, StepNotFound for a position that does not exist.
    """
    with transaction.atomic():
        locked = Sequence.objects.select_for_update().get(pk=sequence.pk)
        if locked.archived_at is not None:
            raise StepEditRefused(f"«{locked.name}» was deleted; its steps can no longer change")
        if locked.current_version != based_on_version:
            raise StepEditRefused(
                f"the steps were changed by someone else since you opened them (now version "
                f"{locked.current_version}); reload the page and try again"
            )
        before = current_specs(locked)
        after = change(copy.deepcopy(before))
        if after == before:
            return False
        replace_steps(sequence=locked, steps_spec=after, actor=actor)
    sequence.refresh_from_db()
    return True


def _index(specs: list[StepSpec], position: int) -> int:
    if not 1 <= position <= len(specs):
        raise StepNotFound(f"there is no step {position}: the sequence has {len(specs)} steps")
    return position - 1


def add_step(
    *,
    sequence: Sequence,
    based_on_version: int,
    spec: StepSpec,
    actor: User,
    position: int | None = None,
) -> bool:
    """Insert a step at ``position`` (1-based), by default after the last one."""

    def insert(specs: list[StepSpec]) -> list[StepSpec]:
        where = len(specs) + 1 if position is None else position
        if not 1 <= where <= len(specs) + 1:
            raise StepNotFound(f"cannot add a step at position {where}")
        specs.insert(where - 1, spec)
        return specs

    return edit_steps(
        sequence=sequence, based_on_version=based_on_version, actor=actor, change=insert
    )


def update_step(
    *, sequence: Sequence, based_on_version: int, position: int, spec: StepSpec, actor: User
) -> bool:
    def replace(specs: list[StepSpec]) -> list[StepSpec]:
        specs[_index(specs, position)] = spec
        return specs

    return edit_steps(
        sequence=sequence, based_on_version=based_on_version, actor=actor, change=replace
    )


def move_step(
    *, sequence: Sequence, based_on_version: int, position: int, offset: int, actor: User
) -> bool:
    """Move a step ``offset`` places (-1 = up, +1 = down)."""

    def move(specs: list[StepSpec]) -> list[StepSpec]:
        index = _index(specs, position)
        target = index + offset
        if not 0 <= target < len(specs):
            edge = "first" if target < 0 else "last"
            raise StepEditRefused(f"step {position} is already the {edge}")
        specs.insert(target, specs.pop(index))
        return specs

    return edit_steps(
        sequence=sequence, based_on_version=based_on_version, actor=actor, change=move
    )


def delete_step(*, sequence: Sequence, based_on_version: int, position: int, actor: User) -> bool:
    def remove(specs: list[StepSpec]) -> list[StepSpec]:
        del specs[_index(specs, position)]
        return specs

    return edit_steps(
        sequence=sequence, based_on_version=based_on_version, actor=actor, change=remove
    )


@dataclass(frozen=True)
class VersionCounts:
    """Open (active or paused) enrollments on the current steps and on earlier ones."""

    on_current: int
    on_older: int


def open_enrollments_by_version(sequence: Sequence) -> VersionCounts:
    counts = Enrollment.objects.filter(sequence=sequence, status__in=OPEN_STATUSES).aggregate(
        current=Count("pk", filter=Q(sequence_version=sequence.current_version)),
        older=Count("pk", filter=Q(sequence_version__lt=sequence.current_version)),
    )
    return VersionCounts(on_current=counts["current"], on_older=counts["older"])


@dataclass(frozen=True)
class StepPreview:
    """A step as one contact would get it; ``problems`` say what would refuse the enrollment."""

    position: int
    kind: StepKind
    subject: str
    body: str
    title: str
    problems: list[str]


def _render_field(
    field: str, text: str, contact: Contact, sender: User, problems: list[str]
) -> str:
    try:
        return render(text, contact=contact, sender=sender)
    except (MissingToken, TemplateError) as exc:
        problems.append(f"{field}: {exc}")
        return text


def preview_steps(
    specs: list[StepSpec], *, contact: Contact, sender: User, thread_follow_ups: bool
) -> list[StepPreview]:
    """Render every step for ``contact`` as sent by ``sender``; threaded follow-ups
    show the "Re:" subject of the first email, as the sender composes them."""
    previews: list[StepPreview] = []
    thread_subject: str | None = None
    for position, spec in enumerate(specs, start=1):
        kind = StepKind(spec["type"])
        problems: list[str] = []
        subject = _render_field("subject", spec["subject"], contact, sender, problems)
        body = _render_field("body", spec["body"], contact, sender, problems)
        title = _render_field("title", spec["title"], contact, sender, problems)
        if kind == StepKind.AUTOMATED_EMAIL:
            threaded = thread_follow_ups and spec["thread_as_reply"]
            if thread_subject is not None and threaded:
                subject = f"Re: {thread_subject}"
            elif thread_subject is None:
                thread_subject = subject
        previews.append(StepPreview(position, kind, subject, body, title, problems))
    return previews
