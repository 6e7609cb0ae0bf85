"""The sequence page's Steps tab: the step editor writes new versions, never in place."""

from html import escape
from typing import Any

import pytest
from django.test import Client
from pytest_django.fixtures import SettingsWrapper

from cadency.accounts.models import Role, User
from cadency.ledger.models import Event
from cadency.sequences.models import Sequence, Step
from cadency.sequences.services.enrollment import enroll
from cadency.sequences.services.lifecycle import delete_sequence
from cadency.sequences.services.step_editing import AVAILABLE_TOKENS
from cadency.sequences.services.templates import check_template
from tests.factories import make_contact, make_mailbox, make_sequence, make_user

pytestmark = pytest.mark.django_db

THREE_STEPS: list[dict[str, Any]] = [
    {
        "type": "automated_email",
        "subject": 'Quick question, {{ contact.first_name | "there" }}',
        "body": 'Hi {{ contact.first_name | "there" }},\n\nWould a short call help?',
    },
    {"type": "call", "delay": 2, "title": "Call {{ contact.first_name }}"},
    {
        "type": "automated_email",
        "delay": 3,
        "delay_unit": "business_days",
        "body": "Hi {{ contact.first_name }}, just following up.",
    },
]


@pytest.fixture(autouse=True)
def fast_passwords(settings: SettingsWrapper) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def ada() -> User:
    return make_user("ada")


@pytest.fixture
def sequence(ada: User) -> Sequence:
    return make_sequence(ada, steps=THREE_STEPS, name="Intro")


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def step_rows(sequence: Sequence, version: int) -> list[tuple[str, int, str, str, str]]:
    return [
        (s.kind, s.delay, s.delay_unit, s.subject or s.task_title, s.body)
        for s in Step.objects.filter(sequence=sequence, version=version).order_by("position")
    ]


def form_data(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "version": 1,
        "kind": "task",
        "delay": 1,
        "delay_unit": "days",
        "subject": "",
        "body": "",
        "title": "Send the brochure",
        "thread_as_reply": "on",
        "action": "save",
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def edits(sequence: Sequence) -> int:
    return Event.objects.filter(kind="sequence_edited", sequence=sequence).count()


def assert_unchanged(sequence: Sequence, before: list[tuple[str, int, str, str, str]]) -> None:
    sequence.refresh_from_db()
    assert sequence.current_version == 1
    assert step_rows(sequence, 1) == before
    assert not Step.objects.filter(sequence=sequence, version=2).exists()
    assert edits(sequence) == 0


def test_the_tab_lists_the_current_steps_and_says_edits_apply_to_new_enrollments(
    ada: User, sequence: Sequence
) -> None:
    page = client_for(ada).get(f"/sequences/{sequence.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Step 2 · Call task" in html
    assert "2 days after step 1" in html
    assert "3 business days after step 2" in html
    assert "Call {{ contact.first_name }}" in html
    assert "Edits apply to new enrollments only" in html
    assert 'aria-label="Move step 2 up"' in html
    assert "Add a step" in html


def test_adding_a_step_writes_a_new_version_and_a_ledger_event(
    ada: User, sequence: Sequence
) -> None:
    before = step_rows(sequence, 1)
    response = client_for(ada).post(
        f"/sequences/{sequence.pk}/steps/new/",
        form_data(position=2, delay=2, delay_unit="business_days"),
    )
    assert response.status_code == 302
    assert response["Location"] == f"/sequences/{sequence.pk}/#step-2"
    sequence.refresh_from_db()
    assert sequence.current_version == 2
    assert step_rows(sequence, 2) == [
        before[0],
        ("task", 2, "business_days", "Send the brochure", ""),
        *before[1:],
    ]
    assert step_rows(sequence, 1) == before, "the old version stays for its enrollments"
    event = Event.objects.get(kind="sequence_edited", sequence=sequence)
    assert event.actor == ada
    assert "version 2" in event.sentence


def test_editing_a_step_changes_only_that_step_in_a_new_version(
    ada: User, sequence: Sequence
) -> None:
    before = step_rows(sequence, 1)
    client = client_for(ada)
    form = client.get(f"/sequences/{sequence.pk}/steps/3/edit/")
    assert form.status_code == 200
    assert "just following up." in form.content.decode()
    response = client.post(
        f"/sequences/{sequence.pk}/steps/3/edit/",
        form_data(
            kind="automated_email",
            delay=4,
            body='Hi {{ contact.first_name | "there" }},\r\nany thoughts?',
            title="",
        ),
    )
    assert response.status_code == 302
    sequence.refresh_from_db()
    assert sequence.current_version == 2
    assert step_rows(sequence, 2) == [
        *before[:2],
        ("automated_email", 4, "days", "", 'Hi {{ contact.first_name | "there" }},\nany thoughts?'),
    ]
    assert edits(sequence) == 1
    page = client.get(response["Location"])
    assert "Saved step 3" in page.content.decode()


def test_saving_an_unchanged_step_writes_nothing(ada: User, sequence: Sequence) -> None:
    before = step_rows(sequence, 1)
    response = client_for(ada).post(
        f"/sequences/{sequence.pk}/steps/2/edit/",
        form_data(kind="call", delay=2, title="Call {{ contact.first_name }}"),
        follow=True,
    )
    assert "Step 2 was not changed" in response.content.decode()
    assert_unchanged(sequence, before)


def test_moving_steps_up_and_down_reorders_them_in_a_new_version(
    ada: User, sequence: Sequence
) -> None:
    before = step_rows(sequence, 1)
    client = client_for(ada)
    response = client.post(
        f"/sequences/{sequence.pk}/steps/3/move/", {"direction": "up", "version": 1}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/sequences/{sequence.pk}/#step-2"
    sequence.refresh_from_db()
    assert step_rows(sequence, 2) == [before[0], before[2], before[1]]
    client.post(f"/sequences/{sequence.pk}/steps/2/move/", {"direction": "down", "version": 2})
    sequence.refresh_from_db()
    assert sequence.current_version == 3
    assert step_rows(sequence, 3) == before
    assert edits(sequence) == 2


def test_moving_the_first_step_up_is_refused_with_a_message(ada: User, sequence: Sequence) -> None:
    before = step_rows(sequence, 1)
    response = client_for(ada).post(
        f"/sequences/{sequence.pk}/steps/1/move/", {"direction": "up", "version": 1}, follow=True
    )
    assert "step 1 is already the first" in response.content.decode()
    assert_unchanged(sequence, before)


def test_deleting_a_step_writes_a_new_version_without_it(ada: User, sequence: Sequence) -> None:
    before = step_rows(sequence, 1)
    response = client_for(ada).post(f"/sequences/{sequence.pk}/steps/2/delete/", {"version": 1})
    assert response.status_code == 302
    sequence.refresh_from_db()
    assert sequence.current_version == 2
    assert step_rows(sequence, 2) == [before[0], before[2]]
    assert step_rows(sequence, 1) == before
    assert edits(sequence) == 1


def test_a_delete_that_leaves_an_invalid_sequence_is_refused(ada: User, sequence: Sequence) -> None:
    before = step_rows(sequence, 1)
    client = client_for(ada)
    client.post(f"/sequences/{sequence.pk}/steps/1/delete/", {"version": 1})
    sequence.refresh_from_db()
    assert step_rows(sequence, 2) == before[1:]
    # Deleting the call now would make the email without a subject the first step.
    response = client.post(f"/sequences/{sequence.pk}/steps/1/delete/", {"version": 2}, follow=True)
    html = response.content.decode()
    assert "Could not delete step 1" in html
    assert "the first email needs a subject" in html
    sequence.refresh_from_db()
    assert sequence.current_version == 2
    assert step_rows(sequence, 2) == before[1:]
    assert edits(sequence) == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": "Call {{ contact.first_name"}, "a token is not closed"),
        ({"title": "Call {{ deal.amount }}"}, "unknown token &#x27;deal.amount&#x27;"),
        ({"kind": "automated_email", "body": ""}, "an automated email needs a body"),
        ({"delay": -1}, "expected a whole number of days ≥ 0"),
        ({"delay": "soon"}, "Enter a whole number."),
        ({"delay_unit": "weeks"}, "Select a valid choice."),
    ],
)
def test_invalid_input_shows_the_error_on_the_form_and_changes_nothing(
    ada: User, sequence: Sequence, fields: dict[str, Any], message: str
) -> None:
    before = step_rows(sequence, 1)
    client = client_for(ada)
    for url in (f"/sequences/{sequence.pk}/steps/new/", f"/sequences/{sequence.pk}/steps/2/edit/"):
        response = client.post(url, form_data(position=3, **fields))
        assert response.status_code == 400
        assert message in response.content.decode()
    assert_unchanged(sequence, before)


def test_a_form_made_for_an_older_version_changes_nothing(ada: User, sequence: Sequence) -> None:
    before = step_rows(sequence, 1)
    client = client_for(ada)
    response = client.post(f"/sequences/{sequence.pk}/steps/2/edit/", form_data(version=0))
    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()
    response = client.post(f"/sequences/{sequence.pk}/steps/2/delete/", {"version": 0}, follow=True)
    assert "changed by someone else" in response.content.decode()
    assert client.post(f"/sequences/{sequence.pk}/steps/2/delete/", {}).status_code == 400
    assert_unchanged(sequence, before)


def test_open_enrollments_keep_their_version_and_the_page_counts_them(
    ada: User, sequence: Sequence
) -> None:
    make_mailbox(ada)
    enrollment = enroll(contact=make_contact(), sequence=sequence, user=ada, run_first_step=False)
    client = client_for(ada)
    client.post(f"/sequences/{sequence.pk}/steps/2/delete/", {"version": 1})
    enrollment.refresh_from_db()
    assert enrollment.sequence_version == 1
    html = client.get(f"/sequences/{sequence.pk}/").content.decode()
    assert "Version 2 of the steps" in html
    assert "1 active or paused enrollment stays on older versions" in html


def test_the_preview_renders_fallbacks_and_names_a_missing_token(
    ada: User, sequence: Sequence
) -> None:
    nameless = make_contact("nobody@acme.test", first_name="")
    html = (
        client_for(ada)
        .get(f"/sequences/{sequence.pk}/", {"contact": "NOBODY@acme.test"})
        .content.decode()
    )
    assert "Quick question, there" in html
    assert "Hi there," in html
    assert "Re: Quick question, there" in html, "the follow-up threads as a reply"
    assert "the token {{ contact.first_name }} has no value and no fallback" in html
    assert nameless.email in html


def test_the_preview_for_an_unknown_address_says_so(ada: User, sequence: Sequence) -> None:
    response = client_for(ada).get(f"/sequences/{sequence.pk}/", {"contact": "ghost@acme.test"})
    assert "No contact has the address ghost@acme.test." in response.content.decode()


def test_the_editor_previews_a_draft_without_saving_it(ada: User, sequence: Sequence) -> None:
    before = step_rows(sequence, 1)
    make_contact("jane@acme.test", first_name="Jane", properties={"job_title": "CTO"})
    client = client_for(ada)
    response = client.post(
        f"/sequences/{sequence.pk}/steps/2/edit/",
        form_data(
            kind="call",
            title='Call {{ contact.first_name }}, the {{ contact.job_title | "boss" }}',
            action="preview",
            preview_contact="jane@acme.test",
        ),
    )
    assert response.status_code == 200
    assert "Call Jane, the CTO" in response.content.decode()
    response = client.post(
        f"/sequences/{sequence.pk}/steps/new/",
        form_data(
            title="Ask about {{ company.name }}",
            action="preview",
            preview_contact="jane@acme.test",
            position=4,
        ),
    )
    assert "the token {{ company.name }} has no value and no fallback" in (
        response.content.decode()
    )
    assert_unchanged(sequence, before)


def test_the_editor_shows_every_available_token(ada: User, sequence: Sequence) -> None:
    html = client_for(ada).get(f"/sequences/{sequence.pk}/steps/new/").content.decode()
    for token, _meaning in AVAILABLE_TOKENS:
        assert escape(token) in html
        check_template("{{ " + token.replace("<property>", "job_title") + " }}")
    assert '{{ contact.first_name | "there" }}' in html


def test_a_rep_cannot_edit_another_reps_sequence(ada: User, sequence: Sequence) -> None:
    before = step_rows(sequence, 1)
    bob = client_for(make_user("bob"))
    base = f"/sequences/{sequence.pk}/steps"
    assert bob.get(f"{base}/new/").status_code == 403
    assert bob.get(f"{base}/2/edit/").status_code == 403
    assert bob.post(f"{base}/new/", form_data(position=1)).status_code == 403
    assert bob.post(f"{base}/2/edit/", form_data()).status_code == 403
    assert bob.post(f"{base}/2/move/", {"direction": "up", "version": 1}).status_code == 403
    assert bob.post(f"{base}/2/delete/", {"version": 1}).status_code == 403
    assert_unchanged(sequence, before)
    page = bob.get(f"/sequences/{sequence.pk}/").content.decode()
    assert "Only the owner, Ada Example, or a manager or admin can edit them." in page
    assert "Move step" not in page
    assert "Add a step" not in page


def test_a_manager_may_edit_any_sequence(sequence: Sequence) -> None:
    manager = client_for(make_user("mo", role=Role.MANAGER))
    assert "Add a step" in manager.get(f"/sequences/{sequence.pk}/").content.decode()
    manager.post(f"/sequences/{sequence.pk}/steps/2/delete/", {"version": 1})
    sequence.refresh_from_db()
    assert sequence.current_version == 2


def test_a_deleted_sequence_cannot_be_edited(ada: User, sequence: Sequence) -> None:
    delete_sequence(sequence=sequence, actor=ada)
    client = client_for(ada)
    page = client.get(f"/sequences/{sequence.pk}/").content.decode()
    assert "its steps can no longer change" in page
    response = client.post(f"/sequences/{sequence.pk}/steps/2/delete/", {"version": 1}, follow=True)
    assert "was deleted" in response.content.decode()
    response = client.post(f"/sequences/{sequence.pk}/steps/new/", form_data(position=1))
    assert response.status_code == 302
    sequence.refresh_from_db()
    assert sequence.current_version == 1


def test_unknown_ids_are_not_found(ada: User, sequence: Sequence) -> None:
    client = client_for(ada)
    assert client.get("/sequences/999999/").status_code == 404
    assert client.get("/sequences/999999/steps/new/").status_code == 404
    assert client.get(f"/sequences/{sequence.pk}/steps/4/edit/").status_code == 404
    assert client.post(f"/sequences/{sequence.pk}/steps/4/edit/", form_data()).status_code == 404
    move = {"direction": "down", "version": 1}
    assert client.post(f"/sequences/{sequence.pk}/steps/9/move/", move).status_code == 404
    assert (
        client.post(f"/sequences/{sequence.pk}/steps/9/delete/", {"version": 1}).status_code == 404
    )
    bad = {"direction": "sideways", "version": 1}
    assert client.post(f"/sequences/{sequence.pk}/steps/2/move/", bad).status_code == 400
    assert client.get(f"/sequences/{sequence.pk}/steps/2/delete/").status_code == 405
    assert edits(sequence) == 0
