"""Encryption of secrets at rest (mailbox passwords and OAuth tokens).

Keys come from ``CADENCY_ENCRYPTION_KEYS`` (Fernet keys, newest first); without
them a key is derived from ``SECRET_KEY`` so a single-machine install works out
of the box. That derived key stays the last, read-only key once keys are listed,
so secrets saved before keeps working until ``cadency keys rotate`` re-encrypts
them with the first listed key.
"""

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class SecretUnreadable(Exception):
    """The stored secret cannot be decrypted with any configured key."""


@cache
def _fernet() -> MultiFernet:
    digest = hashlib.sha256(b"cadency-secrets:" + settings.SECRET_KEY.encode()).digest()
    derived = base64.urlsafe_b64encode(digest).decode()
    keys = [*settings.CADENCY_ENCRYPTION_KEYS, derived]
    return MultiFernet([Fernet(key) for key in dict.fromkeys(keys)])


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable("the secret cannot be decrypted with the configured keys") from exc


def reencrypt(token: str) -> str:
    """Re-encrypt with the newest key (key rotation)."""
    return _fernet().rotate(token.encode()).decode()
