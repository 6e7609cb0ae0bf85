"""Sequences from a plain description: settings, steps, and errors that say where."""

import datetime as dt

import pytest

from cadency.sequences.services.authoring import SequenceSpecError, create_sequence
from cadency.sequences.services.enrollment import enroll
from tests.factories import make_contact, make_mailbox, make_user

pytestmark = pytest.mark.django_db

STEP = {"type": "automated_email", "subject": "Hi", "body": "Hello"}


def test_settings_are_read_and_frozen_into_each_enrollment() -> None:
    rep = make_user("alice")
    make_mailbox(rep)
    sequence = create_sequence(
        owner=rep,
        spec={
            "name": "Intro",
            "settings": {
                "send_window": ["08:30", "17:00"],
                "send_days": ["Mon", "wed", "friday"],
                "business_days_only": False,
                "pause_on_out_of_office": True,
                "unenroll_same_company": True,
            },
            "steps": [STEP],
        },
    )
    assert (sequence.send_window_start, sequence.send_window_end) == (dt.time(8, 30), dt.time(17))
    assert sequence.send_days == [0, 2, 4]
    enrollment = enroll(contact=make_contact(), sequence=sequence, user=rep, run_first_step=False)
    assert enrollment.send_settings["pause_on_out_of_office"] is True
    assert enrollment.send_settings["unenroll_same_company"] is True
    assert enrollment.send_settings["send_days"] == [0, 2, 4]


@pytest.mark.parametrize(
    ("spec", "where"),
    [
        ({"steps": [STEP]}, "name"),
        ({"name": "X", "steps": []}, "steps"),
        ({"name": "X", "steps": [{**STEP, "type": "fax"}]}, "step 1.type"),
        ({"name": "X", "steps": [STEP, {**STEP, "delay": -1}]}, "step 2.delay"),
        ({"name": "X", "steps": [{**STEP, "body": "Hi {{ contact.first_name"}]}, "step 1.body"),
        (
            {"name": "X", "settings": {"send_window": ["18:00", "08:00"]}, "steps": [STEP]},
            "settings.send_window",
        ),
        (
            {"name": "X", "settings": {"send_days": ["someday"]}, "steps": [STEP]},
            "settings.send_days",
        ),
        ({"name": "X", "settings": {"colour": "blue"}, "steps": [STEP]}, "settings"),
    ],
)
def test_an_invalid_description_names_the_field_and_writes_nothing(
    spec: dict[str, object], where: str
) -> None:
    from cadency.sequences.models import Sequence

    with pytest.raises(SequenceSpecError, match=where.replace(".", r"\.")):
        create_sequence(owner=make_user(), spec=spec)
    assert not Sequence.objects.exists()
