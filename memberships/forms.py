from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Branch, Member

CANCEL_REASONS = [
    ("", _("Choose a reason")),
    ("moving", _("I am moving away")),
    ("price", _("It costs too much")),
    ("time", _("I do not have time")),
    ("health", _("Health or injury")),
    ("other_gym", _("I am joining another gym")),
    ("other", _("Another reason")),
]


class JoinForm(forms.Form):
    member = forms.ModelChoiceField(queryset=Member.objects.none(), label=_("Who is it for?"))
    branch = forms.ModelChoiceField(queryset=Branch.objects.none(), label=_("Branch"))
    start_date = forms.DateField(
        label=_("Start date"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, household, plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = household
        self.fields["member"].label_from_instance = lambda m: m.full_name
        # Querysets are built per request (in the request's tenant scope).
        branches = Branch.objects.filter(is_active=True)
        branch_ids = [b.pk for b in plan.branches.all()]
        if branch_ids:
            branches = branches.filter(pk__in=branch_ids)
        self.fields["branch"].queryset = branches
        self.fields["start_date"].initial = timezone.localdate()


class FreezeForm(forms.Form):
    start_date = forms.DateField(
        label=_("First frozen day"), widget=forms.DateInput(attrs={"type": "date"})
    )
    end_date = forms.DateField(
        label=_("Last frozen day"), widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = forms.CharField(label=_("Reason (optional)"), max_length=255, required=False)


class CancelForm(forms.Form):
    reason = forms.ChoiceField(label=_("Why are you leaving?"), choices=CANCEL_REASONS)
    details = forms.CharField(
        label=_("Anything else? (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def reason_text(self) -> str:
        label = dict(CANCEL_REASONS)[self.cleaned_data["reason"]]
        details = self.cleaned_data.get("details", "").strip()
        return f"{label}: {details}" if details else str(label)


class ChangePlanForm(forms.Form):
    plan = forms.ModelChoiceField(queryset=None, label=_("New plan"), empty_label=None)

    def __init__(self, *args, plans, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = plans
