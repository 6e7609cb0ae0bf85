"""A sequence with open enrollments of customers and leads, for the trigger tests."""

from dataclasses import dataclass
from typing import Any

from cadency.accounts.models import Role, User
from cadency.automation.models import UnenrollTrigger
from cadency.contacts.models import Contact
from cadency.ledger.models import Event
from cadency.sequences.models import Enrollment, Sequence, UnenrollReason
from cadency.sequences.services.enrollment import enroll, pause, unenroll
from tests.factories import make_contact, make_mailbox, make_sequence, make_user

CUSTOMER = {"field": "lifecycle_stage", "op": "is", "value": "customer"}


def person(username: str, first_name: str, role: Role = Role.REP) -> User:
    user = make_user(username, role=role, first_name=first_name, last_name="Example")
    make_mailbox(user)
    return user


def contact(email: str, first_name: str, last_name: str, stage: str) -> Contact:
    return make_contact(email, first_name=first_name, last_name=last_name, lifecycle_stage=stage)


def enrolled(who: Contact, sequence: Sequence, user: User) -> Enrollment:
    return enroll(contact=who, sequence=sequence, user=user, run_first_step=False)


@dataclass(frozen=True)
class Scene:
    alice: User  # a rep, owns the sequence
    bob: User  # another rep
    maya: User  # a manager
    sequence: Sequence
    customers: list[Enrollment]  # open, lifecycle stage customer (one paused)
    leads: list[Enrollment]  # open, lifecycle stage lead
    elsewhere: Enrollment  # a customer open in another sequence
    already_ended: Enrollment  # a customer whose enrollment in the sequence ended

    @property
    def untouched(self) -> list[Enrollment]:
        return [*self.leads, self.elsewhere, self.already_ended]


def scene() -> Scene:
    alice = person("alice", "Alice")
    bob = person("bob", "Bob")
    maya = person("maya", "Maya", Role.MANAGER)
    sequence = make_sequence(alice, name="Intro")
    other = make_sequence(bob, name="Other")
    customers = [
        enrolled(contact("cara@acme.test", "Cara", "Lane", "customer"), sequence, alice),
        enrolled(contact("cole@acme.test", "Cole", "Hart", "customer"), sequence, bob),
        enrolled(contact("cruz@globex.test", "Cruz", "Moss", "customer"), sequence, alice),
    ]
    pause(enrollment=customers[2], actor=alice)
    leads = [
        enrolled(contact("lena@acme.test", "Lena", "Park", "lead"), sequence, alice),
        enrolled(contact("liam@globex.test", "Liam", "Reed", "sql"), sequence, alice),
    ]
    elsewhere = enrolled(contact("olga@acme.test", "Olga", "Vance", "customer"), other, bob)
    already_ended = enrolled(contact("eve@acme.test", "Eve", "Stone", "customer"), sequence, alice)
    unenroll(enrollment=already_ended, reason=UnenrollReason.MANUAL, actor=alice)
    return Scene(alice, bob, maya, sequence, customers, leads, elsewhere, already_ended)


def states(enrollments: list[Enrollment]) -> dict[int, tuple[str, str]]:
    rows = Enrollment.objects.filter(pk__in=[e.pk for e in enrollments])
    return {
        pk: (status, reason) for pk, status, reason in rows.values_list("pk", "status", "reason")
    }


def snapshot() -> tuple[Any, ...]:
    """What adding or removing a trigger could change."""
    return (
        list(Enrollment.objects.order_by("pk").values_list("pk", "status", "reason", "evidence")),
        list(UnenrollTrigger.objects.order_by("pk").values_list("pk", "kind", "config")),
        Event.objects.count(),
    )


def assert_ended_by(trigger: UnenrollTrigger, enrollments: list[Enrollment]) -> None:
    """Each enrollment ended with reason unenroll_trigger and this trigger as evidence."""
    for enrollment in enrollments:
        enrollment.refresh_from_db()
        assert enrollment.status == "unenrolled"
        assert enrollment.reason == UnenrollReason.UNENROLL_TRIGGER
        assert enrollment.evidence["trigger"] == trigger.pk
        assert enrollment.evidence["trigger_description"] == trigger.description
        assert enrollment.evidence["on_save"] is True
