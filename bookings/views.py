"""Member booking pages, the iCalendar feed, PT booking and trainer availability."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.selectors import household_members
from bookings import selectors, services
from bookings.appointments import selectors as appointment_selectors
from bookings.appointments.availability import available_slots
from bookings.calendar import member_calendar
from bookings.forms import AppointmentBookForm, AvailabilityForm, SlotSearchForm
from bookings.models import Appointment, Booking, CalendarFeed, TrainerAvailability
from bookings.pages import member_or_none, trainer_or_404
from classes.models import ClassSession
from gymsite.errors import ServiceError


def _back(request, default: str):
    target = request.POST.get("next")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(default)


@login_required
def my_bookings(request):
    """Upcoming and past bookings for me and my household."""
    member = member_or_none(request)
    if member is None:
        return redirect("portal:join")
    household = household_members(member=member)
    upcoming = list(
        selectors.member_bookings(members=household, upcoming=True).exclude(
            # a place they gave up goes; one the gym's cancellation took stays, marked
            Q(status=Booking.Status.CANCELLED) & ~Q(session__status=ClassSession.Status.CANCELLED)
        )[:100]
    )
    past = list(selectors.member_bookings(members=household, upcoming=False)[:50])
    positions = selectors.waitlist_positions(upcoming)
    policies = selectors.policies_by_class_type({b.session.class_type_id for b in upcoming})
    for booking in upcoming:
        booking.position = positions.get(booking.pk)
        if booking.status == Booking.Status.BOOKED:
            booking.free_cancel_until = selectors.free_cancel_until(
                booking=booking,
                session=booking.session,
                policy=policies[booking.session.class_type_id],
            )
    feed = services.calendar_feed_for(member=member)
    feed_url = request.build_absolute_uri(
        reverse("bookings:calendar", kwargs={"token": feed.token})
    )
    # Apple and most desktop calendars subscribe to webcal:// addresses; Google takes
    # the same address as its "cid".
    webcal_url = "webcal://" + feed_url.split("://", 1)[1]
    return render(
        request,
        "bookings/my_bookings.html",
        {
            "upcoming": upcoming,
            "past": past,
            "now": timezone.now(),
            "feed_url": feed_url,
            "webcal_url": webcal_url,
            "google_calendar_url": "https://calendar.google.com/calendar/render?"
            + urlencode({"cid": webcal_url}),
        },
    )


@login_required
@require_POST
def cancel(request, pk):
    member = member_or_none(request)
    if member is None:
        return redirect("portal:join")
    booking = get_object_or_404(
        Booking.objects.filter(member__in=household_members(member=member)), pk=pk
    )
    try:
        booking = services.booking_cancel(booking=booking.pk, actor=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        text = {
            Booking.Status.CANCELLED: _("Cancelled. Any class credit used has been returned."),
            Booking.Status.LATE_CANCELLED: _(
                "Cancelled after the free cancellation time: the late-cancellation rule applies."
            ),
        }[booking.status]
        messages.success(request, text)
    return _back(request, "bookings:mine")


@login_required
@require_POST
def calendar_reset(request):
    member = member_or_none(request)
    if member is None:
        return redirect("portal:join")
    services.calendar_feed_for(member=member, reset=True)
    messages.success(request, _("Your calendar address was changed; the old one stops working."))
    return redirect("bookings:mine")


def calendar(request, token):
    """The iCalendar feed: a secret address, since calendar apps cannot sign in."""
    if getattr(request, "organisation", None) is None:
        raise Http404
    feed = get_object_or_404(CalendarFeed.objects.select_related("member"), token=token)
    body = member_calendar(member=feed.member, organisation=request.organisation)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="bookings.ics"'
    return response


# --- personal training ------------------------------------------------------------------


@login_required
def appointments(request):
    """Find a free slot with a trainer and book it, for me or my household; my
    household's appointments."""
    member = member_or_none(request)
    if member is None:
        return redirect("portal:join")
    household = [member, *(m for m in household_members(member=member) if m.pk != member.pk)]
    if request.method == "POST":
        form = AppointmentBookForm(request.POST, household=household)
        if form.is_valid():
            data = form.cleaned_data
            chosen = form.chosen_member()
            try:
                services.appointment_book(
                    service=data["service"],
                    trainer=data["trainer"],
                    branch=data["branch"],
                    member=chosen,
                    starts_at=data["starts_at"],
                    actor=request.user,
                )
            except ServiceError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(
                    request,
                    _("Booked. We have emailed you the details.")
                    if chosen.pk == member.pk
                    else _("Booked for %(name)s. We have emailed the details.")
                    % {"name": chosen.first_name},
                )
                return redirect("bookings:appointments")
    else:
        form = SlotSearchForm(request.GET or None, household=household)
        if form.is_bound:
            form.is_valid()  # errors show beside the fields; valid ones still search
    slots, rules = [], []
    search = form.cleaned_data if form.is_bound else {}
    if all(search.get(name) for name in ("service", "trainer", "branch", "date")):
        slots = available_slots(
            service=search["service"],
            trainer=search["trainer"],
            branch=search["branch"],
            day=search["date"],
        )
        rules = appointment_selectors.appointment_rules_summary(
            service=search["service"], branch=search["branch"]
        )
    mine = appointment_selectors.member_appointments(members=household).filter(
        starts_at__gte=timezone.now() - timedelta(days=30)
    )[:50]
    return render(
        request,
        "bookings/appointments.html",
        {
            "form": form,
            "search": search,
            "chosen": form.chosen_member() if search else member,
            "slots": slots,
            "rules": rules,
            "appointments": mine,
            "household_size": len(household),
            "now": timezone.now(),
        },
    )


@login_required
@require_POST
def appointment_cancel(request, pk):
    member = member_or_none(request)
    if member is None:
        return redirect("portal:join")
    appointment = get_object_or_404(
        Appointment.objects.filter(member__in=household_members(member=member)), pk=pk
    )
    try:
        appointment = services.appointment_cancel(appointment=appointment.pk, actor=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        if appointment.fee_charged:
            messages.success(
                request,
                _(
                    "Cancelled after the free cancellation time: a fee of %(fee)s is added "
                    "to the next invoice."
                )
                % {"fee": appointment.fee_charged},
            )
        else:
            messages.success(request, _("Appointment cancelled."))
    return redirect("bookings:appointments")


# --- trainer portal ---------------------------------------------------------------------


@login_required
def trainer_availability(request):
    trainer = trainer_or_404(request)
    form = AvailabilityForm(request.POST or None, trainer=trainer)
    if request.method == "POST" and form.is_valid():
        window = form.save(commit=False)
        window.trainer = trainer
        window.save()
        messages.success(request, _("Availability added."))
        return redirect("bookings:trainer_availability")
    windows = TrainerAvailability.objects.filter(trainer=trainer).select_related("branch")
    return render(
        request,
        "bookings/trainer_availability.html",
        {"form": form, "windows": windows, "trainer": trainer},
    )


@login_required
@require_POST
def trainer_availability_delete(request, pk):
    trainer = trainer_or_404(request)
    get_object_or_404(TrainerAvailability, pk=pk, trainer=trainer).delete()
    messages.success(request, _("Availability removed."))
    return redirect("bookings:trainer_availability")


@login_required
def trainer_appointment(request, pk):
    """One of my appointments: who is coming, with photo, goals and notes; marked here."""
    trainer = trainer_or_404(request)
    appointment = get_object_or_404(
        Appointment.objects.select_related("member", "service", "branch"), pk=pk, trainer=trainer
    )
    return render(
        request,
        "bookings/trainer_appointment.html",
        {"trainer": trainer, "appointment": appointment},
    )


@login_required
@require_POST
def trainer_appointment_mark(request, pk):
    trainer = trainer_or_404(request)
    appointment = get_object_or_404(
        Appointment.objects.select_related("member"), pk=pk, trainer=trainer
    )
    action = request.POST.get("action")
    try:
        if action not in ("attended", "no_show"):
            raise ServiceError(_("Unknown action."), code="invalid")
        services.appointment_mark(
            appointment=appointment, attended=action == "attended", actor=request.user
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Saved for %(name)s.") % {"name": appointment.member.full_name})
    return redirect("bookings:trainer_appointment", pk=appointment.pk)
