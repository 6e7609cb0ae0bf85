"""The workflow builder: one form for a new workflow or an existing one.

Every button posts the whole form. "Save" asks the service to save it; the row
buttons (add, remove, move) and a changed type select (``op=refresh``, sent by
htmx on change or by the "Show its fields" button without JavaScript) only
re-render the form, writing nothing."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from cadency.automation.forms_workflows import (
    CONDITION_FIELDS,
    MAX_ACTIONS,
    SET_FIELDS,
    Draft,
    Options,
)
from cadency.automation.models import Workflow
from cadency.automation.permissions import check_may_edit_workflow
from cadency.automation.services.workflows import (
    WorkflowError,
    create_workflow,
    update_workflow,
)
from cadency.automation.views.workflows import get_workflow
from cadency.web.requests import signed_in_user


def builder(
    request: HttpRequest,
    draft: Draft,
    workflow: Workflow | None,
    *,
    notice: str = "",
    focus: str = "",
    status: int = 200,
) -> HttpResponse:
    options = Options.load()
    draft.bind(options, focus=focus)
    context = {
        "workflow": workflow,
        "draft": draft,
        "head": draft.head_form(),
        "filters": draft.filter_form(options),
        "shown_filters": draft.shown_filters(),
        "condition_fields": CONDITION_FIELDS,
        "set_fields": SET_FIELDS,
        "notice": notice,
        "focus": focus,
        "may_add_action": len(draft.actions) < MAX_ACTIONS,
    }
    return render(request, "automation/workflow_form.html", context, status=status)


def focus_after(op: str, draft: Draft) -> str:
    """The id of the element to focus when the page comes back after a row button."""
    verb, _, index = op.partition(":")
    if verb == "add_condition":
        return f"id_conditions-{len(draft.conditions) - 1}-field"
    if verb == "add_action":
        return f"id_actions-{len(draft.actions) - 1}-type"
    if verb in ("up", "down") and index.isdigit():
        moved = int(index) + (-1 if verb == "up" else 1)
        return f"id_actions-{max(0, min(moved, len(draft.actions) - 1))}-type"
    return "add-condition" if verb == "remove_condition" else "add-action"


def save(request: HttpRequest, draft: Draft, workflow: Workflow | None) -> HttpResponse:
    user = signed_in_user(request)
    try:
        if workflow is None:
            workflow = create_workflow(owner=user, **draft.spec())
            done = f"Created the workflow «{workflow.name}». It is off: turn it on when ready."
        else:
            update_workflow(workflow=workflow, actor=user, **draft.spec())
            done = f"Saved the workflow «{workflow.name}»."
    except WorkflowError as exc:
        draft.place_error(str(exc))
        draft.errors["form"] = str(exc)
        return builder(request, draft, workflow, status=400)
    messages.success(request, done)
    return redirect(reverse("automation:workflow", args=[workflow.pk]))


def handle(request: HttpRequest, workflow: Workflow | None) -> HttpResponse:
    if request.method != "POST":
        return builder(request, Draft.of(workflow) if workflow else Draft.blank(), workflow)
    draft = Draft.posted(request.POST)
    op = request.POST.get("op", "save")
    if op == "refresh":
        return builder(request, draft, workflow)
    if op != "save":
        notice = draft.apply(op)
        return builder(request, draft, workflow, notice=notice, focus=focus_after(op, draft))
    if draft.stale:
        notice = "The page now shows the inputs of the types you chose: fill them in, then save."
        return builder(request, draft, workflow, notice=notice)
    return save(request, draft, workflow)


@require_http_methods(["GET", "HEAD", "POST"])
def new_workflow(request: HttpRequest) -> HttpResponse:
    """Anyone signed in may create a workflow; they own it."""
    return handle(request, None)


@require_http_methods(["GET", "HEAD", "POST"])
def edit_workflow(request: HttpRequest, pk: int) -> HttpResponse:
    workflow = get_workflow(pk)
    check_may_edit_workflow(signed_in_user(request), workflow)
    return handle(request, workflow)
