"""The Mailboxes pages: list (health, sync, watcher, usage), connect, test, change limits.

Reps see and act on their own mailboxes; managers and admins see and test everyone's.
Limits and time zone are changed by the owner or an admin only.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from cadency.accounts.models import User
from cadency.mailboxes.forms import (
    ConnectMailboxForm,
    MailboxFilterForm,
    MailboxLimitsForm,
    MailboxSecretForm,
)
from cadency.mailboxes.health import failures_before_pause
from cadency.mailboxes.models import (
    AuthMethod,
    Mailbox,
    MailboxPause,
    Security,
    SentCopy,
)
from cadency.mailboxes.selectors import (
    FolderSync,
    Watcher,
    check_may_edit,
    check_may_see,
    folder_syncs,
    may_edit,
    sent_today,
    visible_mailboxes,
    watcher_of,
)
from cadency.mailboxes.services import (
    MailboxCheck,
    MailboxCheckFailed,
    MailboxError,
    add_mailbox,
    check_mailbox,
    update_mailbox_limits,
    update_mailbox_secret,
)
from cadency.web.redirects import redirect_back
from cadency.web.requests import signed_in_user

# --- access -----------------------------------------------------------------------


def get_visible(actor: User, mailbox_id: int) -> Mailbox:
    """The mailbox (404 if unknown), refused (403) if the actor may not see it."""
    mailbox = get_object_or_404(
        Mailbox.objects.select_related("user", "lease").prefetch_related("sync_states"),
        pk=mailbox_id,
    )
    check_may_see(actor, mailbox)
    return mailbox


# --- what the pages show ------------------------------------------------------------


@dataclass(frozen=True)
class MailboxRow:
    mailbox: Mailbox
    folders: list[FolderSync]
    watcher: Watcher | None
    sent_today: int
    may_edit: bool

    @property
    def used_percent(self) -> int:
        return min(100, round(100 * self.sent_today / max(1, self.mailbox.daily_limit)))


def mailbox_rows(actor: User, mailboxes: list[Mailbox], now: dt.datetime) -> list[MailboxRow]:
    counts = sent_today(mailboxes, now)
    return [
        MailboxRow(
            mailbox=m,
            folders=folder_syncs(m),
            watcher=watcher_of(m, now),
            sent_today=counts.get(m.pk, 0),
            may_edit=may_edit(actor, m),
        )
        for m in mailboxes
    ]


# --- pages --------------------------------------------------------------------------


def mailbox_list(request: HttpRequest) -> HttpResponse:
    actor = signed_in_user(request)
    mailboxes = (
        visible_mailboxes(actor)
        .select_related("user", "lease")
        .prefetch_related("sync_states")
        .order_by("user__username", "email")
    )
    everyone = actor.can_act_on_all_enrollments()
    filters = MailboxFilterForm(request.GET or None) if everyone else None
    if filters is not None and filters.is_valid() and filters.cleaned_data["user"]:
        mailboxes = mailboxes.filter(user=filters.cleaned_data["user"])
    rows = mailbox_rows(actor, list(mailboxes), timezone.now())
    return render(
        request,
        "mailboxes/list.html",
        {"rows": rows, "filters": filters, "everyone": everyone},
        status=400 if filters is not None and filters.errors else 200,
    )


def mailbox_detail(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    actor = signed_in_user(request)
    mailbox = get_visible(actor, mailbox_id)
    (row,) = mailbox_rows(actor, [mailbox], timezone.now())
    return render(
        request,
        "mailboxes/detail.html",
        {
            "row": row,
            "mailbox": mailbox,
            "paused_for_failure": MailboxPause.objects.filter(mailbox=mailbox, done=False).count(),
            "failures_before_pause": failures_before_pause(),
        },
    )


def connect_mailbox(*, owner: User, data: dict[str, Any]) -> Mailbox:
    """Add the mailbox after a successful connection test (MailboxCheckFailed otherwise)."""
    return add_mailbox(
        user=owner,
        email=data["email"],
        secret=data["secret"],
        smtp_host=data["smtp_host"],
        imap_host=data["imap_host"],
        username=data["username"],
        display_name=data["display_name"],
        auth_method=AuthMethod(data["auth_method"]),
        smtp_port=data["smtp_port"],
        smtp_security=Security(data["smtp_security"]),
        imap_port=data["imap_port"],
        imap_security=Security(data["imap_security"]),
        sent_folder=data["sent_folder"],
        sent_copy=SentCopy(data["sent_copy"]),
        daily_limit=data["daily_limit"],
        per_minute_limit=data["per_minute_limit"],
        time_zone=data["time_zone"],
        check=True,
    )


def connect(request: HttpRequest) -> HttpResponse:
    actor = signed_in_user(request)
    form = ConnectMailboxForm(request.POST or None, actor=actor)
    if request.method == "POST" and form.is_valid():
        owner = form.cleaned_data.get("owner") or actor
        try:
            mailbox = connect_mailbox(owner=owner, data=form.cleaned_data)
        except MailboxCheckFailed as failed:
            form.add_error(None, "The connection test failed, so nothing was saved:")
            for error in failed.check.errors:
                form.add_error(None, error)
        except MailboxError as exc:
            form.add_error(None, f"The mailbox was not connected: {exc}.")
        else:
            messages.success(
                request, f"Connected {mailbox.email}: SMTP, IMAP and the Sent folder answered."
            )
            return redirect("mailboxes:detail", mailbox_id=mailbox.pk)
    return render(
        request,
        "mailboxes/connect.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


def check_summary(check: MailboxCheck) -> str:
    def word(ok: bool) -> str:
        return "ok" if ok else "failed"

    return (
        f"SMTP {word(check.smtp_ok)}, IMAP {word(check.imap_ok)}, "
        f"Sent folder {word(check.sent_folder_ok)}"
    )


@require_POST
def test(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    actor = signed_in_user(request)
    mailbox = get_visible(actor, mailbox_id)
    check = check_mailbox(mailbox)
    if check.ok:
        messages.success(request, f"{mailbox.email} passed its test: {check_summary(check)}.")
    else:
        messages.error(request, f"{mailbox.email} failed its test: {check_summary(check)}.")
        for error in check.errors:
            messages.error(request, error)
    return redirect_back(request, reverse("mailboxes:detail", args=[mailbox.pk]))


def edit_limits(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    actor = signed_in_user(request)
    mailbox = get_visible(actor, mailbox_id)
    check_may_edit(actor, mailbox)
    form = MailboxLimitsForm(request.POST or None, instance=mailbox)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        # The form validated on a copy; the service writes the row and the ledger event.
        mailbox.refresh_from_db()
        changes = update_mailbox_limits(
            mailbox=mailbox,
            actor=actor,
            daily_limit=data["daily_limit"],
            per_minute_limit=data["per_minute_limit"],
            time_zone=data["time_zone"],
        )
        if changes:
            messages.success(request, f"Saved {mailbox.email}: {'; '.join(changes)}.")
        else:
            messages.info(request, f"Nothing changed on {mailbox.email}.")
        return redirect("mailboxes:detail", mailbox_id=mailbox.pk)
    return render(
        request,
        "mailboxes/limits.html",
        {"form": form, "mailbox": mailbox},
        status=400 if form.errors else 200,
    )


def edit_secret(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    """New credentials (a changed password, a fresh token), tested before saving."""
    actor = signed_in_user(request)
    mailbox = get_visible(actor, mailbox_id)
    check_may_edit(actor, mailbox)
    form = MailboxSecretForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            update_mailbox_secret(mailbox=mailbox, actor=actor, secret=form.cleaned_data["secret"])
        except MailboxCheckFailed as failed:
            form.add_error(None, "The servers refused the new credentials, so nothing was saved:")
            for error in failed.check.errors:
                form.add_error(None, error)
        except MailboxError as exc:
            form.add_error(None, f"Nothing was saved: {exc}.")
        else:
            messages.success(
                request, f"Saved the new credentials of {mailbox.email}: SMTP and IMAP accept them."
            )
            return redirect("mailboxes:detail", mailbox_id=mailbox.pk)
    return render(
        request,
        "mailboxes/secret.html",
        {"form": form, "mailbox": mailbox},
        status=400 if form.errors else 200,
    )
