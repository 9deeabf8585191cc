"""Demo data: a gym chain of three branches in one city, its staff and members."""

import random
from datetime import date, time, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password

from accounts.models import (
    Branch,
    Member,
    OpeningHours,
    Role,
    RoleAssignment,
    TrainerProfile,
    User,
)

DEMO_PASSWORD = "spotter-demo"  # noqa: S105 (public demo login)

BRANCHES = [
    ("Riverside", "riverside", "12 Water Lane", "SE1 9PX", "51.504800", "-0.093400"),
    ("Camden", "camden", "88 Parkway", "NW1 7AN", "51.538000", "-0.145200"),
    ("Canary Wharf", "canary-wharf", "5 Cabot Square", "E14 4QT", "51.504500", "-0.021800"),
]

FIRST = [
    "Alex",
    "Sam",
    "Jordan",
    "Priya",
    "Mohammed",
    "Chloe",
    "Oliver",
    "Amelia",
    "Noah",
    "Isla",
    "Leo",
    "Ava",
    "Arjun",
    "Zara",
    "Ethan",
    "Grace",
    "Kofi",
    "Mia",
    "Lucas",
    "Sofia",
    "Ibrahim",
    "Hannah",
    "Tom",
    "Aisha",
    "Daniel",
    "Freya",
    "Ravi",
    "Emily",
    "Jack",
    "Yusuf",
]
LAST = [
    "Smith",
    "Jones",
    "Patel",
    "Khan",
    "Williams",
    "Brown",
    "Taylor",
    "Davies",
    "Evans",
    "Wilson",
    "Thomas",
    "Roberts",
    "Ahmed",
    "Walker",
    "Wright",
    "Robinson",
    "Thompson",
    "White",
    "Hughes",
    "Edwards",
    "Green",
    "Hall",
    "Wood",
    "Harris",
    "Lewis",
    "Martin",
    "Jackson",
    "Clarke",
    "Okafor",
]
GOALS = [
    "Lose 5 kg before summer",
    "Run a half marathon",
    "Build strength",
    "Improve mobility",
    "First pull-up",
    "Stay active after knee surgery",
    "",
    "",
    "Train for a triathlon",
]

# The logins printed at the end of scripts/run.
DEMO_LOGINS = [
    ("Owner", "owner@demo.spotter"),
    ("Branch manager (Riverside)", "manager.riverside@demo.spotter"),
    ("Front desk (Camden)", "desk.camden@demo.spotter"),
    ("Trainer", "coach.maya@demo.spotter"),
    ("Member", "member@demo.spotter"),
]


def _user(email, first, last, password_hash):
    user, _ = User.objects.get_or_create(
        email=email, defaults={"first_name": first, "last_name": last, "password": password_hash}
    )
    return user


def seed(*, organisation, rng: random.Random) -> None:
    if Branch.objects.exists():
        return
    password_hash = make_password(DEMO_PASSWORD)
    branches = []
    for name, slug, address, postcode, lat, lon in BRANCHES:
        branch = Branch.objects.create(
            name=name,
            slug=slug,
            address_line=address,
            city="London",
            postcode=postcode,
            latitude=Decimal(lat),
            longitude=Decimal(lon),
            timezone="Europe/London",
            phone="020 7946 0" + str(100 + len(branches)),
            email=f"{slug}@demo.spotter",
            tax_rate=Decimal("0.2000"),
        )
        OpeningHours.objects.bulk_create(
            [
                OpeningHours(
                    branch=branch,
                    weekday=day,
                    opens_at=time(6) if day < 5 else time(8),
                    closes_at=time(22) if day < 5 else time(20),
                )
                for day in range(7)
            ]
        )
        branches.append(branch)

    owner = _user("owner@demo.spotter", "Olivia", "Owner", password_hash)
    RoleAssignment.objects.create(user=owner, role=Role.OWNER)
    for branch in branches:
        manager = _user(f"manager.{branch.slug}@demo.spotter", "Morgan", branch.name, password_hash)
        RoleAssignment.objects.create(user=manager, role=Role.BRANCH_MANAGER, branch=branch)
        desk = _user(f"desk.{branch.slug}@demo.spotter", "Dana", branch.name, password_hash)
        RoleAssignment.objects.create(user=desk, role=Role.FRONT_DESK, branch=branch)

    coaches = [
        ("maya", "Maya", "Chen", "Strength & conditioning, kettlebells"),
        ("luis", "Luis", "Garcia", "Spin and HIIT"),
        ("nia", "Nia", "Adeyemi", "Yoga (RYT-500), Pilates"),
        ("ben", "Ben", "Fraser", "Boxing, mobility"),
        ("sara", "Sara", "Lindqvist", "Olympic lifting"),
        ("tom", "Tomás", "Ruiz", "Swimming, triathlon"),
    ]
    for index, (handle, first, last, speciality) in enumerate(coaches):
        user = _user(f"coach.{handle}@demo.spotter", first, last, password_hash)
        RoleAssignment.objects.create(user=user, role=Role.TRAINER)
        profile = TrainerProfile.objects.create(
            user=user,
            display_name=f"{first} {last}",
            bio=f"{first} coaches {speciality.lower()}.",
            certifications=speciality,
            hourly_rate=Decimal(40 + 5 * index),
            currency=organisation.currency,
        )
        profile.branches.set([branches[index % 3], branches[(index + 1) % 3]])

    demo_member_user = _user("member@demo.spotter", "Jamie", "Member", password_hash)
    members = [
        Member(
            user=demo_member_user,
            first_name="Jamie",
            last_name="Member",
            email=demo_member_user.email,
            phone="07700 900000",
            date_of_birth=date(1990, 5, 17),
            home_branch=branches[0],
            goals="Get back into running",
            emergency_contact_name="Pat Member",
            emergency_contact_phone="07700 900001",
        )
    ]
    for n in range(300):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first.lower()}.{last.lower()}{n}@demo.spotter"
        user = User(email=email, first_name=first, last_name=last, password=password_hash)
        members.append(
            Member(
                user=user,
                first_name=first,
                last_name=last,
                email=email,
                phone=f"07700 9{n:05d}",
                date_of_birth=date(1960, 1, 1) + timedelta(days=rng.randint(0, 365 * 45)),
                home_branch=rng.choice(branches),
                goals=rng.choice(GOALS),
                emergency_contact_name=f"{rng.choice(FIRST)} {last}",
                emergency_contact_phone=f"07700 8{n:05d}",
                joined_at=organisation.created_at - timedelta(days=rng.randint(0, 900)),
            )
        )
    User.objects.bulk_create([m.user for m in members[1:]])
    for m in members:
        m.user_id = m.user.pk
    members = Member.objects.bulk_create(members)
    # A household: the demo member pays for a partner and a child with no login.
    Member.objects.create(
        first_name="Robin",
        last_name="Member",
        date_of_birth=date(2014, 3, 2),
        home_branch=branches[0],
        payer=members[0],
    )
