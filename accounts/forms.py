from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Branch, Member


class MemberProfileForm(forms.ModelForm):
    home_branch = forms.ModelChoiceField(
        queryset=Branch.objects.filter(is_active=True), label=_("Home branch")
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
            "goals": forms.Textarea(attrs={"rows": 3}),
        }


class DependantForm(forms.ModelForm):
    class Meta:
        model = Member
        fields = ["first_name", "last_name", "date_of_birth", "email"]
        widgets = {"date_of_birth": forms.DateInput(attrs={"type": "date"})}
        help_texts = {"email": _("Optional: lets them sign in with their own login.")}
