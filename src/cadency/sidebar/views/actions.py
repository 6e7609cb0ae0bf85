"""What the panel's buttons do: unenroll, pause, resume, create a contact, enroll.

Authenticated by the API token alone (``Authorization: Bearer``), so CSRF does not
apply and cookies are never read; a request without a valid token gets 401. The
permission checks and the services are the web app's. Each answers with the card
re-read after the action, saying what happened (or why nothing did).
"""

import functools
from collections.abc import Callable

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from cadency.accounts.models import User
from cadency.accounts.permissions import check_may_act_on
from cadency.contacts.addresses import InvalidAddress, normalize_email
from cadency.contacts.forms import EnrollForm
from cadency.contacts.models import Contact
from cadency.contacts.services import ContactError, address_owner, upsert_contact
from cadency.contacts.views.enroll import enrolled_message
from cadency.sequences.models import Enrollment, UnenrollReason
from cadency.sequences.services.enrollment import contact_label, enroll, pause, resume, unenroll
from cadency.sequences.services.errors import EnrollmentRefused
from cadency.sidebar.http import View, frameable, token_user, with_cors
from cadency.sidebar.views.fragments import card_fragment, connect_fragment

Action = Callable[[Enrollment, User], bool]


def token_action(view: Callable[..., HttpResponse]) -> View:
    """A POST the panel makes with its API token; the view gets the token's user."""

    @functools.wraps(view)
    def with_viewer(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        viewer = token_user(request)
        if viewer is None:
            return connect_fragment(request)
        return view(request, viewer, *args, **kwargs)

    return login_not_required(csrf_exempt(with_cors(frameable(require_POST(with_viewer)))))


def error_fragment(request: HttpRequest, error: str, status: int) -> HttpResponse:
    return render(request, "sidebar/_error.html", {"error": error}, status=status)


def shown_address(request: HttpRequest, default: str) -> str:
    """The recipient address the card was shown for (one of the contact's)."""
    return request.POST.get("email", "").strip()[:254] or default


def act_on_enrollment(
    request: HttpRequest, viewer: User, enrollment_id: int, action: Action, done: str, not_done: str
) -> HttpResponse:
    enrollment = (
        Enrollment.objects.select_related("contact", "sequence").filter(pk=enrollment_id).first()
    )
    if enrollment is None:
        error = f"Enrollment {enrollment_id} does not exist."
        email = shown_address(request, "")
        if not email:
            return error_fragment(request, error, 404)
        return card_fragment(request, email, viewer, error=error, status=404)
    email = shown_address(request, enrollment.email)
    try:
        check_may_act_on(viewer, enrollment)
    except PermissionDenied as exc:
        return card_fragment(request, email, viewer, error=f"Not allowed: {exc}.", status=403)
    who, name = contact_label(enrollment.contact), enrollment.sequence.name
    if action(enrollment, viewer):
        notice = done.format(who=who, sequence=name)
    else:
        state = enrollment.get_status_display().lower()
        notice = not_done.format(who=who, sequence=name, state=state)
    return card_fragment(request, email, viewer, notice=notice)


@token_action
def unenroll_one(request: HttpRequest, viewer: User, enrollment_id: int) -> HttpResponse:
    return act_on_enrollment(
        request,
        viewer,
        enrollment_id,
        lambda e, actor: unenroll(enrollment=e, reason=UnenrollReason.MANUAL, actor=actor),
        "Unenrolled {who} from «{sequence}».",
        "{who} was already {state} in «{sequence}»; nothing changed.",
    )


@token_action
def pause_one(request: HttpRequest, viewer: User, enrollment_id: int) -> HttpResponse:
    return act_on_enrollment(
        request,
        viewer,
        enrollment_id,
        lambda e, actor: pause(enrollment=e, actor=actor),
        "Paused {who} in «{sequence}».",
        "{who} is {state} in «{sequence}», not active; nothing changed.",
    )


@token_action
def resume_one(request: HttpRequest, viewer: User, enrollment_id: int) -> HttpResponse:
    return act_on_enrollment(
        request,
        viewer,
        enrollment_id,
        lambda e, actor: resume(enrollment=e, actor=actor),
        "Resumed {who} in «{sequence}».",
        "{who} is {state} in «{sequence}», not paused; nothing changed.",
    )


@token_action
def create_contact(request: HttpRequest, viewer: User) -> HttpResponse:
    """Create a contact for an address that belongs to nobody yet."""
    text = request.POST.get("email", "")
    try:
        address = normalize_email(text)
    except InvalidAddress as exc:
        return error_fragment(request, str(exc), 400)
    if address_owner(address) is not None:
        return card_fragment(
            request, address, viewer, notice=f"{address} is already a contact; nothing changed."
        )
    try:
        upsert_contact(
            email=address,
            first_name=request.POST.get("first_name", "").strip(),
            last_name=request.POST.get("last_name", "").strip(),
            actor=viewer,
        )
    except ContactError as exc:
        return card_fragment(request, address, viewer, error=str(exc), status=400)
    return card_fragment(request, address, viewer, notice=f"Created the contact {address}.")


@token_action
def enroll_contact(request: HttpRequest, viewer: User, contact_id: int) -> HttpResponse:
    """Enroll the contact as the token's user, from step 1, now (SPEC §2)."""
    contact = Contact.objects.filter(pk=contact_id, deleted_at__isnull=True).first()
    if contact is None:
        return error_fragment(request, f"Contact {contact_id} does not exist.", 404)
    email = shown_address(request, contact.email)
    choice = {"sequence": request.POST.get("sequence", ""), "start_step": "1"}
    form = EnrollForm(choice, user=viewer, contact=contact)
    if not form.is_valid():
        errors = " ".join(str(message) for messages in form.errors.values() for message in messages)
        return card_fragment(request, email, viewer, error=errors, status=400)
    try:
        enrollment = enroll(contact=contact, sequence=form.cleaned_data["sequence"], user=viewer)
    except EnrollmentRefused as exc:
        return card_fragment(
            request, email, viewer, error=f"Not enrolled: {exc.message}.", status=400
        )
    return card_fragment(request, email, viewer, notice=enrolled_message(enrollment))
