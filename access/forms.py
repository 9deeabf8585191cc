from django import forms
from django.utils.translation import gettext_lazy as _

from access.models import AccessDevice


class DeskLookupForm(forms.Form):
    q = forms.CharField(
        label=_("Scan a code, or type a name or card number"),
        max_length=200,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}),
    )


class ManualCheckinForm(forms.Form):
    member = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Reason for checking in by hand"),
        max_length=255,
        help_text=_("Recorded in the audit log, e.g. 'forgot phone, ID checked'."),
    )


class MemberActionForm(forms.Form):
    member = forms.IntegerField(widget=forms.HiddenInput)


class DeviceAddForm(forms.ModelForm):
    class Meta:
        model = AccessDevice
        fields = ["branch", "name", "kind", "direction"]


class CardRegisterForm(forms.Form):
    number = forms.CharField(label=_("Card number"), max_length=64)
    label = forms.CharField(label=_("Label"), max_length=100, required=False)
