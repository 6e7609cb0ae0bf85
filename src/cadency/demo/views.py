"""The demo buttons of the contact record (only while ``CADENCY_DEMO`` is on)."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_POST

from cadency.contacts.models import Contact
from cadency.demo.as_contact import Answer, DemoMailError, send_as_contact
from cadency.web.redirects import redirect_back

# The contact record shows this tag's message and reloads itself once, so the
# watcher's decision appears without touching the page.
SENT_TAG = "demo-sent"
SENT = {
    Answer.REPLY: (
        "Sent a reply from {sender} to {mailbox}. The watcher reads it within a second "
        "and ends the enrollment (replied)."
    ),
    Answer.OUT_OF_OFFICE: (
        "Sent an out-of-office from {sender} to {mailbox}. The watcher reads it within a "
        "second, records it and leaves the enrollment running."
    ),
}


@require_POST
def reply(request: HttpRequest, pk: int) -> HttpResponse:
    return answer_as_contact(request, pk, Answer.REPLY)


@require_POST
def out_of_office(request: HttpRequest, pk: int) -> HttpResponse:
    return answer_as_contact(request, pk, Answer.OUT_OF_OFFICE)


def answer_as_contact(request: HttpRequest, pk: int, answer: Answer) -> HttpResponse:
    if not settings.CADENCY_DEMO:
        raise Http404("demo mode is off")
    contact = get_object_or_404(Contact, pk=pk, deleted_at__isnull=True)
    try:
        original = send_as_contact(contact, answer)
    except DemoMailError as exc:
        messages.error(request, f"Nothing was sent: {exc}")
    else:
        text = SENT[answer].format(
            sender=original.to_email, mailbox=original.enrollment.mailbox.email
        )
        messages.success(request, text, extra_tags=SENT_TAG)
    return redirect_back(request, f"/contacts/{contact.pk}/")
