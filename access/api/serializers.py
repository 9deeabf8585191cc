from datetime import timedelta

from django.utils import timezone
from rest_framework import serializers

from access.models import AccessLog, Reason, Result

OFFLINE_CLOCK_SKEW = timedelta(minutes=5)
OFFLINE_MAX_AGE = timedelta(days=30)


class CheckinInputSerializer(serializers.Serializer):
    credential = serializers.CharField(
        max_length=200, trim_whitespace=True, help_text="QR payload or card number as read."
    )
    direction = serializers.ChoiceField(
        choices=AccessLog.Direction.choices,
        required=False,
        help_text="Only for devices registered for both directions; defaults to the device's.",
    )
    request_id = serializers.CharField(
        max_length=64,
        required=False,
        help_text="Idempotency key: a retry with the same key returns the first decision.",
    )


class CheckinMemberSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    photo = serializers.CharField(allow_null=True)


class CheckinOutputSerializer(serializers.Serializer):
    result = serializers.ChoiceField(choices=Result.choices)
    reason = serializers.ChoiceField(choices=Reason.choices)
    detail = serializers.CharField()
    log_id = serializers.IntegerField()
    replayed = serializers.BooleanField()
    entry_consumed = serializers.BooleanField()
    entries_remaining = serializers.IntegerField(allow_null=True)
    member = CheckinMemberSerializer(allow_null=True)


class OfflineEventSerializer(serializers.Serializer):
    request_id = serializers.CharField(max_length=64)
    credential = serializers.CharField(max_length=200)
    occurred_at = serializers.DateTimeField()
    direction = serializers.ChoiceField(
        choices=AccessLog.Direction.choices, default=AccessLog.Direction.ENTRY
    )
    result = serializers.ChoiceField(choices=Result.choices)
    reason = serializers.ChoiceField(choices=Reason.choices, default=Reason.OK)

    def validate_occurred_at(self, value):
        now = timezone.now()
        if value > now + OFFLINE_CLOCK_SKEW:
            raise serializers.ValidationError("This time is in the future: check the clock.")
        if value < now - OFFLINE_MAX_AGE:
            raise serializers.ValidationError("Too old to apply: older than 30 days.")
        return value


class OfflineUploadSerializer(serializers.Serializer):
    events = OfflineEventSerializer(many=True, allow_empty=False, max_length=1000)


class OfflineOutcomeSerializer(serializers.Serializer):
    request_id = serializers.CharField()
    status = serializers.ChoiceField(choices=["applied", "duplicate"])
    entry_consumed = serializers.BooleanField()
    log_id = serializers.IntegerField()


class OfflineUploadOutputSerializer(serializers.Serializer):
    applied = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    results = OfflineOutcomeSerializer(many=True)


class AllowListQuerySerializer(serializers.Serializer):
    since = serializers.DateTimeField(required=False, help_text="The cursor of the last list.")


class QrCodeSerializer(serializers.Serializer):
    payload = serializers.CharField()
    expires_at = serializers.DateTimeField()
    refresh_seconds = serializers.IntegerField()
    svg = serializers.CharField()


class VisitSerializer(serializers.ModelSerializer):
    branch = serializers.CharField(source="branch.name")

    class Meta:
        model = AccessLog
        fields = ["id", "occurred_at", "branch", "source"]
