from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import household_members, member_for_user
from bookings import selectors as booking_selectors
from bookings import services as booking_services
from bookings.api.class_serializers import ClassSessionSerializer
from bookings.api.filters import ClassSessionFilter
from bookings.api.serializers import BookingSerializer, BookRequestSerializer
from bookings.api.views import household_member
from classes.models import ClassSession
from gymsite.api.serializers import validated_input


def _session_queryset():
    return ClassSession.objects.select_related(
        "branch", "class_type", "class_type__category", "trainer", "room"
    ).order_by("starts_at", "pk")


def _my_context(request, sessions) -> dict:
    """The caller's household bookings for these sessions, in two queries."""
    member = member_for_user(user=request.user)
    if member is None:
        return {}
    mine = booking_selectors.member_bookings_by_session(
        members=household_members(member=member), session_ids=[s.pk for s in sessions]
    )
    return {
        "my_bookings": mine,
        "positions": booking_selectors.waitlist_positions(list(mine.values())),
    }


class ClassSessionListView(generics.ListAPIView):
    """Class sessions (upcoming unless a date range is given), with places left."""

    serializer_class = ClassSessionSerializer
    filterset_class = ClassSessionFilter

    def get_queryset(self):
        sessions = _session_queryset()
        params = self.request.query_params
        if not any(params.get(k) for k in ("starts_after", "date_from")):
            sessions = sessions.filter(ends_at__gte=timezone.now())
        return sessions

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        context = self.get_serializer_context() | _my_context(request, page)
        return self.get_paginated_response(
            ClassSessionSerializer(page, many=True, context=context).data
        )


class ClassSessionDetailView(generics.RetrieveAPIView):
    serializer_class = ClassSessionSerializer

    def get_queryset(self):
        return _session_queryset()

    def retrieve(self, request, *args, **kwargs):
        session = self.get_object()
        context = self.get_serializer_context() | _my_context(request, [session])
        return Response(ClassSessionSerializer(session, context=context).data)


class ClassSessionBookView(APIView):
    @extend_schema(request=BookRequestSerializer, responses={201: BookingSerializer})
    def post(self, request, pk):
        """Book a place, or join the waitlist when full (status tells which)."""
        member_id = validated_input(BookRequestSerializer, request.data).get("member")
        # Booking for oneself: the booking's own read finds the member record.
        member = None if member_id is None else household_member(request, member_id)
        booking = booking_services.booking_create(session=pk, member=member, actor=request.user)
        position = 1 if booking.status == booking.Status.WAITLISTED else None
        if position:
            position = booking_selectors.waitlist_position(booking=booking)
        data = BookingSerializer(booking, context={"positions": {booking.pk: position}}).data
        return Response(data, status=status.HTTP_201_CREATED)
