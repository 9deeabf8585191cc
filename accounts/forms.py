from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Branch, Member
from accounts.phones import phone_e164

# Birth dates a person can have: nobody joins older than this, or before being born.
OLDEST_AGE_YEARS = 120
GOALS_MAX_LENGTH = 1000


def check_date_of_birth(value):
    """A birth date in the past and within a lifetime, else an error beside the field."""
    if value is None:
        return value
    today = timezone.localdate()
    if value > today:
        raise forms.ValidationError(_("A date of birth cannot be in the future."))
    if value.year < today.year - OLDEST_AGE_YEARS:
        raise forms.ValidationError(
            _("Check the year: that is more than %(n)s years ago.") % {"n": OLDEST_AGE_YEARS}
        )
    return value


class MemberProfileForm(forms.ModelForm):
    home_branch = forms.ModelChoiceField(
        queryset=Branch.objects.filter(is_active=True), label=_("Home branch")
    )
    goals = forms.CharField(
        label=_("Goals"),
        required=False,
        max_length=GOALS_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    class Meta:
        model = Member
        fields = [
            "first_name",
            "last_name",
            "phone",
            "date_of_birth",
            "home_branch",
            "emergency_contact_name",
            "emergency_contact_phone",
            "goals",
            "photo",
        ]
        widgets = {
            "date_of_birth": forms.DateInput(attrs={"type": "date"}),
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
            "emergency_contact_phone": forms.TextInput(attrs={"type": "tel"}),
        }

    def clean_date_of_birth(self):
        return check_date_of_birth(self.cleaned_data.get("date_of_birth"))

    def clean(self):
        data = super().clean()
        # A number without +country code is read as the home branch's country writes it.
        branch = data.get("home_branch")
        region = branch.country if branch is not None else "GB"
        for name in ("phone", "emergency_contact_phone"):
            if name in data:
                try:
                    data[name] = phone_e164(data[name], region=region)
                except forms.ValidationError as exc:
                    self.add_error(name, exc)
        return data


class DependantForm(forms.ModelForm):
    class Meta:
        model = Member
        fields = ["first_name", "last_name", "date_of_birth", "email"]
        widgets = {"date_of_birth": forms.DateInput(attrs={"type": "date"})}
        help_texts = {"email": _("Optional: lets them sign in with their own login.")}

    def clean_date_of_birth(self):
        return check_date_of_birth(self.cleaned_data.get("date_of_birth"))
