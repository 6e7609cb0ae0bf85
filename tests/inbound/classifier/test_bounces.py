from cadency.inbound.classification import Label
from tests.inbound.classifier.helpers import classify

EXIM_BOUNCE = """
Return-Path: <>
From: Mail Delivery System <Mailer-Daemon@mx.example.com>
To: ola@example.com
Subject: Mail delivery failed: returning message to sender
Date: Wed, 3 Mar 2027 10:00:00 +0000
X-Failed-Recipients: jane.doe@acme.test
Auto-Submitted: auto-replied
Message-Id: <E1abc-0001@mx.example.com>

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  jane.doe@acme.test
    SMTP error from remote mail server after RCPT TO:<jane.doe@acme.test>:
    550 5.1.1 <jane.doe@acme.test>: Recipient address rejected: User unknown

------ This is a copy of the message, including all the headers. ------

From: Ola Seller <ola@example.com>
Message-ID: <cad-1@example.com>
Subject: Quick question
"""


def test_an_exim_plain_text_bounce_with_x_failed_recipients_is_a_hard_bounce() -> None:
    result = classify(EXIM_BOUNCE)
    assert result.label == Label.BOUNCE_HARD
    assert [(f.address, f.status, f.action) for f in result.failed_recipients] == [
        ("jane.doe@acme.test", "5.1.1", "failed")
    ]
    assert result.reasons[0] == "header X-Failed-Recipients: jane.doe@acme.test"


def test_an_exim_mailbox_full_retry_timeout_is_a_soft_bounce() -> None:
    text = EXIM_BOUNCE.replace(
        "550 5.1.1 <jane.doe@acme.test>: Recipient address rejected: User unknown",
        "mailbox is full: retry timeout exceeded",
    )
    assert classify(text).label == Label.BOUNCE_SOFT


QMAIL = """
Return-Path: <>
From: MAILER-DAEMON@mail.example.net
To: ola@example.com
Subject: failure notice
Date: Wed, 3 Mar 2027 10:00:00 +0000

Hi. This is the qmail-send program at mail.example.net.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<jane.doe@acme.test>:
192.0.2.25 does not like recipient.
Remote host said: 550 Sorry, no mailbox here by that name. (#5.1.1)
Giving up on 192.0.2.25.
"""


def test_a_qmail_failure_notice_is_a_hard_bounce_with_its_recipient() -> None:
    result = classify(QMAIL)
    assert result.label == Label.BOUNCE_HARD
    assert result.failed_recipients[0].address == "jane.doe@acme.test"
    assert result.failed_recipients[0].status == "5.1.1"


def test_a_gmail_style_delay_notice_without_a_report_is_a_delay() -> None:
    text = """
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: ola@example.com
Subject: Delivery Status Notification (Delay)
Date: Wed, 3 Mar 2027 10:00:00 +0000

This is an automatically generated Delivery Status Notification.

THIS IS A WARNING MESSAGE ONLY.

YOU DO NOT NEED TO RESEND YOUR MESSAGE.

Delivery to the following recipient has been delayed:

     jane.doe@acme.test

Message will be retried for 2 more day(s)
"""
    result = classify(text)
    assert result.label == Label.DELAY
    assert result.failed_recipients[0].action == "delayed"


def test_a_german_mta_text_is_read() -> None:
    text = """
From: MAILER-DAEMON@mx.example.de
To: ola@example.com
Subject: Unzustellbar: Quick question
Date: Wed, 3 Mar 2027 10:00:00 +0000
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Ihre Nachricht konnte nicht zugestellt werden.
Der Empfänger <jane.doe@acme.test> ist unbekannt.
"""
    result = classify(text)
    assert result.label == Label.BOUNCE_HARD
    assert result.failed_recipients[0].address == "jane.doe@acme.test"


def test_a_japanese_mailbox_full_notice_from_a_no_reply_sender_is_a_soft_bounce() -> None:
    text = """
From: no-reply@mail.example.jp
To: ola@example.com
Subject: =?UTF-8?B?44Oh44O844Or44Ko44Op44O86YCa55+l?=
Date: Wed, 3 Mar 2027 10:00:00 +0000
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

送信先のメールボックスが一杯のため、送信できませんでした。

Could not be delivered to: <jane.doe@acme.test>
As their mailbox is full.
"""
    assert classify(text).label == Label.BOUNCE_SOFT


def test_a_person_forwarding_a_bounce_is_human() -> None:
    text = """
From: Sam Ops <sam@example.com>
To: ola@example.com
Subject: Fwd: Returned mail: User unknown
Date: Wed, 3 Mar 2027 10:00:00 +0000

Ola, this one bounced - do you have another address for Jane?

Begin forwarded message:

From: MAILER-DAEMON@mx.example.com
Subject: Returned mail: User unknown

550 5.1.1 <jane.doe@acme.test>... User unknown
"""
    assert classify(text).label == Label.HUMAN_REPLY
