from rest_framework import serializers

from accounts.models import Branch, Role
from staff.models import Invitation, PayLine, Shift


class ScheduleClassSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    class_type = serializers.CharField(source="class_type.name")
    branch = serializers.CharField(source="branch.name")
    room = serializers.CharField(source="room.name", default=None)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    booked = serializers.IntegerField(source="booked_count")


class ScheduleAppointmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    service = serializers.CharField(source="service.name")
    branch = serializers.CharField(source="branch.name")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()


class ShiftSerializer(serializers.ModelSerializer):
    branch = serializers.CharField(source="branch.name")
    clock_out_missed = serializers.SerializerMethodField()

    class Meta:
        model = Shift
        fields = [
            "id",
            "branch",
            "starts_at",
            "ends_at",
            "clock_in_at",
            "clock_out_at",
            "clock_out_missed",
        ]

    def get_clock_out_missed(self, obj) -> bool:
        return obj.clock_out_missed_at is not None and obj.clock_out_at is None


class MyScheduleSerializer(serializers.Serializer):
    classes = ScheduleClassSerializer(many=True)
    appointments = ScheduleAppointmentSerializer(many=True)
    shifts = ShiftSerializer(many=True)


class ScheduleQuerySerializer(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=62, default=14)


class PayLineSerializer(serializers.ModelSerializer):
    period = serializers.IntegerField(source="period_id")
    period_status = serializers.CharField(source="period.status")
    period_starts_on = serializers.DateField(source="period.starts_on")
    period_ends_on = serializers.DateField(source="period.ends_on")
    branch = serializers.CharField(source="period.branch.name")
    currency = serializers.CharField(source="period.currency")

    class Meta:
        model = PayLine
        fields = [
            "id",
            "period",
            "period_status",
            "period_starts_on",
            "period_ends_on",
            "branch",
            "kind",
            "work_date",
            "description",
            "quantity",
            "amount",
            "currency",
            "reason",
            "source_type",
            "source_id",
        ]


class InvitationSerializer(serializers.ModelSerializer):
    branches = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Invitation
        fields = [
            "id",
            "email",
            "role",
            "branches",
            "status",
            "created_at",
            "sent_at",
            "expires_at",
            "accepted_at",
            "case",
        ]


class InvitationCreateSerializer(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices)
    branches = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Branch.objects.all(), required=False
    )
