"""A small demo-like gym for the assistant's tests: three London branches, a week of
classes, plans with prices, opening hours, and the named actors of conftest.py."""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.tenancy import tenant_scope
from accounts.tests.factories import BranchFactory, OpeningHoursFactory
from assistant.models import AssistantSetting
from assistant.services import assistant_ask, caller_for
from billing.tests.factories import InvoiceFactory
from classes.tests.factories import ClassCategoryFactory, ClassSessionFactory, ClassTypeFactory
from memberships.tests.factories import MembershipFactory, PlanFactory

LONDON = ZoneInfo("Europe/London")


@dataclass
class Demo:
    gym: object
    branches: dict = field(default_factory=dict)
    types: dict = field(default_factory=dict)
    sessions: dict = field(default_factory=dict)
    plans: dict = field(default_factory=dict)
    tomorrow: object = None
    day_after: object = None
    membership: object = None

    def key_of(self, session_id: int) -> str:
        return next(k for k, s in self.sessions.items() if s.pk == session_id)


def _at(day, hour, minute=0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


SESSIONS = [
    # key, branch, type, day (1 = tomorrow, 2 = the day after), hour, minute,
    # capacity, booked, waitlist
    ("camden_flow", "Camden", "Vinyasa Flow", 1, 18, 30, 20, 5, 0),
    ("camden_yin", "Camden", "Yin Yoga", 1, 20, 0, 16, 16, 2),
    ("camden_spin", "Camden", "Spin 45", 1, 7, 0, 24, 0, 0),
    ("north_hiit", "North", "HIIT Blast", 1, 12, 30, 18, 3, 0),
    ("north_flow", "North", "Vinyasa Flow", 2, 18, 30, 20, 0, 0),
    ("river_flow", "Riverside", "Vinyasa Flow", 1, 19, 0, 20, 0, 0),
    ("camden_pilates", "Camden", "Mat Pilates", 2, 10, 30, 15, 14, 0),
]


@pytest.fixture
def demo(gym, branch, member):
    # given: the gym's branches (North is conftest's), classes, plans and hours
    demo = Demo(gym=gym)
    demo.branches = {
        "North": branch,
        "Camden": BranchFactory(organisation=gym, name="Camden", slug="camden"),
        "Riverside": BranchFactory(organisation=gym, name="Riverside", slug="riverside"),
    }
    categories = {
        name: ClassCategoryFactory(organisation=gym, name=name, slug=name.lower())
        for name in ["Yoga", "Cycling", "HIIT", "Pilates"]
    }
    for name, category in [
        ("Vinyasa Flow", "Yoga"),
        ("Yin Yoga", "Yoga"),
        ("Spin 45", "Cycling"),
        ("HIIT Blast", "HIIT"),
        ("Mat Pilates", "Pilates"),
    ]:
        demo.types[name] = ClassTypeFactory(
            organisation=gym,
            name=name,
            slug=name.lower().replace(" ", "-"),
            category=categories[category],
        )
    today = timezone.now().astimezone(LONDON).date()
    demo.tomorrow, demo.day_after = today + timedelta(days=1), today + timedelta(days=2)
    for key, where, kind, day, hour, minute, capacity, booked, waiting in SESSIONS:
        starts = _at(demo.tomorrow if day == 1 else demo.day_after, hour, minute)
        demo.sessions[key] = ClassSessionFactory(
            branch=demo.branches[where],
            organisation=gym,
            class_type=demo.types[kind],
            starts_at=starts,
            ends_at=starts + timedelta(minutes=60),
            occurrence_date=starts.date(),
            capacity=capacity,
            booked_count=booked,
            waitlist_count=waiting,
        )
    demo.plans["monthly"] = PlanFactory(
        organisation=gym, name="Monthly Unlimited", price=Decimal("49.00")
    )
    with tenant_scope(gym):
        demo.plans["monthly"].branches.set([branch, demo.branches["Camden"]])
    demo.plans["pack"] = PlanFactory(
        organisation=gym, name="10 Class Pack", class_pack=True, price=Decimal("80.00")
    )
    demo.plans["offpeak"] = PlanFactory(organisation=gym, name="Off-Peak", price=Decimal("29.50"))
    for weekday in range(7):
        OpeningHoursFactory(
            branch=demo.branches["Camden"],
            organisation=gym,
            weekday=weekday,
            opens_at="06:00",
            closes_at="22:00",
        )
        OpeningHoursFactory(
            branch=branch, organisation=gym, weekday=weekday, opens_at="06:30", closes_at="21:00"
        )
    demo.membership = MembershipFactory(member=member, plan=demo.plans["monthly"])
    InvoiceFactory(
        branch=branch,
        organisation=gym,
        payer=member,
        total=Decimal("12.50"),
        subtotal=Decimal("10.42"),
        tax_total=Decimal("2.08"),
    )
    AssistantSetting.objects.create(organisation=gym, is_enabled=True)
    return demo


@pytest.fixture
def ask(demo):
    """Ask the assistant as a user (the member by default) and get its reply."""

    def run(user, message, history=None, role=None):
        caller = caller_for(user=user, organisation=demo.gym, role=role)
        return assistant_ask(caller=caller, message=message, history=history)

    return run
