"""The sequence page's Settings tab: sending settings, and the same-company rule
with a preview of the open enrollments it concerns (SPEC §3, §8)."""

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from cadency.accounts.permissions import check_may_manage_sequence, may_act_on, may_manage_sequence
from cadency.sequences.models import Enrollment, Sequence
from cadency.sequences.models.enrollment import OPEN_STATUSES
from cadency.sequences.selectors_company import same_company_would_end
from cadency.sequences.services.settings import (
    DAY_NAMES,
    EDITABLE,
    SettingsError,
    update_settings,
)
from cadency.web.requests import signed_in_user

PREVIEW_ROWS = 200


class SettingsForm(forms.Form):
    send_window_start = forms.TimeField(
        label="Send window from",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    send_window_end = forms.TimeField(
        label="to", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    send_days = forms.TypedMultipleChoiceField(
        label="Send days",
        choices=list(enumerate(DAY_NAMES)),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one day."},
    )
    business_days_only = forms.BooleanField(
        required=False,
        label="Business days only",
        help_text="Delays in business days skip weekends.",
    )
    thread_follow_ups = forms.BooleanField(
        required=False,
        label="Thread follow-ups",
        help_text="Follow-ups go as replies (“Re:” and the earlier emails' Message-IDs).",
    )
    unenroll_same_company = forms.BooleanField(
        required=False,
        label="Unenroll contacts from the same company when one replies",
        help_text="Same company = the associated company, else the same registered domain; "
        "free-mail domains never make two people one company.",
    )
    pause_on_out_of_office = forms.BooleanField(
        required=False,
        label="Pause on out-of-office",
        help_text="Pause until the return date an auto-reply names, then resume.",
    )
    track_clicks = forms.BooleanField(
        required=False,
        label="Track link clicks",
        help_text="Links go through signed redirects on this server; scanner clicks are not "
        "counted. The unsubscribe link is never tracked.",
    )
    track_opens = forms.BooleanField(
        required=False,
        label="Track opens",
        help_text="A 1x1 image in the HTML part counts opens; image proxies and prefetching "
        "make this an estimate.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("send_window_start", "send_window_end"):
            value = self.initial.get(name)
            if isinstance(value, dt.time) and value.second:
                # Keep the seconds (e.g. 23:59:59), or saving untouched would change them.
                widget = self.fields[name].widget
                assert isinstance(widget, forms.TimeInput)
                widget.format = "%H:%M:%S"
                widget.attrs["step"] = "1"

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        start, end = data.get("send_window_start"), data.get("send_window_end")
        if start is not None and end is not None and start >= end:
            self.add_error("send_window_end", "The end must be after the start.")
        return data


def initial_of(sequence: Sequence) -> dict[str, object]:
    return {field: getattr(sequence, field) for field in EDITABLE}


def settings_page(request: HttpRequest, sequence_id: int) -> HttpResponse:
    user = signed_in_user(request)
    sequence = get_object_or_404(Sequence.objects.select_related("owner"), pk=sequence_id)
    status = 200
    if request.method == "POST":
        check_may_manage_sequence(user, sequence)
        form = SettingsForm(request.POST)
        if form.is_valid():
            try:
                changed = update_settings(sequence=sequence, actor=user, **form.cleaned_data)
            except SettingsError as exc:
                form.add_error(None, str(exc))
            else:
                if changed:
                    messages.success(
                        request,
                        f"Saved {len(changed)} change{'s' if len(changed) != 1 else ''}. "
                        "New enrollments use these settings; open enrollments keep theirs.",
                    )
                else:
                    messages.info(request, "Nothing changed.")
                return redirect(f"/sequences/{sequence.pk}/settings/")
        status = 400
    else:
        form = SettingsForm(initial=initial_of(sequence))
    editable = may_manage_sequence(user, sequence) and sequence.archived_at is None
    would_end = same_company_would_end(sequence)
    open_count = Enrollment.objects.filter(sequence=sequence, status__in=OPEN_STATUSES).count()
    return render(
        request,
        "sequences/settings.html",
        {
            "sequence": sequence,
            "tab": "settings",
            "form": form,
            "editable": editable,
            "open_count": open_count,
            "would_end": would_end[:PREVIEW_ROWS],
            "would_end_count": len(would_end),
            "would_end_ids": [
                w.enrollment.pk for w in would_end if may_act_on(user, w.enrollment.enrolled_by_id)
            ],
        },
        status=status,
    )
