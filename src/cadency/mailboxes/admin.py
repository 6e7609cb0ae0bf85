from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest

from cadency.accounts.models import User
from cadency.inbound.folders import FolderError, clean_folder_names, set_watched_folders
from cadency.mailboxes.forms import CONNECTION_FIELDS
from cadency.mailboxes.models import Mailbox
from cadency.mailboxes.services import check_mailbox


class MailboxForm(forms.ModelForm):  # type: ignore[type-arg]
    secret = forms.CharField(
        widget=forms.PasswordInput,
        required=False,
        help_text="Password or OAuth2 access token; stored encrypted. Leave empty to keep it.",
    )
    folders = forms.CharField(
        label="Watched folders",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="One folder a line, as the mail client names it (e.g. Replies). "
        "INBOX is always watched.",
    )

    class Meta:
        model = Mailbox
        fields = ("user", *CONNECTION_FIELDS, "time_zone")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["folders"].initial = "\n".join(self.instance.folders_to_watch)

    def clean_folders(self) -> list[str]:
        try:
            return clean_folder_names(str(self.cleaned_data.get("folders") or "").splitlines())
        except FolderError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_secret(self) -> str:
        secret = str(self.cleaned_data.get("secret") or "")
        if not secret and not self.instance.secret_encrypted:
            raise forms.ValidationError("A new mailbox needs its password or token.")
        return secret


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = MailboxForm
    list_display = ("email", "user", "health", "daily_limit", "last_checked_at")
    list_filter = ("health",)
    readonly_fields = (
        "health",
        "last_error",
        "last_checked_at",
        "smtp_failures",
        "imap_failures",
        "failing_since",
    )

    def save_model(self, request: HttpRequest, obj: Mailbox, form: Any, change: bool) -> None:
        new_secret = bool(form.cleaned_data.get("secret"))
        if new_secret:
            obj.set_secret(form.cleaned_data["secret"])
        super().save_model(request, obj, form, change)
        actor = request.user if isinstance(request.user, User) else None
        set_watched_folders(mailbox=obj, folders=form.cleaned_data["folders"], actor=actor)
        if change and (new_secret or form.has_changed()) and not obj.is_working:
            # Changed settings of a failing mailbox: test them now, so that what Cadency
            # paused for it resumes at once if they work.
            check = check_mailbox(obj, via="settings changed in the admin")
            summary = "passed its connection test" if check.ok else "still fails: "
            self.message_user(
                request,
                f"{obj.email} {summary}{'; '.join(check.errors)}",
                level=messages.SUCCESS if check.ok else messages.WARNING,
            )
