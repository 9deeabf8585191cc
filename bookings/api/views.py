from datetime import timedelta

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Branch, Member, TrainerProfile
from accounts.selectors import household_members, member_for_user
from bookings import selectors, services
from bookings.api.serializers import (
    AppointmentBookSerializer,
    AppointmentSerializer,
    AppointmentServiceSerializer,
    BookingSerializer,
    CancelRequestSerializer,
    SlotQuerySerializer,
    SlotSerializer,
    WaitlistPositionSerializer,
)
from bookings.appointments import selectors as appointment_selectors
from bookings.appointments.availability import available_slots
from bookings.models import Appointment, AppointmentService, Booking
from gymsite.errors import NotAllowed


def requesting_member(request) -> Member:
    member = member_for_user(user=request.user)
    if member is None:
        raise NotAllowed(_("You are not a member of this gym."), code="not_member")
    return member


def household_member(request, member_id: int | None) -> Member:
    """The signed-in member, or one of the dependants they pay for."""
    member = requesting_member(request)
    if member_id is None or member_id == member.pk:
        return member
    chosen = household_members(member=member).filter(pk=member_id).first()
    if chosen is None:
        raise NotAllowed(
            _("You can only book for yourself and your household."),
            code="not_household",
            field="member",
        )
    return chosen


class BookingListView(generics.ListAPIView):
    """My bookings and my household's (upcoming first with ?upcoming=true)."""

    serializer_class = BookingSerializer
    filterset_fields = ["status"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Booking.objects.none()
        member = requesting_member(self.request)
        upcoming = self.request.query_params.get("upcoming")
        flag = {"true": True, "false": False}.get(upcoming or "")
        return selectors.member_bookings(members=household_members(member=member), upcoming=flag)

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        context = self.get_serializer_context() | {"positions": selectors.waitlist_positions(page)}
        data = BookingSerializer(page, many=True, context=context).data
        return self.get_paginated_response(data)


class BookingDetailView(generics.RetrieveAPIView):
    """One of my bookings, with its waitlist position when waiting."""

    serializer_class = BookingSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Booking.objects.none()
        member = requesting_member(self.request)
        return selectors.member_bookings(members=household_members(member=member))


class BookingCancelView(APIView):
    @extend_schema(request=CancelRequestSerializer, responses=BookingSerializer)
    def post(self, request, pk):
        """Cancel a place or leave a waitlist (the rules in force decide the penalty)."""
        member = requesting_member(request)
        booking = get_object_or_404(
            Booking.objects.filter(member__in=household_members(member=member)), pk=pk
        )
        body = CancelRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        booking = services.booking_cancel(
            booking=booking.pk, actor=request.user, reason=body.validated_data.get("reason", "")
        )
        booking = selectors.member_bookings(members=[booking.member_id]).get(pk=booking.pk)
        return Response(BookingSerializer(booking).data)


class BookingWaitlistPositionView(APIView):
    @extend_schema(responses=WaitlistPositionSerializer)
    def get(self, request, pk):
        """Where I stand on a class's waitlist (null when not waiting)."""
        member = requesting_member(request)
        booking = get_object_or_404(
            Booking.objects.filter(member__in=household_members(member=member)).select_related(
                "session"
            ),
            pk=pk,
        )
        data = {
            "booking": booking.pk,
            "status": booking.status,
            "position": selectors.waitlist_position(booking=booking),
            "waitlist_length": booking.session.waitlist_count,
        }
        return Response(WaitlistPositionSerializer(data).data)


class AppointmentServiceListView(generics.ListAPIView):
    serializer_class = AppointmentServiceSerializer
    pagination_class = None

    def get_queryset(self):
        return AppointmentService.objects.filter(is_active=True)


class AppointmentListView(generics.ListCreateAPIView):
    """My appointments; POST books a trainer for a slot."""

    serializer_class = AppointmentSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Appointment.objects.none()
        member = requesting_member(self.request)
        return appointment_selectors.member_appointments(members=household_members(member=member))

    @extend_schema(request=AppointmentBookSerializer, responses={201: AppointmentSerializer})
    def post(self, request, *args, **kwargs):
        body = AppointmentBookSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        member = household_member(request, data.get("member"))
        appointment = services.appointment_book(
            service=get_object_or_404(AppointmentService, pk=data["service"], is_active=True),
            trainer=get_object_or_404(TrainerProfile, pk=data["trainer"], is_active=True),
            branch=get_object_or_404(Branch, pk=data["branch"]),
            member=member,
            starts_at=data["starts_at"],
            actor=request.user,
            notes=data.get("notes", ""),
        )
        return Response(AppointmentSerializer(appointment).data, status=status.HTTP_201_CREATED)


class AppointmentCancelView(APIView):
    @extend_schema(request=None, responses=AppointmentSerializer)
    def post(self, request, pk):
        member = requesting_member(request)
        appointment = get_object_or_404(
            Appointment.objects.filter(member__in=household_members(member=member)), pk=pk
        )
        appointment = services.appointment_cancel(appointment=appointment, actor=request.user)
        return Response(AppointmentSerializer(appointment).data)


class AppointmentSlotsView(APIView):
    @extend_schema(parameters=[SlotQuerySerializer], responses=SlotSerializer(many=True))
    def get(self, request):
        """Free start times of a trainer for a service on a local date."""
        query = SlotQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        service = get_object_or_404(AppointmentService, pk=data["service"], is_active=True)
        slots = available_slots(
            service=service,
            trainer=get_object_or_404(TrainerProfile, pk=data["trainer"], is_active=True),
            branch=get_object_or_404(Branch, pk=data["branch"]),
            day=data["date"],
        )
        length = timedelta(minutes=service.duration_minutes)
        return Response(
            SlotSerializer([{"starts_at": s, "ends_at": s + length} for s in slots], many=True).data
        )
