from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _


class NewAccountForm(forms.Form):
    """The invitee who has no login yet creates one (their email is the invitation's)."""

    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    password1 = forms.CharField(
        label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label=_("Password again"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, email: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        data = super().clean()
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        elif first:
            try:
                password_validation.validate_password(first)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class ClockForm(forms.Form):
    shift = forms.IntegerField(widget=forms.HiddenInput)
    action = forms.ChoiceField(choices=[("in", _("Clock in")), ("out", _("Clock out"))])
