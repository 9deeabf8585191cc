from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Branch, TrainerProfile
from classes.models import ClassType

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
