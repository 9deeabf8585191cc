"""Plans, members' memberships, freeze and cancel for the mobile app. Thin views."""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from gymsite.errors import ServiceError
from memberships import selectors, services
from memberships.api.access import MembershipCallerMixin
from memberships.api.serializers import (
    CancellationPreviewSerializer,
    CancelSerializer,
    FreezeSerializer,
    MemberDetailSerializer,
    MembershipSerializer,
    PlanSerializer,
    PurchaseResultSerializer,
    PurchaseSerializer,
)
from memberships.models import Membership


class PlanListView(generics.ListAPIView):
    """Plans on sale; with ?branch= only those that open that branch."""

    permission_classes = [AllowAny]
    serializer_class = PlanSerializer

    @extend_schema(parameters=[OpenApiParameter("branch", int, required=False)])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        branch = self.request.query_params.get("branch", "")
        return selectors.plans_on_sale(branch_id=int(branch) if branch.isdigit() else None)


class MemberDetailView(MembershipCallerMixin, APIView):
    """A member with the membership that decides today and all their memberships."""

    @extend_schema(responses=MemberDetailSerializer)
    def get(self, request, pk):
        member = self.member_or_404(pk)
        member.membership = selectors.membership_deciding(member=member, on=timezone.localdate())
        member.all_memberships = list(
            Membership.objects.filter(member=member).select_related("plan").order_by("-pk")
        )
        return Response(MemberDetailSerializer(member).data)


class MemberMembershipsView(MembershipCallerMixin, APIView):
    """Buy a plan (or buy an ended membership's plan again) for a member.

    Members may do it for themselves and their household; staff for members of their
    branches. Returns the pending membership and the invoice to pay.
    """

    @extend_schema(request=PurchaseSerializer, responses={201: PurchaseResultSerializer})
    def post(self, request, pk):
        member = self.member_or_404(pk)
        data = PurchaseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        plan = data.validated_data.get("plan")
        start_date = data.validated_data.get("start_date")
        previous = data.validated_data.get("renew")
        if previous is not None:
            if previous.member_id != member.pk:
                raise ServiceError(
                    "That membership belongs to someone else.", code="invalid", field="renew"
                )
            plan = previous.plan
            last_day = previous.cancels_on or previous.end_date
            if start_date is None and last_day and last_day >= timezone.localdate():
                start_date = last_day + timedelta(days=1)
        membership = services.membership_purchase(
            member=member,
            plan=plan,
            branch=data.validated_data.get("branch"),
            start_date=start_date,
            actor=request.user,
        )
        invoice = services.membership_open_invoices(membership).order_by("pk").first()
        return Response(
            PurchaseResultSerializer({"membership": membership, "invoice": invoice}).data,
            status=status.HTTP_201_CREATED,
        )


class MembershipFreezeView(MembershipCallerMixin, APIView):
    @extend_schema(request=FreezeSerializer, responses=MembershipSerializer)
    def post(self, request, pk):
        membership = self.membership_or_404(pk)
        data = FreezeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.membership_freeze(membership=membership, actor=request.user, **data.validated_data)
        membership.refresh_from_db()
        return Response(MembershipSerializer(membership).data)


class MembershipCancelView(MembershipCallerMixin, APIView):
    """GET: what cancelling would do. POST: cancel (staff may end it immediately)."""

    @extend_schema(
        parameters=[OpenApiParameter("immediately", bool, required=False)],
        responses=CancellationPreviewSerializer,
    )
    def get(self, request, pk):
        membership = self.membership_or_404(pk)
        immediately = self.caller.is_staff and request.query_params.get("immediately", "") == "true"
        preview = services.membership_cancellation_preview(
            membership=membership, immediately=immediately
        )
        return Response(CancellationPreviewSerializer(preview).data)

    @extend_schema(request=CancelSerializer, responses=MembershipSerializer)
    def post(self, request, pk):
        membership = self.membership_or_404(pk)
        data = CancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.membership_cancel(
            membership=membership,
            reason=data.validated_data["reason"],
            immediately=data.validated_data["immediately"],
            staff=self.caller.is_staff,
            actor=request.user,
        )
        membership.refresh_from_db()
        return Response(MembershipSerializer(membership).data)
