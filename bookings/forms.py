from datetime import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Branch, TrainerProfile
from bookings.models import AppointmentService, TrainerAvailability
from classes.models import ClassType

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
    """Find a trainer's free times; ``household`` (me first) offers "book for"."""

    member = forms.TypedChoiceField(
        coerce=int,
        label=_("Book for"),
        required=False,
        error_messages={"invalid_choice": _("Pick yourself or someone in your household.")},
    )
    service = forms.ModelChoiceField(
        label=_("Service"), queryset=AppointmentService.objects.filter(is_active=True)
    )
    trainer = forms.ModelChoiceField(
        label=_("Trainer"), queryset=TrainerProfile.objects.filter(is_active=True)
    )
    branch = forms.ModelChoiceField(
        label=_("Branch"), queryset=Branch.objects.filter(is_active=True)
    )
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, household=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.household = list(household)
        field = self.fields["member"]
        field.choices = [(m.pk, m.full_name) for m in self.household]
        if self.household:
            field.initial = self.household[0].pk
        if len(self.household) < 2:
            # Nobody else to book for: the choice would only be noise.
            field.widget = forms.HiddenInput()

    def chosen_member(self):
        """The household member booked for (me when the field was left out)."""
        chosen = self.cleaned_data.get("member")
        return next((m for m in self.household if m.pk == chosen), self.household[0])


class AppointmentBookForm(SlotSearchForm):
    """One of the offered slots, booked (the search fields ride along hidden)."""

    starts_at = forms.CharField(widget=forms.HiddenInput())

    def clean_starts_at(self):
        try:
            starts_at = datetime.fromisoformat(self.cleaned_data["starts_at"])
        except ValueError:
            starts_at = None
        if starts_at is None or starts_at.tzinfo is None:
            raise forms.ValidationError(_("Pick one of the times offered."))
        return starts_at


TIME_OF_DAY = [
    ("", _("Any time")),
    ("morning", _("Morning (before 12:00)")),
    ("afternoon", _("Afternoon (12:00–17:00)")),
    ("evening", _("Evening (after 17:00)")),
]


class ScheduleFilterForm(forms.Form):
    week = forms.DateField(
        label=_("Week of"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    branch = forms.ModelChoiceField(
        queryset=Branch.objects.filter(is_active=True),
        required=False,
        empty_label=_("All branches"),
    )
    class_type = forms.ModelChoiceField(
        queryset=ClassType.objects.filter(is_active=True),
        required=False,
        label=_("Class"),
        empty_label=_("All classes"),
    )
    trainer = forms.ModelChoiceField(
        queryset=TrainerProfile.objects.filter(is_active=True),
        required=False,
        empty_label=_("All trainers"),
    )
    time_of_day = forms.ChoiceField(choices=TIME_OF_DAY, required=False, label=_("Time of day"))


class BookForForm(forms.Form):
    """Whom to book: yourself or someone in your household."""

    member = forms.TypedChoiceField(coerce=int, label=_("Book for"))

    def __init__(self, *args, household=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].choices = [(m.pk, m.full_name) for m in household]
