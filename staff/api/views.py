from datetime import timedelta

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import IsStaffInScope
from accounts.selectors import staff_scope_for
from accounts.tenancy import get_scope, reset_scope, set_scope
from staff import selectors, services
from staff.api.serializers import (
    InvitationCreateSerializer,
    InvitationSerializer,
    MyScheduleSerializer,
    PayLineSerializer,
    ScheduleQuerySerializer,
)
from staff.models import Invitation, PayLine


class MyScheduleView(APIView):
    """The signed-in staff member's classes, appointments and shifts from now on."""

    @extend_schema(
        parameters=[OpenApiParameter("days", int, description="How far ahead (1–62, 14).")],
        responses=MyScheduleSerializer,
    )
    def get(self, request):
        query = ScheduleQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        if get_scope() is None:
            return Response({"classes": [], "appointments": [], "shifts": []})
        now = timezone.now()
        schedule = selectors.my_schedule(
            user=request.user, start=now, end=now + timedelta(days=query.validated_data["days"])
        )
        return Response(MyScheduleSerializer(schedule).data)


class MyPayLinesView(generics.ListAPIView):
    """The signed-in person's own pay lines in this gym, newest period first."""

    serializer_class = PayLineSerializer

    def get_queryset(self):
        if get_scope() is None:
            return PayLine.objects.none()
        return selectors.pay_lines_for_user(user=self.request.user)


class StaffScopeMixin:
    """Managers' endpoints run in the caller's staff scope (their branches)."""

    permission_classes = [IsStaffInScope]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        scope = get_scope()
        self._scope_token = set_scope(
            staff_scope_for(user=request.user, organisation_id=scope.organisation_id)
        )

    def finalize_response(self, request, response, *args, **kwargs):
        token = getattr(self, "_scope_token", None)
        if token is not None:
            reset_scope(token)
            self._scope_token = None
        return super().finalize_response(request, response, *args, **kwargs)


class InvitationListView(StaffScopeMixin, generics.ListCreateAPIView):
    """Invitations an owner or branch manager can see; POST invites someone."""

    serializer_class = InvitationSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema is built with no gym
            return Invitation.objects.none()
        return selectors.invitations_visible(user=self.request.user)

    @extend_schema(request=InvitationCreateSerializer, responses={201: InvitationSerializer})
    def post(self, request):
        data = InvitationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation = services.invitation_create(
            actor=request.user,
            email=data.validated_data["email"],
            role=data.validated_data["role"],
            branches=data.validated_data.get("branches", []),
        )
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)


class InvitationActionView(StaffScopeMixin, APIView):
    action_name = ""

    @extend_schema(request=None, responses=InvitationSerializer)
    def post(self, request, pk):
        invitation = get_object_or_404(selectors.invitations_visible(user=request.user), pk=pk)
        call = (
            services.invitation_resend
            if self.action_name == "resend"
            else (services.invitation_revoke)
        )
        invitation = call(actor=request.user, invitation=invitation)
        return Response(InvitationSerializer(invitation).data)
