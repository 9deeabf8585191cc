import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Member
from training.models import (
    Category,
    Equipment,
    Exercise,
    MetricKind,
    MetricType,
    Muscle,
    NutritionLog,
    NutritionTarget,
    Plan,
)
from training.prescription import prescription_errors


class ExerciseFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    category = forms.ChoiceField(
        label=_("Category"),
        required=False,
        choices=[("", _("Any")), *Category.choices],
    )
    muscle = forms.ChoiceField(
        label=_("Muscle"), required=False, choices=[("", _("Any")), *Muscle.choices]
    )
    equipment = forms.ChoiceField(
        label=_("Equipment"), required=False, choices=[("", _("Any")), *Equipment.choices]
    )


class ExerciseForm(forms.ModelForm):
    video_url = forms.URLField(label=_("Video link"), required=False, assume_scheme="https")
    primary_muscles = forms.MultipleChoiceField(
        label=_("Primary muscles"), choices=Muscle.choices, widget=forms.CheckboxSelectMultiple
    )
    secondary_muscles = forms.MultipleChoiceField(
        label=_("Secondary muscles"),
        choices=Muscle.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = Exercise
        fields = [
            "name",
            "category",
            "equipment",
            "primary_muscles",
            "secondary_muscles",
            "description",
            "cues",
            "video_url",
            "image",
        ]


class PlanForm(forms.ModelForm):
    class Meta:
        model = Plan
        fields = ["name", "description"]


class TrainerPlanForm(PlanForm):
    is_template = forms.BooleanField(label=_("Template (for copying to members)"), required=False)
    member = forms.ModelChoiceField(
        label=_("For member"), queryset=Member.objects.none(), required=False
    )

    class Meta(PlanForm.Meta):
        fields = ["name", "description"]

    def __init__(self, *args, members=None, **kwargs):
        super().__init__(*args, **kwargs)
        if members is not None:
            self.fields["member"].queryset = members

    def clean(self):
        data = super().clean()
        if data.get("is_template") and data.get("member"):
            self.add_error("member", _("A template is not anyone's plan."))
        if not data.get("is_template") and not data.get("member"):
            self.add_error("member", _("Choose the member, or make it a template."))
        return data


class PlanDayForm(forms.Form):
    name = forms.CharField(label=_("Day name"), max_length=100)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


# Where each part of the prescription is typed, for errors beside the right field.
_ERROR_FIELD = {"sets": "sets", "reps": "reps", "load": "load_kg", "tempo": "tempo", "rpe": "rpe"}


class PrescriptionForm(forms.Form):
    """The prescription typed field by field; ``prescription`` is the JSON it makes,
    checked by the same schema as the API and the admin."""

    exercise = forms.ModelChoiceField(
        label=_("Exercise"), queryset=Exercise.objects.filter(is_active=True).order_by("name")
    )
    sets = forms.IntegerField(label=_("Sets"), required=False)
    reps = forms.IntegerField(label=_("Reps (or lowest of a range)"), required=False)
    reps_max = forms.IntegerField(label=_("Highest reps of a range"), required=False)
    load_kg = forms.DecimalField(label=_("Load (kg)"), required=False, decimal_places=2)
    percent_of_max = forms.DecimalField(
        label=_("or % of known max"), required=False, decimal_places=1
    )
    tempo = forms.CharField(label=_("Tempo"), required=False, max_length=4, help_text="3010")
    rest_seconds = forms.IntegerField(label=_("Rest (s)"), required=False)
    rpe = forms.DecimalField(label=_("RPE target"), required=False, decimal_places=1)
    duration_seconds = forms.IntegerField(label=_("Duration (s)"), required=False)
    distance_m = forms.DecimalField(label=_("Distance (m)"), required=False, decimal_places=1)
    superset = forms.CharField(label=_("Superset letter"), required=False, max_length=2)
    notes = forms.CharField(label=_("Notes"), required=False, max_length=500)

    def clean(self):
        data = super().clean()
        prescription = {}
        for name in ("sets", "rest_seconds", "duration_seconds"):
            if data.get(name) is not None:
                prescription[name] = data[name]
        if data.get("reps") is not None:
            prescription["reps"] = (
                {"min": data["reps"], "max": data["reps_max"]}
                if data.get("reps_max") is not None
                else data["reps"]
            )
        load = {}
        if data.get("load_kg") is not None:
            load["kg"] = float(data["load_kg"])
        if data.get("percent_of_max") is not None:
            load["percent_of_max"] = float(data["percent_of_max"])
        if load:
            prescription["load"] = load
        for name in ("rpe", "distance_m"):
            if data.get(name) is not None:
                prescription[name] = float(data[name])
        for name in ("tempo", "notes"):
            if data.get(name):
                prescription[name] = data[name].upper() if name == "tempo" else data[name]
        for message in prescription_errors(prescription):
            head = message.split(":", 1)[0].split(".", 1)[0]
            self.add_error(_ERROR_FIELD.get(head), message)
        data["prescription"] = prescription
        return data

    @classmethod
    def initial_for(cls, item) -> dict:
        p = item.prescription
        reps = p.get("reps")
        load = p.get("load") or {}
        return {
            "exercise": item.exercise_id,
            "sets": p.get("sets"),
            "reps": reps["min"] if isinstance(reps, dict) else reps,
            "reps_max": reps["max"] if isinstance(reps, dict) else None,
            "load_kg": load.get("kg"),
            "percent_of_max": load.get("percent_of_max"),
            "tempo": p.get("tempo", ""),
            "rest_seconds": p.get("rest_seconds"),
            "rpe": p.get("rpe"),
            "duration_seconds": p.get("duration_seconds"),
            "distance_m": p.get("distance_m"),
            "superset": item.superset,
            "notes": p.get("notes", ""),
        }


class AssignForm(forms.Form):
    member = forms.ModelChoiceField(label=_("Member"), queryset=Member.objects.none())
    starts_on = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    sessions_per_week = forms.IntegerField(
        label=_("Sessions a week"), min_value=1, max_value=14, initial=3
    )

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members


class StartForm(forms.Form):
    client_id = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)
    title = forms.CharField(label=_("Title"), required=False, max_length=150)


class SetForm(forms.Form):
    """One set. Its hidden id is made when the page is drawn, so a double tap or a
    resent form records the set once."""

    client_id = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)
    plan_exercise = forms.IntegerField(widget=forms.HiddenInput, required=False)
    exercise = forms.ModelChoiceField(
        label=_("Exercise"),
        queryset=Exercise.objects.filter(is_active=True).order_by("name"),
        required=False,
    )
    set_number = forms.IntegerField(widget=forms.HiddenInput, min_value=1, initial=1)
    reps = forms.IntegerField(label=_("Reps"), min_value=0, max_value=1000, required=False)
    load_kg = forms.DecimalField(
        label=_("kg"), min_value=0, max_digits=6, decimal_places=2, required=False
    )
    rpe = forms.DecimalField(
        label=_("RPE"), min_value=1, max_value=10, decimal_places=1, required=False
    )
    duration_seconds = forms.IntegerField(label=_("Seconds"), min_value=1, required=False)
    distance_m = forms.DecimalField(label=_("Metres"), min_value=0, required=False)
    notes = forms.CharField(label=_("Notes"), max_length=500, required=False)

    def clean(self):
        data = super().clean()
        if not data.get("plan_exercise") and not data.get("exercise"):
            self.add_error("exercise", _("Choose the exercise."))
        return data


class FinishForm(forms.Form):
    notes = forms.CharField(
        label=_("How did it go?"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class MetricForm(forms.Form):
    kind = forms.ChoiceField(label=_("Measurement"), choices=MetricKind.choices)
    custom_type = forms.ModelChoiceField(
        label=_("Gym measurement"),
        queryset=MetricType.objects.filter(is_active=True),
        required=False,
        help_text=_("For a custom measurement."),
    )
    value = forms.DecimalField(label=_("Value"), max_digits=8, decimal_places=2, min_value=0)
    unit = forms.ChoiceField(
        label=_("Unit"),
        required=False,
        choices=[("", _("Standard (kg, cm, %, bpm)")), ("lb", "lb"), ("in", "in")],
    )
    measured_on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("Note"), required=False, max_length=200)


class PhotoForm(forms.Form):
    image = forms.ImageField(label=_("Photo"))
    taken_on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("Note"), required=False, max_length=200)


class NutritionTargetForm(forms.ModelForm):
    class Meta:
        model = NutritionTarget
        fields = ["starts_on", "calories", "protein_g", "carbs_g", "fat_g", "notes"]
        widgets = {"starts_on": forms.DateInput(attrs={"type": "date"})}


class NutritionLogForm(forms.ModelForm):
    class Meta:
        model = NutritionLog
        fields = ["day", "calories", "protein_g", "carbs_g", "fat_g", "notes"]
        widgets = {"day": forms.DateInput(attrs={"type": "date"})}


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Comment"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
