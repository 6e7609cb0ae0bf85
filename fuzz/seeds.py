"""The seed messages the fuzzer starts from: one of each kind the inbound pipeline acts on.

All written for the fuzzer (fictitious people, reserved domains). ``CONTACT`` is
enrolled by ``ALICE`` in the pipeline target's database and ``THREAD_ID`` is the
Message-ID of the first email she sent, so replies, bounces and out-of-office
answers reach the "act" stage.
"""

import base64

ALICE = "alice@example.test"
CONTACT = "maria.rossi@globex.test"
COLLEAGUE = "li.wei@globex.test"
THREAD_ID = "<cadency.atheris.1@example.test>"


def crlf(text: str, charset: str = "utf-8") -> bytes:
    return text.lstrip("\n").replace("\n", "\r\n").encode(charset)


HUMAN_REPLY = crlf(f"""
Return-Path: <{CONTACT}>
Received: from mail.globex.test (mail.globex.test [192.0.2.10])
\tby mx.example.test with ESMTPS id 4Zf1; Mon, 30 Nov 2026 09:14:03 +0100
From: Maria Rossi <{CONTACT}>
To: Alice Seller <{ALICE}>
Cc: Li Wei <{COLLEAGUE}>
Subject: Re: A faster month-end close
Date: Mon, 30 Nov 2026 09:14:01 +0100
Message-ID: <CAF7x2Q@mail.globex.test>
In-Reply-To: {THREAD_ID}
References: {THREAD_ID}
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="000000000000a1b2c3"

--000000000000a1b2c3
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

Hi Alice,

Thursday at 15:00 suits me =E2=80=94 could you send an invite?

Maria

On Fri, 27 Nov 2026 at 10:00, Alice Seller <{ALICE}> wrote:
> Would 20 minutes next week help?

--000000000000a1b2c3
Content-Type: text/html; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

<div dir=3D"ltr">Hi Alice,<br><br>Thursday at 15:00 suits me &mdash; could =
you send an invite?<br><br>Maria</div><blockquote>Would 20 minutes next week =
help?</blockquote>

--000000000000a1b2c3--
""")

OUT_OF_OFFICE = crlf(f"""
Return-Path: <>
From: Maria Rossi <{CONTACT}>
To: {ALICE}
Subject: Automatische Antwort: A faster month-end close
Date: Mon, 30 Nov 2026 09:14:01 +0100
Message-ID: <ooo.7731@mail.globex.test>
In-Reply-To: {THREAD_ID}
Auto-Submitted: auto-replied
X-Auto-Response-Suppress: All
X-MS-Exchange-Inbox-Rules-Loop: {CONTACT}
Content-Language: de-DE
MIME-Version: 1.0
Content-Type: text/plain; charset="iso-8859-1"
Content-Transfer-Encoding: quoted-printable

Vielen Dank f=FCr Ihre Nachricht. Ich bin bis einschlie=DFlich 11. Dezember 2026
nicht im B=FCro und habe keinen Zugriff auf meine E-Mails.

I am out of the office until 11 December 2026 with no access to email.
In urgent cases please contact {COLLEAGUE}.
""")

DSN_BOUNCE = crlf(f"""
Return-Path: <>
Received: by mx.example.test (Postfix) id 4Zf9; Mon, 30 Nov 2026 09:20:11 +0100
From: MAILER-DAEMON@mx.example.test (Mail Delivery System)
To: {ALICE}
Subject: Undelivered Mail Returned to Sender
Date: Mon, 30 Nov 2026 09:20:11 +0100
Message-ID: <20261130082011.4Zf9@mx.example.test>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="4Zf9.1764490811/mx.example.test"

This is a MIME-encapsulated message.

--4Zf9.1764490811/mx.example.test
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.test.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<{CONTACT}>: host mail.globex.test[192.0.2.10] said: 550 5.1.1
    <{CONTACT}>: Recipient address rejected: User unknown in virtual
    mailbox table (in reply to RCPT TO command)

--4Zf9.1764490811/mx.example.test
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.test
X-Postfix-Queue-ID: 4Zf1
X-Postfix-Sender: rfc822; {ALICE}
Arrival-Date: Mon, 30 Nov 2026 09:20:09 +0100

Final-Recipient: rfc822; {CONTACT}
Original-Recipient: rfc822;{CONTACT}
Action: failed
Status: 5.1.1
Remote-MTA: dns; mail.globex.test
Diagnostic-Code: smtp; 550 5.1.1 <{CONTACT}>: Recipient address rejected:
    User unknown in virtual mailbox table

--4Zf9.1764490811/mx.example.test
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

From: Alice Seller <{ALICE}>
To: {CONTACT}
Subject: A faster month-end close
Message-ID: {THREAD_ID}

--4Zf9.1764490811/mx.example.test--
""")

# A colleague forwards the bounce her server sent: message/rfc822 holding a multipart/report.
FORWARDED_REPORT = crlf(f"""
From: Li Wei <{COLLEAGUE}>
To: {ALICE}
Subject: Fwd: Delivery Status Notification (Failure)
Date: Mon, 30 Nov 2026 11:02:45 +0800
Message-ID: <fwd.5512@mail.globex.test>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="==outer-5512=="

--==outer-5512==
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Alice, Maria left last month; her address bounces. Please write to me instead.

--==outer-5512==
Content-Type: message/rfc822
Content-Disposition: attachment; filename="bounce.eml"

From: Mail Delivery Subsystem <mailer-daemon@mx.globex.test>
To: {COLLEAGUE}
Subject: Delivery Status Notification (Failure)
Date: Mon, 30 Nov 2026 11:00:02 +0800
Message-ID: <dsn.998@mx.globex.test>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="==inner-998=="

--==inner-998==
Content-Type: text/plain; charset=utf-8

Address not found: {CONTACT}

--==inner-998==
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.globex.test

Final-Recipient: rfc822; {CONTACT}
Action: failed
Status: 5.1.1

--==inner-998==
Content-Type: message/rfc822

From: Alice Seller <{ALICE}>
To: {CONTACT}
Subject: A faster month-end close
Message-ID: {THREAD_ID}

Would 20 minutes next week help?

--==inner-998==--

--==outer-5512==--
""")

_ICS_REPLY = crlf(f"""
BEGIN:VCALENDAR
METHOD:REPLY
PRODID:-//Globex//Calendar 4.2//EN
VERSION:2.0
BEGIN:VEVENT
UID:cadency-meeting-42@example.test
DTSTAMP:20261130T081500Z
DTSTART:20261203T140000Z
DTEND:20261203T143000Z
SEQUENCE:0
SUMMARY:Month-end close: 30 minutes
ORGANIZER;CN=Alice Seller:mailto:{ALICE}
ATTENDEE;PARTSTAT=ACCEPTED;CN=Maria Rossi:mailto:{CONTACT}
END:VEVENT
END:VCALENDAR
""")

CALENDAR_REPLY = crlf(f"""
From: Maria Rossi <{CONTACT}>
To: {ALICE}
Subject: Accepted: Month-end close: 30 minutes
Date: Mon, 30 Nov 2026 09:15:00 +0100
Message-ID: <cal.31@mail.globex.test>
In-Reply-To: {THREAD_ID}
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="cal-31"

--cal-31
Content-Type: text/plain; charset=utf-8

Maria Rossi has accepted this invitation.

--cal-31
Content-Type: text/calendar; charset=utf-8; method=REPLY
Content-Transfer-Encoding: base64

{base64.encodebytes(_ICS_REPLY).decode()}
--cal-31--
""")

READ_RECEIPT = crlf(f"""
From: Maria Rossi <{CONTACT}>
To: {ALICE}
Subject: Read: A faster month-end close
Date: Mon, 30 Nov 2026 09:13:00 +0100
Message-ID: <mdn.12@mail.globex.test>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=disposition-notification; boundary="mdn-12"

--mdn-12
Content-Type: text/plain; charset=utf-8

Your message was read on Monday 30 November 2026 09:13.

--mdn-12
Content-Type: message/disposition-notification

Reporting-UA: mail.globex.test; Webmail
Final-Recipient: rfc822; {CONTACT}
Original-Message-ID: {THREAD_ID}
Disposition: manual-action/MDN-sent-manually; displayed

--mdn-12--
""")

QMAIL_BOUNCE = crlf(f"""
From: MAILER-DAEMON@mail.globex.test
To: {ALICE}
Subject: failure notice
Date: 30 Nov 2026 08:40:00 -0000
Message-ID: <qmail.77@mail.globex.test>

Hi. This is the qmail-send program at mail.globex.test.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<{CONTACT}>:
Sorry, no mailbox here by that name. (#5.1.1)

--- Below this line is a copy of the message.

Message-ID: {THREAD_ID}
Subject: A faster month-end close
""")

# ISO-2022-JP with an encoded-word subject: the charset path of a reply.
JAPANESE_REPLY = crlf(f"""
From: =?ISO-2022-JP?B?GyRCOzNFRBsoQg==?= <{CONTACT}>
To: {ALICE}
Subject: =?ISO-2022-JP?B?GyRCJDJPIk1tJCIkaiQsJEgkJiQ0JDYkJCReJDkbKEI=?=
Date: Mon, 30 Nov 2026 17:14:01 +0900
Message-ID: <jp.3@mail.globex.test>
In-Reply-To: {THREAD_ID}
MIME-Version: 1.0
Content-Type: text/plain; charset=ISO-2022-JP
Content-Transfer-Encoding: 7bit

""") + "木曜日の15時でお願いします。\r\n".encode("iso-2022-jp")

SEEDS: dict[str, bytes] = {
    "human_reply": HUMAN_REPLY,
    "out_of_office": OUT_OF_OFFICE,
    "dsn_bounce": DSN_BOUNCE,
    "forwarded_report": FORWARDED_REPORT,
    "calendar_reply": CALENDAR_REPLY,
    "read_receipt": READ_RECEIPT,
    "qmail_bounce": QMAIL_BOUNCE,
    "japanese_reply": JAPANESE_REPLY,
}
