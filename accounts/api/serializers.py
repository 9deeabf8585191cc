from rest_framework import serializers
from rest_framework_simplejwt.serializers import PasswordField, TokenObtainPairSerializer

from accounts.models import Branch, Member, OpeningHours, User


class OpeningHoursSerializer(serializers.ModelSerializer):
    class Meta:
        model = OpeningHours
        fields = ["weekday", "opens_at", "closes_at"]


class BranchSerializer(serializers.ModelSerializer):
    opening_hours = OpeningHoursSerializer(many=True, read_only=True)

    class Meta:
        model = Branch
        fields = [
            "id",
            "name",
            "slug",
            "address_line",
            "city",
            "postcode",
            "country",
            "latitude",
            "longitude",
            "timezone",
            "phone",
            "email",
            "opening_hours",
        ]


class NearestBranchSerializer(serializers.Serializer):
    branch = BranchSerializer()
    distance_km = serializers.FloatField()


class NearestQuerySerializer(serializers.Serializer):
    lat = serializers.DecimalField(max_digits=9, decimal_places=6, min_value=-90, max_value=90)
    lon = serializers.DecimalField(max_digits=9, decimal_places=6, min_value=-180, max_value=180)


class MemberProfileSerializer(serializers.ModelSerializer):
    home_branch = serializers.PrimaryKeyRelatedField(queryset=Branch.objects.filter(is_active=True))

    class Meta:
        model = Member
        fields = [
            "id",
            "first_name",
            "last_name",
            "phone",
            "date_of_birth",
            "home_branch",
            "emergency_contact_name",
            "emergency_contact_phone",
            "goals",
            "photo",
        ]
        read_only_fields = ["id", "photo"]


class MeSerializer(serializers.ModelSerializer):
    member = MemberProfileSerializer(read_only=True, allow_null=True)
    roles = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name", "roles", "member"]
        read_only_fields = ["id", "email"]


class MeUpdateSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=150, required=False)
    last_name = serializers.CharField(max_length=150, required=False)
    member = MemberProfileSerializer(required=False, partial=True)


class LogoutSerializer(serializers.Serializer):
    refresh = serializers.CharField()


class LoginSerializer(TokenObtainPairSerializer):
    """Email and password, with lengths: django-axes records the email of a failed
    sign-in in a 255-character column, so a longer one must be a field error first."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"] = serializers.CharField(
            max_length=User._meta.get_field("email").max_length, write_only=True
        )
        self.fields["password"] = PasswordField(max_length=1024)
