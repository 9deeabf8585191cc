from rest_framework import serializers

from classes.models import ClassSession, ClassType


class ClassTypeSerializer(serializers.ModelSerializer):
    category = serializers.CharField(source="category.name", default=None)

    class Meta:
        model = ClassType
        fields = ["id", "name", "description", "category", "level", "duration_minutes"]


class MyBookingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    waitlist_position = serializers.IntegerField(allow_null=True)


class ClassSessionSerializer(serializers.ModelSerializer):
    class_type = ClassTypeSerializer(read_only=True)
    branch = serializers.SerializerMethodField()
    trainer = serializers.SerializerMethodField()
    room = serializers.CharField(source="room.name", default=None)
    places_left = serializers.IntegerField()
    my_booking = serializers.SerializerMethodField()

    class Meta:
        model = ClassSession
        fields = [
            "id",
            "class_type",
            "branch",
            "trainer",
            "room",
            "starts_at",
            "ends_at",
            "capacity",
            "booked_count",
            "places_left",
            "waitlist_count",
            "status",
            "my_booking",
        ]
        read_only_fields = fields

    def get_branch(self, session) -> dict:
        return {"id": session.branch_id, "name": session.branch.name}

    def get_trainer(self, session) -> dict | None:
        if session.trainer_id is None:
            return None
        return {"id": session.trainer_id, "name": session.trainer.display_name}

    @staticmethod
    def _my(context, session):
        booking = context.get("my_bookings", {}).get(session.pk)
        if booking is None:
            return None
        return {
            "id": booking.pk,
            "status": booking.status,
            "waitlist_position": context.get("positions", {}).get(booking.pk),
        }

    def get_my_booking(self, session) -> MyBookingSerializer(allow_null=True):
        return self._my(self.context, session)
