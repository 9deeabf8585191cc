from django.contrib.auth.models import update_last_login
from rest_framework import serializers
from rest_framework_simplejwt.serializers import (
    PasswordField,
    TokenObtainPairSerializer,
    TokenObtainSerializer,
)
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from accounts.api.authentication import GYM_CLAIM, VERSION_CLAIM
from accounts.models import Branch, Member, OpeningHours, Organisation, User
from accounts.selectors import user_organisation_ids
from accounts.tenancy import get_scope


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


class TokenForGymSerializer(LoginSerializer):
    """Email and password, and the gym the token is for: the one named, else the gym
    of the host, else the person's only gym. The tokens carry it ("org") and the
    person's login version ("ver"), which ``TenantJWTAuthentication`` checks."""

    organisation = serializers.SlugField(
        required=False,
        help_text="The gym's slug; needed only by someone who belongs to several gyms.",
    )

    def validate(self, attrs):
        # The password check (TokenObtainSerializer), then one token pair for the gym.
        TokenObtainSerializer.validate(self, attrs)
        gym_id = self._gym_for(self.user, attrs.get("organisation"))
        refresh = self.get_token(self.user)
        refresh[GYM_CLAIM] = gym_id
        refresh[VERSION_CLAIM] = self.user.auth_version
        if jwt_settings.UPDATE_LAST_LOGIN:
            update_last_login(None, self.user)
        return {"refresh": str(refresh), "access": str(refresh.access_token)}

    @staticmethod
    def _gym_for(user, slug):
        mine = user_organisation_ids(user=user)
        scope = get_scope()
        if slug:
            gym_id = Organisation.objects.filter(slug=slug).values_list("pk", flat=True).first()
            if gym_id is None or gym_id not in mine or (scope and scope.organisation_id != gym_id):
                raise serializers.ValidationError(
                    {"organisation": ["You do not belong to that gym."]}
                )
            return gym_id
        if scope is not None:
            return scope.organisation_id
        if len(mine) == 1:
            return next(iter(mine))
        if not mine:
            raise serializers.ValidationError({"organisation": ["You do not belong to any gym."]})
        raise serializers.ValidationError(
            {"organisation": ["You belong to several gyms: name the one this token is for."]}
        )
