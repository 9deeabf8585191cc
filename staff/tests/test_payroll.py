"""Payroll: lines from what happened, rates that never rewrite a paid period,
substitutes, locking that is final, and an independent computation of a month."""

import random
import threading
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import DatabaseError, close_old_connections, connection, transaction

from accounts.models import Role
from accounts.tenancy import tenant_scope
from accounts.tests.factories import (
    MemberFactory,
    RoleAssignmentFactory,
    TrainerProfileFactory,
    UserFactory,
)
from bookings.models import Appointment, Booking
from bookings.tests.factories import AppointmentFactory, AppointmentServiceFactory, BookingFactory
from classes.models import ClassSession
from classes.services import session_update
from classes.tests.factories import ClassSessionFactory, ClassTypeFactory
from gymsite.errors import Conflict
from inventory.models import Order
from inventory.tests.factories import OrderFactory
from staff import selectors, services
from staff.models import PayLine, PayPeriod, PayRate
from staff.tests.factories import ShiftFactory

LONDON = ZoneInfo("Europe/London")
CENT = Decimal("0.01")


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


def rate(gym, user, kind, effective_from, **terms):
    with tenant_scope(gym):
        return services.pay_rate_create(
            actor=None, user=user, kind=kind, effective_from=effective_from, **terms
        )


def taught(gym, branch, trainer, day, attended=0, class_type=None, hour=9):
    session = ClassSessionFactory(
        organisation=gym,
        branch=branch,
        trainer=trainer,
        starts_at=at(day, hour),
        occurrence_date=day,
        **({"class_type": class_type} if class_type else {}),
    )
    for _ in range(attended):
        BookingFactory(
            organisation=gym,
            session=session,
            status=Booking.Status.ATTENDED,
            member=MemberFactory(organisation=gym, home_branch=branch),
        )
    return session


def period_for(gym, branch, starts_on, ends_on):
    with tenant_scope(gym):
        return services.pay_period_create(
            actor=None, branch=branch, starts_on=starts_on, ends_on=ends_on
        )


def close(gym, period, owner):
    with tenant_scope(gym):
        services.pay_period_compute(period=period.pk, actor=owner)
        services.pay_period_approve(period=period.pk, actor=owner)
        return services.pay_period_lock(period=period.pk, actor=owner)


@pytest.mark.django_db
def test_a_rate_change_dated_after_a_paid_period_leaves_its_total_unchanged(
    gym, branch, owner, trainer
):
    # given January taught at 30 a class, paid and locked
    rate(gym, trainer.user, PayRate.Kind.CLASS, date(2025, 1, 1), amount=Decimal("30"))
    for day in (6, 13, 20):
        taught(gym, branch, trainer, date(2025, 1, day))
    january = close(gym, period_for(gym, branch, date(2025, 1, 1), date(2025, 1, 31)), owner)
    assert january.locked_total == Decimal("90.00")

    # when the rate rises from February, and a February class is taught
    rate(gym, trainer.user, PayRate.Kind.CLASS, date(2025, 2, 1), amount=Decimal("50"))
    taught(gym, branch, trainer, date(2025, 2, 3))
    february = period_for(gym, branch, date(2025, 2, 1), date(2025, 2, 28))
    with tenant_scope(gym):
        services.pay_period_compute(period=february.pk, actor=owner)

        # then January is as paid (and cannot be recomputed), February pays the new rate
        assert selectors.period_total(period=january) == Decimal("90.00")
        with pytest.raises(Conflict):
            services.pay_period_compute(period=january.pk, actor=owner)
        assert selectors.period_total(period=february) == Decimal("50.00")


@pytest.mark.django_db
def test_a_rate_applies_from_its_date_on_within_a_period(gym, branch, owner, trainer):
    rate(gym, trainer.user, PayRate.Kind.CLASS, date(2025, 3, 1), amount=Decimal("30"))
    rate(gym, trainer.user, PayRate.Kind.CLASS, date(2025, 3, 15), amount=Decimal("40"))
    taught(gym, branch, trainer, date(2025, 3, 14))
    taught(gym, branch, trainer, date(2025, 3, 15))
    period = period_for(gym, branch, date(2025, 3, 1), date(2025, 3, 31))
    with tenant_scope(gym):
        services.pay_period_compute(period=period.pk, actor=owner)
        amounts = list(PayLine.objects.filter(period=period).values_list("amount", flat=True))
    assert amounts == [Decimal("30.00"), Decimal("40.00")]


@pytest.mark.django_db
def test_a_substitute_is_paid_and_the_original_trainer_is_not(gym, branch, owner, trainer):
    # given a class of the usual trainer, taken over by a substitute before it ran
    substitute = TrainerProfileFactory(organisation=gym, user=UserFactory())
    for person in (trainer.user, substitute.user):
        rate(
            gym,
            person,
            PayRate.Kind.CLASS,
            date(2025, 1, 1),
            amount=Decimal("25"),
            per_attendee=Decimal("2"),
            attendee_threshold=3,
        )
    session = taught(gym, branch, trainer, date(2025, 4, 7), attended=5)
    with tenant_scope(gym):
        session_update(session=session.pk, actor=owner, trainer=substitute)

    # when April is computed
    period = period_for(gym, branch, date(2025, 4, 1), date(2025, 4, 30))
    with tenant_scope(gym):
        services.pay_period_compute(period=period.pk, actor=owner)
        lines = list(PayLine.objects.filter(period=period))

    # then the substitute has the line (25 + 2 x (5 - 3)), traceable to the session
    assert [(line.user_id, line.amount) for line in lines] == [
        (substitute.user_id, Decimal("29.00"))
    ]
    assert (lines[0].source_type, lines[0].source_id) == ("classes.classsession", session.pk)


@pytest.mark.django_db
def test_adjustments_need_a_reason_and_a_locked_period_takes_none(gym, branch, owner, trainer):
    period = period_for(gym, branch, date(2025, 5, 1), date(2025, 5, 31))
    with tenant_scope(gym):
        services.pay_period_compute(period=period.pk, actor=owner)
        with pytest.raises(Exception) as no_reason:
            services.pay_line_adjust(
                period=period.pk, actor=owner, user=trainer.user, amount=Decimal("5"), reason=""
            )
        assert no_reason.value.field == "reason"
        services.pay_line_adjust(
            period=period.pk,
            actor=owner,
            user=trainer.user,
            amount=Decimal("15"),
            reason="Covered the opening",
        )
    close(gym, period, owner)
    with tenant_scope(gym), pytest.raises(Conflict) as locked:
        services.pay_line_adjust(
            period=period.pk, actor=owner, user=trainer.user, amount=Decimal("5"), reason="Late"
        )
    assert "next period" in locked.value.message


@pytest.mark.django_db
def test_the_database_refuses_changes_to_a_locked_period(gym, branch, owner, trainer):
    period = period_for(gym, branch, date(2025, 6, 1), date(2025, 6, 30))
    with tenant_scope(gym):
        services.pay_period_compute(period=period.pk, actor=owner)
        line = services.pay_line_adjust(
            period=period.pk, actor=owner, user=trainer.user, amount=Decimal("15"), reason="Bonus"
        )
    close(gym, period, owner)

    for sql, params in [
        ("UPDATE staff_payline SET amount = 1 WHERE id = %s", [line.pk]),
        ("DELETE FROM staff_payline WHERE id = %s", [line.pk]),
        ("UPDATE staff_payperiod SET status = 'open' WHERE id = %s", [period.pk]),
    ]:
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)


@pytest.mark.django_db(transaction=True)
def test_locking_is_final_under_concurrent_edits(gym, branch, owner, trainer):
    # given an approved period, and editors who reopen, adjust and approve it again in a
    # loop while two others try to lock it
    RoleAssignmentFactory(user=trainer.user, organisation=gym, branch=None, role=Role.TRAINER)
    period = period_for(gym, branch, date(2025, 7, 1), date(2025, 7, 31))
    with tenant_scope(gym):
        services.pay_period_compute(period=period.pk, actor=owner)
        services.pay_period_approve(period=period.pk, actor=owner)
    barrier = threading.Barrier(6)
    locks, stop = [], threading.Event()

    def editor():
        barrier.wait()
        with tenant_scope(gym):
            while not stop.is_set():
                try:
                    services.pay_period_reopen(period=period.pk, actor=owner)
                    services.pay_line_adjust(
                        period=period.pk,
                        actor=owner,
                        user=trainer.user,
                        amount=Decimal("1.00"),
                        reason="Race",
                    )
                    services.pay_period_approve(period=period.pk, actor=owner)
                except Conflict as exc:
                    if exc.code == "period_locked":
                        break
        close_old_connections()

    def locker():
        barrier.wait()
        with tenant_scope(gym):
            for _ in range(200):
                try:
                    locks.append(services.pay_period_lock(period=period.pk, actor=owner))
                    break
                except Conflict as exc:
                    if exc.code == "period_locked":
                        break
        stop.set()
        close_old_connections()

    threads = [threading.Thread(target=editor) for _ in range(4)]
    threads += [threading.Thread(target=locker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # then exactly one lock won, and what it recorded is what the lines add up to, for good
    assert len(locks) == 1
    with tenant_scope(gym):
        period.refresh_from_db()
        assert period.status == PayPeriod.Status.LOCKED
        assert selectors.period_total(period=period) == period.locked_total
        with pytest.raises(Conflict):
            services.pay_line_adjust(
                period=period.pk,
                actor=owner,
                user=trainer.user,
                amount=Decimal("1"),
                reason="After",
            )
        with pytest.raises(Conflict):
            services.pay_period_reopen(period=period.pk, actor=owner)
        assert selectors.period_total(period=period) == period.locked_total


@pytest.mark.django_db
def test_payroll_lines_equal_an_independent_computation_on_a_random_month(gym, branch, owner):
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    year, month = rng.choice([2024, 2025]), rng.randint(1, 12)
    first = date(year, month, 1)
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    change_day = rng.choice(days[5:-5])

    coaches = [TrainerProfileFactory(organisation=gym, user=UserFactory()) for _ in range(3)]
    desks = [UserFactory() for _ in range(2)]
    for desk in desks:
        RoleAssignmentFactory(user=desk, branch=branch, role=Role.FRONT_DESK)
    yoga, spin = (ClassTypeFactory(organisation=gym) for _ in range(2))
    service = AppointmentServiceFactory(organisation=gym, price=Decimal("60.00"))

    # the terms, written down once here for the expected side
    class_terms = {}  # (user, class_type or None) -> [(from, amount, per, threshold)]
    for coach in coaches:
        base = Decimal(rng.randint(20, 40))
        class_terms[(coach.user_id, None)] = [(first - timedelta(days=40), base, Decimal("1.5"), 5)]
        rate(
            gym,
            coach.user,
            PayRate.Kind.CLASS,
            first - timedelta(days=40),
            amount=base,
            per_attendee=Decimal("1.5"),
            attendee_threshold=5,
        )
    special = coaches[0]
    class_terms[(special.user_id, spin.pk)] = [
        (first, Decimal("45"), Decimal("0"), 0),
        (change_day, Decimal("55"), Decimal("2"), 8),
    ]
    rate(gym, special.user, PayRate.Kind.CLASS, first, class_type=spin, amount=Decimal("45"))
    rate(
        gym,
        special.user,
        PayRate.Kind.CLASS,
        change_day,
        class_type=spin,
        amount=Decimal("55"),
        per_attendee=Decimal("2"),
        attendee_threshold=8,
    )
    appointment_pay = {c.user_id: Decimal(rng.randint(25, 35)) for c in coaches}
    for coach in coaches:
        rate(
            gym,
            coach.user,
            PayRate.Kind.APPOINTMENT,
            first - timedelta(days=1),
            amount=appointment_pay[coach.user_id],
        )
    rate(gym, coaches[1].user, PayRate.Kind.PT_COMMISSION, first, percent=Decimal("12.5"))
    hourly = {desks[0].pk: Decimal("12.40"), desks[1].pk: Decimal("13.10")}
    for desk in desks:
        rate(gym, desk, PayRate.Kind.SHIFT, first - timedelta(days=3), amount=hourly[desk.pk])
    rate(gym, desks[0], PayRate.Kind.SALES_COMMISSION, first, percent=Decimal("3"))

    expected = defaultdict(Decimal)

    def q(amount):
        return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)

    def class_pay(user_id, class_type_id, day, attended):
        terms = class_terms.get((user_id, class_type_id)) or class_terms[(user_id, None)]
        in_force = [t for t in terms if t[0] <= day]
        if not in_force:
            in_force = [t for t in class_terms[(user_id, None)] if t[0] <= day]
        _from, amount, per, threshold = max(in_force, key=lambda t: t[0])
        return q(amount + per * max(attended - threshold, 0))

    # classes: taught, cancelled, or outside the month
    for _ in range(14):
        coach, kind = rng.choice(coaches), rng.choice([yoga, spin])
        day, attended = rng.choice(days), rng.randint(0, 11)
        session = taught(
            gym, branch, coach, day, attended, class_type=kind, hour=rng.randint(6, 20)
        )
        if rng.random() < 0.15:
            ClassSession.objects.unscoped().filter(pk=session.pk).update(
                status=ClassSession.Status.CANCELLED
            )
            continue
        expected[coach.user_id] += class_pay(coach.user_id, kind.pk, day, attended)
    taught(gym, branch, coaches[2], first - timedelta(days=1), 3)
    taught(gym, branch, coaches[2], last + timedelta(days=1), 3)

    # appointments: held pays the trainer (and the commission), others pay nothing
    for _ in range(8):
        coach = rng.choice(coaches)
        day = rng.choice(days)
        held = rng.random() < 0.7
        AppointmentFactory(
            organisation=gym,
            branch=branch,
            service=service,
            trainer=coach,
            starts_at=at(day, rng.randint(7, 19)),
            status=Appointment.Status.ATTENDED if held else Appointment.Status.NO_SHOW,
        )
        if held:
            expected[coach.user_id] += appointment_pay[coach.user_id]
            if coach.pk == coaches[1].pk:
                expected[coach.user_id] += q(Decimal("60.00") * Decimal("12.5") / 100)

    # shifts: clocked hours pay; a missed clock-out pays nothing until corrected
    for _ in range(10):
        desk = rng.choice(desks)
        day = rng.choice(days)
        start = at(day, rng.randint(6, 12), rng.choice([0, 10, 25, 45]))
        minutes = rng.randint(180, 540)
        ShiftFactory(
            organisation=gym,
            branch=branch,
            user=desk,
            starts_at=start,
            ends_at=start + timedelta(hours=8),
            clock_in_at=start,
            clock_out_at=start + timedelta(minutes=minutes),
        )
        hours = q(Decimal(minutes) / 60)
        expected[desk.pk] += q(hours * hourly[desk.pk])
    ShiftFactory(
        organisation=gym,
        branch=branch,
        user=desks[1],
        starts_at=at(days[3], 9),
        ends_at=at(days[3], 17),
        clock_in_at=at(days[3], 9),
    )

    # sales: paid or collected ones earn the commission of whoever rang them up
    for _ in range(6):
        subtotal = Decimal(rng.randint(500, 9000)) / 100
        status = rng.choice([Order.Status.COLLECTED, Order.Status.PAID, Order.Status.CANCELLED])
        seller = rng.choice(desks)
        OrderFactory(
            organisation=gym,
            branch=branch,
            status=status,
            created_by=seller,
            subtotal=subtotal,
            total=subtotal,
            paid_at=at(rng.choice(days), 12),
        )
        if status != Order.Status.CANCELLED and seller.pk == desks[0].pk:
            expected[seller.pk] += q(subtotal * 3 / 100)

    period = period_for(gym, branch, first, last)
    with tenant_scope(gym):
        services.pay_period_compute(period=period.pk, actor=owner)
        computed = {row["user_id"]: row["total"] for row in selectors.period_totals(period=period)}
        needing = list(selectors.shifts_needing_attention(period=period))

    expected = {user: total for user, total in expected.items() if total}
    assert computed == expected, f"seed {seed}, month {year}-{month:02d}"
    assert len(needing) == 1


@pytest.mark.django_db
def test_payroll_csv_has_one_row_per_line_in_a_flat_layout(gym, branch, owner, trainer):
    rate(gym, trainer.user, PayRate.Kind.CLASS, date(2025, 1, 1), amount=Decimal("30"))
    taught(gym, branch, trainer, date(2025, 8, 4), attended=2)
    period = period_for(gym, branch, date(2025, 8, 1), date(2025, 8, 31))
    with tenant_scope(gym):
        services.pay_period_compute(period=period.pk, actor=owner)
        services.pay_line_adjust(
            period=period.pk,
            actor=owner,
            user=trainer.user,
            amount=Decimal("-5"),
            reason="=cmd()",
        )
        text = selectors.payroll_csv(period=period)
    rows = [line.split(",") for line in text.strip().split("\r\n")]
    assert rows[0] == selectors.CSV_COLUMNS
    assert len(rows) == 3
    assert rows[1][0] == trainer.user.email and rows[1][6] == "CLASS" and rows[1][10] == "30.00"
    assert rows[2][6] == "ADJUSTMENT" and rows[2][10] == "-5.00"
    assert not rows[2][7].startswith("=")
