"""Alerts: what a user must know and act on, shown on /alerts/ and counted in the
navigation. Cadency raises them (a mailbox that keeps failing) and resolves them
when the problem is gone; the user may dismiss them sooner."""

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from cadency.accounts.models import Alert, User
from cadency.ledger.services import record_event


def alert_user(
    *, user: User, kind: str, key: str, title: str, body: str = "", link: str = ""
) -> Alert:
    """Raise an alert, once per problem: while an alert with this ``key`` is unresolved
    (even if the user dismissed it) a repeat only refreshes its text."""
    for _ in range(2):
        try:
            with transaction.atomic():
                alert = (
                    Alert.objects.select_for_update()
                    .filter(user=user, key=key, resolved_at=None)
                    .first()
                )
                if alert is None:
                    return Alert.objects.create(
                        user=user, kind=kind, key=key, title=title, body=body, link=link
                    )
                if (alert.title, alert.body, alert.link) != (title, body, link):
                    alert.title, alert.body, alert.link = title, body, link
                    alert.save(update_fields=["title", "body", "link", "updated_at"])
                return alert
        except IntegrityError:
            continue  # raised at the same moment elsewhere: read it again
    raise RuntimeError(f"could not raise the alert {key!r} for {user}")  # pragma: no cover


def resolve_alerts(*, key: str, resolution: str) -> int:
    """Cadency saw the problem go away: its alerts close (they leave the count)."""
    now = timezone.now()
    return Alert.objects.filter(key=key, resolved_at=None).update(
        resolved_at=now, resolution=resolution, updated_at=now
    )


def dismiss_alert(*, alert: Alert, actor: User) -> bool:
    """The user has seen it. Returns False if it was no longer open."""
    with transaction.atomic():
        changed = Alert.objects.filter(pk=alert.pk, dismissed_at=None, resolved_at=None).update(
            dismissed_at=timezone.now(), updated_at=timezone.now()
        )
        if changed:
            record_event(
                kind="alert_dismissed",
                actor=actor,
                sentence=f"{actor.display_name} dismissed the alert “{alert.title}”.",
                data={"alert": alert.pk, "key": alert.key},
            )
    alert.refresh_from_db()
    return bool(changed)


def open_alerts(user: User) -> QuerySet[Alert]:
    return Alert.objects.filter(user=user, resolved_at=None, dismissed_at=None)


def open_alert_count(user: User) -> int:
    return open_alerts(user).count()


def earlier_alerts(user: User, limit: int = 50) -> QuerySet[Alert]:
    """Dismissed or resolved alerts, newest first (the page's history)."""
    closed = Alert.objects.filter(user=user).exclude(resolved_at=None, dismissed_at=None)
    return closed.order_by("-updated_at", "-pk")[:limit]
