"""The forms of the Mailboxes pages: connect a mailbox, change its limits, filter the list."""

from functools import cache
from typing import Any
from zoneinfo import available_timezones

from django import forms
from django.core.validators import MinValueValidator

from cadency.accounts.models import User
from cadency.mailboxes.models import Mailbox
from cadency.mailboxes.selectors import is_admin

# What connects a mailbox and how it sends: the connect page and the admin both edit these.
CONNECTION_FIELDS = (
    "email",
    "display_name",
    "username",
    "auth_method",
    "smtp_host",
    "smtp_port",
    "smtp_security",
    "imap_host",
    "imap_port",
    "imap_security",
    "sent_folder",
    "sent_copy",
    "daily_limit",
    "per_minute_limit",
)


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(available_timezones())]


class TimeZoneField(forms.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=time_zone_choices, **kwargs)


class ConnectMailboxForm(forms.ModelForm):  # type: ignore[type-arg]
    """Validates the input of ``mailboxes.services.add_mailbox``; the view calls the
    service (the form is never saved itself). The password is never shown again."""

    secret = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Or the OAuth2 access token. Stored encrypted; never shown again.",
    )
    time_zone = TimeZoneField(
        initial="UTC", help_text="The mailbox's day for the daily limit; the default send zone."
    )
    owner = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("username"),
        required=False,
        empty_label="(me)",
        help_text="Admins may connect a mailbox for another user.",
    )

    class Meta:
        model = Mailbox
        fields = CONNECTION_FIELDS
        labels = {
            "auth_method": "Sign-in method",
            "smtp_host": "SMTP host",
            "smtp_port": "SMTP port",
            "smtp_security": "SMTP security",
            "imap_host": "IMAP host",
            "imap_port": "IMAP port",
            "imap_security": "IMAP security",
            "sent_copy": "Copies of sent mail",
            "daily_limit": "Daily send limit",
            "per_minute_limit": "Per-minute send limit",
        }
        help_texts = {
            "username": "Leave empty to sign in with the email address.",
            "display_name": "The From name of the emails it sends.",
        }

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].required = False
        for name in ("daily_limit", "per_minute_limit", "smtp_port", "imap_port"):
            at_least_one(self.fields[name])
        if not is_admin(actor):
            del self.fields["owner"]


class MailboxLimitsForm(forms.ModelForm):  # type: ignore[type-arg]
    """What the owner (or an admin) may change after connecting: limits and time zone."""

    time_zone = TimeZoneField()

    class Meta:
        model = Mailbox
        fields = ("daily_limit", "per_minute_limit", "time_zone")
        labels = {"daily_limit": "Daily send limit", "per_minute_limit": "Per-minute send limit"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("daily_limit", "per_minute_limit"):
            at_least_one(self.fields[name])


class MailboxFilterForm(forms.Form):
    user = forms.ModelChoiceField(
        queryset=User.objects.filter(mailboxes__isnull=False).distinct().order_by("username"),
        required=False,
        empty_label="Everyone",
    )


def at_least_one(field: forms.Field) -> None:
    field.validators.append(MinValueValidator(1))
    field.widget.attrs["min"] = 1


class MailboxSecretForm(forms.Form):
    """New credentials for a connected mailbox: tested before they are saved."""

    secret = forms.CharField(
        label="New password or access token",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        strip=False,
        max_length=4096,
        help_text="Stored encrypted. SMTP and IMAP are tested with it first; nothing is "
        "saved if they refuse it.",
    )
