"""The Settings tab and ``update_settings``: who may change what, a ledger row per change,
new enrollments only; bad input changes nothing; the same-company preview is shown."""

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from cadency.accounts.models import Role
from cadency.inbound.models import InboundMessage, InboundStatus
from cadency.ledger.models import Event
from cadency.sequences.models import Sequence
from cadency.sequences.services.lifecycle import delete_sequence
from cadency.sequences.services.settings import SettingsError, update_settings
from tests.factories import make_contact, make_sequence
from tests.sequences.pages import client_for, enroll_some, messages_of, person

pytestmark = pytest.mark.django_db

VALID = {
    "send_window_start": "09:00",
    "send_window_end": "17:30",
    "send_days": ["0", "1", "2", "3"],
    "business_days_only": "on",
    "unenroll_same_company": "on",
}


@pytest.fixture
def team() -> Any:
    alice = person("alice")
    return alice, person("bob"), person("boss", Role.MANAGER), make_sequence(alice, name="Intro")


def snapshot(sequence: Sequence) -> tuple[Any, ...]:
    sequence.refresh_from_db()
    return (
        sequence.send_window_start,
        sequence.send_window_end,
        sequence.send_days,
        sequence.business_days_only,
        sequence.thread_follow_ups,
        sequence.unenroll_same_company,
        sequence.pause_on_out_of_office,
    )


def test_the_owner_changes_the_settings_for_new_enrollments_only(team: Any) -> None:
    alice, _, _, sequence = team
    (old,) = enroll_some(alice, sequence, 1)
    client = client_for(alice)
    page = client.get(f"/sequences/{sequence.pk}/settings/")
    assert page.status_code == 200
    assert "keeps a snapshot of the settings it started with" in page.content.decode()
    response = client.post(f"/sequences/{sequence.pk}/settings/", VALID)
    assert response.status_code == 302
    assert messages_of(response)[0].startswith("Saved 6 changes.")
    assert snapshot(sequence) == (
        dt.time(9, 0),
        dt.time(17, 30),
        [0, 1, 2, 3],
        True,
        False,
        True,
        False,
    )
    event = Event.objects.get(kind="sequence_settings_changed")
    assert event.actor == alice and event.sequence_id == sequence.pk
    assert event.data["changes"]["send_window_start"] == {"from": "00:00:00", "to": "09:00:00"}
    assert event.data["changes"]["unenroll_same_company"] == {"from": False, "to": True}
    assert "same-company rule off → on" in event.sentence
    old.refresh_from_db()
    assert old.send_settings["unenroll_same_company"] is False, "open enrollments keep theirs"
    (new,) = enroll_some(alice, sequence, 1, domain="new.test")
    assert new.send_settings["unenroll_same_company"] is True
    assert new.send_settings["window_start"] == "09:00:00"


def test_saving_the_same_values_records_nothing(team: Any) -> None:
    alice, _, _, sequence = team
    client = client_for(alice)
    client.post(f"/sequences/{sequence.pk}/settings/", VALID)
    client.get(f"/sequences/{sequence.pk}/settings/")  # shows, and so consumes, the message
    response = client.post(f"/sequences/{sequence.pk}/settings/", VALID)
    assert messages_of(response) == ["Nothing changed."]
    assert Event.objects.filter(kind="sequence_settings_changed").count() == 1


def test_a_manager_may_change_any_sequence(team: Any) -> None:
    _, _, boss, sequence = team
    response = client_for(boss).post(f"/sequences/{sequence.pk}/settings/", VALID)
    assert response.status_code == 302
    assert snapshot(sequence)[0] == dt.time(9, 0)


def test_another_rep_sees_the_settings_but_cannot_change_them(team: Any) -> None:
    _, bob, _, sequence = team
    before = snapshot(sequence)
    client = client_for(bob)
    html = client.get(f"/sequences/{sequence.pk}/settings/").content.decode()
    assert "<fieldset disabled>" in html and "Save settings" not in html
    assert client.post(f"/sequences/{sequence.pk}/settings/", VALID).status_code == 403
    assert snapshot(sequence) == before
    assert not Event.objects.filter(kind="sequence_settings_changed").exists()


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"send_window_start": "18:00", "send_window_end": "08:00"}, "The end must be after"),
        ({"send_window_start": "25:99"}, "Enter a valid time"),
        ({"send_days": []}, "Choose at least one day"),
        ({"send_days": ["7"]}, "Select a valid choice"),
        ({"send_days": ["monday"]}, "Select a valid choice"),
    ],
)
def test_bad_input_changes_nothing_and_says_why(
    team: Any, change: dict[str, Any], error: str
) -> None:
    alice, _, _, sequence = team
    before = snapshot(sequence)
    response = client_for(alice).post(f"/sequences/{sequence.pk}/settings/", {**VALID, **change})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert snapshot(sequence) == before
    assert not Event.objects.filter(kind="sequence_settings_changed").exists()


def test_a_deleted_sequences_settings_cannot_change(team: Any) -> None:
    alice, _, _, sequence = team
    delete_sequence(sequence=sequence, actor=alice)
    before = snapshot(sequence)
    response = client_for(alice).post(f"/sequences/{sequence.pk}/settings/", VALID)
    assert response.status_code == 400
    assert "was deleted; its settings cannot change" in response.content.decode()
    assert snapshot(sequence) == before


def test_the_service_refuses_unknown_settings_wrong_types_and_other_reps(team: Any) -> None:
    alice, bob, _, sequence = team
    before = snapshot(sequence)
    with pytest.raises(SettingsError, match="not a setting you can change here: owner"):
        update_settings(sequence=sequence, actor=alice, owner=bob)
    with pytest.raises(SettingsError, match="business_days_only: expected true or false"):
        update_settings(sequence=sequence, actor=alice, business_days_only="yes")
    with pytest.raises(SettingsError, match="send_days: days are 0"):
        update_settings(sequence=sequence, actor=alice, send_days=[1, 9])
    with pytest.raises(SettingsError, match="send_window_start: expected a time"):
        update_settings(sequence=sequence, actor=alice, send_window_start="08:00")
    with pytest.raises(PermissionDenied):
        update_settings(sequence=sequence, actor=bob, thread_follow_ups=False)
    assert snapshot(sequence) == before
    assert update_settings(sequence=sequence, actor=alice, send_days=[4, 0, 4]) == ["send_days"]
    assert snapshot(sequence)[2] == [0, 4]


def test_the_page_previews_which_enrollments_the_same_company_rule_would_end(
    team: Any,
) -> None:
    alice, _, _, sequence = team
    (jane,) = enroll_some(alice, sequence, 1, domain="acme.test")
    (other,) = enroll_some(alice, sequence, 1, domain="globex.test")
    colleague = make_contact("raj@acme.test", first_name="Raj", last_name="Patel")
    InboundMessage.objects.create(
        mailbox=jane.mailbox,
        folder="INBOX",
        uidvalidity=1,
        uid=1,
        raw=b"",
        from_address=colleague.email,
        from_name="Raj Patel",
        subject="Re: Quick question",
        status=InboundStatus.PROCESSED,
        label="human_reply",
        contact=colleague,
    )
    html = client_for(alice).get(f"/sequences/{sequence.pk}/settings/").content.decode()
    preview = html[html.index('id="preview-heading"') :]
    assert "<strong>1</strong> open enrollment would end" in preview
    assert jane.email in preview and other.email not in preview
    assert "Raj Patel" in preview
    assert f'name="ids" value="{jane.pk}"' in preview


def test_saving_the_form_untouched_changes_nothing_even_with_seconds(team: Any) -> None:
    alice, _, _, sequence = team
    client = client_for(alice)
    html = client.get(f"/sequences/{sequence.pk}/settings/").content.decode()
    assert 'value="23:59:59"' in html and 'value="00:00"' in html
    untouched = {
        "send_window_start": "00:00",
        "send_window_end": "23:59:59",
        "send_days": [str(d) for d in range(7)],
        "thread_follow_ups": "on",
    }
    response = client.post(f"/sequences/{sequence.pk}/settings/", untouched)
    assert messages_of(response) == ["Nothing changed."]
    assert not Event.objects.filter(kind="sequence_settings_changed").exists()
