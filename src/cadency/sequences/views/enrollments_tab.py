"""The sequence page's Enrollments tab: filter, select, unenroll in bulk (SPEC §4)."""

from dataclasses import dataclass
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from cadency.accounts.permissions import may_act_on
from cadency.sequences.models import Enrollment, EnrollmentStatus, Sequence, UnenrollReason
from cadency.sequences.selectors import (
    EnrollmentFilter,
    UnenrollPlan,
    actionable_open,
    enrollment_rows,
    filter_enrollments,
    plan_unenroll,
)
from cadency.sequences.services.bulk import unenroll_many
from cadency.sequences.views.display import reason_choices, reason_label, viewer_zone
from cadency.web.pagination import page_and_rows
from cadency.web.redirects import redirect_back
from cadency.web.requests import signed_in_user

MAX_IDS = 10_000  # more than any page shows; "all matching" covers larger selections


class FilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("", "Any status"), *EnrollmentStatus.choices], required=False
    )
    reason = forms.ChoiceField(choices=[("", "Any reason"), *reason_choices()], required=False)
    q = forms.CharField(max_length=200, required=False, strip=True, label="Search")

    def selection(self, sequence: Sequence) -> EnrollmentFilter:
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        status, reason = data.get("status"), data.get("reason")
        return EnrollmentFilter(
            sequence_id=sequence.pk,
            statuses=(status,) if status else (),
            reasons=(reason,) if reason else (),
            search=data.get("q") or "",
        )

    def query(self) -> str:
        """The filter as a query string ("" when there is none)."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return urlencode({k: v for k, v in data.items() if v})


@dataclass(frozen=True)
class Row:
    enrollment: Enrollment
    may_act: bool
    reason_label: str

    @property
    def actionable(self) -> bool:
        return self.may_act and self.enrollment.is_open


def enrollments(request: HttpRequest, sequence_id: int) -> HttpResponse:
    user = signed_in_user(request)
    sequence = get_object_or_404(Sequence, pk=sequence_id)
    form = FilterForm(request.GET)
    form.is_valid()  # invalid fields are left out of the filter and shown as errors
    matching = filter_enrollments(form.selection(sequence))
    page, enrollments_shown = page_and_rows(request, enrollment_rows(matching), enrollment_rows)
    rows = [
        Row(e, may_act_on(user, e.enrolled_by_id), reason_label(e.reason))
        for e in enrollments_shown
    ]
    return render(
        request,
        "sequences/enrollments.html",
        {
            "sequence": sequence,
            "tab": "enrollments",
            "form": form,
            "page": page,
            "rows": rows,
            "matching": page.paginator.count,
            "actionable_matching": actionable_open(matching, user).count(),
            "zone": viewer_zone(user),
            "filtered": form.query(),
        },
    )


class BadSelection(ValueError):
    """The bulk form named enrollments that cannot be acted on as asked; nothing changes."""


def parse_ids(values: list[str], sequence: Sequence) -> tuple[int, ...]:
    ids: list[int] = []
    for value in values:
        text = value.strip()
        if not (text.isascii() and text.isdigit()) or len(text) > 18 or int(text) == 0:
            raise BadSelection(f"{value[:40]!r} is not an enrollment number")
        ids.append(int(text))
    unique = tuple(dict.fromkeys(ids))
    if len(unique) > MAX_IDS:
        raise BadSelection(f"at most {MAX_IDS} enrollments at once; use “all matching”")
    found = set(
        Enrollment.objects.filter(pk__in=unique, sequence=sequence).values_list("pk", flat=True)
    )
    missing = [pk for pk in unique if pk not in found]
    if missing:
        listed = ", ".join(map(str, missing[:10])) + (" …" if len(missing) > 10 else "")
        raise BadSelection(f"no enrollment {listed} in «{sequence.name}»")
    return unique


def parse_selection(data: QueryDict, sequence: Sequence) -> EnrollmentFilter | None:
    """The enrollments the bulk form names, or None when it names none."""
    all_matching = data.get("all_matching", "")
    if all_matching not in ("", "0", "1"):
        raise BadSelection(f"all_matching must be 1 or empty, not {all_matching[:40]!r}")
    if all_matching == "1":
        form = FilterForm(data)
        if not form.is_valid():
            errors = "; ".join(
                f"{field}: {' '.join(map(str, e))}" for field, e in form.errors.items()
            )
            raise BadSelection(f"the filter is not valid ({errors})")
        return form.selection(sequence)
    values = data.getlist("ids")
    if not values:
        return None
    return EnrollmentFilter(sequence_id=sequence.pk, ids=parse_ids(values, sequence))


def outcome_message(ended: int, plan: UnenrollPlan) -> str:
    already = plan.already_ended + len(plan.to_end) - ended  # some may have ended meanwhile
    parts = [f"Unenrolled {ended}"]
    if already:
        parts.append(f"{already} {'was' if already == 1 else 'were'} already ended")
    if plan.others:
        verb = "belongs" if plan.others == 1 else "belong"
        left = "was" if plan.others == 1 else "were"
        parts.append(f"{plan.others} {verb} to other reps and {left} left")
    return "; ".join(parts) + "."


@require_POST
def bulk_unenroll(request: HttpRequest, sequence_id: int) -> HttpResponse:
    """Unenroll the selected enrollments (``ids``) or every one matching the filter
    (``all_matching=1`` with ``status``, ``reason``, ``q``): only open ones the user
    may act on; the rest are counted and left."""
    user = signed_in_user(request)
    sequence = get_object_or_404(Sequence, pk=sequence_id)
    try:
        selection = parse_selection(request.POST, sequence)
    except BadSelection as exc:
        return render(
            request,
            "sequences/enrollments_bulk_error.html",
            {"sequence": sequence, "tab": "enrollments", "error": str(exc)},
            status=400,
        )
    tab_url = f"/sequences/{sequence.pk}/enrollments/"
    if selection is None:
        messages.warning(request, "No enrollment was selected; nothing changed.")
        return redirect_back(request, tab_url)
    plan = plan_unenroll(filter_enrollments(selection), user)
    if plan.others and not plan.to_end and not plan.already_ended:
        raise PermissionDenied(
            f"every selected enrollment was made by another user; a {user.role} may only "
            "unenroll their own"
        )
    ended = (
        unenroll_many(enrollment_ids=plan.to_end, reason=UnenrollReason.MANUAL, actor=user)
        if plan.to_end
        else 0
    )
    level = messages.SUCCESS if ended else messages.WARNING
    messages.add_message(request, level, outcome_message(ended, plan))
    return redirect_back(request, tab_url)
