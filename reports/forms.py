from django import forms
from django.utils.translation import gettext_lazy as _

from reports.models import AtRiskContact
from reports.selectors.base import GROUPINGS


class ReportFilterForm(forms.Form):
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    branch = forms.MultipleChoiceField(label=_("Branches"), required=False)
    group = forms.ChoiceField(
        label=_("Group by"), required=False, choices=[(g, _(g)) for g in GROUPINGS]
    )

    def __init__(self, *args, branches=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].choices = [(str(b.pk), b.name) for b in branches]


class ContactForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=AtRiskContact.Outcome.choices)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
