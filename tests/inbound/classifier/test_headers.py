from cadency.inbound.classification import Label
from tests.inbound.classifier.helpers import classify, reply

GMAIL_VACATION = """
Return-Path: <jane.doe@acme.test>
From: Jane Doe <jane.doe@acme.test>
To: ola@example.com
Subject: Re: Quick question
Date: Wed, 3 Mar 2027 10:00:00 +0000
Message-ID: <CAF=vacation@mail.gmail.com>
In-Reply-To: <cad-1@example.com>
Auto-Submitted: auto-replied
X-Autoreply: yes
Precedence: bulk
MIME-Version: 1.0
Content-Type: text/plain; charset="UTF-8"

Thanks for your note. I'm away this week, back on Monday 8 March.
"""

EXCHANGE_AUTOMATIC_REPLY = """
From: Jane Doe <jane.doe@acme.test>
To: Ola Seller <ola@example.com>
Subject: Automatic reply: Quick question
Date: Wed, 3 Mar 2027 10:00:00 +0000
Message-ID: <DB8PR01MB1234@DB8PR01MB1234.eurprd01.prod.outlook.com>
Thread-Topic: Quick question
X-MS-Exchange-Inbox-Rules-Loop: jane.doe@acme.test
X-Auto-Response-Suppress: All
X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent
Content-Language: en-US
MIME-Version: 1.0
Content-Type: text/plain; charset="us-ascii"

I am out of the office with limited access to email.
"""


def test_it_takes_a_gmail_vacation_reply_in_an_outlook_inbox_for_an_auto_reply() -> None:
    result = classify(GMAIL_VACATION)
    assert result.label == Label.AUTO_REPLY
    assert result.confidence >= 0.95
    assert "header Auto-Submitted: auto-replied" in result.reasons
    assert any(r.startswith("header X-Autoreply") for r in result.reasons)


def test_it_takes_an_exchange_automatic_reply_without_auto_submitted_for_an_auto_reply() -> None:
    result = classify(EXCHANGE_AUTOMATIC_REPLY)
    assert result.label == Label.AUTO_REPLY
    assert "subject 'Automatic reply'" in result.reasons
    assert any("X-MS-Exchange-Inbox-Rules-Loop" in r for r in result.reasons)


def test_exchange_markers_with_out_of_office_wording_are_enough_without_the_subject() -> None:
    text = EXCHANGE_AUTOMATIC_REPLY.replace("Automatic reply: Quick question", "Quick question")
    assert classify(text).label == Label.AUTO_REPLY


def test_it_keeps_a_human_reply_with_precedence_bulk_human() -> None:
    result = classify(
        reply(
            "Sounds good, call me on Thursday.", extra="Precedence: bulk\nX-Mailer: GroupWise 7\n"
        )
    )
    assert result.label == Label.HUMAN_REPLY
    assert any("Precedence: bulk" in r for r in result.reasons)


def test_auto_submitted_no_keeps_a_typed_goodbye_human() -> None:
    body = "I'm leaving the company at the end of the month; Sam will take over our talks."
    result = classify(reply(body, extra="Auto-Submitted: no\n"))
    assert result.label == Label.HUMAN_REPLY


def test_an_auto_generated_notification_without_reply_wording_is_other_auto() -> None:
    text = reply(
        "Build 42 passed.",
        subject="[CI] Build 42 passed",
        extra="Auto-Submitted: auto-generated\n",
        sender="CI <ci@acme.test>",
    )
    assert classify(text).label == Label.OTHER_AUTO


def test_a_list_message_is_other_auto() -> None:
    text = reply(
        "This month's product news.",
        subject="Acme newsletter",
        extra="List-Id: <news.acme.test>\nList-Unsubscribe: <mailto:leave@acme.test>\n",
        sender="Acme News <news@acme.test>",
    )
    result = classify(text)
    assert result.label == Label.OTHER_AUTO
    assert "header List-Id" in result.reasons


def test_a_no_reply_sender_is_other_auto() -> None:
    text = reply("Your invoice is ready.", subject="Invoice", sender="<no-reply@billing.acme.test>")
    assert classify(text).label == Label.OTHER_AUTO


def test_an_automatic_unsubscribe_request_is_other_auto_not_an_auto_reply() -> None:
    text = reply("unsubscribe", subject="unsubscribe", extra="Auto-Submitted: auto-replied\n")
    assert classify(text).label == Label.OTHER_AUTO


def test_a_boxbe_like_challenge_is_a_challenge() -> None:
    text = reply(
        'Your message about "Quick question" has been waitlisted.\n\n'
        "Please add yourself to my Guest List so your messages will go to my Inbox.\n"
        "Click the link below to be added:\nhttps://screening.example.test/crs?tc=1\n",
        subject="Re: Quick question (Action Required)",
        sender="<noreply@screening.example.test>",
        extra="X-Boxbe-Request: yes\n",
    )
    result = classify(text)
    assert result.label == Label.CHALLENGE
    assert any("waitlisted" in r for r in result.reasons)


def test_a_verify_you_are_human_request_is_a_challenge() -> None:
    text = reply(
        "This account is protected. Please click on the following link\n"
        "to have your address added to the recipient's allowed list:\n"
        "https://verify.example.test/1234\n",
        subject="RE: Quick question",
        sender="jane.doe@acme.test",
    )
    assert classify(text).label == Label.CHALLENGE
