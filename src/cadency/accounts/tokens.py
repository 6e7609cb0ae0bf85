"""Personal API tokens: created, shown once, stored only as a hash, revoked.

A token reads ``cdy_1a2b3c4d_<secret>``: the first 12 characters are its prefix,
kept in clear so a user can tell their tokens apart and so the token is found by
an indexed look-up; the whole token is hashed with SHA-256 (it carries 256 random
bits, so a fast hash is enough) and compared in constant time.
"""

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from cadency.accounts.models import ApiToken, User
from cadency.ledger.services import record_event

TOKEN_TAG = "cdy_"  # noqa: S105 (a marker, not a secret)
PREFIX_LENGTH = len(TOKEN_TAG) + 8
PREFIX_PATTERN = re.compile(rf"{TOKEN_TAG}[0-9a-f]{{8}}")
NAME_MAX_LENGTH = 100
# last_used_at is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


class TokenError(ValueError):
    """The token cannot be created or revoked as asked; the message says why."""


@dataclass(frozen=True)
class IssuedToken:
    """A new token and its full text, which exists only here: show it once."""

    token: ApiToken
    secret: str


def hash_token(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def create_token(*, user: User, name: str) -> IssuedToken:
    name = name.strip()
    if not name:
        raise TokenError("give the token a name that says what it is for")
    if len(name) > NAME_MAX_LENGTH:
        raise TokenError(f"the name is longer than {NAME_MAX_LENGTH} characters")
    if not user.is_active:
        raise TokenError(f"{user.username} is deactivated")
    with transaction.atomic():
        prefix = f"{TOKEN_TAG}{secrets.token_hex(4)}"
        while ApiToken.objects.filter(prefix=prefix).exists():
            prefix = f"{TOKEN_TAG}{secrets.token_hex(4)}"
        text = f"{prefix}_{secrets.token_urlsafe(32)}"
        token = ApiToken.objects.create(
            user=user, name=name, prefix=prefix, secret_hash=hash_token(text)
        )
        record_event(
            kind="api_token_created",
            actor=user,
            sentence=f"{user.display_name} created the API token “{name}” ({prefix}…).",
            data={"token": token.pk, "prefix": prefix},
        )
    return IssuedToken(token=token, secret=text)


def revoke_token(*, token: ApiToken, actor: User) -> bool:
    """Revoke a token at once. Idempotent: False if it was already revoked."""
    if actor.pk != token.user_id and not actor.can_act_on_all_enrollments():
        raise TokenError(f"the token {token.prefix}… belongs to another user")
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update().select_related("user").get(pk=token.pk)
        if locked.revoked_at is not None:
            return False
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        owner = "" if actor.pk == locked.user_id else f" of {locked.user.display_name}"
        record_event(
            kind="api_token_revoked",
            actor=actor,
            sentence=f"{actor.display_name} revoked the API token “{locked.name}” "
            f"({locked.prefix}…){owner}.",
            data={"token": locked.pk, "prefix": locked.prefix, "user": locked.user_id},
        )
    token.refresh_from_db()
    return True


def authenticate_token(text: str) -> User | None:
    """The active user a live token belongs to, else None (unknown, revoked, malformed)."""
    text = text.strip()
    if len(text) <= PREFIX_LENGTH + 1 or not text.startswith(TOKEN_TAG):
        return None
    prefix, separator = text[:PREFIX_LENGTH], text[PREFIX_LENGTH]
    if separator != "_" or not PREFIX_PATTERN.fullmatch(prefix):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(prefix=prefix, revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None or not hmac.compare_digest(token.secret_hash, hash_token(text)):
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
