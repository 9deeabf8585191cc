from axes.handlers.proxy import AxesProxyHandler
from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from accounts import selectors, services
from accounts.api.serializers import (
    BranchSerializer,
    LogoutSerializer,
    MeSerializer,
    MeUpdateSerializer,
    NearestBranchSerializer,
    NearestQuerySerializer,
    TokenForGymSerializer,
)
from accounts.tenancy import get_scope
from accounts.views import lockout
from gymsite.errors import ServiceError


class LoginView(TokenObtainPairView):
    """Exchange email and password for an access and a refresh token.

    Guarded by django-axes like the portal login: once locked, even the right
    password gets a 429 until the cool-off ends.
    """

    serializer_class = TokenForGymSerializer
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    def post(self, request, *args, **kwargs):
        # The fields' own checks (types, lengths) before the lockout looks the email
        # up; signing in (and counting a failure) is the serializer's validate().
        values = self.get_serializer().to_internal_value(request.data)
        credentials = {"email": values["email"].strip().lower()}
        if AxesProxyHandler.is_locked(request._request, credentials):
            return lockout(request._request, credentials)
        return super().post(request, *args, **kwargs)


class RefreshView(TokenRefreshView):
    """Rotate: the refresh token given is revoked and a new pair returned."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"


class LogoutView(APIView):
    """Revoke a refresh token so it can never be used again."""

    @extend_schema(request=LogoutSerializer, responses={204: None})
    def post(self, request):
        serializer = LogoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            RefreshToken(serializer.validated_data["refresh"]).blacklist()
        except TokenError as exc:
            raise ServiceError(str(exc), code="token_invalid", field="refresh") from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


def _me_payload(user):
    scope = get_scope()
    roles = (
        sorted(selectors.user_roles_in(user=user, organisation_id=scope.organisation_id))
        if scope
        else []
    )
    member = selectors.member_for_user(user=user) if scope else None
    return {
        "id": user.id,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "roles": roles,
        "member": member,
    }


class MeView(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(_me_payload(request.user)).data)

    @extend_schema(request=MeUpdateSerializer, responses=MeSerializer)
    def patch(self, request):
        serializer = MeUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with transaction.atomic():
            user_fields = {k: data[k] for k in ("first_name", "last_name") if k in data}
            if user_fields:
                for field, value in user_fields.items():
                    setattr(request.user, field, value)
                request.user.save(update_fields=list(user_fields))
            if data.get("member"):
                member = selectors.member_for_user(user=request.user)
                if member is None:
                    raise ServiceError(
                        "You have no member profile at this gym.", code="not_member", field="member"
                    )
                services.member_update_profile(member=member, **data["member"])
        return Response(MeSerializer(_me_payload(request.user)).data)


class BranchListView(generics.ListAPIView):
    """Every open branch of the gym."""

    permission_classes = [AllowAny]
    serializer_class = BranchSerializer

    def get_queryset(self):
        return selectors.branch_list()


class NearestBranchesView(APIView):
    """Open branches ordered by distance from a point."""

    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[
            OpenApiParameter("lat", float, required=True),
            OpenApiParameter("lon", float, required=True),
        ],
        responses=NearestBranchSerializer(many=True),
    )
    def get(self, request):
        query = NearestQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        ranked = selectors.branches_nearest(
            latitude=query.validated_data["lat"], longitude=query.validated_data["lon"]
        )
        return Response(NearestBranchSerializer(ranked, many=True).data)
