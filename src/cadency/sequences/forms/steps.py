"""The step editor's forms: they read the page's fields into the authoring format;
``authoring.parse_step`` (through replace_steps) decides what is valid."""

import re
from typing import Any

from django import forms

from cadency.contacts.models import Contact
from cadency.sequences.models import DelayUnit, StepKind
from cadency.sequences.services.authoring import SequenceSpecError
from cadency.sequences.services.step_editing import StepSpec

# "step 2.delay: expected a whole number of days ≥ 0" → the field it is about.
SPEC_ERROR = re.compile(r"^step (?P<position>\d+)\.(?P<key>\w+): (?P<message>.+)$", re.DOTALL)
FIELD_OF_KEY = {
    "type": "kind",
    "delay": "delay",
    "delay_unit": "delay_unit",
    "subject": "subject",
    "body": "body",
    "title": "title",
    "thread_as_reply": "thread_as_reply",
    "pause_until_complete": "pause_until_complete",
}


def find_contact(email: str) -> Contact:
    contact = Contact.objects.filter(email__iexact=email.strip(), deleted_at=None).first()
    if contact is None:
        raise forms.ValidationError(f"No contact has the address {email.strip()}.")
    return contact


class PreviewForm(forms.Form):
    contact = forms.CharField(
        label="Preview for contact",
        max_length=254,
        widget=forms.EmailInput(attrs={"list": "preview-contacts", "placeholder": "email"}),
    )

    def clean_contact(self) -> Contact:
        return find_contact(self.cleaned_data["contact"])


class StepForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    kind = forms.ChoiceField(label="Type", choices=StepKind.choices)
    delay = forms.IntegerField(
        label="Wait",
        initial=0,
        widget=forms.NumberInput(attrs={"min": 0, "step": 1}),
        help_text="After the previous step. The first step runs when the contact is enrolled.",
    )
    delay_unit = forms.ChoiceField(label="Unit", choices=DelayUnit.choices, initial=DelayUnit.DAYS)
    subject = forms.CharField(
        required=False,
        widget=forms.TextInput(attrs={"size": 60}),
        help_text="Follow-ups sent as replies use the first email's subject with “Re:”.",
    )
    body = forms.CharField(
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 9, "cols": 70}),
        help_text="Plain text. For a manual email task, the draft the rep sends.",
    )
    title = forms.CharField(
        label="Task title",
        required=False,
        widget=forms.TextInput(attrs={"size": 60}),
        help_text="Task steps: what the rep sees in their task queue.",
    )
    thread_as_reply = forms.BooleanField(
        label="Send as a reply in the thread of the first email", required=False, initial=True
    )
    pause_until_complete = forms.BooleanField(
        label="Pause the sequence until the task is completed", required=False
    )
    preview_contact = forms.CharField(
        label="Preview for contact",
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"list": "preview-contacts", "placeholder": "email"}),
    )

    def clean_body(self) -> str:
        return str(self.cleaned_data["body"]).replace("\r\n", "\n")

    def clean_preview_contact(self) -> Contact | None:
        email = self.cleaned_data["preview_contact"]
        return find_contact(email) if email else None

    @staticmethod
    def initial_for(spec: StepSpec, version: int) -> dict[str, Any]:
        return {
            "version": version,
            "kind": spec["type"],
            "delay": spec["delay"],
            "delay_unit": spec["delay_unit"],
            "subject": spec["subject"],
            "body": spec["body"],
            "title": spec["title"],
            "thread_as_reply": spec["thread_as_reply"],
            "pause_until_complete": spec["pause_until_complete"],
        }

    def step_spec(self) -> StepSpec:
        data = self.cleaned_data
        return {
            "type": data["kind"],
            "delay": data["delay"],
            "delay_unit": data["delay_unit"],
            "subject": data["subject"],
            "body": data["body"],
            "title": data["title"],
            "thread_as_reply": data["thread_as_reply"],
            "pause_until_complete": data["pause_until_complete"],
        }

    def show_spec_error(self, error: SequenceSpecError, position: int) -> None:
        """Put the error next to the field it names, when it is about this step."""
        match = SPEC_ERROR.match(str(error))
        if match and int(match["position"]) == position and match["key"] in FIELD_OF_KEY:
            self.add_error(FIELD_OF_KEY[match["key"]], match["message"])
        else:
            self.add_error(None, str(error))


class NewStepForm(StepForm):
    position = forms.TypedChoiceField(label="Insert as", coerce=int)

    def __init__(self, *args: Any, step_count: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        last = step_count + 1
        position = self.fields["position"]
        assert isinstance(position, forms.TypedChoiceField)
        position.choices = [
            (p, f"step {p}" + (" (at the end)" if p == last else f" (before step {p})"))
            for p in range(1, last + 1)
        ]
        position.initial = last
