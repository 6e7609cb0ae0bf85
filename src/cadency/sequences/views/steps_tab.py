"""The sequence page's Steps tab: list, add, edit, reorder, delete and preview steps.

Every edit writes a new version of the steps through ``step_editing`` (SPEC §2.4:
open enrollments keep theirs). Only the owner, a manager or an admin may edit.
"""

from django.contrib import messages
from django.core.exceptions import BadRequest
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cadency.accounts.models import User
from cadency.accounts.permissions import check_may_manage_sequence, may_manage_sequence
from cadency.contacts.models import Contact
from cadency.sequences.forms.steps import NewStepForm, PreviewForm, StepForm
from cadency.sequences.models import Sequence
from cadency.sequences.services.authoring import SequenceSpecError
from cadency.sequences.services.step_editing import (
    AVAILABLE_TOKENS,
    StepEditRefused,
    StepNotFound,
    StepPreview,
    StepSpec,
    add_step,
    current_specs,
    delete_step,
    move_step,
    open_enrollments_by_version,
    preview_steps,
    step_spec,
    update_step,
)
from cadency.web.requests import signed_in_user

PREVIEW_CHOICES = 20


def get_sequence(sequence_id: int) -> Sequence:
    return get_object_or_404(Sequence.objects.select_related("owner"), pk=sequence_id)


def may_edit(user: User, sequence: Sequence) -> bool:
    return may_manage_sequence(user, sequence) and sequence.archived_at is None


def steps_url(sequence: Sequence, position: int | None = None) -> str:
    url = reverse("sequences:steps", args=[sequence.pk])
    return f"{url}#step-{position}" if position else url


def recent_contacts() -> QuerySet[Contact]:
    return Contact.objects.filter(deleted_at=None).order_by("-pk")[:PREVIEW_CHOICES]


def version_note(sequence: Sequence) -> str:
    return (
        f"«{sequence.name}» is now at version {sequence.current_version}: new enrollments "
        "use it; existing enrollments keep their steps."
    )


@require_GET
def steps_page(request: HttpRequest, sequence_id: int) -> HttpResponse:
    sequence = get_sequence(sequence_id)
    user = signed_in_user(request)
    steps = list(sequence.current_steps())
    preview_form = PreviewForm(request.GET) if "contact" in request.GET else PreviewForm()
    preview_contact: Contact | None = None
    previews: list[StepPreview] = []
    if preview_form.is_bound and preview_form.is_valid():
        preview_contact = preview_form.cleaned_data["contact"]
        previews = preview_steps(
            [step_spec(step) for step in steps],
            contact=preview_contact,
            sender=user,
            thread_follow_ups=sequence.thread_follow_ups,
        )
    return render(
        request,
        "sequences/steps.html",
        {
            "sequence": sequence,
            "tab": "steps",
            "steps": steps,
            "may_edit": may_edit(user, sequence),
            "counts": open_enrollments_by_version(sequence),
            "preview_form": preview_form,
            "previews": previews,
            "preview_contact": preview_contact,
            "recent_contacts": recent_contacts(),
        },
    )


def editor(
    request: HttpRequest,
    sequence: Sequence,
    form: StepForm,
    *,
    position: int | None,
    preview: StepPreview | None = None,
    status: int = 200,
) -> HttpResponse:
    if request.method == "GET":
        # Also where the focus lands when htmx swaps the editor into the steps list.
        form.fields["kind"].widget.attrs["autofocus"] = True
    return render(
        request,
        "sequences/steps_form.html",
        {
            "sequence": sequence,
            "tab": "steps",
            "form": form,
            "position": position,
            "preview": preview,
            "tokens": AVAILABLE_TOKENS,
            "recent_contacts": recent_contacts(),
            "counts": open_enrollments_by_version(sequence),
        },
        status=status,
    )


def draft_preview(
    request: HttpRequest,
    sequence: Sequence,
    form: StepForm,
    specs: list[StepSpec],
    *,
    draft_at: int,
    editing: int | None,
) -> HttpResponse:
    """The draft (at ``draft_at`` in ``specs``) rendered for the chosen contact; nothing
    is saved. ``editing`` is the position being edited, None for a new step."""
    contact = form.cleaned_data["preview_contact"]
    if contact is None:
        form.add_error("preview_contact", "Enter the address of a contact to preview for.")
        return editor(request, sequence, form, position=editing)
    previews = preview_steps(
        specs,
        contact=contact,
        sender=signed_in_user(request),
        thread_follow_ups=sequence.thread_follow_ups,
    )
    return editor(request, sequence, form, position=editing, preview=previews[draft_at - 1])


def refuse_deleted(request: HttpRequest, sequence: Sequence) -> HttpResponse | None:
    if sequence.archived_at is None:
        return None
    messages.error(request, f"«{sequence.name}» was deleted; its steps can no longer change.")
    return redirect(steps_url(sequence))


@require_http_methods(["GET", "POST"])
def new_step(request: HttpRequest, sequence_id: int) -> HttpResponse:
    sequence = get_sequence(sequence_id)
    user = signed_in_user(request)
    check_may_manage_sequence(user, sequence)
    if refused := refuse_deleted(request, sequence):
        return refused
    specs = current_specs(sequence)
    if request.method == "GET":
        initial = {"version": sequence.current_version, "thread_as_reply": True}
        form = NewStepForm(initial=initial, step_count=len(specs))
        return editor(request, sequence, form, position=None)
    form = NewStepForm(request.POST, step_count=len(specs))
    previewing = request.POST.get("action") == "preview"
    if not form.is_valid():
        return editor(request, sequence, form, position=None, status=200 if previewing else 400)
    position: int = form.cleaned_data["position"]
    if previewing:
        specs.insert(position - 1, form.step_spec())
        return draft_preview(request, sequence, form, specs, draft_at=position, editing=None)
    try:
        add_step(
            sequence=sequence,
            based_on_version=form.cleaned_data["version"],
            spec=form.step_spec(),
            position=position,
            actor=user,
        )
    except SequenceSpecError as exc:
        form.show_spec_error(exc, position)
        return editor(request, sequence, form, position=None, status=400)
    except (StepEditRefused, StepNotFound) as exc:
        form.add_error(None, f"{str(exc).capitalize()}; nothing was changed.")
        return editor(request, sequence, form, position=None, status=409)
    messages.success(request, f"Added step {position}. {version_note(sequence)}")
    return redirect(steps_url(sequence, position))


@require_http_methods(["GET", "POST"])
def edit_step(request: HttpRequest, sequence_id: int, position: int) -> HttpResponse:
    sequence = get_sequence(sequence_id)
    user = signed_in_user(request)
    check_may_manage_sequence(user, sequence)
    if refused := refuse_deleted(request, sequence):
        return refused
    specs = current_specs(sequence)
    if not 1 <= position <= len(specs):
        raise Http404(f"«{sequence.name}» has no step {position}")
    if request.method == "GET":
        form = StepForm(initial=StepForm.initial_for(specs[position - 1], sequence.current_version))
        return editor(request, sequence, form, position=position)
    form = StepForm(request.POST)
    previewing = request.POST.get("action") == "preview"
    if not form.is_valid():
        return editor(request, sequence, form, position=position, status=200 if previewing else 400)
    if previewing:
        specs[position - 1] = form.step_spec()
        return draft_preview(request, sequence, form, specs, draft_at=position, editing=position)
    try:
        changed = update_step(
            sequence=sequence,
            based_on_version=form.cleaned_data["version"],
            position=position,
            spec=form.step_spec(),
            actor=user,
        )
    except SequenceSpecError as exc:
        form.show_spec_error(exc, position)
        return editor(request, sequence, form, position=position, status=400)
    except (StepEditRefused, StepNotFound) as exc:
        form.add_error(None, f"{str(exc).capitalize()}; nothing was changed.")
        return editor(request, sequence, form, position=position, status=409)
    if changed:
        messages.success(request, f"Saved step {position}. {version_note(sequence)}")
    else:
        messages.info(request, f"Step {position} was not changed; nothing was saved.")
    return redirect(steps_url(sequence, position))


def posted_version(request: HttpRequest) -> int:
    try:
        return int(request.POST["version"])
    except (KeyError, ValueError):
        raise BadRequest("the form must say which version of the steps it was made for") from None


def step_action(
    request: HttpRequest, sequence_id: int, position: int, direction: str
) -> HttpResponse:
    """Move a step ("up" or "down") or delete it (""); errors come back as a message."""
    sequence = get_sequence(sequence_id)
    user = signed_in_user(request)
    check_may_manage_sequence(user, sequence)
    version = posted_version(request)
    offset = {"up": -1, "down": 1, "": 0}[direction]
    try:
        if offset:
            move_step(
                sequence=sequence,
                based_on_version=version,
                position=position,
                offset=offset,
                actor=user,
            )
        else:
            delete_step(sequence=sequence, based_on_version=version, position=position, actor=user)
    except StepNotFound as exc:
        raise Http404(str(exc)) from exc
    except (SequenceSpecError, StepEditRefused) as exc:
        verb = "move" if offset else "delete"
        messages.error(request, f"Could not {verb} step {position}: {exc}. Nothing was changed.")
        return redirect(steps_url(sequence, position))
    if offset:
        done = f"Moved step {position} {direction}: it is now step {position + offset}."
    else:
        done = f"Deleted step {position}."
    messages.success(request, f"{done} {version_note(sequence)}")
    return redirect(steps_url(sequence, position + offset if offset else None))


@require_POST
def move(request: HttpRequest, sequence_id: int, position: int) -> HttpResponse:
    direction = request.POST.get("direction", "")
    if direction not in {"up", "down"}:
        raise BadRequest("direction must be up or down")
    return step_action(request, sequence_id, position, direction)


@require_POST
def delete(request: HttpRequest, sequence_id: int, position: int) -> HttpResponse:
    return step_action(request, sequence_id, position, "")
