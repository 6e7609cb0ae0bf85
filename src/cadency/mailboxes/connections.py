"""Opening authenticated SMTP and IMAP connections for a mailbox.

One code path for every provider: password logins, or XOAUTH2 with an OAuth2
access token (Gmail, Microsoft 365).
"""

import imaplib
import smtplib
import ssl

from django.conf import settings

from cadency.mailboxes.models import AuthMethod, Mailbox, Security


def tls_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    if settings.CADENCY_MAIL_CA_FILE:
        context.load_verify_locations(cafile=settings.CADENCY_MAIL_CA_FILE)
    return context


def xoauth2_string(username: str, access_token: str) -> str:
    return f"user={username}\x01auth=Bearer {access_token}\x01\x01"


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
            auth = xoauth2_string(mailbox.username, mailbox.secret)
            client.auth("XOAUTH2", lambda challenge=None: auth)
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
        if mailbox.auth_method == AuthMethod.XOAUTH2:
            auth = xoauth2_string(mailbox.username, mailbox.secret).encode()
            client.authenticate("XOAUTH2", lambda challenge: auth)
        else:
            client.login(mailbox.username, mailbox.secret)
    except BaseException:
        client.shutdown()
        raise
    return client


def encode_imap_folder(name: str) -> str:
    """Quote a folder name for IMAP commands (spaces, quotes)."""
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
