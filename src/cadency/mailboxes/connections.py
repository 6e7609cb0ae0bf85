"""Opening authenticated SMTP and IMAP connections for a mailbox.

One code path for every provider: password logins, or XOAUTH2 with an OAuth2
access token (Gmail, Microsoft 365).
"""

import imaplib
import smtplib
import ssl
from functools import cache

from django.conf import settings

from cadency.mailboxes.models import AuthMethod, Mailbox, Security


def tls_context() -> ssl.SSLContext:
    return _tls_context(settings.CADENCY_MAIL_CA_FILE or "")


@cache
def _tls_context(ca_file: str) -> ssl.SSLContext:
    """One context per CA file for the process: building one reloads the system's
    CA bundle (40-80 ms of CPU), and a context serves any number of connections."""
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


class ImapLoginRefused(imaplib.IMAP4.error):
    """The IMAP server refused the login: wrong password, revoked or expired token."""


def xoauth2_string(username: str, access_token: str) -> str:
    """The SASL XOAUTH2 initial client response, before base64 (Google, Microsoft)."""
    return f"user={username}\x01auth=Bearer {access_token}\x01\x01"


class _XOAuth2:
    """The client side of SASL XOAUTH2, for smtplib's ``auth`` and imaplib's ``authenticate``.

    The first call (SMTP: no challenge, so it is sent as the initial response;
    IMAP: the empty ``+`` continuation) answers with the credentials. A later
    challenge is the server's JSON error report for a refused token: the
    mechanism expects an empty response to it, then the server sends the
    failure reply (SMTP 535, IMAP NO). Sending the token again there, as the
    callbacks used to, resends the credentials for nothing.
    """

    def __init__(self, username: str, access_token: str) -> None:
        self._credentials = xoauth2_string(username, access_token)
        self._sent = False

    def _respond(self) -> str:
        if self._sent:
            return ""
        self._sent = True
        return self._credentials

    def smtp(self, challenge: bytes | None = None) -> str:
        return self._respond()

    def imap(self, challenge: bytes) -> bytes:
        return self._respond().encode()


def open_smtp(mailbox: Mailbox, *, timeout: float | None = None) -> smtplib.SMTP:
    timeout = timeout or settings.CADENCY_SMTP_TIMEOUT_SECONDS
    client: smtplib.SMTP
    if mailbox.smtp_security == Security.TLS:
        client = smtplib.SMTP_SSL(
            mailbox.smtp_host, mailbox.smtp_port, timeout=timeout, context=tls_context()
        )
    else:
        client = smtplib.SMTP(mailbox.smtp_host, mailbox.smtp_port, timeout=timeout)
    try:
        client.ehlo()
        if mailbox.smtp_security == Security.STARTTLS:
            client.starttls(context=tls_context())
            client.ehlo()
        if mailbox.auth_method == AuthMethod.XOAUTH2:
            client.auth("XOAUTH2", _XOAuth2(mailbox.username, mailbox.secret).smtp)
        else:
            client.login(mailbox.username, mailbox.secret)
    except BaseException:
        client.close()
        raise
    return client


def open_imap(mailbox: Mailbox, *, timeout: float = 30) -> imaplib.IMAP4:
    client: imaplib.IMAP4
    if mailbox.imap_security == Security.TLS:
        client = imaplib.IMAP4_SSL(
            mailbox.imap_host, mailbox.imap_port, ssl_context=tls_context(), timeout=timeout
        )
    else:
        client = imaplib.IMAP4(mailbox.imap_host, mailbox.imap_port, timeout=timeout)
    try:
        if mailbox.imap_security == Security.STARTTLS:
            client.starttls(ssl_context=tls_context())
        try:
            if mailbox.auth_method == AuthMethod.XOAUTH2:
                client.authenticate("XOAUTH2", _XOAuth2(mailbox.username, mailbox.secret).imap)
            else:
                client.login(mailbox.username, mailbox.secret)
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error as exc:
            # NO [UNAVAILABLE] is the server's own trouble (RFC 5530), not a refusal.
            if "[UNAVAILABLE]" in str(exc):
                raise
            raise ImapLoginRefused(str(exc)) from exc
    except BaseException:
        client.shutdown()
        raise
    return client


def encode_imap_folder(name: str) -> str:
    """Quote a folder name for IMAP commands (spaces, quotes)."""
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
