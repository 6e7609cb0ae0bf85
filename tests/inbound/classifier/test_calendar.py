from cadency.inbound.classification import Label
from tests.inbound.classifier.helpers import classify


def meeting_answer(method: str, partstat: str, subject: str) -> str:
    return f"""
From: Jane Doe <jane.doe@acme.test>
To: Ola Seller <ola@example.com>
Subject: {subject}
Date: Wed, 3 Mar 2027 10:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="C1"

--C1
Content-Type: text/plain; charset=utf-8

{subject}

--C1
Content-Type: text/calendar; charset=utf-8; method={method}

BEGIN:VCALENDAR
PRODID:-//Example//Calendar 1.0//EN
VERSION:2.0
METHOD:{method}
BEGIN:VEVENT
UID:meeting-1@example.com
DTSTAMP:20270303T100000Z
DTSTART:20270310T150000Z
DTEND:20270310T153000Z
SUMMARY:Intro call
ORGANIZER:mailto:ola@example.com
ATTENDEE;PARTSTAT={partstat};CN=Jane Doe:mailto:jane.doe@acme.test
END:VEVENT
END:VCALENDAR

--C1--
"""


def test_an_accepted_meeting_reply_is_a_calendar_reply_with_the_partstat() -> None:
    result = classify(meeting_answer("REPLY", "ACCEPTED", "Accepted: Intro call"))
    assert result.label == Label.CALENDAR_REPLY
    assert result.calendar_partstat == "ACCEPTED"
    assert result.reasons == ["text/calendar METHOD:REPLY, ATTENDEE PARTSTAT=ACCEPTED"]


def test_a_declined_meeting_reply_is_a_calendar_reply() -> None:
    result = classify(meeting_answer("REPLY", "DECLINED", "Declined: Intro call"))
    assert result.label == Label.CALENDAR_REPLY
    assert result.calendar_partstat == "DECLINED"


def test_a_new_time_proposed_is_a_calendar_reply() -> None:
    result = classify(meeting_answer("COUNTER", "TENTATIVE", "New Time Proposed: Intro call"))
    assert result.label == Label.CALENDAR_REPLY


def test_a_person_attaching_their_own_invitation_is_human() -> None:
    text = meeting_answer("REQUEST", "NEEDS-ACTION", "Re: Quick question").replace(
        "Re: Quick question\n\n--C1", "Here is an invite for Thursday.\n\n--C1", 1
    )
    assert classify(text).label == Label.HUMAN_REPLY
