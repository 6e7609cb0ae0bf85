"""Deactivating a user in the Django admin runs the same service as every other path:
unticking "Active" on the user, or the "Deactivate" action with its confirmation."""

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from cadency.accounts.models import Role, User
from cadency.ledger.models import Event
from cadency.sequences.models import Enrollment, EnrollmentStatus, Task, TaskStatus
from tests.api.support import enrolled, task_first_sequence
from tests.factories import make_contact, make_user

pytestmark = pytest.mark.django_db


def admin_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def change_form(user: User, **changes: Any) -> dict[str, Any]:
    """What the admin's change form posts for ``user``, with ``changes``; a field
    left out of a checkbox means unticked."""
    joined = timezone.localtime(user.date_joined)
    data: dict[str, Any] = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "date_joined_0": joined.strftime("%Y-%m-%d"),
        "date_joined_1": joined.strftime("%H:%M:%S"),
        "role": user.role,
        "reassign_tasks_to": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def loose_task(user: User) -> Task:
    return Task.objects.create(
        assignee=user, contact=make_contact(), kind="call", title="Call", due_at=timezone.now()
    )


def test_unticking_active_in_the_admin_ends_the_users_enrollments(alice: User, admin: User) -> None:
    enrollment = enrolled(alice, task_first_sequence(alice))
    task = loose_task(alice)

    response = admin_client(admin).post(
        f"/admin/accounts/user/{alice.pk}/change/",
        change_form(alice, is_active=None, reassign_tasks_to=str(admin.pk)),
        follow=True,
    )

    assert response.status_code == 200
    assert "Deactivated alice: 1 open enrollment(s) they made ended" in response.content.decode()
    alice.refresh_from_db()
    enrollment.refresh_from_db()
    task.refresh_from_db()
    assert not alice.is_active
    assert (enrollment.status, enrollment.reason) == ("unenrolled", "user_deactivated")
    assert enrollment.ended_by == admin
    assert task.assignee == admin
    assert Event.objects.get(kind="user_deactivated").actor == admin


def test_saving_an_active_user_changes_nothing_about_their_enrollments(
    alice: User, admin: User
) -> None:
    enrollment = enrolled(alice, task_first_sequence(alice))
    admin_client(admin).post(
        f"/admin/accounts/user/{alice.pk}/change/", change_form(alice, first_name="Alicia")
    )
    alice.refresh_from_db()
    enrollment.refresh_from_db()
    assert alice.first_name == "Alicia" and alice.is_active
    assert enrollment.status == EnrollmentStatus.ACTIVE
    assert not Event.objects.filter(kind="user_deactivated").exists()


def test_ticking_active_again_reactivates_without_enrolling_anyone(
    alice: User, admin: User
) -> None:
    from cadency.sequences.services.lifecycle import deactivate_user

    enrollment = enrolled(alice, task_first_sequence(alice))
    deactivate_user(user=alice, actor=admin)
    alice.refresh_from_db()

    admin_client(admin).post(f"/admin/accounts/user/{alice.pk}/change/", change_form(alice))

    alice.refresh_from_db()
    enrollment.refresh_from_db()
    assert alice.is_active
    assert enrollment.status == EnrollmentStatus.UNENROLLED
    assert Event.objects.filter(kind="user_reactivated", actor=admin).exists()


def test_an_admin_cannot_deactivate_themselves_in_the_admin(admin: User) -> None:
    response = admin_client(admin).post(
        f"/admin/accounts/user/{admin.pk}/change/", change_form(admin, is_active=None)
    )
    assert response.status_code == 200  # the form again, with the error
    assert "you cannot deactivate yourself" in response.content.decode()
    admin.refresh_from_db()
    assert admin.is_active


def test_a_staff_manager_may_not_deactivate_an_admin_in_the_admin(admin: User) -> None:
    from django.contrib.auth.models import Permission

    mo = make_user("mo", role=Role.MANAGER, is_staff=True)
    mo.user_permissions.add(*Permission.objects.filter(codename__in=["change_user", "view_user"]))
    response = admin_client(mo).post(
        f"/admin/accounts/user/{admin.pk}/change/", change_form(admin, is_active=None)
    )
    assert "only an admin may deactivate them" in response.content.decode()
    admin.refresh_from_db()
    assert admin.is_active


def test_the_deactivate_action_asks_first_then_deactivates(
    alice: User, bob: User, admin: User
) -> None:
    sequence = task_first_sequence(alice)
    enrolled(alice, sequence)
    enrolled(bob, sequence)
    task = loose_task(bob)
    client = admin_client(admin)
    selection = {"action": "deactivate_selected", "_selected_action": [alice.pk, bob.pk]}

    confirm = client.post("/admin/accounts/user/", selection)

    page = confirm.content.decode()
    assert confirm.status_code == 200
    assert "Open enrollments that will end" in page and "Yes, deactivate 2 users" in page
    assert User.objects.filter(is_active=True, pk__in=[alice.pk, bob.pk]).count() == 2

    done = client.post(
        "/admin/accounts/user/",
        {**selection, "confirm": "yes", "reassign_tasks_to": str(admin.pk)},
        follow=True,
    )

    assert "Deactivated alice" in done.content.decode()
    assert not User.objects.filter(pk__in=[alice.pk, bob.pk], is_active=True).exists()
    assert not Enrollment.objects.filter(status__in=["active", "paused"]).exists()
    task.refresh_from_db()
    assert (task.assignee, task.status) == (admin, TaskStatus.OPEN)


def test_the_deactivate_action_refuses_to_hand_tasks_to_someone_being_deactivated(
    alice: User, bob: User, admin: User
) -> None:
    response = admin_client(admin).post(
        "/admin/accounts/user/",
        {
            "action": "deactivate_selected",
            "_selected_action": [alice.pk, bob.pk],
            "confirm": "yes",
            "reassign_tasks_to": str(bob.pk),
        },
    )
    assert "Choose someone who stays active." in response.content.decode()
    assert User.objects.filter(pk__in=[alice.pk, bob.pk], is_active=True).count() == 2
