"""Read-only queries over automation for the pages, the API and the commands."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cadency.automation.models import UnenrollTrigger, Workflow
from cadency.sequences.models import Enrollment, Sequence, UnenrollReason


def _actions_of(workflow: Workflow, action_type: str) -> list[dict[str, Any]]:
    actions = workflow.actions if isinstance(workflow.actions, list) else []
    return [a for a in actions if isinstance(a, dict) and a.get("type") == action_type]


def _workflows() -> list[Workflow]:
    return list(Workflow.objects.select_related("owner").order_by("name", "pk"))


def workflows_enrolling_into(sequence: Sequence) -> list[Workflow]:
    """Workflows with an action ``{"type": "enroll", "sequence": <this sequence>}``."""
    return [
        workflow
        for workflow in _workflows()
        if any(a.get("sequence") == sequence.pk for a in _actions_of(workflow, "enroll"))
    ]


@dataclass(frozen=True)
class WorkflowRow:
    workflow: Workflow
    every_sequence: bool = False  # it unenrolls from all sequences, this one included


def workflows_unenrolling_from(sequence: Sequence) -> list[WorkflowRow]:
    """Workflows with an ``unenroll`` action for this sequence or for all sequences."""
    found = []
    for workflow in _workflows():
        targets = {a.get("sequence") for a in _actions_of(workflow, "unenroll")}
        if sequence.pk in targets or None in targets:
            found.append(WorkflowRow(workflow, sequence.pk not in targets))
    return found


def ended_counts(triggers: Iterable[UnenrollTrigger]) -> dict[int, int]:
    """How many enrollments each trigger has ended so far (reason ``unenroll_trigger``
    with the trigger as evidence), by trigger id."""
    by_id = {t.pk: t for t in triggers}
    if not by_id:
        return {}
    evidence = Enrollment.objects.filter(
        reason=UnenrollReason.UNENROLL_TRIGGER,
        sequence_id__in={t.sequence_id for t in by_id.values()},
    ).values_list("evidence", flat=True)
    counted = Counter(e.get("trigger") for e in evidence if isinstance(e, dict))
    return {pk: counted.get(pk, 0) for pk in by_id}


@dataclass(frozen=True)
class TriggerRow:
    trigger: UnenrollTrigger
    ended: int


def triggers_of(sequence: Sequence) -> list[TriggerRow]:
    """The sequence's unenrollment triggers, oldest first, with what each has ended."""
    triggers = list(
        UnenrollTrigger.objects.filter(sequence=sequence)
        .select_related("created_by", "sequence")
        .order_by("created_at", "pk")
    )
    counts = ended_counts(triggers)
    return [TriggerRow(t, counts[t.pk]) for t in triggers]
