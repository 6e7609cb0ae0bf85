"""Forms of the deal pages: they parse input; ``deals.services`` decides."""

from django import forms

from cadency.contacts.models import Company
from cadency.deals.models import DealStage
from cadency.meetings.views_forms import split_addresses


class CompanyChoiceField(forms.ModelChoiceField[Company]):
    def label_from_instance(self, obj: Company) -> str:
        return obj.name


class DealFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=200)
    stage = forms.ChoiceField(
        label="Stage", required=False, choices=[("", "Any stage"), *DealStage.choices]
    )


class DealForm(forms.Form):
    name = forms.CharField(max_length=200)
    stage = forms.ChoiceField(choices=DealStage.choices, initial=DealStage.QUALIFICATION)
    amount = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    company = CompanyChoiceField(
        queryset=Company.objects.order_by("name", "pk"),
        required=False,
        empty_label="— none —",
        error_messages={"invalid_choice": "Choose one of the companies listed."},
    )
    contacts = forms.CharField(
        label="Contacts",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Their email addresses (primary or alias), separated by commas or new lines.",
    )

    def addresses(self) -> list[str]:
        return split_addresses(self.cleaned_data.get("contacts", ""))


class StageForm(forms.Form):
    stage = forms.ChoiceField(
        choices=DealStage.choices,
        error_messages={"invalid_choice": "Choose one of the stages listed."},
    )


class DealContactForm(forms.Form):
    email = forms.CharField(label="Add a contact", max_length=254)
