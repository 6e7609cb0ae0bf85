"""The "Log a meeting" form of the contact, company and deal records: it parses input,
``services.log_meeting`` decides."""

import datetime as dt
import re
from typing import Any

from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from cadency.accounts.models import User
from cadency.contacts.forms import UserChoiceField
from cadency.contacts.models import Contact
from cadency.meetings.services import MeetingError, zone_named

LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
DURATIONS = [15, 30, 45, 60, 90, 120]
COMMON_ZONES = [
    "UTC",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
]


class ContactChoices(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Contact) -> str:
        return f"{obj.full_name} ({obj.email})" if obj.full_name else obj.email


def local_input(label: str, *, required: bool) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        input_formats=LOCAL_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


def split_addresses(text: str) -> list[str]:
    return [part for part in re.split(r"[\s,;]+", text) if part]


def default_zone(user: User, contact: Contact | None = None) -> str:
    """The contact's zone, else the user's first mailbox's, else the site's."""
    if contact is not None and contact.time_zone:
        return contact.time_zone
    zone = user.mailboxes.order_by("pk").values_list("time_zone", flat=True).first()
    return zone or settings.TIME_ZONE


class MeetingForm(forms.Form):
    title = forms.CharField(max_length=300)
    starts_at = local_input("Starts", required=True)
    ends_at = local_input("Ends", required=False)
    duration = forms.TypedChoiceField(
        label="or lasts",
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—"), *((m, f"{m} minutes") for m in DURATIONS)],
    )
    time_zone = forms.CharField(
        label="Time zone",
        max_length=64,
        help_text="Start and end are read in this zone.",
        widget=forms.TextInput(attrs={"list": "meeting-zones", "autocomplete": "off"}),
    )
    organizer = UserChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("first_name", "last_name", "pk"),
        empty_label=None,
        error_messages={"invalid_choice": "Choose an active user as organizer."},
    )
    contacts = ContactChoices(
        label="Attendees",
        required=False,
        queryset=Contact.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Choose attendees among the contacts listed."},
    )
    attendees = forms.CharField(
        label="Other attendees",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Email addresses, separated by commas or new lines. "
        "An address of a contact (or one of its aliases) is linked to that contact.",
    )
    location = forms.CharField(max_length=300, required=False)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(
        self,
        *args: Any,
        choices: QuerySet[Contact] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("auto_id", "meeting_%s")  # unique beside the record's other forms
        super().__init__(*args, **kwargs)
        contacts = self.fields["contacts"]
        assert isinstance(contacts, forms.ModelMultipleChoiceField)
        if choices is None:
            del self.fields["contacts"]
        else:
            contacts.queryset = choices

    @classmethod
    def blank(cls, user: User, *, contact: Contact | None = None, **kwargs: Any) -> "MeetingForm":
        return cls(
            initial={
                "organizer": user.pk,
                "duration": 30,
                "time_zone": default_zone(user, contact),
            },
            **kwargs,
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts_at"), data.get("ends_at")
        name = data.get("time_zone")
        if not isinstance(starts, dt.datetime) or not name:
            return data
        try:
            zone = zone_named(name)
        except MeetingError as exc:
            self.add_error("time_zone", str(exc))
            return data
        # The browser sends wall-clock times; read them in the chosen zone.
        data["starts_at"] = timezone.make_naive(starts).replace(tzinfo=zone)
        if isinstance(ends, dt.datetime):
            data["ends_at"] = timezone.make_naive(ends).replace(tzinfo=zone)
        elif data.get("duration"):
            data["ends_at"] = data["starts_at"] + dt.timedelta(minutes=data["duration"])
        elif "ends_at" not in self.errors:
            self.add_error("ends_at", "Give an end time or a duration.")
        return data

    def addresses(self) -> list[str]:
        return split_addresses(self.cleaned_data.get("attendees", ""))

    def chosen_contacts(self) -> list[Contact]:
        return list(self.cleaned_data.get("contacts") or [])

    def show_error(self, error: MeetingError) -> None:
        self.add_error(error.field if error.field in self.fields else None, str(error))
