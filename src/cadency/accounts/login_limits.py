"""Slowing down password guessing on every sign-in form (``/login/`` and the admin's).

Each failed sign-in is a row: the username as typed, the client's address, the time.
While a username has had ``CADENCY_LOGIN_FAILURES_PER_USERNAME`` failures, or an
address ``CADENCY_LOGIN_FAILURES_PER_ADDRESS``, within the last
``CADENCY_LOGIN_LOCKOUT_SECONDS``, every sign-in for it is refused, the right
password included, until the oldest of those failures is that old. Refused attempts
are not counted, so trying on does not keep the real user out any longer. A
successful sign-in clears that username's failures (and only its own: signing in to
one's own account from the same address does not clear a guesser's count against
another). The rows live in the database, so every web process sees the same counts.

The check is Django's model backend with the limit in front, so every form that
authenticates with a request is covered; ``authenticate()`` without a request (the
test client's ``login``, scripts) is not limited.
"""

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any, Literal

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone

from cadency.accounts.models import LoginFailure, User

USERNAME_MAX_LENGTH = 150
# The request attribute that tells the sign-in page why it was refused.
LOCKOUT_ATTRIBUTE = "cadency_login_lockout"


@dataclass(frozen=True)
class Lockout:
    """Sign-ins are refused until ``until`` because of too many failures by ``cause``."""

    cause: Literal["username", "address"]
    until: dt.datetime

    def seconds_left(self, now: dt.datetime | None = None) -> int:
        left = (self.until - (now or timezone.now())).total_seconds()
        return max(1, math.ceil(left))

    def message(self, now: dt.datetime | None = None) -> str:
        minutes = math.ceil(self.seconds_left(now) / 60)
        whose = "this username" if self.cause == "username" else "your network address"
        unit = "minute" if minutes == 1 else "minutes"
        return (
            f"Too many failed sign-ins for {whose}: signing in is paused. "
            f"Try again in {minutes} {unit}."
        )


def window() -> dt.timedelta:
    return dt.timedelta(seconds=settings.CADENCY_LOGIN_LOCKOUT_SECONDS)


def normalized_username(text: str) -> str:
    return text.strip().lower()[:USERNAME_MAX_LENGTH]


def client_address(request: HttpRequest) -> str:
    """The client's address: ``REMOTE_ADDR``, or behind ``CADENCY_TRUSTED_PROXIES``
    reverse proxies, the address the outermost one saw (``X-Forwarded-For`` counted
    from the right, where each trusted proxy appends what it saw; anything further
    left was written by the client and is not trusted)."""
    remote = str(request.META.get("REMOTE_ADDR") or "unknown")
    proxies: int = settings.CADENCY_TRUSTED_PROXIES
    if proxies <= 0:
        return remote
    hops = [hop.strip() for hop in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
    hops = [hop for hop in hops if hop]
    return hops[-proxies][:45] if len(hops) >= proxies else remote


def lockout_for(username: str, address: str, now: dt.datetime | None = None) -> Lockout | None:
    """The lockout in force for this username or address, the longer one if both."""
    now = now or timezone.now()
    since = now - window()
    checks: list[tuple[Literal["username", "address"], dict[str, str], int]] = [
        ("address", {"ip_address": address}, settings.CADENCY_LOGIN_FAILURES_PER_ADDRESS)
    ]
    if normalized_username(username):
        checks.insert(
            0,
            (
                "username",
                {"username": normalized_username(username)},
                settings.CADENCY_LOGIN_FAILURES_PER_USERNAME,
            ),
        )
    lockouts = []
    for cause, match, limit in checks:
        if limit <= 0:
            continue
        # The limit-th most recent failure in the window: when it leaves the window,
        # fewer than ``limit`` remain and signing in works again.
        oldest_counted = (
            LoginFailure.objects.filter(**match, failed_at__gt=since)
            .order_by("-failed_at")
            .values_list("failed_at", flat=True)[limit - 1 : limit]
        )
        for failed_at in oldest_counted:
            lockouts.append(Lockout(cause=cause, until=failed_at + window()))
    return max(lockouts, key=lambda lockout: lockout.until, default=None)


def record_failure(username: str, address: str, now: dt.datetime | None = None) -> None:
    now = now or timezone.now()
    name = normalized_username(username)
    stale = LoginFailure.objects.filter(failed_at__lte=now - window())
    stale.filter(ip_address=address).delete()
    if name:
        stale.filter(username=name).delete()
    LoginFailure.objects.create(username=name, ip_address=address, failed_at=now)


def clear_failures(username: str) -> None:
    LoginFailure.objects.filter(username=normalized_username(username)).delete()


class LimitedModelBackend(ModelBackend):
    """Django's username-and-password backend, refusing while a lockout is in force
    (PermissionDenied stops ``authenticate()``), counting failures, clearing them on
    success."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if request is None:
            return super().authenticate(request, username, password, **kwargs)
        typed = username or str(kwargs.get("username", ""))
        address = client_address(request)
        lockout = lockout_for(typed, address)
        if lockout is not None:
            setattr(request, LOCKOUT_ATTRIBUTE, lockout)
            raise PermissionDenied(lockout.message())
        user = super().authenticate(request, username, password, **kwargs)
        if user is None:
            record_failure(typed, address)
        else:
            clear_failures(typed)
        return user

    async def aauthenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        return await sync_to_async(self.authenticate)(request, username, password, **kwargs)


def lockout_of(request: HttpRequest) -> Lockout | None:
    """The lockout that refused this request's sign-in, if one did."""
    lockout = getattr(request, LOCKOUT_ATTRIBUTE, None)
    return lockout if isinstance(lockout, Lockout) else None
