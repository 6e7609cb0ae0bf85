"""Pairing a mail-client panel with a user, like the OAuth device flow.

1. The panel starts a pairing: it gets a random secret, which only it knows
   (Cadency keeps its SHA-256), and a short code to show.
2. The user opens the approval page, signed in with their normal session, checks
   the code and approves it.
3. The panel claims the pairing with its secret and receives an API token, once.

A pairing lives ten minutes and is used once. The secret is found by its hash:
the look-up compares hashes, never the secret itself, so its timing says nothing
about the secret (the same reasoning as ``accounts.tokens``).
"""

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from cadency.accounts.models import User
from cadency.accounts.tokens import TokenError, create_token
from cadency.ledger.services import record_event
from cadency.sidebar.models import Client, Pairing

LIFETIME = dt.timedelta(minutes=10)
# Pairings are deleted this long after they expire (their events stay in the ledger).
KEPT_AFTER_EXPIRY = dt.timedelta(days=1)
# No 0/O or 1/I: the user reads the code from one screen and compares it on another.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_HALF = 4


class PairingError(Exception):
    """The pairing cannot be used as asked; the message says why."""


class UnknownPairing(PairingError):
    """No pairing has this secret or code."""


class PairingGone(PairingError):
    """The pairing expired or was already used."""


@dataclass(frozen=True)
class StartedPairing:
    """A new pairing and its secret, which exists only here: give it to the panel."""

    pairing: Pairing
    secret: str

    @property
    def expires_in(self) -> int:
        return int((self.pairing.expires_at - self.pairing.created_at).total_seconds())


@dataclass(frozen=True)
class PairingResult:
    """What a claim gets: still pending, or the token (handed out this once)."""

    approved: bool
    token: str = ""
    user_name: str = ""


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_code() -> str:
    letters = "".join(secrets.choice(CODE_ALPHABET) for _ in range(2 * CODE_HALF))
    return f"{letters[:CODE_HALF]}-{letters[CODE_HALF:]}"


def normalize_code(text: str) -> str:
    """``abcd efgh``, ``ABCDEFGH`` and ``abcd-efgh`` are all ``ABCD-EFGH``."""
    letters = "".join(ch for ch in text.upper() if ch.isalnum())
    if len(letters) != 2 * CODE_HALF:
        return text.strip().upper()
    return f"{letters[:CODE_HALF]}-{letters[CODE_HALF:]}"


def start_pairing(*, client: Client) -> StartedPairing:
    now = timezone.now()
    with transaction.atomic():
        Pairing.objects.filter(expires_at__lt=now - KEPT_AFTER_EXPIRY).delete()
        code = new_code()
        while Pairing.objects.filter(code=code).exists():
            code = new_code()
        secret = secrets.token_urlsafe(32)
        pairing = Pairing.objects.create(
            secret_hash=hash_secret(secret),
            code=code,
            client=client,
            created_at=now,
            expires_at=now + LIFETIME,
        )
    return StartedPairing(pairing=pairing, secret=secret)


def check_usable(pairing: Pairing, now: dt.datetime) -> None:
    if pairing.claimed_at is not None:
        raise PairingGone(f"the code {pairing.code} was already used: start again from the panel")
    if now >= pairing.expires_at:
        raise PairingGone(f"the code {pairing.code} expired: start again from the panel")


def pairing_to_approve(code: str) -> Pairing:
    """The pairing the approval page shows, if it can still be approved."""
    pairing = (
        Pairing.objects.select_related("approved_by").filter(code=normalize_code(code)).first()
    )
    if pairing is None:
        raise UnknownPairing(f"there is no pairing with the code {code[:20]!r}")
    check_usable(pairing, timezone.now())
    return pairing


def approve_pairing(*, code: str, user: User) -> Pairing:
    """Approve the pairing for ``user``. Approving it again as the same user changes
    nothing; another user's approval of it is refused (a code is used once)."""
    with transaction.atomic():
        pairing = Pairing.objects.select_for_update().filter(code=normalize_code(code)).first()
        if pairing is None:
            raise UnknownPairing(f"there is no pairing with the code {code[:20]!r}")
        check_usable(pairing, timezone.now())
        if pairing.approved_by_id is not None:
            if pairing.approved_by_id == user.pk:
                return pairing
            raise PairingGone(f"the code {pairing.code} was already approved by another user")
        pairing.approved_by = user
        pairing.approved_at = timezone.now()
        pairing.save(update_fields=["approved_by", "approved_at"])
        record_event(
            kind="sidebar_pairing_approved",
            actor=user,
            sentence=f"{user.display_name} approved connecting the "
            f"{pairing.get_client_display()} (code {pairing.code}).",
            data={"pairing": pairing.pk, "client": pairing.client, "code": pairing.code},
        )
    return pairing


def claim_pairing(*, secret: str) -> PairingResult:
    """Pending until approved; then an API token for the approver, handed out once."""
    with transaction.atomic():
        pairing = (
            Pairing.objects.select_for_update(of=("self",))
            .select_related("approved_by")
            .filter(secret_hash=hash_secret(secret))
            .first()
        )
        if pairing is None:
            raise UnknownPairing("no pairing has this secret")
        check_usable(pairing, timezone.now())
        user = pairing.approved_by
        if user is None:
            return PairingResult(approved=False)
        try:
            issued = create_token(user=user, name=pairing.get_client_display())
        except TokenError as exc:
            raise PairingGone(str(exc)) from exc
        pairing.token = issued.token
        pairing.claimed_at = timezone.now()
        pairing.save(update_fields=["token", "claimed_at"])
        record_event(
            kind="sidebar_paired",
            actor=user,
            sentence=f"{user.display_name} connected the {pairing.get_client_display()} "
            f"(API token {issued.token.prefix}…).",
            data={"pairing": pairing.pk, "client": pairing.client, "token": issued.token.pk},
        )
    return PairingResult(approved=True, token=issued.secret, user_name=user.display_name)
