from rest_framework import serializers

from bookings.models import Appointment, AppointmentService, Booking
from classes.models import ClassSession

# Declared fields (for validation-free output and the OpenAPI schema) with a
# hand-written ``to_representation``: a booking is the platform's hottest write, and
# DRF deep-copies every declared field of a serializer and its nested serializer on
# each instance, which cost more than the rest of the response. The output is the
# generic one, field for field (bookings/tests/test_api.py compares the two).
_datetime = serializers.DateTimeField()


class SessionBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    class_type = serializers.CharField(source="class_type.name", read_only=True)
    branch = serializers.CharField(source="branch.name", read_only=True)
    trainer = serializers.CharField(source="trainer.display_name", default=None, read_only=True)
    starts_at = serializers.DateTimeField(read_only=True)
    ends_at = serializers.DateTimeField(read_only=True)
    status = serializers.ChoiceField(choices=ClassSession.Status.choices, read_only=True)

    def to_representation(self, session):
        return {
            "id": session.pk,
            "class_type": session.class_type.name,
            "branch": session.branch.name,
            "trainer": session.trainer.display_name if session.trainer_id else None,
            "starts_at": _datetime.to_representation(session.starts_at),
            "ends_at": _datetime.to_representation(session.ends_at),
            "status": session.status,
        }


class BookingSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    session = SessionBriefSerializer(read_only=True)
    member = serializers.IntegerField(source="member_id", read_only=True)
    member_name = serializers.CharField(source="member.full_name", read_only=True)
    status = serializers.ChoiceField(choices=Booking.Status.choices, read_only=True)
    waitlist_position = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(read_only=True)
    promoted_at = serializers.DateTimeField(read_only=True, allow_null=True)
    cancelled_at = serializers.DateTimeField(read_only=True, allow_null=True)
    fee_charged = serializers.DecimalField(
        max_digits=Booking._meta.get_field("fee_charged").max_digits,
        decimal_places=Booking._meta.get_field("fee_charged").decimal_places,
        read_only=True,
    )

    def to_representation(self, booking):
        return {
            "id": booking.pk,
            "session": SessionBriefSerializer(context=self.context).to_representation(
                booking.session
            ),
            "member": booking.member_id,
            "member_name": booking.member.full_name,
            "status": booking.status,
            "waitlist_position": self.get_waitlist_position(booking),
            "created_at": _optional_datetime(booking.created_at),
            "promoted_at": _optional_datetime(booking.promoted_at),
            "cancelled_at": _optional_datetime(booking.cancelled_at),
            "fee_charged": _fee.to_representation(booking.fee_charged),
        }

    def get_waitlist_position(self, booking) -> int | None:
        positions = self.context.get("positions")
        if positions is not None:
            return positions.get(booking.pk)
        from bookings.selectors import waitlist_position

        return waitlist_position(booking=booking)


_fee = BookingSerializer._declared_fields["fee_charged"]


def _optional_datetime(value):
    return None if value is None else _datetime.to_representation(value)


class BookRequestSerializer(serializers.Serializer):
    member = serializers.IntegerField(
        required=False, help_text="A household member to book for; yourself when left out."
    )


class CancelRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=255)


class AppointmentServiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = AppointmentService
        fields = ["id", "name", "description", "duration_minutes", "price", "currency"]


class AppointmentSerializer(serializers.ModelSerializer):
    service = serializers.CharField(source="service.name", read_only=True)
    trainer = serializers.CharField(source="trainer.display_name", read_only=True)
    branch = serializers.CharField(source="branch.name", read_only=True)
    member_name = serializers.CharField(source="member.full_name", read_only=True)

    class Meta:
        model = Appointment
        fields = [
            "id",
            "service",
            "trainer",
            "branch",
            "member",
            "member_name",
            "starts_at",
            "ends_at",
            "status",
            "price",
            "billed_at",
            "fee_charged",
        ]
        read_only_fields = fields


class AppointmentBookSerializer(serializers.Serializer):
    service = serializers.IntegerField()
    trainer = serializers.IntegerField()
    branch = serializers.IntegerField()
    starts_at = serializers.DateTimeField()
    member = serializers.IntegerField(required=False)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class SlotQuerySerializer(serializers.Serializer):
    service = serializers.IntegerField()
    trainer = serializers.IntegerField()
    branch = serializers.IntegerField()
    date = serializers.DateField()


class SlotSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()


class WaitlistPositionSerializer(serializers.Serializer):
    booking = serializers.IntegerField()
    status = serializers.CharField()
    position = serializers.IntegerField(allow_null=True, help_text="1 = next in line.")
    waitlist_length = serializers.IntegerField()
