import django_filters

from accounts.models import Branch, TrainerProfile
from classes.models import ClassSession, ClassType


class ClassSessionFilter(django_filters.FilterSet):
    starts_after = django_filters.IsoDateTimeFilter(field_name="starts_at", lookup_expr="gte")
    starts_before = django_filters.IsoDateTimeFilter(field_name="starts_at", lookup_expr="lt")
    date_from = django_filters.DateFilter(field_name="starts_at", lookup_expr="date__gte")
    date_to = django_filters.DateFilter(field_name="starts_at", lookup_expr="date__lte")
    branch = django_filters.ModelChoiceFilter(queryset=Branch.objects.all())
    class_type = django_filters.ModelChoiceFilter(queryset=ClassType.objects.all())
    trainer = django_filters.ModelChoiceFilter(queryset=TrainerProfile.objects.all())
    status = django_filters.ChoiceFilter(choices=ClassSession.Status.choices)

    class Meta:
        model = ClassSession
        fields = ["branch", "class_type", "trainer", "status"]
