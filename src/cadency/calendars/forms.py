"""The form of the Calendars page: connect a CalDAV calendar."""

from django import forms


class ConnectCalDavForm(forms.Form):
    """Validates the input of ``calendars.services.connect_caldav``; the view calls it."""

    url = forms.URLField(
        label="CalDAV address",
        max_length=500,
        assume_scheme="https",
        help_text="The calendar's URL, or your account's (its first calendar is used).",
        widget=forms.URLInput(attrs={"placeholder": "https://cal.example.com/dav/you/work/"}),
    )
    username = forms.CharField(label="Username", max_length=254)
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="An app password if your provider has them. Stored encrypted; never shown again.",
    )
    name = forms.CharField(
        label="Name",
        max_length=200,
        required=False,
        help_text="Leave empty to use the calendar's own name.",
    )
