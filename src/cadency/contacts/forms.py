"""Forms of the contact and company pages: they parse input; services decide."""

import datetime as dt
from typing import Any

from django import forms
from django.db.models import F
from django.utils import timezone

from cadency.accounts.models import User
from cadency.contacts.models import Company, Contact
from cadency.mailboxes.models import Mailbox
from cadency.sequences.models import Sequence
from cadency.sequences.services import scheduling
from cadency.sequences.services.enrollment import choose_mailbox
from cadency.sequences.services.errors import EnrollmentRefused


class EnrollmentState:
    ANY = ""
    ENROLLED = "enrolled"
    NOT_ENROLLED = "not_enrolled"

    CHOICES = [
        (ANY, "Any"),
        (ENROLLED, "Enrolled (active or paused)"),
        (NOT_ENROLLED, "Not enrolled"),
    ]


class UserChoiceField(forms.ModelChoiceField[User]):
    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


class SequenceChoiceField(forms.ModelChoiceField[Sequence]):
    def label_from_instance(self, obj: Sequence) -> str:
        return f"{obj.name} (deleted)" if obj.archived_at else obj.name


class ContactFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=200)
    enrollment = forms.ChoiceField(
        label="Enrollment", required=False, choices=EnrollmentState.CHOICES
    )
    sequence = SequenceChoiceField(
        label="In sequence",
        required=False,
        queryset=Sequence.objects.order_by(F("archived_at").asc(nulls_first=True), "name"),
        empty_label="Any sequence",
    )
    owner = UserChoiceField(
        label="Owner",
        required=False,
        queryset=User.objects.filter(is_active=True).order_by("username"),
        empty_label="Anyone",
    )
    # Set from a company's record; a select of every company would not scale.
    company = forms.ModelChoiceField(
        required=False, queryset=Company.objects.all(), widget=forms.HiddenInput
    )


class CompanySearchForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=200)


class AliasForm(forms.Form):
    # Validated by contacts.services.add_alias, whose message says exactly what is wrong.
    email = forms.CharField(label="Add an address", max_length=254)


class EnrollForm(forms.Form):
    sequence = forms.ModelChoiceField(
        queryset=Sequence.objects.filter(archived_at=None).order_by("name"),
        empty_label=None,
        error_messages={
            "invalid_choice": "Choose one of the sequences listed (not a deleted one)."
        },
    )
    start_step = forms.IntegerField(label="Start at step", min_value=1, initial=1)
    mailbox = forms.ModelChoiceField(
        label="Send from",
        queryset=Mailbox.objects.none(),
        required=False,
        empty_label="Any working mailbox of mine",
        error_messages={"invalid_choice": "Choose one of your own mailboxes."},
    )
    start_at = forms.DateTimeField(
        label="Start later (optional)",
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="In the contact's time zone, else the mailbox's. Empty: the first step "
        "goes out now.",
    )

    def __init__(self, *args: Any, user: User, contact: Contact, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.contact = contact
        mailbox = self.fields["mailbox"]
        assert isinstance(mailbox, forms.ModelChoiceField)
        mailbox.queryset = user.mailboxes.order_by("email")

    def sending_mailbox(self) -> Mailbox | None:
        """The mailbox the first step would go from: the chosen one, else the one enroll picks."""
        chosen = self.cleaned_data.get("mailbox")
        if isinstance(chosen, Mailbox):
            return chosen
        try:
            return choose_mailbox(self.user, None)
        except EnrollmentRefused:
            return None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start_at = data.get("start_at")
        if isinstance(start_at, dt.datetime):
            mailbox = self.sending_mailbox()
            zone = scheduling.resolve_zone(
                self.contact.time_zone, mailbox.time_zone if mailbox else ""
            )
            # The browser sends a wall-clock time; read it in the zone the steps use.
            local = timezone.make_naive(start_at).replace(tzinfo=zone)
            if local <= timezone.now():
                self.add_error(
                    "start_at", "Choose a time in the future, or leave it empty to start now."
                )
            data["start_at"] = local
        return data
