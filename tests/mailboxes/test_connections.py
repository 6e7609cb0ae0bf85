"""The SASL XOAUTH2 client response, without a server."""

import base64

from cadency.mailboxes.connections import _XOAuth2, xoauth2_string

TOKEN = "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"


def test_xoauth2_string_is_the_format_google_and_microsoft_document() -> None:
    # user={user}^Aauth=Bearer {token}^A^A, base64-encoded on the wire. This is
    # Google's documented example (developers.google.com/gmail/imap/xoauth2-protocol)
    # with the address moved to a reserved .test domain.
    value = xoauth2_string("someuser@example.test", TOKEN)
    assert value == f"user=someuser@example.test\x01auth=Bearer {TOKEN}\x01\x01"
    assert base64.b64encode(value.encode()).decode() == (
        "dXNlcj1zb21ldXNlckBleGFtcGxlLnRlc3QBYXV0aD1CZWFyZXIgeWEyOS52RjlkZnQ0cW1UYzJOdmIz"
        "Umxja0JoZEhSaGRtbHpkR0V1WTI5dENnAQE="
    )


def test_the_smtp_client_sends_the_token_once_and_acks_the_error_challenge_empty() -> None:
    client = _XOAuth2("rep@example.test", "tok-123")
    # smtplib calls it without a challenge for the initial response (AUTH XOAUTH2 <b64>).
    assert client.smtp() == "user=rep@example.test\x01auth=Bearer tok-123\x01\x01"
    # A 334 challenge after that is the server's JSON error: answer with an empty line.
    assert client.smtp(b'{"status":"401","schemes":"bearer","scope":"mail"}') == ""


def test_the_imap_client_answers_the_empty_continuation_then_acks_the_error_empty() -> None:
    client = _XOAuth2("rep@example.test", "tok-123")
    assert client.imap(b"") == b"user=rep@example.test\x01auth=Bearer tok-123\x01\x01"
    assert client.imap(b'{"status":"401","schemes":"bearer","scope":"mail"}') == b""
