"""Mailboxes: yours (managers and admins: everyone's), and their health.

Access follows the Mailboxes page (``mailboxes.selectors``): a rep sees only their own.
"""

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from cadency.accounts.models import User
from cadency.api.auth import actor_of
from cadency.api.common import Id, UserRef, check_exists, get_or_404
from cadency.api.errors import errors
from cadency.api.pagination import Page
from cadency.mailboxes.models import Mailbox
from cadency.mailboxes.selectors import (
    check_may_see,
    folder_syncs,
    sent_today,
    visible_mailboxes,
    watcher_of,
)

router = Router(tags=["mailboxes"])


class ServerOut(Schema):
    host: str
    port: int
    security: str


class MailboxOut(Schema):
    id: int
    user: UserRef
    email: str
    display_name: str
    username: str
    auth_method: str
    smtp: ServerOut
    imap: ServerOut
    sent_folder: str
    sent_copy: str
    daily_limit: int
    per_minute_limit: int
    time_zone: str
    health: str
    last_error: str
    last_checked_at: dt.datetime | None
    created_at: dt.datetime

    @staticmethod
    def resolve_smtp(obj: Mailbox) -> dict[str, Any]:
        return {"host": obj.smtp_host, "port": obj.smtp_port, "security": obj.smtp_security}

    @staticmethod
    def resolve_imap(obj: Mailbox) -> dict[str, Any]:
        return {"host": obj.imap_host, "port": obj.imap_port, "security": obj.imap_security}


class FolderOut(Schema):
    folder: str
    last_uid: int | None
    last_synced_at: dt.datetime | None


class WatcherOut(Schema):
    holder: str
    until: dt.datetime | None
    live: bool


class HealthOut(Schema):
    id: int
    email: str
    health: str = Field(description="ok, failing or unknown (not checked yet)")
    last_error: str
    last_checked_at: dt.datetime | None
    folders: list[FolderOut] = Field(description="how far the watcher has read each folder")
    watcher: WatcherOut | None = Field(description="the process watching it (IMAP IDLE)")
    sent_today: int = Field(description="counted against the daily limit, in its time zone")
    daily_limit: int
    per_minute_limit: int


class MailboxFilter(Schema):
    user: Id | None = Field(None, description="a user's id (managers and admins)")


def mailboxes(actor: User) -> QuerySet[Mailbox]:
    return visible_mailboxes(actor).select_related("user")


def visible(request: HttpRequest, mailbox_id: int) -> Mailbox:
    actor = actor_of(request)
    mailbox = get_or_404(
        Mailbox.objects.select_related("user").prefetch_related("sync_states"),
        mailbox_id,
        "mailbox",
    )
    check_may_see(actor, mailbox)
    return mailbox


@router.get("/mailboxes", response={200: list[MailboxOut], **errors(404)})
@paginate(Page)
def list_mailboxes(request: HttpRequest, filters: Query[MailboxFilter]) -> QuerySet[Mailbox]:
    """Your mailboxes; a manager or an admin sees everyone's."""
    check_exists(User.objects.all(), filters.user, "user")
    found = mailboxes(actor_of(request)).order_by("user__username", "email", "pk")
    if filters.user is not None:
        found = found.filter(user_id=filters.user)
    return found


@router.get("/mailboxes/{mailbox_id}", response={200: MailboxOut, **errors(403, 404)})
def get_mailbox(request: HttpRequest, mailbox_id: Id) -> Mailbox:
    return visible(request, mailbox_id)


@router.get("/mailboxes/{mailbox_id}/health", response={200: HealthOut, **errors(403, 404)})
def get_mailbox_health(request: HttpRequest, mailbox_id: Id) -> dict[str, Any]:
    """Its last check, how far each folder was read, its watcher, today's sends."""
    mailbox = visible(request, mailbox_id)
    now = timezone.now()
    watcher = watcher_of(mailbox, now)
    return {
        "id": mailbox.pk,
        "email": mailbox.email,
        "health": mailbox.health,
        "last_error": mailbox.last_error,
        "last_checked_at": mailbox.last_checked_at,
        "folders": [
            {
                "folder": sync.folder,
                "last_uid": sync.state.last_uid if sync.state else None,
                "last_synced_at": sync.state.last_synced_at if sync.state else None,
            }
            for sync in folder_syncs(mailbox)
        ],
        "watcher": (
            {"holder": watcher.holder, "until": watcher.until, "live": watcher.live}
            if watcher
            else None
        ),
        "sent_today": sent_today([mailbox], now).get(mailbox.pk, 0),
        "daily_limit": mailbox.daily_limit,
        "per_minute_limit": mailbox.per_minute_limit,
    }
