"""Who sees which mailbox; how much each sent today, how far each folder was read."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Count, Q, QuerySet

from cadency.accounts.models import Role, User
from cadency.mailboxes.models import FolderSyncState, Mailbox, WatcherLease
from cadency.sequences.models import StepRun
from cadency.sequences.services.claiming import COUNTED_STATES
from cadency.sequences.services.scheduling import day_start, resolve_zone


def is_admin(user: User) -> bool:
    return user.is_superuser or user.role == Role.ADMIN


def may_see(actor: User, mailbox: Mailbox) -> bool:
    """Reps see their own mailboxes (and the mail in them); managers and admins all."""
    return actor.can_act_on_all_enrollments() or mailbox.user_id == actor.pk


def check_may_see(actor: User, mailbox: Mailbox) -> None:
    """Refuse (403) another user's mailbox to a rep."""
    if not may_see(actor, mailbox):
        raise PermissionDenied(
            f"the mailbox {mailbox.email} is another user's; a {actor.role} may only see "
            "and act on their own mailboxes"
        )


def may_edit(actor: User, mailbox: Mailbox) -> bool:
    return mailbox.user_id == actor.pk or is_admin(actor)


def check_may_edit(actor: User, mailbox: Mailbox) -> None:
    if not may_edit(actor, mailbox):
        raise PermissionDenied(
            f"only the owner of {mailbox.email} or an admin may change its limits"
        )


def visible_mailboxes(actor: User) -> QuerySet[Mailbox]:
    mailboxes = Mailbox.objects.all()
    if actor.can_act_on_all_enrollments():
        return mailboxes
    return mailboxes.filter(user=actor)


def sent_today(mailboxes: list[Mailbox], now: dt.datetime) -> dict[int, int]:
    """Emails each mailbox sent since midnight in its own zone, counted as the sender
    counts them against the daily limit (``claiming.send_quota``); one query."""
    since: dict[dt.datetime, list[int]] = defaultdict(list)
    for mailbox in mailboxes:
        since[day_start(now, resolve_zone(mailbox.time_zone))].append(mailbox.pk)
    if not since:
        return {}
    window = reduce(
        or_, (Q(mailbox_id__in=ids, claimed_at__gte=start) for start, ids in since.items())
    )
    rows = (
        StepRun.objects.filter(window, state__in=COUNTED_STATES)
        .values("mailbox_id")
        .annotate(sent=Count("pk"))
        .order_by()
    )
    return {row["mailbox_id"]: row["sent"] for row in rows}


@dataclass(frozen=True)
class FolderSync:
    folder: str
    state: FolderSyncState | None
    watched: bool = True


@dataclass(frozen=True)
class Watcher:
    holder: str
    until: dt.datetime | None
    live: bool


def folder_syncs(mailbox: Mailbox) -> list[FolderSync]:
    """Each watched folder with how far it was read, then any other folder once read."""
    states = {state.folder: state for state in mailbox.sync_states.all()}
    watched = mailbox.folders_to_watch
    others = sorted(set(states) - set(watched))
    return [FolderSync(folder, states.get(folder)) for folder in watched] + [
        FolderSync(folder, states[folder], watched=False) for folder in others
    ]


def watcher_of(mailbox: Mailbox, now: dt.datetime) -> Watcher | None:
    try:
        lease: WatcherLease = mailbox.lease
    except ObjectDoesNotExist:
        return None
    live = bool(lease.holder) and lease.expires_at is not None and lease.expires_at > now
    return Watcher(lease.holder, lease.expires_at, live)
