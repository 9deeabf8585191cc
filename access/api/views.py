"""Door devices' API (device key) and the member's own QR code and visits (JWT)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from access import ratelimit, selectors, services
from access.api.authentication import DeviceKeyAuthentication
from access.api.permissions import IsDevice
from access.api.serializers import (
    AllowListQuerySerializer,
    CheckinInputSerializer,
    CheckinOutputSerializer,
    OfflineUploadOutputSerializer,
    OfflineUploadSerializer,
    QrCodeSerializer,
    VisitSerializer,
)
from access.models import AccessDevice, AccessLog, Reason
from access.qr import qr_for_member
from accounts.models import AuditLog
from accounts.selectors import member_for_user
from gymsite.api.serializers import validated_input
from gymsite.errors import NotAllowed


class DeviceView(APIView):
    """Base for device endpoints: device key only. No per-user throttle: devices have
    their own per-device and per-address limits in their authentication
    (``access.ratelimit``), which fail open when the cache is down."""

    authentication_classes = [DeviceKeyAuthentication]
    permission_classes = [IsDevice]
    throttle_classes = []

    @property
    def device(self) -> AccessDevice:
        return self.request.auth


def checkin_body(outcome: services.CheckinOutcome) -> dict:
    log = outcome.log
    member = log.member if log.member_id else None
    membership = log.membership if log.membership_id else None
    return {
        "result": log.result,
        "reason": log.reason,
        "detail": str(Reason(log.reason).label),
        "log_id": log.pk,
        "replayed": outcome.replayed,
        "entry_consumed": log.entry_consumed,
        "entries_remaining": membership.entries_remaining if membership else None,
        "member": {
            "id": member.pk,
            "name": member.full_name,
            "photo": member.photo.url if member.photo else None,
        }
        if member
        else None,
    }


class CheckinView(DeviceView):
    """Decide whether the credential presented at this device opens it, and log it."""

    @extend_schema(
        request=CheckinInputSerializer,
        responses={200: CheckinOutputSerializer},
        description=(
            "Always 200 with result granted/denied and a machine-readable reason for a "
            "well-formed request; 400 for bad input, 401/403 for a bad or revoked key."
        ),
    )
    def post(self, request):
        data = validated_input(CheckinInputSerializer, request.data)
        device = self.device
        direction = data.get("direction")
        if direction and device.direction not in (direction, AccessDevice.Direction.BOTH):
            raise NotAllowed(
                _("This device only registers one direction."),
                code="wrong_direction",
                field="direction",
            )
        outcome = services.checkin_attempt(
            branch=device.branch,
            device=device,
            presented=data["credential"],
            direction=direction,
            request_id=data.get("request_id"),
        )
        if outcome.log.reason == Reason.UNKNOWN_CREDENTIAL and not outcome.replayed:
            ratelimit.device_credential_refused(
                device=device, address=request.META.get("REMOTE_ADDR", "")
            )
        return Response(checkin_body(outcome))


class AllowListView(DeviceView):
    """The signed offline allow-list for this device's branch (full, or since a cursor)."""

    @extend_schema(
        parameters=[OpenApiParameter("since", str, description="Cursor from the last list.")],
        responses={200: dict},
    )
    def get(self, request):
        query = AllowListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(
            services.allowlist_build(device=self.device, since=query.validated_data.get("since"))
        )


class OfflineEventsView(DeviceView):
    """Upload the decisions this device made while offline; re-uploading is harmless."""

    @extend_schema(request=OfflineUploadSerializer, responses={200: OfflineUploadOutputSerializer})
    def post(self, request):
        data = OfflineUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        events = [
            services.OfflineEvent(
                request_id=e["request_id"],
                presented=e["credential"],
                occurred_at=e["occurred_at"],
                direction=e["direction"],
                result=e["result"],
                reason=e["reason"],
            )
            for e in data.validated_data["events"]
        ]
        outcomes = services.offline_events_apply(device=self.device, events=events)
        applied = sum(1 for o in outcomes if o.status == "applied")
        return Response(
            {
                "applied": applied,
                "duplicates": len(outcomes) - applied,
                "results": [o.__dict__ for o in outcomes],
            }
        )


class DeviceFloorView(DeviceView):
    """Benchmark floor: the same device authentication, then one trivial insert."""

    @extend_schema(exclude=True)
    def post(self, request):
        row = AuditLog.objects.create(
            action="bench.device_floor", target_type="bench", target_id=str(self.device.pk)
        )
        return Response({"id": row.pk}, status=status.HTTP_201_CREATED)


def _member_or_403(request):
    member = member_for_user(user=request.user)
    if member is None:
        raise NotAllowed(_("You are not a member of this gym."), code="not_a_member")
    return member


class MyQrCodeView(APIView):
    """The signed-in member's current entry QR code (refresh before it expires)."""

    @extend_schema(responses={200: QrCodeSerializer})
    def get(self, request):
        return Response(qr_for_member(member=_member_or_403(request)))


class MyVisitsView(generics.ListAPIView):
    """The signed-in member's visits, newest first."""

    serializer_class = VisitSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AccessLog.objects.none()
        return selectors.member_visits(member=_member_or_403(self.request))
