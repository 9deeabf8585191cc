from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Branch, TrainerProfile
from bookings.models import AppointmentService, TrainerAvailability

WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


class AvailabilityForm(forms.ModelForm):
    class Meta:
        model = TrainerAvailability
        fields = ["branch", "weekday", "start_time", "end_time", "valid_from", "valid_until"]
        widgets = {
            "start_time": forms.TimeInput(attrs={"type": "time"}),
            "end_time": forms.TimeInput(attrs={"type": "time"}),
            "valid_from": forms.DateInput(attrs={"type": "date"}),
            "valid_until": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args, trainer=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.trainer = trainer
        if trainer is not None:
            self.fields["branch"].queryset = trainer.branches.filter(is_active=True)

    def clean(self):
        data = super().clean()
        start, end = data.get("start_time"), data.get("end_time")
        if start and end and end <= start:
            self.add_error("end_time", _("The window must end after it starts."))
        return data


class SlotSearchForm(forms.Form):
    service = forms.ModelChoiceField(queryset=AppointmentService.objects.filter(is_active=True))
    trainer = forms.ModelChoiceField(queryset=TrainerProfile.objects.filter(is_active=True))
    branch = forms.ModelChoiceField(queryset=Branch.objects.filter(is_active=True))
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
