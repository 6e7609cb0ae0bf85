from cadency.inbound.classification import FailedRecipient, Label
from tests.inbound.classifier.helpers import classify


def dsn(action: str, status: str, diagnostic: str, *, subject: str = "Undelivered Mail") -> str:
    """A Postfix-style RFC 3464 report about <cad-1@example.com>."""
    return f"""
Return-Path: <>
From: MAILER-DAEMON@mx.example.com (Mail Delivery System)
To: ola@example.com
Subject: {subject}
Date: Wed, 3 Mar 2027 10:00:00 +0000
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="B1"

This is a MIME-encapsulated message.

--B1
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.com.

--B1
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com
Arrival-Date: Wed,  3 Mar 2027 09:59:58 +0000 (UTC)

Final-Recipient: rfc822; jane.doe@acme.test
Original-Recipient: rfc822;jane.doe@acme.test
Action: {action}
Status: {status}
Remote-MTA: dns; mx.acme.test
Diagnostic-Code: smtp; {diagnostic}

--B1
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

From: Ola Seller <ola@example.com>
To: jane.doe@acme.test
Subject: Quick question
Message-ID: <cad-1@example.com>

--B1--
"""


def test_a_postfix_dsn_5_1_1_is_a_hard_bounce_with_the_recipient_and_original_id() -> None:
    result = classify(dsn("failed", "5.1.1", "550 5.1.1 <jane.doe@acme.test>: User unknown"))
    assert result.label == Label.BOUNCE_HARD
    assert result.confidence >= 0.95
    assert result.failed_recipients == [
        FailedRecipient(
            "jane.doe@acme.test",
            "5.1.1",
            "failed",
            "smtp; 550 5.1.1 <jane.doe@acme.test>: User unknown",
        )
    ]
    assert result.original_message_id == "<cad-1@example.com>"
    assert "report delivery-status: Action failed, Status 5.1.1" in result.reasons


def test_a_mailbox_full_5_2_2_is_a_soft_bounce() -> None:
    result = classify(dsn("failed", "5.2.2", "552 5.2.2 Mailbox full"))
    assert result.label == Label.BOUNCE_SOFT
    assert result.failed_recipients[0].status == "5.2.2"


def test_a_generic_5_0_0_is_refined_by_the_diagnostic_code() -> None:
    result = classify(dsn("failed", "5.0.0", "550-5.1.1 The email account does not exist"))
    assert result.label == Label.BOUNCE_HARD
    assert result.failed_recipients[0].status == "5.1.1"


def test_a_temporary_failure_the_sender_gave_up_on_is_a_soft_bounce() -> None:
    result = classify(dsn("failed", "4.4.1", "connect to mx.acme.test: Connection timed out"))
    assert result.label == Label.BOUNCE_SOFT


def test_a_delayed_dsn_is_a_delay_not_a_bounce() -> None:
    result = classify(
        dsn("delayed", "4.4.1", "No route to host", subject="Delayed Mail (still being retried)")
    )
    assert result.label == Label.DELAY
    assert result.failed_recipients[0].action == "delayed"


def test_a_positive_dsn_is_other_auto() -> None:
    result = classify(dsn("delivered", "2.0.0", "250 2.0.0 Ok", subject="Successful Mail"))
    assert result.label == Label.OTHER_AUTO
    assert not result.failed_recipients


def test_a_report_whose_boundary_is_lost_is_still_read_from_its_text() -> None:
    text = dsn("failed", "5.1.1", "550 5.1.1 User unknown").replace(
        'boundary="B1"', 'boundary="B9"'
    )
    result = classify(text)
    assert result.label == Label.BOUNCE_HARD
    assert result.failed_recipients[0].address == "jane.doe@acme.test"


MDN = """
From: Jane Doe <jane.doe@acme.test>
To: ola@example.com
Subject: Read: Quick question
Date: Wed, 3 Mar 2027 10:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/report; report-type=disposition-notification; boundary="R1"

--R1
Content-Type: text/plain; charset=utf-8

Your message was read on Wednesday, 3 March 2027 10:00:00 (UTC).

--R1
Content-Type: message/disposition-notification

Reporting-UA: acme.test; Microsoft Outlook
Final-Recipient: rfc822;jane.doe@acme.test
Original-Message-ID: <cad-1@example.com>
Disposition: manual-action/MDN-sent-manually; displayed

--R1--
"""


def test_an_mdn_is_a_read_receipt() -> None:
    result = classify(MDN)
    assert result.label == Label.READ_RECEIPT
    assert result.original_message_id == "<cad-1@example.com>"
    assert "displayed" in result.reasons[0]


ARF = """
From: Abuse Desk <fbl@isp.example.net>
To: ola@example.com
Subject: Email Feedback Report for IP 192.0.2.1
Date: Wed, 3 Mar 2027 10:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="F1"

--F1
Content-Type: text/plain

This is an email abuse report.

--F1
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: ExampleFBL/1.0
Version: 1

--F1
Content-Type: message/rfc822

From: Ola Seller <ola@example.com>
Message-ID: <cad-1@example.com>
Subject: Quick question

Hello

--F1--
"""


def test_an_arf_feedback_report_is_other_auto() -> None:
    result = classify(ARF)
    assert result.label == Label.OTHER_AUTO
    assert result.original_message_id == "<cad-1@example.com>"
    assert "feedback-report" in result.reasons[0]


def test_a_screening_service_report_that_asks_to_verify_is_a_challenge_not_a_delay() -> None:
    text = dsn("delayed", "4.7.0", "X-Notice; Sender not pre-approved").replace(
        "This is the mail system at host mx.example.com.",
        "Your message has been waitlisted. Please add yourself to my Guest List.",
    )
    assert classify(text).label == Label.CHALLENGE
