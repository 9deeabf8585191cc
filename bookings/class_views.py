"""The timetable's booking pages: the member schedule, a class's page and its book button,
the live counts, the trainer's classes, roster and attendance. Thin: parse, call a selector
or service, render."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.selectors import branch_list, household_members
from bookings import selectors as booking_selectors
from bookings import services as booking_services
from bookings.appointments import selectors as appointment_selectors
from bookings.forms import BookForForm, ScheduleFilterForm
from bookings.models import Booking
from bookings.pages import member_or_none, trainer_or_404
from classes.models import ClassSession
from gymsite.errors import ServiceError


def _in_time_of_day(local: datetime, part: str) -> bool:
    if part == "morning":
        return local.hour < 12
    if part == "afternoon":
        return 12 <= local.hour < 17
    if part == "evening":
        return local.hour >= 17
    return True


def _back(request, default: str):
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(default)


def _week_query(data, day) -> str:
    """The filters in force (the defaults included) for another week."""
    query = QueryDict(mutable=True)
    query.update(data)
    query["week"] = day.isoformat()
    return query.urlencode()


@login_required
def schedule(request):
    """A week of classes with places left, waitlist length and my status, filterable."""
    member = member_or_none(request)
    if member is None:
        return redirect("portal:join")
    # A first visit shows the member's own branch; "All branches" is one choice away.
    data = request.GET or {"branch": member.home_branch_id or ""}
    form = ScheduleFilterForm(data)
    filters = form.cleaned_data if form.is_valid() else {}
    tz = ZoneInfo(request.organisation.default_timezone)
    today = timezone.now().astimezone(tz).date()
    from_now = not filters.get("week")
    first_day = filters.get("week") or today
    first_day -= timedelta(days=first_day.weekday())
    if from_now:
        # Without a chosen week: the coming seven days from now, so the first class on
        # the page is the next one to book, not Monday's finished ones.
        start = timezone.now()
        end = datetime.combine(today + timedelta(days=7), datetime.min.time(), tzinfo=tz)
    else:
        start = datetime.combine(first_day, datetime.min.time(), tzinfo=tz)
        end = start + timedelta(days=7)
    sessions = list(
        booking_selectors.sessions_for_schedule(
            start=start,
            end=end,
            branch_id=filters["branch"].pk if filters.get("branch") else None,
            class_type_id=filters["class_type"].pk if filters.get("class_type") else None,
            trainer_id=filters["trainer"].pk if filters.get("trainer") else None,
        )
    )
    household = list(household_members(member=member))
    theirs = booking_selectors.household_bookings_by_session(
        members=household, session_ids=[s.pk for s in sessions]
    )
    positions = booking_selectors.waitlist_positions([b for bs in theirs.values() for b in bs])
    policies = booking_selectors.policies_by_class_type({s.class_type_id for s in sessions})
    now = timezone.now()
    days: dict = {}
    for session in sessions:
        local = session.starts_at.astimezone(ZoneInfo(session.branch.timezone))
        if not _in_time_of_day(local, filters.get("time_of_day") or ""):
            continue
        policy = policies[session.class_type_id]
        bookings = theirs.get(session.pk, [])
        for booking in bookings:
            booking.position = positions.get(booking.pk)
            booking.free_cancel_until = booking_selectors.free_cancel_until(
                booking=booking, session=session, policy=policy
            )
        days.setdefault(local.date(), []).append(
            {
                "session": session,
                "local_start": local,
                "local_end": session.ends_at.astimezone(ZoneInfo(session.branch.timezone)),
                "bookings": bookings,
                "i_am_in": any(b.member_id == member.pk for b in bookings),
                "policy": policy,
                **_offer(session, policy, now),
            }
        )
    return render(
        request,
        "bookings/schedule.html",
        {
            "form": form,
            "days": sorted(days.items()),
            "week_start": first_day,
            "from_now": from_now,
            "previous_week_query": _week_query(
                data, first_day if from_now else first_day - timedelta(days=7)
            ),
            "next_week_query": _week_query(data, first_day + timedelta(days=7)),
            "household": household,
            "now": now,
        },
    )


def _offer(session, policy, now) -> dict:
    """What the member can do with a class now: book, join its waitlist, or neither
    (and why), and until when a new place is free to give up."""
    tz = ZoneInfo(session.branch.timezone)
    window = booking_selectors.booking_window(session=session, policy=policy)
    open_now = (
        session.status == ClassSession.Status.SCHEDULED
        and window.opens_at <= now <= window.closes_at
    )
    full = session.booked_count >= session.capacity
    waitlist_open = policy.waitlist_enabled and now <= window.promotion_until
    return {
        "bookable": open_now and (not full or waitlist_open),
        "full": full,
        "full_and_closed": open_now and full and not waitlist_open,
        "opens_at": window.opens_at.astimezone(tz),
        "cancel_free_until": window.cancel_free_until.astimezone(tz),
    }


_MAX_COUNTED = 200


@login_required
def session_counts(request):
    """Places left and waitlist length of the classes on a page, as the page shows
    them, for it to refresh every few seconds (``static/js/live-counts.js``)."""
    try:
        ids = {int(i) for i in request.GET.get("ids", "").split(",") if i}
    except ValueError:
        return JsonResponse({"error": _("ids must be class numbers.")}, status=400)
    sessions = ClassSession.objects.filter(pk__in=sorted(ids)[:_MAX_COUNTED]).only(
        "id", "status", "capacity", "booked_count", "waitlist_count"
    )
    counts = {
        str(session.pk): render_to_string(
            "bookings/includes/counts.html", {"session": session}, request=request
        ).strip()
        for session in sessions
    }
    return JsonResponse({"counts": counts})


@login_required
def session_detail(request, pk):
    """One class: details, the rules that apply, and the book / cancel buttons."""
    member = member_or_none(request)
    if member is None:
        return redirect("portal:join")
    session = get_object_or_404(
        ClassSession.objects.select_related("branch", "class_type", "trainer", "room"), pk=pk
    )
    household = list(household_members(member=member))
    bookings = list(
        Booking.objects.filter(
            session=session, member__in=household, status__in=Booking.ACTIVE
        ).select_related("member")
    )
    positions = booking_selectors.waitlist_positions(bookings)
    for booking in bookings:
        booking.position = positions.get(booking.pk)
    policy = booking_selectors.policy_for(class_type_id=session.class_type_id)
    now = timezone.now()
    return render(
        request,
        "bookings/session_detail.html",
        {
            "session": session,
            "local_start": booking_selectors.session_local_start(session),
            "bookings": bookings,
            "rules": booking_selectors.rules_summary(session=session, policy=policy),
            "book_form": BookForForm(household=household, initial={"member": member.pk}),
            "now": now,
            **_offer(session, policy, now),
        },
    )


@login_required
@require_POST
def book(request, pk):
    member = member_or_none(request)
    if member is None:
        return redirect("portal:join")
    household = list(household_members(member=member))
    # The schedule's one-click button books for yourself: it sends no member.
    data = request.POST.copy()
    data.setdefault("member", str(member.pk))
    form = BookForForm(data, household=household)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("member", [])))
        return _back(request, "classes:schedule")
    chosen = next(m for m in household if m.pk == form.cleaned_data["member"])
    session = get_object_or_404(ClassSession.objects.select_related("branch"), pk=pk)
    try:
        booking = booking_services.booking_create(
            session=session.pk, member=chosen, actor=request.user
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        policy = booking_selectors.policy_for(class_type_id=session.class_type_id)
        rules = " ".join(booking_selectors.rules_summary(session=session, policy=policy)[:1])
        if booking.status == Booking.Status.BOOKED:
            messages.success(
                request,
                _("Booked for %(name)s. %(rules)s") % {"name": chosen.first_name, "rules": rules},
            )
        else:
            position = booking_selectors.waitlist_position(booking=booking)
            messages.success(
                request,
                _(
                    "The class is full: %(name)s is number %(n)s on the waitlist. "
                    "You will be moved in automatically if a place frees up."
                )
                % {"name": chosen.first_name, "n": position},
            )
    return _back(request, "classes:schedule")


# --- trainer portal -------------------------------------------------------------------


@login_required
def trainer_schedule(request):
    """My classes and appointments: the last week and the next two."""
    trainer = trainer_or_404(request)
    now = timezone.now()
    start, end = now - timedelta(days=7), now + timedelta(days=14)
    return render(
        request,
        "bookings/trainer_schedule.html",
        {
            "trainer": trainer,
            "sessions": booking_selectors.trainer_sessions(trainer=trainer, start=start, end=end),
            "appointments": appointment_selectors.trainer_appointments(
                trainer=trainer, start=start, end=end
            ),
            "now": now,
        },
    )


@login_required
def trainer_roster(request, pk):
    """Who is coming, with photo and notes; attendance is marked here."""
    trainer = trainer_or_404(request)
    session = get_object_or_404(
        ClassSession.objects.select_related("branch", "class_type", "room"), pk=pk, trainer=trainer
    )
    roster = list(booking_selectors.session_roster(session=session))
    positions = booking_selectors.waitlist_positions(roster)
    for booking in roster:
        booking.position = positions.get(booking.pk)
    return render(
        request,
        "bookings/trainer_roster.html",
        {
            "trainer": trainer,
            "session": session,
            "local_start": booking_selectors.session_local_start(session),
            "roster": roster,
            "attendance_open": booking_selectors.attendance_open(session),
        },
    )


@login_required
@require_POST
def trainer_mark(request, pk, booking_id):
    trainer = trainer_or_404(request)
    session = get_object_or_404(ClassSession, pk=pk, trainer=trainer)
    booking = get_object_or_404(Booking, pk=booking_id, session=session)
    action = request.POST.get("action")
    try:
        if action == "attended":
            booking_services.booking_mark_attended(booking=booking.pk, actor=request.user)
        elif action == "no_show":
            booking_services.booking_mark_no_show(booking=booking.pk, actor=request.user)
        else:
            raise ServiceError(_("Unknown action."), code="invalid")
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Saved for %(name)s.") % {"name": booking.member.full_name})
    return redirect("classes:trainer_roster", pk=session.pk)


def timetable(request):
    """The public timetable: the coming week's classes, readable without an account;
    "Book" leads a visitor into sign-up and a member to the class page."""
    if getattr(request, "organisation", None) is None:
        raise Http404(_("No gym is served at this address."))
    branches = list(branch_list())
    branch = next((b for b in branches if str(b.pk) == request.GET.get("branch")), None)
    now = timezone.now()
    sessions = booking_selectors.sessions_for_schedule(
        start=now,
        end=now + timedelta(days=7),
        branch_id=branch.pk if branch else None,
        include_cancelled=False,
    )
    days: dict = {}
    for session in sessions:
        local = session.starts_at.astimezone(ZoneInfo(session.branch.timezone))
        days.setdefault(local.date(), []).append({"session": session, "local_start": local})
    return render(
        request,
        "bookings/timetable.html",
        {"days": sorted(days.items()), "branches": branches, "branch": branch},
    )
