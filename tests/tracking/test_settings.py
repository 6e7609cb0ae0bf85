"""Tracking is opt-in per sequence: off by default, set on the Settings tab, in a sequence
description and through the API; each enrollment keeps the setting it started with."""

import pytest

from cadency.accounts.models import User
from cadency.ledger.models import Event
from cadency.sequences.services.authoring import SequenceSpecError, create_sequence
from cadency.sequences.services.claiming import fix_message
from cadency.sequences.services.scheduling import sequence_settings_snapshot
from tests.api.support import api_for
from tests.factories import ALWAYS_OPEN, make_sequence
from tests.sequences.pages import client_for, person
from tests.tracking.support import click_paths, parts, sent_run, tracked_sequence

pytestmark = pytest.mark.django_db

FORM = {
    "send_window_start": "00:00",
    "send_window_end": "23:59:59",
    "send_days": ["0", "1", "2", "3", "4", "5", "6"],
    "thread_follow_ups": "on",
}


@pytest.fixture
def alice() -> User:
    return person("alice")


def test_tracking_is_off_unless_asked(alice: User) -> None:
    sequence = make_sequence(alice)
    assert (sequence.track_clicks, sequence.track_opens) == (False, False)
    snapshot = sequence_settings_snapshot(sequence)
    assert (snapshot["track_clicks"], snapshot["track_opens"]) == (False, False)


def test_the_settings_tab_turns_tracking_on_for_new_enrollments_only(alice: User) -> None:
    sequence = tracked_sequence(alice, clicks=False, opens=False)
    before = sent_run(alice, sequence, email="early@acme.test")
    client = client_for(alice)
    page = client.get(f"/sequences/{sequence.pk}/settings/").content.decode()
    assert 'name="track_clicks"' in page and "Track link clicks" in page
    assert 'name="track_opens"' in page and "Track opens" in page

    response = client.post(
        f"/sequences/{sequence.pk}/settings/", {**FORM, "track_clicks": "on", "track_opens": "on"}
    )
    assert response.status_code == 302
    sequence.refresh_from_db()
    assert (sequence.track_clicks, sequence.track_opens) == (True, True)
    event = Event.objects.get(kind="sequence_settings_changed")
    assert "click tracking off → on" in event.sentence
    assert "open tracking off → on" in event.sentence

    after = sent_run(alice, sequence, email="late@acme.test")
    assert click_paths(after) and "/t/o/" in parts(after)[1]
    before_enrollment = before.enrollment
    before_enrollment.refresh_from_db()
    assert before_enrollment.send_settings["track_clicks"] is False


def test_an_enrollment_from_before_tracking_existed_is_not_tracked(alice: User) -> None:
    sequence = tracked_sequence(alice, clicks=True, opens=True)
    run = sent_run(alice, sequence)
    enrollment = run.enrollment
    settings = dict(enrollment.send_settings)
    del settings["track_clicks"], settings["track_opens"]
    enrollment.send_settings = settings
    enrollment.save(update_fields=["send_settings"])
    assert click_paths(sent_run(alice, sequence, email="omar@acme.test")), "new ones are"
    run.refresh_from_db()
    message = fix_message(enrollment, run)  # the email as a retry after an upgrade would fix it
    assert b"/t/c/" not in bytes(message.raw) and b"/t/o/" not in bytes(message.raw)


def test_a_sequence_description_sets_tracking(alice: User) -> None:
    spec = {
        "name": "Tracked",
        "settings": {**ALWAYS_OPEN, "track_clicks": True, "track_opens": False},
        "steps": [{"type": "automated_email", "subject": "Hi", "body": "Hello"}],
    }
    sequence = create_sequence(owner=alice, spec=spec)
    assert (sequence.track_clicks, sequence.track_opens) == (True, False)
    with pytest.raises(SequenceSpecError, match=r"settings\.track_opens: expected true or false"):
        create_sequence(
            owner=alice, spec={**spec, "settings": {"track_opens": "yes"}, "name": "Bad"}
        )


def test_the_api_reads_and_writes_the_tracking_settings(alice: User) -> None:
    api = api_for(alice)
    body = {
        "name": "Tracked",
        "settings": {"track_clicks": True},
        "steps": [{"type": "automated_email", "subject": "Hi", "body": "Hello"}],
    }
    response = api.post("/sequences", body)
    assert response.status_code == 201, response.content
    settings = response.json()["settings"]
    assert (settings["track_clicks"], settings["track_opens"]) == (True, False)
    bad = api.post("/sequences", {**body, "settings": {"track_opens": "maybe"}})
    assert bad.status_code == 400
